"""The calendar never refuses (issue 8, item 1), black-box: the real broker runs under libfaketime
at another date. A year without the State Council's notice gets a provisional schedule from the
law; deadlines reaching into it are accepted and marked provisional; when the notice arrives as
config/calendar/cn-YYYY.yaml and `muster keys reload` applies it, the deadlines it moves are
recomputed, recorded on the case and told to the department."""
from __future__ import annotations

import shutil

import pytest

from conftest import Peer, case_body, run_cli, verify_log, wait_until

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime (Debian) is installed by scripts/install-deps.sh")

GRID = "zz/zhongyuan/linshanzhai/zhongyuanlu/g01"   # outside the 二七塔 dedicated grid: 城管 alone
CATEGORY = "exposed_garbage"


def at(utc: str) -> list[str]:
    """libfaketime: the broker's clock starts at this UTC moment and runs on (`faketime` forks
    the broker; conftest signals the whole process group)."""
    return ["faketime", "-f", f"@{utc}"]


def petition(peer: Peer, ref: str, address: str):
    r = peer.request("SUBMIT", {"case": case_body("信访：小区垃圾长期无人清运", ref, category=CATEGORY, grid=GRID,
                                                  source="petition", address=address)})
    assert r.command == "ACCEPTED", r
    return r


def test_a_broker_in_mid_2027_without_2027_or_2028_schedules_accepts_a_petition(make_broker, zmq_ctx):
    broker = make_broker(secure=True, prefix=at("2027-06-15 02:00:00"))     # 10:00 in Zhengzhou
    assert not (broker.config.parent / "calendar" / "cn-2027.yaml").exists()
    assert "no official holiday schedule for 2027" in broker.stderr_tail()
    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx, curve=broker.curve("chengguan-sim-1"))
    cg.hello()
    office = Peer(broker.endpoint, "cli-petition", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    acc = petition(office, "XF-2027-1", "中原路1号")
    # 60 日 from 2027-06-15 is Sat 08-14: the next working day, Mon 08-16, on the law's schedule,
    # to its end (24:00, written as the next midnight): a petition's periods count whole days.
    assert acc["state"] == "dispatched" and acc["due"].startswith("2027-08-17T00:00"), acc
    assert acc["due_provisional"] is True, acc
    d = cg.expect_push("DISPATCH", 10)
    assert d["due"]["provisional"] is True and d["due"]["resolve_by"].startswith("2027-08-17T00:00"), d
    office.close()
    cg.close()


def test_a_petition_into_2027_is_accepted_in_december_and_the_2027_notice_moves_it(make_broker, zmq_ctx):
    broker = make_broker(secure=True, prefix=at("2026-12-02 02:00:00"))     # 2026-12-02 10:00 in Zhengzhou
    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx, curve=broker.curve("chengguan-sim-1"))
    cg.hello()
    office = Peer(broker.endpoint, "cli-petition", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    acc = petition(office, "XF-2026-1", "中原路2号")
    # 60 日 from 2026-12-02 is Sun 2027-01-31: provisionally to the end of Mon 02-01.
    assert acc["due"].startswith("2027-02-02T00:00") and acc["due_provisional"] is True, acc
    d = cg.expect_push("DISPATCH", 10)
    cg.received([d["delivery"]])
    assert d["due"]["provisional"] is True, d

    # The notice for 2027 arrives: Sunday 01-31 is a make-up working day (调休上班).
    write_notice_2027(broker)
    shown = run_cli("calendar", "show", "2027", "--config", str(broker.config))

    assert shown.returncode == 0 and "官方 official" in shown.stdout and "01-31 周日" in shown.stdout, shown.stdout
    r = run_cli("keys", "reload", "--config", str(broker.config), "--db", str(broker.db), cwd=broker.workdir)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    assert "applied it" in r.stdout and "1 deadline(s) moved" in r.stdout and "2026, 2027" in r.stdout, r.stdout

    # The department is told, with the new and the old deadlines; nothing provisional is left.
    n = cg.expect_push("NOTICE", 10)
    assert n["kind"] == "deadlines_moved" and n["dispatch_id"] == d["dispatch_id"], n
    assert n["due"]["resolve_by"].startswith("2027-02-01T00:00") and "provisional" not in n["due"], n
    assert n["was"]["resolve_by"].startswith("2027-02-02T00:00"), n
    cg.received([n["delivery"]])
    q = office.request("QUERY", {"what": "case", "case_id": acc["case_id"]})
    types = [e["type"] for e in q["timeline"]]
    assert "dispatch.deadlines_moved" in types, types
    moved = next(e for e in q["timeline"] if e["type"] == "dispatch.deadlines_moved")
    assert moved["data"]["due"]["resolve_by"].startswith("2027-02-01T00:00"), moved
    lead = q["dispatches"][0]
    assert lead["resolve_by"].startswith("2027-02-01T00:00") and "provisional" not in lead, lead
    assert q["case"]["resolve_by"].startswith("2027-02-01T00:00"), q["case"]

    # The same reload again moves nothing; the broker says so.
    r = run_cli("keys", "reload", "--config", str(broker.config), "--db", str(broker.db), cwd=broker.workdir)
    assert r.returncode == 0 and "0 deadline(s) moved" in r.stdout, r.stdout
    office.close()
    cg.close()
    broker.stop()
    v = verify_log(broker.db)
    assert v.returncode == 0, f"replay != projections after the move:\n{v.stdout}\n{v.stderr}"
    row = broker.query("SELECT ack_by, resolve_by, return_by FROM dispatches WHERE dispatch_id = ?", (d["dispatch_id"],))
    assert len(row) == 1


def test_a_notice_installed_while_the_broker_was_down_is_applied_at_the_next_start(make_broker, zmq_ctx):
    broker = make_broker(secure=True, prefix=at("2026-12-02 02:00:00"))
    office = Peer(broker.endpoint, "cli-petition", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    acc = petition(office, "XF-2026-2", "中原路3号")
    assert acc["due"].startswith("2027-02-02T00:00") and acc["due_provisional"] is True, acc
    office.close()
    broker.stop()                              # (faketime, the wrapper, reports the signal, not the broker)

    write_notice_2027(broker)                  # while the broker is down
    broker.start()
    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx, curve=broker.curve("chengguan-sim-1"))
    cg.hello()
    got = {}
    wait_until(lambda: got.update({m.command: m for m in cg.all_pushes}) or {"DISPATCH", "NOTICE"} <= set(got), 10,
               "the DISPATCH and the deadlines_moved NOTICE", pump=[cg])
    n = got["NOTICE"]
    assert n["kind"] == "deadlines_moved" and n["due"]["resolve_by"].startswith("2027-02-01T00:00"), n
    office = Peer(broker.endpoint, "cli-petition", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    q = office.request("QUERY", {"what": "case", "case_id": acc["case_id"]})
    assert [e["type"] for e in q["timeline"]].count("dispatch.deadlines_moved") == 1, q["timeline"]
    assert q["dispatches"][0]["resolve_by"].startswith("2027-02-01T00:00") and "provisional" not in q["dispatches"][0]
    office.close()
    cg.close()

    # Applied once: the next start finds the schedules it recorded and moves nothing again.
    broker.stop()                              # (faketime, the wrapper, reports the signal, not the broker)
    broker.start()
    office = Peer(broker.endpoint, "cli-petition", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    q = office.request("QUERY", {"what": "case", "case_id": acc["case_id"]})
    assert [e["type"] for e in q["timeline"]].count("dispatch.deadlines_moved") == 1
    office.close()
    broker.stop()                              # (faketime, the wrapper, reports the signal, not the broker)
    v = verify_log(broker.db)
    assert v.returncode == 0, f"{v.stdout}\n{v.stderr}"


def write_notice_2027(broker) -> None:
    """A notice for 2027 in which Sunday 01-31 is a make-up working day (调休上班)."""
    (broker.config.parent / "calendar" / "cn-2027.yaml").write_text("""year: 2027
holidays:
  - name: 元旦 New Year
    days_off: {from: 2027-01-01, to: 2027-01-03}
    workdays: []
  - name: 春节 Spring Festival
    days_off: {from: 2027-02-05, to: 2027-02-13}
    workdays: [2027-01-31, 2027-02-20]
""", encoding="utf-8")


def test_a_reload_with_a_broken_schedule_reports_the_brokers_verdict(make_broker):
    broker = make_broker(secure=True)
    (broker.config.parent / "calendar" / "cn-2027.yaml").write_text("year: 2027\nholidays:\n  - name: x\n    dayz_off: {}\n",
                                                                    encoding="utf-8")
    r = run_cli("keys", "reload", "--config", str(broker.config), "--db", str(broker.db), cwd=broker.workdir)
    assert r.returncode != 0 and "dayz_off" in (r.stdout + r.stderr), f"{r.stdout}\n{r.stderr}"
