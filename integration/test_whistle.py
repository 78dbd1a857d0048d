"""The whistle (吹哨报到) against the real broker, as a black box.

A grid worker (or a street office, a supervisor, the centre) blows a whistle on a place; each
department summoned gets a SUMMON push (stored, redelivered until RECEIVED) and a clock to be on
site by `report_by`; it answers REPORT en_route / on_site; the whistle is stood down (撤哨) by
whoever blew it, a supervisor or the centre — not while its case is unfinished (事不完、人不撤)
unless the centre overrides. A department that does not come climbs the `whistle` ladder
(催办 → 督办 to its supervisor and the street that whistled → 通报 to the district and the
centre), each rung once, also across a kill -9. In 应急 (emergency) mode a case of an urgent
category blows a whistle by itself.

Every test ends with `muster verify-log`: the whistles and summons tables equal the replayed log.
"""
from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta

import pytest
import zmq

from conftest import GRID, VERSION, Broker, Peer, case_body, pump_peers, run_cli, verify_log, wait_until

WHISTLE_ID = re.compile(r"^W\d{10}$")
WHISTLE_EVENT_TYPES = ["whistle.blown", "whistle.summoned", "whistle.reported", "whistle.released",
                       "whistle.stood_down", "whistle.escalated"]
# The 二七塔商圈 dedicated grid (erqita) that GRID lies in, and its member units (grids.yaml).
ERQITA_UNITS = ["chengguan", "gongan", "shichang", "jiaotong", "zhujian"]
# street_vending in erqita (routing.yaml override): lead 城管, assists 公安 and 市场监管.
VENDING_LEAD, VENDING_ASSISTS = "chengguan", ["gongan", "shichang"]


# --------------------------------------------------------------------------------------------
# helpers


def ts(text: str) -> datetime:
    """An RFC 3339 time of the broker (always with an offset)."""
    t = datetime.fromisoformat(text)
    assert t.tzinfo is not None, f"time without an offset: {text!r}"
    return t


def max_seq(broker: Broker) -> int:
    (n,), = broker.query("SELECT coalesce(max(seq), 0) FROM events")
    return n


def summon_outbox(broker: Broker) -> int:
    (n,), = broker.query("SELECT count(*) FROM outbox WHERE command = 'SUMMON'")
    return n


def blow(peer: Peer, **body) -> dict:
    r = peer.request("WHISTLE", body)
    assert r.command == "OK", f"WHISTLE {body!r} answered {r!r}"
    assert WHISTLE_ID.match(r["whistle_id"]), r
    assert r["state"] == "open", r
    return r.body


def query_whistle(peer: Peer, whistle_id: str) -> dict:
    r = peer.request("QUERY", {"what": "whistle", "whistle_id": whistle_id})
    assert r.command == "RESULT", r
    assert r["whistle"]["whistle_id"] == whistle_id, r
    return r.body


def summon_row(result: dict, agency: str) -> dict:
    rows = [s for s in result["whistle"]["summons"] if s["agency"] == agency]
    assert len(rows) == 1, f"{agency} in summons {result['whistle']['summons']!r}"
    return rows[0]


def expect_summon(agency: Peer, whistle_id: str, timeout: float = 10):
    return agency.expect_push("SUMMON", timeout, where=lambda m: m.get("whistle_id") == whistle_id)


def refused(reply, code: str, field: str | None = None, state: str | None = None) -> None:
    assert reply.command == "ERROR", reply
    assert reply["code"] == code, reply
    assert reply.get("re"), reply
    assert isinstance(reply.get("detail"), dict), reply
    if field is not None:
        assert reply["detail"].get("field") == field, reply
    if state is not None:
        assert reply["detail"].get("state") == state, reply


def submit(intake: Peer, title: str, ref: str, **kw) -> str:
    r = intake.request("SUBMIT", {"case": case_body(title, ref, **kw)})
    assert r.command == "ACCEPTED", r
    assert r["state"] == "dispatched", r
    return r["case_id"]


def verified(broker: Broker) -> None:
    assert broker.stop() == 0, broker.stderr_tail()
    v = verify_log(broker.db)
    assert v.returncode == 0, f"verify-log failed:\n{v.stdout}\n{v.stderr}"


def notices(peer: Peer) -> list:
    return [m for m in peer.all_pushes if m.command == "NOTICE"]


# --------------------------------------------------------------------------------------------
# 1. the whole whistle


def test_a_whistle_through_summon_report_and_stand_down(make_broker, peers):
    # resend_after 60 s: within this test a SUMMON comes again only because its peer said HELLO.
    broker = make_broker(heartbeat="1s", resend_after="60s")
    monitor = peers(broker.endpoint, "py-monitor-w1", ["monitor"], auto_received=True)
    grid = peers(broker.endpoint, "py-grid-jfl-w1", ["grid"])
    chengguan = peers(broker.endpoint, "py-chengguan-w1", ["agency"], agency="chengguan")
    gongan = peers(broker.endpoint, "py-gongan-w1", ["agency"], agency="gongan")
    shichang = peers(broker.endpoint, "py-shichang-w1", ["agency"], agency="shichang", auto_received=True)
    for p in (monitor, grid, chengguan, gongan, shichang):
        p.hello()
    everyone = [monitor, grid, chengguan, gongan, shichang]
    sub = monitor.request("SUBSCRIBE", {"after": 0, "types": WHISTLE_EVENT_TYPES})
    assert sub.command == "OK", sub

    reason = "解放路夜市占道经营、噪声扰民，需城管公安联合整治"
    before = datetime.now().astimezone()
    ok = blow(grid, id="wh-1", grid=GRID, reason=reason, kind="enforcement", summon=["chengguan", "gongan"])
    after = datetime.now().astimezone()
    wid = ok["whistle_id"]
    assert ok["re"] == "wh-1"
    assert ok["summoned"] == ["chengguan", "gongan"], ok
    assert "case_id" not in ok, ok                      # blown on a place, not on a case
    report_by = ts(ok["report_by"])                      # default report_within: 30 min
    assert before + timedelta(minutes=30) - timedelta(seconds=2) <= report_by <= after + timedelta(minutes=30, seconds=2), ok

    # Each department gets its SUMMON.
    s_cg = expect_summon(chengguan, wid)
    s_ga = expect_summon(gongan, wid)
    for s, agency in ((s_cg, "chengguan"), (s_ga, "gongan")):
        assert isinstance(s["delivery"], str) and s["delivery"], s
        assert s["summon_id"] == f"{wid}/{agency}", s
        assert s["agency"] == agency, s
        assert s["kind"] == "enforcement", s
        assert s["grid"] == GRID, s
        assert "解放路" in s["grid_name"], s
        assert s["reason"] == reason, s
        assert "case_id" not in s.body, s
        assert s["blown_by"] == grid.adapter, s
        assert ts(s["report_by"]) == report_by, s
        assert ts(s["report_by"]) - ts(s["summoned_at"]) == timedelta(minutes=30), s
    assert s_cg["delivery"] != s_ga["delivery"]
    assert not [m for m in shichang.all_pushes if m.command == "SUMMON"], "shichang was not summoned"
    chengguan.received([s_cg["delivery"]])

    # gongan does not answer RECEIVED: the SUMMON stays stored and comes again, at once, with the
    # same delivery id, when gongan connects anew and says HELLO.
    assert gongan.deliveries_seen[s_ga["delivery"]] == 1
    wait_until(lambda: summon_outbox(broker) == 1, 5, "chengguan's RECEIVED to clear its SUMMON", pump=everyone)
    gongan.reconnect()
    w = gongan.hello()
    assert w["pending"] >= 1, w
    wait_until(lambda: gongan.deliveries_seen[s_ga["delivery"]] >= 2, 5, "the SUMMON again after HELLO", pump=everyone)
    gongan.received([s_ga["delivery"]])
    wait_until(lambda: summon_outbox(broker) == 0, 5, "the SUMMON outbox to empty after RECEIVED", pump=everyone)
    # chengguan had received its SUMMON: a new connection of it has nothing waiting.
    chengguan.reconnect()
    assert chengguan.hello()["pending"] == 0

    # 报到: on the way, then on site, in time.
    r = chengguan.request("REPORT", {"id": "rep-cg-1", "whistle_id": wid, "status": "en_route", "note": "中队出发",
                                     "lat": 34.7533, "lon": 113.6652})
    assert r.command == "OK", r
    assert r.body == {"re": "rep-cg-1", "whistle_id": wid, "agency": "chengguan", "state": "en_route"}, r
    r = chengguan.request("REPORT", {"id": "rep-cg-2", "whistle_id": wid, "status": "on_site", "note": "已到场"})
    assert r.command == "OK", r
    assert r.body == {"re": "rep-cg-2", "whistle_id": wid, "agency": "chengguan", "state": "on_site", "on_time": True}, r
    r = gongan.request("REPORT", {"id": "rep-ga-1", "whistle_id": wid, "status": "en_route"})
    assert (r.command, r["state"]) == ("OK", "en_route"), r
    assert "on_time" not in r.body, r
    r = gongan.request("REPORT", {"id": "rep-ga-2", "whistle_id": wid, "status": "on_site"})
    assert (r.command, r["state"], r["on_time"]) == ("OK", "on_site", True), r

    # 增派: one more department to the open whistle, then released early (the whistle stays open).
    more = grid.request("WHISTLE", {"id": "wh-1-more", "whistle_id": wid, "summon": ["shichang"]})
    assert more.command == "OK", more
    assert (more["whistle_id"], more["state"], more["summoned"]) == (wid, "open", ["shichang"]), more
    s_sc = expect_summon(shichang, wid)
    assert (s_sc["summon_id"], s_sc["agency"], s_sc["blown_by"]) == (f"{wid}/shichang", "shichang", grid.adapter), s_sc
    rel = grid.request("STAND_DOWN", {"id": "sd-1-sc", "whistle_id": wid, "agency": "shichang", "note": "无需市场监管"})
    assert rel.command == "OK", rel
    assert (rel["whistle_id"], rel["state"]) == (wid, "open"), rel
    q = query_whistle(grid, wid)
    assert q["whistle"]["state"] == "open"
    assert summon_row(q, "shichang")["state"] == "released", q
    assert summon_row(q, "chengguan")["state"] == "on_site", q

    # 撤哨 by the grid worker who blew it.
    sd = grid.request("STAND_DOWN", {"id": "sd-1", "whistle_id": wid, "note": "整治完毕"})
    assert sd.command == "OK", sd
    assert (sd["re"], sd["whistle_id"], sd["state"]) == ("sd-1", wid, "closed"), sd

    q = query_whistle(monitor, wid)
    wh = q["whistle"]
    assert (wh["state"], wh["grid"], wh["kind"], wh["reason"], wh["blown_by"]) == \
        ("closed", GRID, "enforcement", reason, grid.adapter), wh
    assert wh.get("closed_at"), wh
    for agency in ("chengguan", "gongan"):
        s = summon_row(q, agency)
        assert s["state"] == "stood_down", s
        assert s.get("on_site_at") and s.get("en_route_at"), s
        assert s["on_time"] is True, s
        assert ts(s["en_route_at"]) <= ts(s["on_site_at"]) <= ts(s["report_by"]), s
        assert "escalation" not in s, s
    assert summon_row(q, "shichang").get("on_site_at") is None
    types = [e["type"] for e in q["timeline"] if e["type"].startswith("whistle.")]
    assert types.count("whistle.blown") == 1 and types.index("whistle.blown") == 0, types
    assert types.count("whistle.summoned") == 3, types
    assert types.count("whistle.reported") == 4, types
    assert types.count("whistle.released") == 1, types
    assert types[-1] == "whistle.stood_down" and types.count("whistle.stood_down") == 1, types
    assert "whistle.escalated" not in types, types

    # A subscriber saw the same whistle.* events, each with the whistle id as its case_id.
    def seen_events():
        return [m for m in monitor.all_pushes if m.command == "EVENT"]
    wait_until(lambda: any(e["type"] == "whistle.stood_down" for e in seen_events()), 5,
               "whistle.stood_down at the subscriber", pump=everyone)
    events = seen_events()
    assert [e["type"] for e in events] == types, events
    assert {e["case_id"] for e in events} == {wid}, events
    blown = events[0]
    assert blown["actor"] == grid.adapter and blown["data"]["whistle_id"] == wid, blown
    assert blown["data"]["grid"] == GRID and blown["data"]["kind"] == "enforcement", blown
    reported = [e["data"] for e in events if e["type"] == "whistle.reported"]
    assert [(d["agency"], d["status"]) for d in reported] == \
        [("chengguan", "en_route"), ("chengguan", "on_site"), ("gongan", "en_route"), ("gongan", "on_site")], reported
    assert reported[0].get("lat") == 34.7533 and reported[0].get("lon") == 113.6652, reported[0]

    verified(broker)


# --------------------------------------------------------------------------------------------
# 2. 事不完、人不撤


def test_stand_down_is_refused_while_the_case_is_open_unless_ops_overrides(broker, peers):
    intake = peers(broker.endpoint, "py-intake-w2", ["intake"])
    grid = peers(broker.endpoint, "py-grid-w2", ["grid"])
    ops = peers(broker.endpoint, "py-ops-w2", ["ops"], auto_received=True)
    agencies = {a: peers(broker.endpoint, f"py-{a}-w2", ["agency"], agency=a, auto_received=True)
                for a in [VENDING_LEAD] + VENDING_ASSISTS}
    for p in (intake, grid, ops, *agencies.values()):
        p.hello()

    case_a = submit(intake, "解放路口流动摊贩占道经营", "HL-W2-A", address="解放路88号")
    ok = blow(grid, id="wh-2a", grid=GRID, reason="摊贩聚集堵塞人行道，需联合执法", kind="enforcement", case_id=case_a)
    wid = ok["whistle_id"]
    assert ok["case_id"] == case_a, ok
    # No summon named: the case's lead and assists.
    assert ok["summoned"] == [VENDING_LEAD] + VENDING_ASSISTS, ok
    for a, p in agencies.items():
        s = expect_summon(p, wid)
        assert (s["agency"], s["case_id"], s["summon_id"]) == (a, case_a, f"{wid}/{a}"), s

    # The case is still 已派单: stand-down is refused, naming the case's state, and changes nothing.
    seq = max_seq(broker)
    err = grid.request("STAND_DOWN", {"id": "sd-2a-1", "whistle_id": wid, "note": "先撤"})
    refused(err, "invalid_transition", state="dispatched")
    assert max_seq(broker) == seq
    q = query_whistle(grid, wid)
    assert q["whistle"]["state"] == "open", q
    assert {s["state"] for s in q["whistle"]["summons"]} == {"summoned"}, q
    # The case's own record includes its whistle.
    qc = intake.request("QUERY", {"what": "case", "case_id": case_a})
    assert qc.command == "RESULT", qc
    assert "whistle.blown" in [e["type"] for e in qc["timeline"]], qc["timeline"]
    assert [e["type"] for e in qc["timeline"]].count("whistle.summoned") == 3, qc["timeline"]

    # 签收: now 处置中, still unfinished.
    lead = agencies[VENDING_LEAD]
    d = lead.expect_push("DISPATCH", 10, where=lambda m: m["case"]["case_id"] == case_a and m["role"] == "lead")
    ack = lead.request("ACK", {"dispatch_id": d["dispatch_id"], "handler": "王队长"})
    assert (ack.command, ack["state"]) == ("OK", "handling"), ack
    err = grid.request("STAND_DOWN", {"id": "sd-2a-1", "whistle_id": wid})    # a refused id may be sent again
    refused(err, "invalid_transition", state="handling")
    assert query_whistle(grid, wid)["whistle"]["state"] == "open"

    # 办结: now it may stand down.
    res = lead.request("RESOLVE", {"dispatch_id": d["dispatch_id"], "result": "摊贩已劝离"})
    assert (res.command, res["state"]) == ("OK", "finished"), res
    sd = grid.request("STAND_DOWN", {"id": "sd-2a-1", "whistle_id": wid, "note": "事已办结"})
    assert sd.command == "OK", sd
    assert (sd["whistle_id"], sd["state"]) == (wid, "closed"), sd
    q = query_whistle(grid, wid)
    assert q["whistle"]["state"] == "closed" and "override" not in q["whistle"], q
    assert {s["state"] for s in q["whistle"]["summons"]} == {"stood_down"}, q

    # A second case, a second whistle: the grid worker may not override; the centre may.
    case_b = submit(intake, "德化街出店经营占道", "HL-W2-B", address="解放路166号")
    ok_b = blow(grid, id="wh-2b", grid=GRID, reason="出店经营屡禁不止", kind="resident_concern", case_id=case_b)
    wid_b = ok_b["whistle_id"]
    assert wid_b != wid and ok_b["case_id"] == case_b
    seq = max_seq(broker)
    err = grid.request("STAND_DOWN", {"id": "sd-2b-grid", "whistle_id": wid_b, "override": "我说撤就撤"})
    refused(err, "forbidden")
    assert max_seq(broker) == seq
    assert query_whistle(grid, wid_b)["whistle"]["state"] == "open"
    err = ops.request("STAND_DOWN", {"id": "sd-2b-ops-plain", "whistle_id": wid_b})     # ops without override
    refused(err, "invalid_transition", state="dispatched")
    assert max_seq(broker) == seq
    reason = "暴雨预警，现场人员撤回待命"
    sd = ops.request("STAND_DOWN", {"id": "sd-2b-ops", "whistle_id": wid_b, "override": reason})
    assert sd.command == "OK", sd
    assert (sd["whistle_id"], sd["state"]) == (wid_b, "closed"), sd
    q = query_whistle(ops, wid_b)
    assert q["whistle"]["state"] == "closed" and q["whistle"].get("override") == reason, q
    stood = [e for e in q["timeline"] if e["type"] == "whistle.stood_down"]
    assert len(stood) == 1 and stood[0]["actor"] == ops.adapter and stood[0]["data"].get("override") == reason, stood
    # Overriding the whistle does not move its case.
    qc = intake.request("QUERY", {"what": "case", "case_id": case_b})
    assert qc["case"]["state"] == "dispatched", qc

    verified(broker)


# --------------------------------------------------------------------------------------------
# 3. the whistle ladder, across a kill -9

REPORT_WITHIN_S = 4
WHISTLE_LADDER = """\
  whistle:
    - {at: -2s, notice: remind, to: [agency], level: 1}
    - {at: 100%, notice: supervise, to: [agency, supervisor, street], level: 2}
    - {at: +2s, notice: report_overdue, to: [district, ops], level: 3}
"""


def quick_whistle_ladder(broker: Broker) -> None:
    """Rewrites the copied sla.yaml's `ladders.whistle` (remind 2 s before the deadline,
    supervise at it, report_overdue 2 s after); checked with `muster check-config`."""
    sla = broker.config.parent / "sla.yaml"
    text = sla.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^  whistle:.*\n(?:    - .*\n)+", WHISTLE_LADDER, text)
    assert n == 1, "sla.yaml has no ladders.whistle block"
    sla.write_text(text, encoding="utf-8")
    chk = run_cli("check-config", "--insecure", "--config", str(broker.config), cwd=broker.workdir)
    assert chk.returncode == 0, f"check-config refused the whistle ladder:\n{chk.stdout}\n{chk.stderr}"


@pytest.mark.slow
def test_a_department_that_never_reports_gets_each_rung_once_across_a_kill9(make_broker, peers):
    broker = make_broker(start=False, heartbeat="1s", resend_after="1s")
    quick_whistle_ladder(broker)
    broker.start()

    grid = peers(broker.endpoint, "py-grid-w3", ["grid"], auto_received=True)                 # the street
    on_site = peers(broker.endpoint, "py-chengguan-w3", ["agency"], agency="chengguan", auto_received=True)
    silent = peers(broker.endpoint, "py-gongan-w3", ["agency"], agency="gongan", auto_received=True)
    # gongan's supervisor, watching another district (so it is no district recipient).
    sup = peers(broker.endpoint, "py-sup-gongan-w3", ["supervisor"], agency="gongan", auto_received=True)
    # 二七区's district government: a supervisor of another agency whose jurisdiction is zz/erqi.
    district = peers(broker.endpoint, "py-district-erqi-w3", ["supervisor"], agency="reli", auto_received=True)
    ops = peers(broker.endpoint, "py-ops-w3", ["ops"], auto_received=True)
    hellos = {grid: {}, on_site: {}, silent: {}, sup: {"jurisdictions": ["zz/jinshui"]},
              district: {"jurisdictions": ["zz/erqi"]}, ops: {}}
    for p, extra in hellos.items():
        p.hello(**extra)
    everyone = list(hellos)

    ok = blow(grid, grid=GRID, reason="解放路占道施工围挡倒塌，需多部门到场", kind="enforcement",
              summon=["chengguan", "gongan"], report_within=f"{REPORT_WITHIN_S}s")
    blown = time.monotonic()
    wid = ok["whistle_id"]
    report_by = ts(ok["report_by"])
    expect_summon(on_site, wid, 5)
    expect_summon(silent, wid, 5)
    r = on_site.request("REPORT", {"whistle_id": wid, "status": "on_site"})
    assert (r.command, r["state"], r["on_time"]) == ("OK", "on_site", True), r

    # Rung 0 (2 s before the deadline) reminds the silent department.
    wait_until(lambda: notices(silent), REPORT_WITHIN_S + 3, "the remind NOTICE to gongan", pump=everyone)
    remind = notices(silent)[0]
    assert (remind["kind"], remind["level"], remind["clock"]) == ("remind", 1, "whistle"), remind
    assert time.monotonic() - blown < REPORT_WITHIN_S, "rung 0 came no earlier than the deadline: kill -9 would be late"

    broker.kill9()
    # The dead broker fired nothing more: one whistle.escalated so far.
    (n,), = broker.query("SELECT count(*) FROM events WHERE case_id = ? AND type = 'whistle.escalated'", (wid,))
    assert n == 1, broker.query("SELECT seq, type FROM events WHERE case_id = ?", (wid,))
    broker.start()
    for p, extra in hellos.items():
        p.hello(**extra)

    wait_until(lambda: [n for n in notices(ops) if n["kind"] == "report_overdue"]
               and [n for n in notices(district) if n["kind"] == "report_overdue"]
               and [n for n in notices(silent) if n["kind"] == "supervise"]
               and notices(sup) and notices(grid),
               REPORT_WITHIN_S + 10, "every rung's NOTICEs after the restart", pump=everyone)
    # A little longer (several resend intervals): no further deliveries, no further rung.
    end = time.monotonic() + 2.5
    while time.monotonic() < end:
        pump_peers(everyone, 0.1)

    def kinds(p: Peer) -> list[str]:
        return [n["kind"] for n in notices(p)]

    assert kinds(silent) == ["remind", "supervise"], notices(silent)
    assert kinds(sup) == ["supervise"], notices(sup)
    assert kinds(grid) == ["supervise"], notices(grid)            # `street`: whoever blew the whistle
    assert kinds(district) == ["report_overdue"], notices(district)
    assert kinds(ops) == ["report_overdue"], notices(ops)
    assert notices(on_site) == [], f"the department on site got rungs: {notices(on_site)!r}"
    every = [n for p in everyone for n in notices(p)]
    assert len({n["delivery"] for n in every}) == len(every) == 6, every
    for n in every:
        assert n["clock"] == "whistle", n
        assert (n["whistle_id"], n["summon_id"], n["agency"]) == (wid, f"{wid}/gongan", "gongan"), n
        assert "case_id" not in n.body, n                                  # blown on a place
        assert n.get("title"), n
        assert ts(n["due"]) == report_by, n
        assert n.get("rung_due"), n
        assert n["level"] == {"remind": 1, "supervise": 2, "report_overdue": 3}[n["kind"]], n
    assert "overdue_by" not in remind.body, remind
    assert all(n.get("overdue_by") for n in every if n["kind"] == "report_overdue"), every
    assert ts(remind["rung_due"]) == report_by - timedelta(seconds=2), remind
    overdue = [n for n in every if n["kind"] == "report_overdue"][0]
    assert ts(overdue["rung_due"]) == report_by + timedelta(seconds=2), overdue

    # Exactly one whistle.escalated per rung, all for the silent department.
    q = query_whistle(grid, wid)
    esc = [e for e in q["timeline"] if e["type"] == "whistle.escalated"]
    assert sorted(e["data"]["rung"]["rung"] for e in esc) == [0, 1, 2], esc
    assert {e["data"]["rung"]["agency"] for e in esc} == {"gongan"}, esc
    assert {e["actor"] for e in esc} == {"broker"}, esc
    (n,), = broker.query("SELECT count(*) FROM events WHERE case_id = ? AND type = 'whistle.escalated'", (wid,))
    assert n == 3
    assert summon_row(q, "gongan")["escalation"] == 3, q
    assert summon_row(q, "gongan")["state"] == "summoned" and "on_site_at" not in summon_row(q, "gongan"), q
    assert "escalation" not in summon_row(q, "chengguan"), q

    # 撤哨 with gongan never there: the scorecards (双考核) count it.
    sd = grid.request("STAND_DOWN", {"whistle_id": wid, "note": "围挡已清理"})
    assert (sd.command, sd["state"]) == ("OK", "closed"), sd
    st = ops.request("QUERY", {"what": "stats"})
    assert st.command == "RESULT", st
    depts = {d["agency"]: d for d in st["whistles"]["departments"]}
    assert (depts["gongan"]["summoned"], depts["gongan"]["never"], depts["gongan"]["on_time"], depts["gongan"]["waiting"]) == \
        (1, 1, 0, 0), depts
    assert (depts["chengguan"]["summoned"], depts["chengguan"]["on_time"], depts["chengguan"]["late"], depts["chengguan"]["never"]) == \
        (1, 1, 0, 0), depts
    assert st["whistles"]["grids"] and st["whistles"]["streets"], st["whistles"]

    verified(broker)


# --------------------------------------------------------------------------------------------
# 4. 应急: the whistle blows by itself


def test_emergency_mode_blows_the_whistle_by_itself(broker, peers):
    ops = peers(broker.endpoint, "py-ops-w4", ["ops"])
    intake = peers(broker.endpoint, "py-intake-w4", ["intake"])
    road = {a: peers(broker.endpoint, f"py-{a}-w4", ["agency"], agency=a, auto_received=True)
            for a in ("zhujian", "gongan", "jiaotong")}
    for p in (ops, intake, *road.values()):
        p.hello()
    everyone = [ops, intake, *road.values()]

    def open_whistles() -> list[dict]:
        r = ops.request("QUERY", {"what": "whistles"})
        assert r.command == "RESULT", r
        return r["whistles"]

    # 平时: a road collapse is dispatched, nobody whistles.
    submit(intake, "解放路路面塌陷 平时", "HL-W4-0", category="road_collapse", address="解放路12号")
    assert open_whistles() == []

    m = ops.request("MODE", {"id": "mode-w4", "mode": "emergency", "scope": "zz/erqi"})
    assert m.command == "OK" and (m["mode"], m["scope"]) == ("emergency", "zz/erqi"), m

    title = "德化街路面塌陷 形成深坑"
    case_id = submit(intake, title, "HL-W4-1", category="road_collapse", grid="zz/erqi/dehuajie/dehuajie",
                     address="德化街40号")
    ws = open_whistles()
    assert len(ws) == 1, ws
    w = ws[0]
    wid = w["whistle_id"]
    assert WHISTLE_ID.match(wid), w
    assert (w["case_id"], w["blown_by"], w["kind"], w["state"]) == (case_id, "broker", "emergency", "open"), w
    assert w["grid"] == "zz/erqi/dehuajie/dehuajie", w
    assert sorted(s["agency"] for s in w["summons"]) == ["gongan", "jiaotong", "zhujian"], w

    for a, p in road.items():
        s = expect_summon(p, wid)
        assert (s["agency"], s["kind"], s["blown_by"], s["case_id"]) == (a, "emergency", "broker", case_id), s
        assert s["summon_id"] == f"{wid}/{a}", s
        assert s.get("reason") and s.get("report_by"), s
    # The case was dispatched as well.
    d = road["zhujian"].expect_push("DISPATCH", 10, where=lambda m: m["case"]["case_id"] == case_id)
    assert d["role"] == "lead"

    # Outside the mode's scope, or of another category: no whistle.
    submit(intake, "花园路路面塌陷", "HL-W4-2", category="road_collapse", grid="zz/jinshui/dashiqiao",
           address="文化路7号")
    submit(intake, "德化街流动摊贩", "HL-W4-3", category="street_vending", grid="zz/erqi/dehuajie",
           address="德化街41号")
    assert [x["whistle_id"] for x in open_whistles()] == [wid]

    qc = intake.request("QUERY", {"what": "case", "case_id": case_id})
    tl = qc["timeline"]
    blown = [e for e in tl if e["type"] == "whistle.blown"]
    # The event's actor is the submitter whose SUBMIT caused it (as for the DISPATCH); the whistle
    # itself was blown by the broker.
    assert len(blown) == 1 and blown[0]["data"]["whistle_id"] == wid, tl
    assert (blown[0]["data"]["blown_by"], blown[0]["data"]["kind"], blown[0]["data"]["case_id"]) == \
        ("broker", "emergency", case_id), blown
    assert [e["type"] for e in tl].count("whistle.summoned") == 3, tl
    (n,), = broker.query("SELECT count(*) FROM whistles")
    assert n == 1
    wait_until(lambda: summon_outbox(broker) == 0, 5, "every SUMMON received", pump=everyone)

    verified(broker)


# --------------------------------------------------------------------------------------------
# 5. refusals


def test_bad_whistle_input_gets_its_error_and_changes_nothing(broker, peers):
    grid = peers(broker.endpoint, "py-grid-w5", ["grid"])
    other_grid = peers(broker.endpoint, "py-grid-w5-other", ["grid"])
    intake = peers(broker.endpoint, "py-intake-w5", ["intake"])
    chengguan = peers(broker.endpoint, "py-chengguan-w5", ["agency"], agency="chengguan", auto_received=True)
    gongan = peers(broker.endpoint, "py-gongan-w5", ["agency"], agency="gongan", auto_received=True)
    reli = peers(broker.endpoint, "py-reli-w5", ["agency"], agency="reli", auto_received=True)
    for p in (grid, other_grid, intake, chengguan, gongan, reli):
        p.hello()

    ok = blow(grid, grid=GRID, reason="二七塔广场人员聚集", kind="resident_concern", summon=["chengguan", "gongan"])
    wid = ok["whistle_id"]
    expect_summon(chengguan, wid)
    seq = max_seq(broker)
    (whistles,), = broker.query("SELECT count(*) FROM whistles")

    def unchanged() -> None:
        assert max_seq(broker) == seq, broker.query("SELECT seq, case_id, type FROM events WHERE seq > ?", (seq,))
        assert broker.query("SELECT count(*) FROM whistles")[0][0] == whistles
        assert broker.alive

    good = {"grid": GRID, "reason": "占道", "kind": "enforcement"}
    refused(grid.request("WHISTLE", {**good, "summon": ["fire_brigade", "gongan"]}), "bad_field", field="summon[0]")
    unchanged()
    refused(grid.request("WHISTLE", {**good, "grid": "zz/nowhere", "summon": ["chengguan"]}), "bad_field", field="grid")
    unchanged()
    refused(grid.request("WHISTLE", {**good, "kind": "parade", "summon": ["chengguan"]}), "bad_field", field="kind")
    unchanged()
    for bad in ("25h", "0s", "5wd", "soon"):
        refused(grid.request("WHISTLE", {**good, "summon": ["chengguan"], "report_within": bad}),
                "bad_field", field="report_within")
        unchanged()
    refused(intake.request("WHISTLE", {**good, "summon": ["chengguan"]}), "forbidden")
    unchanged()

    refused(reli.request("REPORT", {"whistle_id": wid, "status": "on_site"}), "forbidden")   # not summoned
    unchanged()
    refused(chengguan.request("REPORT", {"whistle_id": "W9999999999", "status": "on_site"}), "unknown_whistle")
    unchanged()
    refused(chengguan.request("STAND_DOWN", {"whistle_id": wid}), "forbidden")                 # an agency
    unchanged()
    refused(other_grid.request("STAND_DOWN", {"whistle_id": wid}), "forbidden")                # did not blow it
    unchanged()

    r = chengguan.request("REPORT", {"whistle_id": wid, "status": "on_site"})
    assert (r.command, r["state"]) == ("OK", "on_site"), r
    seq = max_seq(broker)
    refused(chengguan.request("REPORT", {"whistle_id": wid, "status": "en_route"}), "invalid_transition", state="on_site")
    unchanged()

    q = query_whistle(grid, wid)
    assert q["whistle"]["state"] == "open", q
    assert (summon_row(q, "chengguan")["state"], summon_row(q, "gongan")["state"]) == ("on_site", "summoned"), q
    assert "en_route_at" not in summon_row(q, "chengguan"), q
    # The broker keeps serving: a good whistle, and the blower may still stand the first down.
    ok2 = blow(grid, grid=GRID, reason="占道", kind="enforcement", summon=["chengguan"])
    assert ok2["whistle_id"] != wid
    sd = grid.request("STAND_DOWN", {"whistle_id": wid})
    assert (sd.command, sd["state"]) == ("OK", "closed"), sd

    verified(broker)


# --------------------------------------------------------------------------------------------
# 6. a peer from the protocol alone


class MinimalPeer:
    """What a department's programmer writes from docs/PROTOCOL.md: a DEALER, three frames
    (b"MUSTER/1", COMMAND, UTF-8 JSON), HELLO first, HEARTBEAT when silent, RECEIVED for every push
    (dropping repeats by `delivery`), replies matched by `re`."""

    def __init__(self, ctx: zmq.Context, endpoint: str, adapter: str):
        self.adapter = adapter
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.n = 0
        self.heartbeat_ms = 5000
        self.last_sent = 0.0
        self.seen: set[str] = set()
        self.pushes: list[tuple[str, dict]] = []
        self.replies: dict[str, tuple[str, dict]] = {}

    def send(self, command: str, body: dict) -> None:
        self.sock.send_multipart([VERSION, command.encode(), json.dumps(body, ensure_ascii=False).encode()])
        self.last_sent = time.monotonic()

    def poll(self, ms: int) -> None:
        if self.sock.poll(ms):
            while True:
                try:
                    frames = self.sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                assert len(frames) == 3 and frames[0] == VERSION, frames
                command, body = frames[1].decode(), json.loads(frames[2])
                if command in ("DISPATCH", "SUMMON", "NOTICE", "EVENT"):
                    self.send("RECEIVED", {"deliveries": [body["delivery"]]})
                    if body["delivery"] not in self.seen:
                        self.seen.add(body["delivery"])
                        self.pushes.append((command, body))
                elif command != "HEARTBEAT":
                    self.replies[body.get("re")] = (command, body)
        if time.monotonic() - self.last_sent >= self.heartbeat_ms / 2000:
            self.send("HEARTBEAT", {})

    def request(self, command: str, body: dict, timeout: float = 10) -> tuple[str, dict]:
        self.n += 1
        rid = f"{self.adapter}-{self.n}"
        self.send(command, {"id": rid, **body})
        deadline = time.monotonic() + timeout
        while rid not in self.replies:
            assert time.monotonic() < deadline, f"{self.adapter}: no reply to {command} {rid}"
            self.poll(100)
        return self.replies.pop(rid)

    def push(self, command: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, (c, b) in enumerate(self.pushes):
                if c == command:
                    del self.pushes[i]
                    return b
            assert time.monotonic() < deadline, f"{self.adapter}: no {command} within {timeout}s"
            self.poll(100)

    def close(self) -> None:
        self.sock.close(0)


def test_a_python_peer_does_the_whole_whistle_from_the_protocol_document(broker, zmq_ctx):
    grid = MinimalPeer(zmq_ctx, broker.endpoint, "street-jiefanglu-py")
    cg = MinimalPeer(zmq_ctx, broker.endpoint, "chengguan-py-1")
    try:
        cmd, w = grid.request("HELLO", {"adapter": grid.adapter, "roles": ["grid"], "software": "minimal-peer/0.1"})
        assert cmd == "WELCOME", (cmd, w)
        grid.heartbeat_ms = w["heartbeat_ms"]
        cmd, w = cg.request("HELLO", {"adapter": cg.adapter, "roles": ["agency"], "agency": "chengguan",
                                      "software": "minimal-peer/0.1"})
        assert cmd == "WELCOME", (cmd, w)
        cg.heartbeat_ms = w["heartbeat_ms"]

        cmd, ok = grid.request("WHISTLE", {"grid": GRID, "reason": "解放路商户噪声扰民", "kind": "resident_concern",
                                           "summon": ["chengguan"], "report_within": "15m"})
        assert cmd == "OK", (cmd, ok)
        wid = ok["whistle_id"]
        assert WHISTLE_ID.match(wid) and ok["state"] == "open" and ok["summoned"] == ["chengguan"], ok

        s = cg.push("SUMMON")
        assert (s["whistle_id"], s["agency"], s["grid"], s["blown_by"]) == (wid, "chengguan", GRID, grid.adapter), s
        assert ts(s["report_by"]) - ts(s["summoned_at"]) == timedelta(minutes=15), s
        assert ts(s["report_by"]) == ts(ok["report_by"]), (s, ok)
        # RECEIVED went out on arrival: the stored SUMMON is gone.
        wait_until(lambda: (cg.poll(50), summon_outbox(broker) == 0)[1], 5, "the SUMMON to be received")

        cmd, rep = cg.request("REPORT", {"whistle_id": wid, "status": "on_site", "note": "执法队员已到场"})
        assert cmd == "OK", (cmd, rep)
        assert (rep["whistle_id"], rep["agency"], rep["state"], rep["on_time"]) == (wid, "chengguan", "on_site", True), rep

        cmd, sd = grid.request("STAND_DOWN", {"whistle_id": wid, "note": "已协调商户整改"})
        assert cmd == "OK", (cmd, sd)
        assert (sd["whistle_id"], sd["state"]) == (wid, "closed"), sd

        cmd, q = grid.request("QUERY", {"what": "whistle", "whistle_id": wid})
        assert cmd == "RESULT", (cmd, q)
        (only,) = q["whistle"]["summons"]
        assert (only["agency"], only["state"], only["on_time"]) == ("chengguan", "stood_down", True), only
        assert [e["type"] for e in q["timeline"] if e["type"].startswith("whistle.")] == \
            ["whistle.blown", "whistle.summoned", "whistle.reported", "whistle.stood_down"], q["timeline"]
    finally:
        grid.close()
        cg.close()
    verified(broker)
