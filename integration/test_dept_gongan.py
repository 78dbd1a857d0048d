"""公安 (`plugin: gongan`), black-box: the real `muster adapter` runs the gongan plugin against a stand-in
of the 110 接处警 system written in this test (a real HTTP server that checks each work order's signature
and answers its 警情号). 12345–110 联动: an emergency is handed to 110 with the linkage, its 警情级别 and
the reporter's phone; 110's answer is the 签收, in the log within seconds (long before the urgent 15-minute
clock) with the 警情号 as the `downstream.update` ref; 110's 处警完毕 finishes it and the centre closes it.
A case 110 finds is not police business (非警务) comes back with its reason and is re-routed."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import MUSTER_BIN, Peer, Process, case_body, free_port, verify_log, wait_until

SECRET = b"s3cret-shared-with-110"
SIGN_AS = "郑州市公安局110指挥中心"
NON_POLICE = "05"
# 110's codes: 01 已接警 (the plugin signed on its answer already), 02 已派警, 03 到达现场, 04 处警完毕,
# 05 非警务, 06 移交他部门, 99 撤警 (an internal step)
STATUSES = {"ignore": ["01", "99"], "progress": ["02", "03"], "resolve": ["04"], "return": [NON_POLICE, "06"]}
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
GRID = "zz/erqi/huaihelu"  # outside 二七塔商圈: 治安 there is 公安's with no assist


def signature(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class JieChuJing:
    """The 110 接处警 system: POST /jcj/work-orders takes a work order only if it is signed (401
    otherwise), one 警情号 per Idempotency-Key (J2026120200001 …), answered as {"id": 警情号}."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.numbers: dict[str, str] = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Muster-Timestamp", "")
                if not hmac.compare_digest(signature(ts, raw), self.headers.get("X-Muster-Signature", "")) \
                        or abs(time.time() - int(ts or 0)) > 300:
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    key = self.headers.get("Idempotency-Key", "")
                    number = outer.numbers.setdefault(key, f"J20261202{len(outer.numbers) + 1:05d}")
                    outer.orders.append({"body": json.loads(raw), "command": self.headers.get("X-Muster-Command"), "id": number})
                self.answer(201, {"id": number})

            def answer(self, status: int, doc: dict) -> None:
                data = json.dumps(doc, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jcj/work-orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def order_for(self, case_id: str) -> dict | None:
        with self.lock:
            return next((o for o in self.orders if o["command"] == "DISPATCH" and o["body"]["case_id"] == case_id), None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jcj():
    s = JieChuJing()
    yield s
    s.close()


def grant_reporters_contacts(broker) -> None:
    """The issue's rule "公安 sees reporters' contacts": `contacts_reporters: true` for gongan in
    routing.yaml — set here in the test's copy if the shipped config does not have it yet."""
    path = broker.workdir / "config" / "routing.yaml"
    text = path.read_text(encoding="utf-8")
    block = re.search(r"(?m)^  - code: gongan\n(    .*\n)+", text)
    assert block, "routing.yaml has no gongan agency"
    if "contacts_reporters: true" not in block.group(0):
        text = text[:block.end()] + "    contacts_reporters: true\n" + text[block.end():]
        path.write_text(text, encoding="utf-8")


def gongan_adapter(broker, url: str, listen: str) -> Path:
    path = broker.workdir / "config" / "adapters" / "gongan-110.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "gongan.webhook-secret").write_bytes(SECRET + b"\n")
    statuses = "".join(f'    {act}: [{", ".join(json.dumps(c) for c in codes)}]\n' for act, codes in STATUSES.items())
    path.write_text(f"""adapter: gongan-sim-1
agency: gongan
name: 公安 110 接处警
roles: [agency]
broker: {broker.endpoint}
plugin: gongan
queue: ../../data/acts/gongan-110.db
settings:
  url: {url}
  secret_file: gongan.webhook-secret
  timeout: 10s
  updates:
    listen: {listen}
  statuses:
{statuses}  gongan:
    sign_as: {SIGN_AS}
    emergency_priority: [urgent]
    non_police_status: "{NON_POLICE}"
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/gongan-sim-1.key
""", encoding="utf-8")
    return path


def start(broker, jcj: JieChuJing, processes) -> str:
    """The gongan adapter, up and serving its POST /updates; returns that address."""
    listen = f"127.0.0.1:{free_port()}"
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(gongan_adapter(broker, jcj.url, listen))],
                cwd=broker.workdir, name="gongan-110")
    processes.append(p)
    p.wait_line(r"connecting to", 10)
    wait_until(lambda: health(listen) or not p.alive, 15, "the adapter's GET /health")
    assert p.alive, p.stderr_tail()
    return listen


def health(listen: str) -> dict | None:
    try:
        with HTTP.open(f"http://{listen}/health", timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def push(listen: str, doc: dict) -> tuple[int, dict]:
    """110 pushes a status update to the adapter, signed."""
    body = json.dumps(doc, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(f"http://{listen}/updates", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Muster-Timestamp": ts, "X-Muster-Signature": signature(ts, body)})
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def taken(broker) -> None:
    """Until every push to 公安 is acknowledged: the adapter then knows each 警情号 (its updates name it)."""
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:gongan'")[0][0] == 0, 10, "RECEIVED")


def events(broker, case_id: str, type_: str) -> list[dict]:
    rows = broker.query("SELECT data FROM events WHERE case_id = ? AND type = ? ORDER BY seq", (case_id, type_))
    # the stored data without its envelope (schema version, type)
    return [{k: v for k, v in json.loads(d).items() if k not in ("v", "type")} for (d,) in rows]


def case_state(broker, case_id: str) -> str:
    return broker.query("SELECT state FROM cases WHERE case_id = ?", (case_id,))[0][0]


def hotline(broker, zmq_ctx) -> Peer:
    p = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    p.hello()
    return p


def submit(peer: Peer, title: str, ref: str, **kw) -> str:
    r = peer.request("SUBMIT", {"case": case_body(title, ref, category="public_order", grid=GRID,
                                                  reporter={"name": "王强", "phone": "13812345678"}, **kw)})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    return r["case_id"]


# --------------------------------------------------------------------------------------------


def test_an_emergency_is_handed_to_110_signed_with_its_incident_number_and_closed(make_broker, processes, zmq_ctx, jcj):
    broker = make_broker(secure=True, start=False)
    grant_reporters_contacts(broker)
    broker.start()
    listen = start(broker, jcj, processes)
    desk = hotline(broker, zmq_ctx)
    case_id = submit(desk, "淮河路烧烤店门前醉酒闹事", "HL-GA-1", priority="urgent",
                     description="两名男子醉酒后砸酒瓶、推搡路人", reported_at="2026-12-02T22:10:00+08:00")

    # 110 gets a signed work order (its server refuses any other): the linkage, 一级, the phone to call back
    order = wait_until(lambda: jcj.order_for(case_id), 20, "the work order at 110")
    wo, incident = order["body"], order["id"]
    assert wo["linkage"] == "12345-110" and wo["level"] == "一级" and wo["emergency"] is True, wo
    assert wo["priority"] == "urgent" and wo["category"] == "public_order" and wo["address"], wo
    assert wo["reporter"]["phone"] == "13812345678", "公安 sees reporters' contacts"
    assert wo["callback"] == {"available": True, "phone": "13812345678", "name": "王强"}, wo
    assert wo["reported_at"] == "2026-12-02T22:10:00+08:00" and wo["source"] == "hotline_12345"

    # 110's answer is the 签收: in the log within seconds, long before the urgent clock
    dispatch_id = wo["dispatch_id"]
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 10, "dispatch.acked")
    sent_at, ack_by, acked_at, handler = broker.query(
        "SELECT sent_at, ack_by, acked_at, handler FROM dispatches WHERE dispatch_id = ?", (dispatch_id,))[0]
    assert ack_by - sent_at == 15 * 60 * 1000, "config/sla.yaml: urgent 签收 within 15m"
    assert acked_at - sent_at < 10_000 and acked_at < ack_by, (sent_at, acked_at, ack_by)
    assert handler == SIGN_AS
    acked = events(broker, case_id, "dispatch.acked")
    assert len(acked) == 1 and acked[0]["note"] == f"110已接警，警情号 {incident}", acked
    ref = events(broker, case_id, "downstream.update")
    assert ref == [{"subject": dispatch_id, "status": "accepted", "ref": incident, "update": f"110-accepted-{dispatch_id}"}], ref

    taken(broker)
    # 110's own 已接警 is taken and ignored (the plugin signed already); 到达现场, then 处警完毕
    assert push(listen, {"update_id": f"{incident}-01", "work_order": incident, "status": "01"})[1]["ignored"] == 1
    assert push(listen, {"update_id": f"{incident}-03", "work_order": incident, "status": "03", "note": "民警到达现场"})[0] == 200
    assert push(listen, {"update_id": f"{incident}-04", "work_order": incident, "status": "04",
                         "result": "民警到场，二人已带离醉酒状态，现场秩序恢复", "handler": "淮河路派出所 李警官"})[0] == 200
    wait_until(lambda: case_state(broker, case_id) == "finished", 10, "the case finished")
    resolved = events(broker, case_id, "case.resolved")
    assert len(resolved) == 1 and resolved[0]["result"] == "民警到场，二人已带离醉酒状态，现场秩序恢复", resolved
    assert [e["ref"] for e in events(broker, case_id, "downstream.update")] == [incident] * 3

    # the centre: the grid checks on site (核实), the hotline calls back (回访) — closed
    grid = Peer(broker.endpoint, "grid-app-1", ["grid"], ctx=zmq_ctx, curve=broker.curve("grid-app"))
    grid.hello()
    ok = grid.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员核查：现场秩序正常"})
    assert ok.command == "OK" and ok["state"] == "verified", ok
    ok = desk.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访：出警及时，满意"})
    assert ok.command == "OK" and ok["state"] == "closed", ok
    for peer in (grid, desk):
        peer.bye()
        peer.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr


def test_not_police_business_is_returned_with_its_reason_and_re_routed(make_broker, processes, zmq_ctx, jcj):
    broker = make_broker(secure=True)
    listen = start(broker, jcj, processes)
    desk = hotline(broker, zmq_ctx)
    case_id = submit(desk, "淮河路小区楼上深夜噪音纠纷", "HL-GA-2", description="楼上每晚敲打，邻里争吵")
    order = wait_until(lambda: jcj.order_for(case_id), 20, "the work order at 110")
    incident, dispatch_id = order["id"], order["body"]["dispatch_id"]
    assert order["body"]["level"] == "三级" and order["body"]["emergency"] is False
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 10, "signed on 110's answer")
    taken(broker)

    # 非警务 without its reason: refused, nothing queued
    status, answer = push(listen, {"update_id": f"{incident}-05", "work_order": incident, "status": NON_POLICE})
    assert (status, answer.get("field")) == (422, "note"), answer
    # nor as another reason than not_our_duty
    status, answer = push(listen, {"update_id": f"{incident}-05", "work_order": incident, "status": NON_POLICE,
                                   "reason": "duplicate", "note": "重复"})
    assert (status, answer.get("field")) == (422, "reason"), answer
    assert case_state(broker, case_id) == "handling"

    why = "经民警核实系邻里生活噪音纠纷，无违法犯罪行为，属非警务警情，建议由社区、城管调处"
    status, answer = push(listen, {"update_id": f"{incident}-05", "work_order": incident, "status": NON_POLICE, "note": why})
    assert status == 200 and answer["queued"] == 1, answer
    wait_until(lambda: events(broker, case_id, "dispatch.returned"), 10, "dispatch.returned")
    assert events(broker, case_id, "dispatch.returned") == [{"dispatch_id": dispatch_id, "reason": "not_our_duty", "note": why}]
    assert events(broker, case_id, "downstream.update")[-1] == {"subject": dispatch_id, "status": NON_POLICE, "ref": incident,
                                                               "update": f"{incident}-05"}
    # routing.yaml gives 治安 no fallback after gongan: back to the centre's triage queue (重新研判)
    assert events(broker, case_id, "case.triage")[-1]["reason"] == "returned"
    assert case_state(broker, case_id) == "triage"
    assert broker.query("SELECT returned_by FROM cases WHERE case_id = ?", (case_id,)) == [("gongan",)]

    # the centre re-dispatches to 城管 on 110's reason; 城管's adapter gets the case
    chengguan = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx,
                     curve=broker.curve("chengguan-sim-1"), auto_received=True)
    chengguan.hello()
    ops = Peer(broker.endpoint, "cli-ops-1", ["ops"], ctx=zmq_ctx, curve=broker.curve("operator"))
    ops.hello()
    ok = ops.request("ASSIGN", {"case_id": case_id, "lead": "chengguan", "note": "110反馈非警务：社会生活噪声，城管牵头调处"})
    assert ok.command == "OK" and ok["state"] == "dispatched", ok
    pushed = chengguan.expect_push("DISPATCH", 10, where=lambda m: m["case"]["case_id"] == case_id)
    assert pushed["dispatch_id"] == ok["dispatch_id"] and pushed["role"] == "lead" and pushed["round"] == 2
    assert broker.query("SELECT agency FROM dispatches WHERE dispatch_id = ?", (ok["dispatch_id"],)) == [("chengguan",)]
    # 110 got no second work order: the case is no longer the police's
    with jcj.lock:
        assert [o["body"]["case_id"] for o in jcj.orders].count(case_id) == 1
    for peer in (chengguan, ops, desk):
        peer.close()
