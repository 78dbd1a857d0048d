"""Known incidents (已知事件, issue 12 item 6), black-box: the water company declares an outage
over MUSTER/1; a burst of 1,000 停水 calls in one street becomes one incident with 1,000
reporters, each answered with its message and expected end; a kill -9 of the broker loses
neither the incident nor a report; its end hands the reports back, each routed to the company."""
from __future__ import annotations

import datetime as dt

from conftest import Peer, case_body, verify_log, wait_until

STREET = "zz/erqi/jiefanglu"


def later(hours: float) -> str:
    return (dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(hours=hours)).isoformat(timespec="seconds")


def test_a_burst_of_calls_in_one_street_becomes_one_incident(make_broker, zmq_ctx):
    broker = make_broker(secure=True)
    company = Peer(broker.endpoint, "gongshui-sim-1", ["agency"], agency="gongshui", ctx=zmq_ctx,
                   curve=broker.curve("gongshui-sim-1"), auto_received=True)
    company.hello()
    declared = company.request("INCIDENT", {
        "ref": "TS-2026-118", "title": "解放路供水管网抢修停水", "categories": ["water_outage"], "grids": [STREET],
        "message": "解放路一带因管网抢修停水，预计今晚22:00恢复供水，送水车停在解放路口。",
        "expected_end": later(8), "cause": "DN300管道爆裂", "notify_after": "24h", "notice": "emergency_supply"})
    assert declared.command == "OK", declared
    incident = declared["incident"]["incident_id"]
    # Declaring the same outage again (a retry, a second operator) is the same incident.
    again = company.request("INCIDENT", {
        "ref": "TS-2026-118", "title": "解放路停水", "categories": ["water_outage"], "grids": [STREET],
        "message": "重复", "expected_end": later(8)})
    assert again["incident"]["incident_id"] == incident

    office = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    office.hello()
    for n in range(1000):
        grid = f"{STREET}/minzhulu" if n % 2 else STREET
        body = case_body("家里停水了", f"12345-TS-{n}", category="water_outage", address=f"解放路{n}号院", grid=grid)
        r = office.request("SUBMIT", {"case": body})
        assert r.command == "ACCEPTED" and r["state"] == "merged" and r["merged_into"] == incident, r
        assert "预计今晚22:00恢复供水" in r["incident"]["message"] and r["incident"]["expected_end"]
    # Another street's call and another kind of call are cases of their own.
    other = office.request("SUBMIT", {"case": case_body("停水", "12345-TS-other", category="water_outage", address="人民路1号",
                                                        grid="zz/jinshui")})
    assert other["state"] != "merged", other
    vending = office.request("SUBMIT", {"case": case_body("摆摊", "12345-TS-vend", category="street_vending", address="解放路9号")})
    assert vending["state"] != "merged", vending

    assert broker.query("SELECT count(*) FROM cases WHERE merged_into = ?", (incident,))[0][0] == 1000
    assert broker.query("SELECT count(*) FROM dispatches WHERE agency = 'gongshui'")[0][0] == 1, "only the other street's call"

    # kill -9: the incident and its reporters are durable; a retried SUBMIT is answered the same.
    broker.kill9()
    broker.start()
    office = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    office.hello()
    repeat = office.request("SUBMIT", {"case": case_body("家里停水了", "12345-TS-7", category="water_outage", address="解放路7号院",
                                                         grid=f"{STREET}/minzhulu")})
    assert repeat["merged_into"] == incident and repeat["incident"]["reports"] == 1000, repeat
    listed = office.request("QUERY", {"what": "incidents"})
    assert [(i["incident_id"], i["reports"], i["state"]) for i in listed["incidents"]] == [(incident, 1000, "active")], listed

    # The outage drags on: the company hands the reports back; each is a case of its own, routed to it.
    company = Peer(broker.endpoint, "gongshui-sim-1", ["agency"], agency="gongshui", ctx=zmq_ctx,
                   curve=broker.curve("gongshui-sim-1"), auto_received=True)
    company.hello()
    ended = company.request("INCIDENT_END", {"ref": "TS-2026-118", "outcome": "hand_back", "note": "抢修延期，逐户处理"}, timeout=60)
    assert ended.command == "OK" and ended["incident"]["state"] == "ended" and ended["incident"]["outcome"] == "hand_back", ended
    wait_until(lambda: broker.query("SELECT count(*) FROM dispatches WHERE agency = 'gongshui'")[0][0] == 1001, 30,
               "every report routed to the company")
    assert broker.query("SELECT count(*) FROM events WHERE type = 'case.handed_back'")[0][0] == 1000
    assert broker.query("SELECT count(*) FROM timers WHERE owner = ?", (incident,))[0][0] == 0, "its notice rung is gone"
    check = verify_log(broker.db)
    assert check.returncode == 0, check.stdout + check.stderr
