"""Escalation ladders (催办 remind → 督办 supervise) against the real broker, as a black box.

The config copy signs within 3 s (`defaults.ack_within: 3s`, no rules) and has one ladder:
remind the agency at 50 % of the ack window, supervise the agency and ops at 100 %. A rung is a
timer row; firing it logs `case.escalated`, stores NOTICE pushes and deletes the row in one
transaction, so each rung fires exactly once — in order while the broker runs, and once (not
once per missed interval, and not lost) when it came due while the broker was dead (kill -9).
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from conftest import Broker, Peer, case_body, pump_peers, run_cli, verify_log, wait_until

AGENCY = "reli"
CATEGORY = "heating_not_warm"   # lead 热力 reli, no assists: one dispatch, one ack clock
ACK_WINDOW_S = 3.0

LADDERS = """\
ladders:
  ack:
    - {at: 50%, notice: remind, to: [agency], level: 1}
    - {at: 100%, notice: supervise, to: [agency, ops], level: 2}
"""


def quick_ladder_sla(broker: Broker) -> Path:
    """Rewrites the broker's copied config/sla.yaml: no rules (the shipped heating-season rule
    would set ack_within 30m for heating_*), ack_within 3s (other defaults kept), and only the
    ack ladder above. Checked with `muster check-config`."""
    sla = broker.config.parent / "sla.yaml"
    text = sla.read_text(encoding="utf-8")
    # rules: everything from the top-level `rules:` key up to the next top-level key.
    text, n = re.subn(r"(?ms)^rules:.*?(?=^\S)", "rules: []\n", text)
    assert n == 1, "sla.yaml has no top-level rules: block"
    # defaults.ack_within (two-space indent; the modes' caps are indented deeper).
    text, n = re.subn(r"(?m)^  ack_within:\s*\S+", f"  ack_within: {int(ACK_WINDOW_S)}s", text)
    assert n == 1, "sla.yaml has no defaults.ack_within line"
    text, n = re.subn(r"(?ms)^ladders:.*?(?=^\S)", LADDERS, text)
    assert n == 1, "sla.yaml has no top-level ladders: block"
    sla.write_text(text, encoding="utf-8")
    chk = run_cli("check-config", "--insecure", "--config", str(broker.config), cwd=broker.workdir)
    assert chk.returncode == 0, f"check-config refused the ladder config:\n{chk.stdout}\n{chk.stderr}"
    return sla


def make_ladder_broker(make_broker) -> Broker:
    broker = make_broker(start=False, heartbeat="1s", resend_after="1s")
    quick_ladder_sla(broker)
    return broker.start()


def notices(peer: Peer) -> list:
    """Distinct NOTICEs the peer got, in arrival order (repeats by `delivery` are dropped by Peer)."""
    return [m for m in peer.all_pushes if m.command == "NOTICE"]


def submit(intake: Peer, tag: str) -> tuple[str, float]:
    r = intake.request("SUBMIT", {"case": case_body(f"暖气不热 室温只有15度 {tag}", f"HL-LAD-{tag}",
                                                     category=CATEGORY, address=f"金水路{tag}号院")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    return r["case_id"], time.monotonic()


def dispatch_of(broker: Broker, case_id: str) -> str:
    rows = broker.query("SELECT dispatch_id, agency FROM dispatches WHERE case_id = ?", (case_id,))
    assert len(rows) == 1 and rows[0][1] == AGENCY, rows
    return rows[0][0]


def ack_timers(broker: Broker, dispatch_id: str) -> list[tuple]:
    return broker.query("SELECT id, due FROM timers WHERE owner = ? AND id LIKE ? ORDER BY id",
                        (dispatch_id, f"{dispatch_id}/ack/%"))


def escalations(broker: Broker, case_id: str) -> int:
    (n,), = broker.query("SELECT count(*) FROM events WHERE case_id = ? AND type = 'case.escalated'", (case_id,))
    return n


def check_notice(n, kind: str, level: int, case_id: str, dispatch_id: str) -> None:
    assert n["kind"] == kind and n["level"] == level, n
    assert n["clock"] == "ack", n
    assert n["case_id"] == case_id and n["dispatch_id"] == dispatch_id and n["agency"] == AGENCY, n
    assert n.get("title"), n
    assert n.get("due"), n


@pytest.mark.slow
def test_ladder_reminds_then_supervises_in_order_exactly_once(make_broker, peers):
    broker = make_ladder_broker(make_broker)
    agency = peers(broker.endpoint, "py-reli-ladder", ["agency"], agency=AGENCY, auto_received=True)
    agency.hello()
    ops = peers(broker.endpoint, "py-ops-ladder", ["ops"], auto_received=True)
    ops.hello()
    intake = peers(broker.endpoint, "py-intake-ladder", ["intake"])
    intake.hello()
    everyone = [agency, ops, intake]

    case_id, submitted = submit(intake, "A1")
    dispatch_id = dispatch_of(broker, case_id)
    # Both rungs are scheduled as rows (nothing has fired yet, 1.5 s before the first is due).
    assert [t[0] for t in ack_timers(broker, dispatch_id)] == [f"{dispatch_id}/ack/0", f"{dispatch_id}/ack/1"], \
        broker.query("SELECT id, owner FROM timers")
    assert escalations(broker, case_id) == 0

    d = agency.expect_push("DISPATCH", timeout=5)
    assert d["dispatch_id"] == dispatch_id

    arrived: dict[str, float] = {}

    def stamp(m) -> None:
        if m.command == "NOTICE":
            arrived[m["delivery"]] = time.monotonic() - submitted
    agency.on_push = stamp

    # Never ACK: collect for ~5 s (the deadline is at 3 s), well past both rungs and several resends.
    wait_until(lambda: len(notices(agency)) >= 2 and notices(ops), ACK_WINDOW_S + 3,
               "remind and supervise at the agency, supervise at ops", pump=everyone)
    end = submitted + ACK_WINDOW_S + 2
    while time.monotonic() < end:
        pump_peers(everyone, 0.1)

    to_agency = notices(agency)
    assert [n["kind"] for n in to_agency] == ["remind", "supervise"], to_agency
    assert len({n["delivery"] for n in to_agency}) == 2, to_agency
    check_notice(to_agency[0], "remind", 1, case_id, dispatch_id)
    check_notice(to_agency[1], "supervise", 2, case_id, dispatch_id)
    # 50 % of 3 s, then 100 %: neither early (generous lower bounds; the broker's clock starts
    # at the dispatch, just before our ACCEPTED arrived).
    t_remind, t_supervise = arrived[to_agency[0]["delivery"]], arrived[to_agency[1]["delivery"]]
    assert t_remind >= ACK_WINDOW_S * 0.5 - 0.3, f"remind after {t_remind:.2f}s"
    assert t_supervise >= ACK_WINDOW_S - 0.3, f"supervise after {t_supervise:.2f}s"
    assert t_remind < t_supervise

    to_ops = notices(ops)
    assert [n["kind"] for n in to_ops] == ["supervise"], to_ops
    check_notice(to_ops[0], "supervise", 2, case_id, dispatch_id)
    assert to_ops[0]["delivery"] not in {n["delivery"] for n in to_agency}

    assert escalations(broker, case_id) == 2
    assert ack_timers(broker, dispatch_id) == []
    # RECEIVED cleared every stored NOTICE.
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE command = 'NOTICE'")[0][0] == 0, 5,
               "the NOTICE outbox rows to be deleted after RECEIVED", pump=everyone)

    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, f"verify-log failed:\n{v.stdout}\n{v.stderr}"


@pytest.mark.slow
def test_rungs_due_while_broker_was_killed_fire_once_after_restart(make_broker, peers):
    broker = make_ladder_broker(make_broker)
    intake = peers(broker.endpoint, "py-intake-ladder-k9", ["intake"])
    intake.hello()

    case_id, submitted = submit(intake, "B1")
    broker.kill9()
    killed_after = time.monotonic() - submitted
    assert killed_after < ACK_WINDOW_S * 0.5, f"kill -9 came {killed_after:.2f}s after submit, after the first rung"

    # The dead broker fired nothing: both rungs are still rows, no escalation is logged.
    dispatch_id = dispatch_of(broker, case_id)
    assert len(ack_timers(broker, dispatch_id)) == 2, broker.query("SELECT id, owner, due FROM timers")
    assert escalations(broker, case_id) == 0

    # Both rungs (1.5 s and 3 s) come due while the broker is down.
    while time.monotonic() < submitted + ACK_WINDOW_S + 0.7:
        time.sleep(0.05)
    broker.start()

    agency = peers(broker.endpoint, "py-reli-ladder-k9", ["agency"], agency=AGENCY, auto_received=True)
    agency.hello()
    wait_until(lambda: len(notices(agency)) >= 2, 10, "remind and supervise after the restart", pump=[agency])
    got = notices(agency)
    assert [n["kind"] for n in got] == ["remind", "supervise"], got
    assert len({n["delivery"] for n in got}) == 2, got
    check_notice(got[0], "remind", 1, case_id, dispatch_id)
    check_notice(got[1], "supervise", 2, case_id, dispatch_id)
    assert got[1].get("overdue_by"), f"supervise fired after the deadline but has no overdue_by: {got[1]!r}"
    # The dispatch itself survived too (delivered after the restart, once).
    wait_until(lambda: [m for m in agency.all_pushes if m.command == "DISPATCH"], 5,
               "the DISPATCH after the restart", pump=[agency])

    # A further ~3 s (three resend intervals): no new NOTICE delivery ids, no new escalation.
    before = {n["delivery"] for n in got}
    end = time.monotonic() + 3
    while time.monotonic() < end:
        agency.pump(0.1)
    after = {n["delivery"] for n in notices(agency)}
    assert [m["dispatch_id"] for m in agency.all_pushes if m.command == "DISPATCH"] == [dispatch_id]
    assert after == before, f"new NOTICE deliveries after the first two: {[n for n in notices(agency) if n['delivery'] not in before]!r}"

    assert escalations(broker, case_id) == 2
    assert ack_timers(broker, dispatch_id) == []
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, f"verify-log failed after kill -9:\n{v.stdout}\n{v.stderr}"
