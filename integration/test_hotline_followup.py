"""The 12345 hotline's follow-up call (回访) and status back to the platform (issue 13), black-box:
the real broker, the real `muster adapter` running `plugin: hotline12345`, a python peer playing
城管, and this test playing the hotline platform. Two callers report the same vending stall (the
second is merged into the first's case); both asked for a call-back. When 城管 finishes, both calls
are queued with the broker's 回访 deadline; 未接通 is retried up to the configured count; once every
call is settled the case is rated by the worst rating heard — one dissatisfied caller is a 重办,
and the redo's finish, rated satisfied, closes the case.
The platform polls its orders' status changes at GET /v1/updates with a cursor."""
from __future__ import annotations

import json
from datetime import datetime

from conftest import Peer, free_port, wait_until
from test_hotline_intake import call, hotline_adapter, order, start_adapter


def agency_peer(broker, zmq_ctx) -> Peer:
    p = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx,
             curve=broker.curve("chengguan-sim-1"), auto_received=True)
    p.hello()
    return p


def finish(cg: Peer, dispatch_id: str) -> None:
    for command, body in [("ACK", {"handler": "张队长"}), ("PROGRESS", {"note": "已到场劝离"}),
                          ("RESOLVE", {"result": "摊位已清理", "note": "现场已恢复"})]:
        r = cg.request(command, {"dispatch_id": dispatch_id, **body})
        assert r.command == "OK", r


def events(broker, case_id: str, type_: str) -> list[dict]:
    return [json.loads(d) for (d,) in broker.query("SELECT data FROM events WHERE case_id = ? AND type = ? ORDER BY seq", (case_id, type_))]


def test_every_caller_is_called_back_and_the_worst_rating_is_the_cases(make_broker, processes, zmq_ctx):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen)
    text = config.read_text(encoding="utf-8").replace("  wait: 5s\n", "  wait: 5s\n  followup: {attempts: 2}\n")
    config.write_text(text, encoding="utf-8")
    processes.append(start_adapter(broker, config, 1, listen))
    cg = agency_peer(broker, zmq_ctx)

    status, first = call(listen, "POST", "/v1/workorders", order("GD-FU-1"))
    assert status == 201, first
    status, second = call(listen, "POST", "/v1/workorders", order("GD-FU-2", contact={"name": "李先生", "phone": "13900002222"},
                                                                  content="解放路100号门口又有人摆摊"))
    assert status == 201 and second["merged_into"] == first["case_id"], second
    case_id = first["case_id"]
    dispatch = cg.expect_push("DISPATCH")
    finish(cg, dispatch["dispatch_id"])

    def waiting() -> list[dict]:
        return call(listen, "GET", "/v1/followups")[1]["calls"]
    wait_until(lambda: len(waiting()) == 2, 20, "both callers queued for 回访")
    calls = waiting()
    evaluate_deadline = next(g["deadline"] for e in events(broker, case_id, "clock.scheduled") for g in e["clocks"] if g["clock"] == "evaluate")
    assert {c["order_no"] for c in calls} == {"GD-FU-1", "GD-FU-2"} and all(c["case_id"] == case_id for c in calls), calls
    # The same instant: the wire leaves out a zero millisecond part that the log always writes
    # (a deadline on a working day's boundary, e.g. when finished at night, is a whole second).
    at = datetime.fromisoformat
    assert all(at(c["due_at"]) == at(evaluate_deadline) for c in calls), ("due when the broker's 回访 clock says", calls, evaluate_deadline)
    assert {c["phone"] for c in calls} == {"13800001111", "13900002222"}

    # 李先生 does not answer, then 王女士 is satisfied: one call still waits, no rating yet.
    status, r = call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-2", "outcome": "未接通"})
    assert status == 200 and "evaluated" not in r, r
    status, r = call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-1", "outcome": "满意"})
    assert status == 200 and "evaluated" not in r, r
    assert call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-1", "outcome": "不满意"})[0] == 409, "settled once"
    assert call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-1", "outcome": "还行"})[1]["field"] == "outcome"
    assert events(broker, case_id, "case.evaluated") == []

    # Reached at the second try, he is not satisfied: the case is rated dissatisfied → 重办.
    status, r = call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-2", "outcome": "不满意", "note": "摊贩晚上又来了"})
    assert status == 200 and r["evaluated"] == "dissatisfied", r
    wait_until(lambda: len(events(broker, case_id, "case.evaluated")) == 1, 20, "case.evaluated")
    rated = events(broker, case_id, "case.evaluated")[0]
    assert rated["satisfaction"] == "dissatisfied" and "王女士：满意" in rated["note"] and "李先生：不满意，摊贩晚上又来了" in rated["note"], rated
    redo = cg.expect_push("DISPATCH")
    assert redo["round"] == 2, "重办: a new round to the lead"

    # The platform's status feed: each order's changes in order, the merged one's too. The
    # redo's dispatch reaches the adapter's feed a moment after 城管 has it: waited for.
    def statuses(feed: dict) -> dict[str, list[str]]:
        by_order: dict[str, list[str]] = {}
        for u in feed["updates"]:
            by_order.setdefault(u["order_no"], []).append(u["status"])
        return by_order
    def redo_in_feed() -> bool:
        seen = statuses(call(listen, "GET", "/v1/updates?since=0")[1])
        return len(seen.get("GD-FU-1", [])) >= 6 and len(seen.get("GD-FU-2", [])) >= 5
    wait_until(redo_in_feed, 20, "the redo in the feed")
    status, feed = call(listen, "GET", "/v1/updates?since=0")
    assert status == 200, feed
    by_order = statuses(feed)
    assert by_order["GD-FU-1"][:6] == ["dispatched", "signed", "in_progress", "resolved", "evaluated", "dispatched"], by_order
    # The merged order follows its case from its merge on (the case's case.report_merged), not
    # from the 已派单 before it, whichever reached the adapter first: the answer to its SUBMIT
    # or that earlier event.
    assert by_order["GD-FU-2"][:5] == ["signed", "in_progress", "resolved", "evaluated", "dispatched"], by_order
    status, later = call(listen, "GET", f"/v1/updates?since={feed['cursor']}")
    assert later["updates"] == [] and later["cursor"] == feed["cursor"]
    assert call(listen, "GET", "/v1/updates?since=abc")[1].get("field") == "since", "a cursor that is not one is refused"

    # The redo finishes too: a new round of calls; 未接通 twice gives a call up (attempts: 2).
    finish(cg, redo["dispatch_id"])
    wait_until(lambda: len(waiting()) == 2, 20, "the redo's calls")
    for n in range(2):
        call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-1", "outcome": "未接通"})
    unreached = call(listen, "GET", "/v1/followups?state=unreached")[1]["calls"]
    assert [(c["order_no"], c["attempts"]) for c in unreached] == [("GD-FU-1", 2)], unreached

    # 李先生, reached this time, is satisfied: the case is rated by the one caller heard, and closes.
    status, r = call(listen, "POST", f"/v1/followups/{case_id}", {"order_no": "GD-FU-2", "outcome": "满意", "note": "摊位没了"})
    assert status == 200 and r["evaluated"] == "satisfied", r
    wait_until(lambda: broker.query("SELECT state FROM cases WHERE case_id = ?", (case_id,))[0][0] == "closed", 20, "结案")
    rated = events(broker, case_id, "case.evaluated")[-1]
    assert rated["satisfaction"] == "satisfied" and "王女士：未接通（2次）" in rated["note"], rated
    wait_until(lambda: "closed" in [u["status"] for u in call(listen, "GET", "/v1/updates?since=0")[1]["updates"]
                                    if u["order_no"] == "GD-FU-1"], 20, "closed reported back")


def test_a_merged_order_queued_across_a_kill9_follows_its_case_from_the_merge(make_broker, processes, zmq_ctx):
    # The second caller's order is taken while the broker is away, and the adapter is killed
    # (-9) with it queued. At the restart its SUBMIT goes out, is merged into the first caller's
    # case, and the merge's answer and the case's events reach the new adapter in whatever order:
    # the merged order's feed still begins at its merge, and both callers are called back.
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen, wait="300ms")
    first = start_adapter(broker, config, 1, listen)
    processes.append(first)
    status, one = call(listen, "POST", "/v1/workorders", order("GD-K-1"))
    assert status == 201, one
    broker.stop()
    status, two = call(listen, "POST", "/v1/workorders", order("GD-K-2", contact={"name": "李先生", "phone": "13900002222"},
                                                               content="解放路100号门口又有人摆摊"))
    assert (status, two["status"]) == (202, "queued"), two
    first.kill9()

    broker.start()
    processes.append(start_adapter(broker, config, 2, listen))
    wait_until(lambda: call(listen, "GET", "/v1/workorders/GD-K-2")[0] == 201, 30, "the queued order merged")
    assert call(listen, "GET", "/v1/workorders/GD-K-2")[1]["merged_into"] == one["case_id"]
    cg = agency_peer(broker, zmq_ctx)
    finish(cg, cg.expect_push("DISPATCH")["dispatch_id"])

    wait_until(lambda: len(call(listen, "GET", "/v1/followups")[1]["calls"]) == 2, 30, "both callers queued for 回访")
    feed = call(listen, "GET", "/v1/updates?since=0")[1]["updates"]
    by_order: dict[str, list[str]] = {}
    for u in feed:
        by_order.setdefault(u["order_no"], []).append(u["status"])
    assert by_order["GD-K-1"][:4] == ["dispatched", "signed", "in_progress", "resolved"], by_order
    assert by_order["GD-K-2"][:3] == ["signed", "in_progress", "resolved"], by_order
