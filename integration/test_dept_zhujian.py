"""住建 (`plugin: zhujian`), black-box: the real `muster adapter` runs the zhujian plugin against a stand-in
of the department's system written in this test — its work-order intake and its site register (施工许可,
permitted night-work windows), both real HTTP, both checking signatures. A night-noise complaint inside a
permitted window is answered with the permit (解释答复) rather than enforced; one outside it is enforced and
taken to closed by the department's updates and the centre's 核实 and 回访; road collapse and building safety
keep the hazard clocks of config/sla.yaml."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import MUSTER_BIN, Peer, Process, case_body, free_port, verify_log, wait_until

SECRET = b"s3cret-shared-with-zhujian"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
GRID = "zz/erqi/huaihelu"              # 二七区: 夜间施工 is 住建's (in 金水区 it would be 城管's)
SITE_ADDRESS = "淮河路与大学路口 华润悦府三期工地"
PERMIT = "410100202611010101"
CST = timezone(timedelta(hours=8))
TODAY = datetime.now(CST).date()
YESTERDAY = TODAY - timedelta(days=1)


def signature(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class Zhujian:
    """The department's system: POST /work-orders (signed, else 401) answers {"id": "ZJ-WO-n"} per
    Idempotency-Key; GET /sites?address=…&grid=… (signed over "timestamp.", else 401) answers the sites
    registered at that address — here one site, permitted to work 22:00-06:00 from a month ago to a
    month ahead (混凝土连续浇筑)."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.lookups: list[dict] = []
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.sites = {SITE_ADDRESS: [{"permit": PERMIT, "company": "郑州建工集团有限公司", "address": SITE_ADDRESS,
                                      "night_work": [{"from": str(TODAY - timedelta(days=30)), "to": str(TODAY + timedelta(days=30)),
                                                      "hours": "22:00-06:00", "reason": "混凝土连续浇筑"}]}]}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def signed(self, body: bytes) -> bool:
                ts = self.headers.get("X-Muster-Timestamp", "")
                return hmac.compare_digest(signature(ts, body), self.headers.get("X-Muster-Signature", "")) \
                    and abs(time.time() - int(ts or 0)) <= 300

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                if urlsplit(self.path).path != "/work-orders" or not self.signed(raw):
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    key = self.headers.get("Idempotency-Key", "")
                    wo = outer.ids.setdefault(key, f"ZJ-WO-{len(outer.ids) + 1}")
                    outer.orders.append({"body": json.loads(raw), "command": self.headers.get("X-Muster-Command"), "id": wo})
                self.answer(201, {"id": wo})

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                if url.path != "/sites" or not self.signed(b""):
                    return self.answer(401, {"error": "bad signature"})
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                with outer.lock:
                    outer.lookups.append(q)
                self.answer(200, {"sites": outer.sites.get(q.get("address", ""), [])})

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
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url, self.sites_url = f"{base}/work-orders", f"{base}/sites"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def order_for(self, case_id: str) -> dict | None:
        with self.lock:
            return next((o for o in self.orders if o["command"] == "DISPATCH" and o["body"]["case_id"] == case_id), None)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def zhujian():
    s = Zhujian()
    yield s
    s.close()


def zhujian_adapter(broker, dept: Zhujian, listen: str) -> Path:
    path = broker.workdir / "config" / "adapters" / "zhujian-plugin.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "zhujian.webhook-secret").write_bytes(SECRET + b"\n")
    path.write_text(f"""adapter: zhujian-sim-1
agency: zhujian
name: 住建
roles: [agency]
broker: {broker.endpoint}
plugin: zhujian
queue: ../../data/acts/zhujian-plugin.db
settings:
  url: {dept.url}
  secret_file: zhujian.webhook-secret
  updates:
    listen: {listen}
  statuses: {{ack: ["10"], progress: ["20"], resolve: ["30"], return: ["40"], ignore: ["90"]}}
  zhujian:
    sites_url: {dept.sites_url}
    secret_file: zhujian.webhook-secret
    site_categories: [noise_at_night, construction_dust]
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/zhujian-sim-1.key
""", encoding="utf-8")
    return path


def start(broker, dept: Zhujian, processes) -> str:
    listen = f"127.0.0.1:{free_port()}"
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(zhujian_adapter(broker, dept, listen))], cwd=broker.workdir, name="zhujian")
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
    body = json.dumps(doc, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(f"http://{listen}/updates", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Muster-Timestamp": ts, "X-Muster-Signature": signature(ts, body)})
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def events(broker, case_id: str, type_: str) -> list[dict]:
    rows = broker.query("SELECT data FROM events WHERE case_id = ? AND type = ? ORDER BY seq", (case_id, type_))
    return [{k: v for k, v in json.loads(d).items() if k not in ("v", "type")} for (d,) in rows]


def case_state(broker, case_id: str) -> str:
    return broker.query("SELECT state FROM cases WHERE case_id = ?", (case_id,))[0][0]


def hotline(broker, zmq_ctx) -> Peer:
    p = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    p.hello()
    return p


def submit(peer: Peer, title: str, ref: str, category: str, address: str, **kw) -> str:
    r = peer.request("SUBMIT", {"case": case_body(title, ref, category=category, grid=GRID, address=address, **kw)})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    return r["case_id"]


def night(hour: int, minute: int = 0) -> str:
    """Yesterday at that hour, Zhengzhou time (RFC 3339)."""
    return datetime(YESTERDAY.year, YESTERDAY.month, YESTERDAY.day, hour, minute, tzinfo=CST).isoformat()


# --------------------------------------------------------------------------------------------


def test_night_noise_inside_a_permitted_window_is_answered_with_the_permit(make_broker, processes, zmq_ctx, zhujian):
    broker = make_broker(secure=True)
    start(broker, zhujian, processes)
    desk = hotline(broker, zmq_ctx)
    case_id = submit(desk, "工地半夜施工噪音扰民", "HL-ZJ-1", "noise_at_night", SITE_ADDRESS, reported_at=night(23, 40),
                     description="工地深夜浇筑混凝土，泵车声音很大")

    order = wait_until(lambda: zhujian.order_for(case_id), 20, "the work order at 住建")
    wo = order["body"]
    with zhujian.lock:
        assert {"address": SITE_ADDRESS, "grid": GRID} in zhujian.lookups, zhujian.lookups  # signed, or it would be a 401
    assert wo["action"] == "explain" and wo["permit"] == PERMIT, wo
    assert wo["site"]["company"] == "郑州建工集团有限公司" and wo["permitted_window"]["hours"] == "22:00-06:00", wo
    want = (f"解释答复：该工地持夜间施工许可（许可证号 {PERMIT}，郑州建工集团有限公司，许可时段 22:00-06:00，"
            f"{TODAY - timedelta(days=30)}至{TODAY + timedelta(days=30)}，事由 混凝土连续浇筑）")
    assert wo["explanation"] == want

    wait_until(lambda: case_state(broker, case_id) == "finished", 10, "the case answered (finished)")
    resolved = events(broker, case_id, "case.resolved")
    assert len(resolved) == 1 and resolved[0]["result"] == want, resolved
    assert len(events(broker, case_id, "dispatch.acked")) == 1
    assert [e["ref"] for e in events(broker, case_id, "downstream.update")] == [order["id"], order["id"]]
    desk.close()


def test_night_noise_outside_the_window_is_enforced_and_closed(make_broker, processes, zmq_ctx, zhujian):
    broker = make_broker(secure=True)
    listen = start(broker, zhujian, processes)
    desk = hotline(broker, zmq_ctx)
    case_id = submit(desk, "工地晚上施工噪音", "HL-ZJ-2", "noise_at_night", SITE_ADDRESS, reported_at=night(21, 10))

    order = wait_until(lambda: zhujian.order_for(case_id), 20, "the work order at 住建")
    wo, ref = order["body"], order["id"]
    assert wo["action"] == "enforce" and wo["site"]["permit"] == PERMIT and "不在许可" in wo["register"], wo
    assert "explanation" not in wo
    # taken (acknowledged at the broker): the adapter knows the department's id for it
    wait_until(lambda: broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:zhujian'")[0][0] == 0, 10, "RECEIVED")
    assert events(broker, case_id, "dispatch.acked") == [], "nothing signs an enforced complaint but the department"

    assert push(listen, {"update_id": "ZJ-U-1", "work_order": ref, "status": "10", "handler": "二七区住建局 执法二中队"})[0] == 200
    assert push(listen, {"update_id": "ZJ-U-2", "work_order": ref, "status": "20", "note": "已到场，责令21:00后停止高噪声作业"})[0] == 200
    assert push(listen, {"update_id": "ZJ-U-3", "work_order": ref, "status": "30", "result": "已责令停工整改并立案处罚"})[0] == 200
    wait_until(lambda: case_state(broker, case_id) == "finished", 10, "finished")
    assert events(broker, case_id, "case.resolved")[0]["result"] == "已责令停工整改并立案处罚"

    grid = Peer(broker.endpoint, "grid-app-1", ["grid"], ctx=zmq_ctx, curve=broker.curve("grid-app"))
    grid.hello()
    ok = grid.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员夜间复查：已停止施工"})
    assert ok.command == "OK" and ok["state"] == "verified", ok
    ok = desk.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访：满意"})
    assert ok.command == "OK" and ok["state"] == "closed", ok
    for peer in (grid, desk):
        peer.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr


def test_hazards_keep_their_clocks(make_broker, processes, zmq_ctx, zhujian):
    """road_collapse: 签收 within 15m (险情), 办结 within 15d (复杂); building_safety: 签收 1h, 办结 15d — as
    config/sla.yaml gives them, in the work order's `due` and the broker's record alike."""
    broker = make_broker(secure=True)
    start(broker, zhujian, processes)
    desk = hotline(broker, zmq_ctx)
    cases = {"road_collapse": submit(desk, "淮河路路面塌陷", "HL-ZJ-3", "road_collapse", "淮河路88号前"),
             "building_safety": submit(desk, "老楼外墙皮脱落", "HL-ZJ-4", "building_safety", "淮河路12号院3号楼")}
    for category, case_id in cases.items():
        wo = wait_until(lambda: zhujian.order_for(case_id), 20, f"the {category} work order")["body"]
        assert "action" not in wo and "site" not in wo, "not a site complaint: nothing added"
        sent_at, ack_by, resolve_by = broker.query(
            "SELECT sent_at, ack_by, resolve_by FROM dispatches WHERE dispatch_id = ?", (wo["dispatch_id"],))[0]
        due = {k: int(datetime.fromisoformat(v).timestamp() * 1000) for k, v in wo["due"].items() if k != "provisional"}
        assert (due["ack_by"], due["resolve_by"]) == (ack_by, resolve_by), (wo["due"], ack_by, resolve_by)
        assert ack_by - sent_at == (15 * 60 * 1000 if category == "road_collapse" else 3600 * 1000), category
        days = (resolve_by - sent_at) / 86_400_000
        assert 15 <= days < 15 + 10, (category, days)  # 15 日, moved to a working day if it falls on a day off
    desk.close()
