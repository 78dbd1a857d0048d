"""MUSTER/1 is language-neutral: peers written with nothing but pyzmq and json take a case
through its whole life, and get the documented errors when they misbehave."""
from __future__ import annotations

import json

import pytest
import zmq

from conftest import GRID, VERSION, Peer, case_body, raw_exchange, wait_until


def agency_dispatch(agency: Peer, case_id: str, timeout: float = 10):
    """The lead DISPATCH of this case, answered with RECEIVED."""
    d = agency.expect_push("DISPATCH", timeout, where=lambda m: m["case"]["case_id"] == case_id)
    agency.received([d["delivery"]])
    return d


def submit(intake: Peer, title: str, ref: str, **kw) -> dict:
    r = intake.request("SUBMIT", {"case": case_body(title, ref, **kw)})
    assert r.command == "ACCEPTED", r
    return r.body


# ------------------------------------------------------------------------------------------


def test_whole_case_lifecycle(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    chengguan = peers(broker.endpoint, "py-chengguan", ["agency"], agency="chengguan")
    grid = peers(broker.endpoint, "py-grid", ["grid"])

    w = intake.hello()
    assert w.command == "WELCOME"
    assert w["re"].startswith("hello-")
    assert isinstance(w["session"], str) and w["session"]
    assert isinstance(w["heartbeat_ms"], int) and w["heartbeat_ms"] > 0
    assert w["broker"]["name"] and w["broker"]["version"]
    assert w["pending"] == 0
    wa = chengguan.hello()
    assert wa["session"] != w["session"]
    grid.hello()

    acc = intake.request("SUBMIT", {"id": "sub-1", "case": case_body("人行道流动摊贩占道经营", "HL-2026-0001",
                                                                      category="street_vending", address="解放路与德化街交叉口")})
    assert acc.command == "ACCEPTED", acc
    assert acc["re"] == "sub-1"
    case_id = acc["case_id"]
    assert case_id.startswith("C")
    assert acc["state"] == "dispatched"
    assert acc.get("due")

    d = chengguan.expect_push("DISPATCH", 10, where=lambda m: m["case"]["case_id"] == case_id)
    assert d["role"] == "lead"
    assert d["round"] == 1
    assert d["dispatch_id"].startswith("D")
    assert isinstance(d["delivery"], str)
    assert d["case"]["case_id"] == case_id
    assert d["case"]["category"] == "street_vending"
    assert d["case"]["grid"] == GRID
    assert d["case"]["title"] == "人行道流动摊贩占道经营"
    assert d["case"]["external_ref"] == "HL-2026-0001"
    assert d["case"]["location"]["address"] == "解放路与德化街交叉口"
    assert set(d["due"]) >= {"ack_by", "resolve_by", "return_by"}
    chengguan.received([d["delivery"]])
    dispatch_id = d["dispatch_id"]

    ok = chengguan.request("ACK", {"id": "ack-1", "dispatch_id": dispatch_id, "handler": "张队长", "note": "已签收"})
    assert ok.command == "OK", ok
    assert ok.body == {"re": "ack-1", "case_id": case_id, "state": "handling", "dispatch_id": dispatch_id}

    ok = chengguan.request("RESOLVE", {"id": "res-1", "dispatch_id": dispatch_id, "result": "摊贩已劝离", "note": "办结"})
    assert ok.command == "OK", ok
    assert ok["state"] == "finished"
    assert ok["case_id"] == case_id

    ok = grid.request("VERIFY", {"id": "ver-1", "case_id": case_id, "passed": True, "note": "现场核查通过"})
    assert ok.command == "OK", ok
    assert ok["state"] == "verified"

    ok = intake.request("EVALUATE", {"id": "eva-1", "case_id": case_id, "satisfaction": "satisfied"})
    assert ok.command == "OK", ok
    assert ok["state"] == "closed"

    res = intake.request("QUERY", {"id": "q-1", "what": "case", "case_id": case_id})
    assert res.command == "RESULT", res
    assert res["re"] == "q-1"
    assert res["case"]["case_id"] == case_id
    assert res["case"]["state"] == "closed"
    assert res["case"]["satisfaction"] == "satisfied"
    types = [e["type"] for e in res["timeline"]]
    wanted = ["case.accepted", "case.dispatched", "dispatch.acked", "case.resolved",
              "case.verified", "case.evaluated", "case.closed"]
    positions = []
    for t in wanted:
        assert t in types, f"{t} missing from timeline {types}"
        positions.append(types.index(t))
    assert positions == sorted(positions), f"timeline out of order: {types}"
    seqs = [e["seq"] for e in res["timeline"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    lead = [x for x in res["dispatches"] if x["dispatch_id"] == dispatch_id]
    assert lead and lead[0]["agency"] == "chengguan" and lead[0]["role"] == "lead"
    assert lead[0]["handler"] == "张队长"

    # A closed case refuses further acts, naming its state.
    err = chengguan.request("RESOLVE", {"dispatch_id": dispatch_id, "result": "again"})
    assert err.command == "ERROR" and err["code"] == "invalid_transition", err
    assert err["detail"]["state"] == "closed"


def test_delivery_resent_until_received(make_broker, peers):
    """An unreceived DISPATCH comes again after resend_after, with the same delivery id, and
    at once on the next HELLO; after RECEIVED it stops."""
    b = make_broker(heartbeat="1s", resend_after="1s")
    intake = peers(b.endpoint, "py-intake", ["intake"])
    reli = peers(b.endpoint, "py-reli", ["agency"], agency="reli")
    intake.hello()
    reli.hello()
    acc = submit(intake, "暖气不热 室温只有十五度", "HL-R-1", category="heating_not_warm", address="大学路1号")
    d = reli.expect_push("DISPATCH", 10)
    assert d["case"]["case_id"] == acc["case_id"]
    delivery = d["delivery"]
    # Not received: it is sent again to the same session.
    wait_until(lambda: reli.deliveries_seen.get(delivery, 0) >= 2, 8, "a resend of the DISPATCH", pump=[reli])
    # A new connection with the same adapter id gets it at once on HELLO.
    reli.reconnect()
    w = reli.hello()
    assert w["pending"] >= 1
    n = reli.deliveries_seen[delivery]
    wait_until(lambda: reli.deliveries_seen[delivery] > n, 5, "the DISPATCH again after HELLO", pump=[reli])
    reli.received([delivery])
    # RECEIVED deletes the stored push (within a broker turn or so).
    wait_until(lambda: b.query("SELECT count(*) FROM outbox")[0][0] == 0, 5, "the outbox to empty", pump=[reli])


# ------------------------------------------------------------------------------------------
# errors


@pytest.fixture
def raw_sock(broker, zmq_ctx):
    s = zmq_ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(broker.endpoint)
    yield s
    s.close(0)


def test_error_not_registered(raw_sock):
    cmd, body = raw_exchange(raw_sock, [VERSION, b"SUBMIT", json.dumps({"id": "x-1", "case": case_body("t", "r")}).encode()])
    assert cmd == "ERROR"
    assert body["code"] == "not_registered"
    assert body["re"] == "x-1"
    assert body["message"]


def test_error_bad_version(raw_sock):
    cmd, body = raw_exchange(raw_sock, [b"MUSTER/2", b"HELLO", json.dumps({"id": "h", "adapter": "a", "roles": ["intake"]}).encode()])
    assert (cmd, body["code"]) == ("ERROR", "bad_version")


def test_error_bad_frame(raw_sock):
    cmd, body = raw_exchange(raw_sock, [VERSION, b"HELLO"])
    assert (cmd, body["code"]) == ("ERROR", "bad_frame")
    cmd, body = raw_exchange(raw_sock, [VERSION, b"HELLO", b"{}", b"{}"])
    assert (cmd, body["code"]) == ("ERROR", "bad_frame")


def test_error_bad_json(raw_sock):
    cmd, body = raw_exchange(raw_sock, [VERSION, b"HELLO", b"[1]"])
    assert (cmd, body["code"]) == ("ERROR", "bad_json")
    cmd, body = raw_exchange(raw_sock, [VERSION, b"HELLO", b"{not json"])
    assert (cmd, body["code"]) == ("ERROR", "bad_json")
    cmd, body = raw_exchange(raw_sock, [VERSION, b"HELLO", b"\xff\xfe{}"])
    assert (cmd, body["code"]) == ("ERROR", "bad_json")


def test_error_unknown_command(raw_sock):
    cmd, body = raw_exchange(raw_sock, [VERSION, b"FROBNICATE", b"{}"])
    assert (cmd, body["code"]) == ("ERROR", "unknown_command")


def test_broker_survives_garbage(broker, raw_sock, peers):
    """Malformed messages change nothing and the broker keeps serving."""
    for frames in ([b"junk"], [VERSION, b"SUBMIT", b"\x00\x01"], [VERSION, b"", b"{}"], [b"", b"", b""]):
        raw_sock.send_multipart(frames)
    p = peers(broker.endpoint, "py-after-garbage", ["intake"])
    p.hello()
    acc = p.request("SUBMIT", {"case": case_body("摆摊", "G-1")})
    assert acc.command == "ACCEPTED"
    assert broker.alive


def test_error_bad_field_missing_title(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    c = case_body("无标题", "BF-1")
    del c["title"]
    err = intake.request("SUBMIT", {"id": "bf-1", "case": c})
    assert err.command == "ERROR", err
    assert err["re"] == "bf-1"
    assert err["code"] == "bad_field"
    assert err["detail"]["field"] == "case.title"
    assert broker.query("SELECT count(*) FROM cases")[0][0] == 0


def test_error_resolve_before_ack(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    cg = peers(broker.endpoint, "py-chengguan", ["agency"], agency="chengguan")
    intake.hello()
    cg.hello()
    acc = submit(intake, "流动摊贩", "RB-1")
    d = agency_dispatch(cg, acc["case_id"])
    err = cg.request("RESOLVE", {"id": "rb-res", "dispatch_id": d["dispatch_id"], "result": "done"})
    assert err.command == "ERROR", err
    assert err["re"] == "rb-res"
    assert err["code"] == "invalid_transition"
    assert err["detail"]["state"]  # the dispatch's (or case's) current state is named
    # Nothing changed.
    q = intake.request("QUERY", {"what": "case", "case_id": acc["case_id"]})
    assert q["case"]["state"] == "dispatched"


def test_error_other_agency_forbidden(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    cg = peers(broker.endpoint, "py-chengguan", ["agency"], agency="chengguan")
    reli = peers(broker.endpoint, "py-reli", ["agency"], agency="reli")
    intake.hello()
    cg.hello()
    reli.hello()
    acc = submit(intake, "流动摊贩", "FB-1")
    d = agency_dispatch(cg, acc["case_id"])
    err = reli.request("ACK", {"id": "fb-ack", "dispatch_id": d["dispatch_id"], "handler": "冒名"})
    assert err.command == "ERROR", err
    assert err["code"] == "forbidden"
    assert err["re"] == "fb-ack"
    # The rightful agency still can.
    ok = cg.request("ACK", {"dispatch_id": d["dispatch_id"], "handler": "李"})
    assert ok.command == "OK" and ok["state"] == "handling"


def test_error_role_forbidden(broker, peers):
    """An intake peer may not ACK; an agency may not SUBMIT."""
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    cg = peers(broker.endpoint, "py-chengguan", ["agency"], agency="chengguan")
    intake.hello()
    cg.hello()
    err = cg.request("SUBMIT", {"case": case_body("摆摊", "RF-1")})
    assert (err.command, err["code"]) == ("ERROR", "forbidden")
    err = intake.request("ACK", {"dispatch_id": "D0000000001", "handler": "x"})
    assert (err.command, err["code"]) == ("ERROR", "forbidden")


def test_repeated_submit_id_same_reply_one_case(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    body = {"id": "dup-1", "case": case_body("夜市占道", "DUP-1")}
    first = intake.request("SUBMIT", body)
    assert first.command == "ACCEPTED"
    again = intake.request("SUBMIT", body)
    assert again.command == first.command
    assert again.raw == first.raw
    # Same id, even with a different body: the first reply again, nothing applied.
    other = dict(body, case=case_body("另一件事", "DUP-2"))
    third = intake.request("SUBMIT", other)
    assert third.raw == first.raw
    # Pipelined duplicates (likely within one broker batch) too.
    body2 = {"id": "dup-2", "case": case_body("摆摊设点", "DUP-3")}
    for _ in range(5):
        intake.send("SUBMIT", body2)
    replies = []
    for _ in range(5):
        replies.append(intake.wait_reply("dup-2", 10))
    assert len({r.raw for r in replies}) == 1
    assert replies[0].command == "ACCEPTED"
    # A new connection of the same adapter gets the same stored reply.
    intake.reconnect()
    intake.hello()
    assert intake.request("SUBMIT", body).raw == first.raw
    rows = broker.query("SELECT external_ref, count(*) FROM cases GROUP BY external_ref ORDER BY external_ref")
    assert rows == [("DUP-1", 1), ("DUP-3", 1)]


# ------------------------------------------------------------------------------------------
# limits and session rules


def test_too_large_and_long_id(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    big = case_body("大", "TL-1", description="x" * (1 << 20))
    err = intake.request("SUBMIT", {"id": "tl-1", "case": big})
    assert (err.command, err["code"]) == ("ERROR", "too_large"), err
    err = intake.request("SUBMIT", {"id": "i" * 65, "case": case_body("长", "TL-2")})
    assert (err.command, err["code"]) == ("ERROR", "bad_field"), err
    assert err["detail"]["field"] == "id"
    ok = intake.request("SUBMIT", {"id": "i" * 64, "case": case_body("长", "TL-3")})
    assert ok.command == "ACCEPTED", ok
    assert broker.query("SELECT external_ref FROM cases") == [("TL-3",)]


def test_window_limits_unreceived_pushes(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    reli = peers(broker.endpoint, "py-reli", ["agency"], agency="reli", window=2)
    intake.hello()
    reli.hello()
    for i in range(5):
        submit(intake, f"暖气不热 {i}", f"WIN-{i}", category="heating_not_warm", address=f"桐柏路{i}号")
    wait_until(lambda: len(reli.all_pushes) >= 2, 5, "two DISPATCHes", pump=[reli, intake])
    # The window is full: nothing more until RECEIVED (a short look, not a synchronisation).
    reli.pump(0.5)
    assert len(reli.all_pushes) == 2, [m.get("delivery") for m in reli.all_pushes]
    reli.received(m["delivery"] for m in reli.all_pushes)
    wait_until(lambda: len(reli.all_pushes) >= 4, 5, "two more DISPATCHes", pump=[reli, intake])
    reli.received(m["delivery"] for m in reli.all_pushes)
    wait_until(lambda: len(reli.all_pushes) == 5, 5, "the last DISPATCH", pump=[reli, intake])


def test_second_connection_replaces_first(broker, peers, zmq_ctx):
    """A second HELLO with a live adapter id replaces the first; what the first had unreceived
    goes to the new connection."""
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    first = peers(broker.endpoint, "py-reli-x", ["agency"], agency="reli")
    first.hello()
    acc = submit(intake, "暖气不通", "REP-1", category="heating_not_warm", address="陇海路1号")
    d = first.expect_push("DISPATCH", 5)
    second = peers(broker.endpoint, "py-reli-x", ["agency"], agency="reli")
    second.hello()
    d2 = second.expect_push("DISPATCH", 5)
    assert (d2["dispatch_id"], d2["delivery"]) == (d["dispatch_id"], d["delivery"])
    assert d2["case"]["case_id"] == acc["case_id"]
    # The replaced connection is no longer a session.
    err = first.request("QUERY", {"what": "case", "case_id": acc["case_id"]})
    assert (err.command, err["code"]) == ("ERROR", "not_registered"), err


def test_bye_hands_pushes_to_sibling(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    a = peers(broker.endpoint, "py-reli-a", ["agency"], agency="reli")
    a.hello()
    submit(intake, "暖气不热", "BYE-1", category="heating_not_warm", address="嵩山路1号")
    d = a.expect_push("DISPATCH", 5)
    b = peers(broker.endpoint, "py-reli-b", ["agency"], agency="reli")
    b.hello()
    a.bye()
    d2 = b.expect_push("DISPATCH", 5)
    assert d2["dispatch_id"] == d["dispatch_id"]


def test_submit_same_report_new_id_not_duplicated(broker, peers):
    """(source, external_ref) is unique: the same report under a new request id is the same case."""
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    intake.hello()
    first = intake.request("SUBMIT", {"id": "sr-1", "case": case_body("摆摊", "SAME-REF")})
    again = intake.request("SUBMIT", {"id": "sr-2", "case": case_body("摆摊", "SAME-REF")})
    assert first.command == again.command == "ACCEPTED"
    assert again["case_id"] == first["case_id"]
    assert broker.query("SELECT count(*) FROM cases")[0][0] == 1


def _no_duplicate_keys(pairs):
    keys = [k for k, _ in pairs]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    assert not dups, f"duplicate JSON member names {dups} in {keys}"
    return dict(pairs)


def test_dispatch_body_has_unique_member_names(broker, peers):
    intake = peers(broker.endpoint, "py-intake", ["intake"])
    cg = peers(broker.endpoint, "py-chengguan", ["agency"], agency="chengguan")
    intake.hello()
    cg.hello()
    submit(intake, "流动摊贩", "UK-1", category="street_vending")
    d = cg.expect_push("DISPATCH", 5)
    json.loads(d.raw, object_pairs_hook=_no_duplicate_keys)
    # A submitter's own case_id or top-level grid is refused, not passed through.
    for key in ("case_id", "grid"):
        body = {"source": "hotline_12345", "external_ref": f"UK-{key}", "title": "t",
                "location": {"grid": "zz/erqi/jiefanglu"}, key: "C999"}
        r = intake.request("SUBMIT", {"case": body})
        assert r.command == "ERROR" and r.body["code"] == "bad_field", r.body
        assert r.body["detail"]["field"] == f"case.{key}"


def test_delivery_ids_not_reused_after_restart(make_broker, peers):
    """Peers drop repeats by `delivery`; a restarted broker must never hand out a delivery id
    again, even after the pushes that had it were received and deleted."""
    b = make_broker()
    intake = peers(b.endpoint, "py-intake", ["intake"])
    reli = peers(b.endpoint, "py-reli", ["agency"], agency="reli", auto_received=True)
    intake.hello()
    reli.hello()
    submit(intake, "暖气不热", "DL-1", category="heating_not_warm", address="金水路1号")
    first = reli.expect_push("DISPATCH", 5)
    wait_until(lambda: b.query("SELECT count(*) FROM outbox")[0][0] == 0, 5, "the outbox to empty", pump=[reli])
    b.kill9()
    b.start()
    intake.hello()
    reli.hello()
    submit(intake, "暖气不热", "DL-2", category="heating_not_warm", address="金水路2号")
    second = reli.expect_push("DISPATCH", 5)
    # Delivery ids are "NUMBER-TAG": the number is never reused across a restart.
    assert int(second["delivery"].split("-")[0]) > int(first["delivery"].split("-")[0])
    assert second["dispatch_id"] != first["dispatch_id"]
