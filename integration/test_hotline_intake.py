"""The 12345 hotline's intake (`plugin: hotline12345`, issue 13), black-box: the real `muster adapter`
runs the plugin against the real broker, and this test is the hotline platform, POSTing work orders
(工单) over HTTP. A signed order is answered with its case id once the broker ACCEPTED it; the same
order again is the same case; a bad one gets 4xx naming the member and changes nothing; an unsigned
or wrongly signed one gets 401; a bearer-key client works too; with the broker down the order is
answered 202 (queued) and becomes a case — across a kill -9 of the adapter — once the broker is back.
Plugins/Hotline/README.md is the contract."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import INTAKE_HTTP as HTTP, Process, free_port, signed_call, start_intake, wait_until

SECRET = b"hotline-platform-shared-secret"
API_KEY = "k-0123456789abcdef"


def order(no: str, **over) -> dict:
    o = {"order_no": no, "called_at": "2026-12-02T09:15:00+08:00", "kind": "投诉",
         "content": "解放路与大同路交叉口有人摆摊卖水果，占了半条人行道，早晚高峰行人只能走机动车道",
         "address": "二七区解放路100号", "grid": "zz/erqi/jiefanglu", "category": "street_vending",
         "contact": {"name": "王女士", "phone": "13800001111"}, "anonymous": False, "callback": True}
    o.update(over)
    return o


def hotline_adapter(broker, listen: str, wait: str = "5s") -> Path:
    path = broker.workdir / "config" / "adapters" / "hotline-intake.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "platform.secret").write_bytes(SECRET + b"\n")
    (path.parent / "app.key").write_text(API_KEY + "\n", encoding="utf-8")
    path.write_text(f"""adapter: hotline-12345
name: 12345 政务服务便民热线
roles: [intake]
broker: {broker.endpoint}
plugin: hotline12345
queue: ../../data/acts/hotline-intake.db
settings:
  listen: "{listen}"
  wait: {wait}
  clients:
    - {{name: platform, secret_file: platform.secret}}
    - {{name: citizen-app, api_key_file: app.key}}
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/hotline-12345.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int, listen: str) -> Process:
    return start_intake(broker, config, f"hotline-{n}", listen)


def call(listen: str, method: str, path: str, doc: dict | None = None, *, raw: bytes | None = None,
         client: str = "platform", secret: bytes = SECRET, bearer: str | None = None, signed: bool = True) -> tuple[int, dict]:
    return signed_call(listen, method, path, doc, client=client, secret=secret, raw=raw, bearer=bearer, signed=signed)


def cases(broker, ref: str) -> list[tuple]:
    return broker.query("SELECT case_id, source, category, grid, title FROM cases WHERE external_ref = ?", (ref,))


def test_a_signed_work_order_is_answered_with_its_case_and_a_repeat_is_the_same_case(make_broker, processes):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, hotline_adapter(broker, listen), 1, listen))

    status, answer = call(listen, "POST", "/v1/workorders", order("GD20261202000123"))
    assert status == 201, answer
    assert answer["order_no"] == "GD20261202000123" and answer["state"] == "dispatched", answer
    assert cases(broker, "GD20261202000123") == [(answer["case_id"], "hotline_12345", "street_vending", "zz/erqi/jiefanglu",
                                                   order("x")["content"][:40])]
    # The department receives what the platform said, and the hotline's own members ride along.
    submitted = json.loads(broker.query("SELECT submitted FROM events WHERE case_id = ? AND type = 'case.accepted'", (answer["case_id"],))[0][0])
    assert submitted["hotline"] == {"kind": "投诉", "callback": True} and submitted["reporter"]["phone"] == "13800001111"
    assert submitted["reported_at"] == "2026-12-02T09:15:00+08:00" and submitted["priority"] == "normal"

    again, same = call(listen, "POST", "/v1/workorders", order("GD20261202000123", content="重复推送"))
    assert again == 201 and same["case_id"] == answer["case_id"], "the same 工单编号 is the same case"
    assert len(cases(broker, "GD20261202000123")) == 1
    assert call(listen, "GET", "/v1/workorders/GD20261202000123")[1]["case_id"] == answer["case_id"]
    assert call(listen, "GET", "/v1/workorders/GD-NEVER")[0] == 404

    consult, c = call(listen, "POST", "/v1/workorders", order("GD20261202000124", kind="咨询", category=None,
                                                           content="请问居住证办理需要哪些材料", anonymous=True, contact=None,
                                                           callback=False), client="citizen-app", bearer=API_KEY)
    assert consult == 201, c
    assert broker.query("SELECT priority FROM cases WHERE case_id = ?", (c["case_id"],))[0][0] == "consult"


def test_bad_or_unproven_work_orders_are_refused_naming_the_member_and_change_nothing(make_broker, processes):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, hotline_adapter(broker, listen), 1, listen))
    before = broker.query("SELECT count(*) FROM cases")[0][0]

    for doc, field in [(order("GD-B1", content=" "), "content"), (order("GD-B2", kind="投拆"), "kind"),
                       (order("GD-B3", callback=True, contact={"name": "李"}), "contact.phone"),
                       (order("GD-B4", urgent="yes"), "urgent"), (order("GD-B5", colour="red"), "colour"),
                       (order("GD B6"), "order_no"), (order("GD-B7", grid="zz/atlantis"), "grid"),
                       (order("GD-B8", contact={"name": "李", "phone": "138-abc"}), "contact.phone")]:
        status, answer = call(listen, "POST", "/v1/workorders", doc)
        assert (status, answer.get("field")) == (422, field), (doc, answer)
        assert answer["error"], answer
    assert call(listen, "POST", "/v1/workorders", raw=b"{not json")[0] == 422
    assert call(listen, "POST", "/v1/workorders", order("GD-U1"), signed=False)[0] == 401
    assert call(listen, "POST", "/v1/workorders", order("GD-U2"), secret=b"guessed")[0] == 401
    assert call(listen, "POST", "/v1/workorders", order("GD-U3"), client="citizen-app", bearer="wrong")[0] == 401
    assert call(listen, "POST", "/v1/workorders", order("GD-U4"), client="nobody")[0] == 401
    assert call(listen, "GET", "/v1/workorders/GD-U1", signed=False)[0] == 401
    assert broker.query("SELECT count(*) FROM cases")[0][0] == before, "nothing reached the broker"
    assert call(listen, "POST", "/v1/workorders", order("GD-OK"))[0] == 201, "and the next good order is served"
    fixed, answer = call(listen, "POST", "/v1/workorders", order("GD-B7"))
    assert fixed == 201 and cases(broker, "GD-B7")[0][0] == answer["case_id"], "a refused order corrected and sent again is taken"


def test_with_the_broker_down_an_order_is_queued_and_survives_a_kill9_of_the_adapter(make_broker, processes):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = hotline_adapter(broker, listen, wait="300ms")
    first = start_adapter(broker, config, 1, listen)
    processes.append(first)
    broker.stop()

    status, answer = call(listen, "POST", "/v1/workorders", order("GD-DOWN-1"))
    assert (status, answer["status"]) == (202, "queued"), answer
    assert call(listen, "GET", "/v1/workorders/GD-DOWN-1")[0] == 202
    first.kill9()

    broker.start()
    processes.append(start_adapter(broker, config, 2, listen))
    wait_until(lambda: len(cases(broker, "GD-DOWN-1")) == 1, 30, "the queued order became a case")
    # The case is in the broker's file a moment before its ACCEPTED is back in the adapter's queue.
    wait_until(lambda: call(listen, "GET", "/v1/workorders/GD-DOWN-1")[0] == 201, 30, "the adapter has the broker's answer")
    status, answer = call(listen, "GET", "/v1/workorders/GD-DOWN-1")
    assert status == 201 and answer["case_id"] == cases(broker, "GD-DOWN-1")[0][0], answer
