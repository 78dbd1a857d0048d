"""城管 数字城管 (`plugin: chengguan`, issue 12), black-box: the real `muster adapter` runs the plugin
against a stand-in 数字城管 work-order system written in this test (a small real HTTP server that
checks each work order's signature and answers with its own id). The work order carries the case's
数字城管 class (`szcg`); the desk's 办结 without the after-photo (处置后照片) is refused by the
adapter with the reason, and reaches nobody; with the photo the case is finished, then verified
and rated by the centre's peers to closed. A staged class (违法搭建) walks its stages in order. A
kill -9 of the adapter while the system holds the POST loses nothing: the same Idempotency-Key
comes again and the system has one work order. Plugins/Chengguan/README.md is the contract."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import MUSTER_BIN, Peer, Process, case_body, copy_config, free_port, run_cli, wait_until

SECRET = b"s3cret-shared-with-the-szcg-platform"
GRID = "zz/erqi/yimalu"          # outside 二七塔商圈: street vending has 城管 alone, no assists
STATUSES = {"ack": ["10"], "progress": ["20"], "resolve": ["30"], "return": ["40"], "ignore": ["90"]}
PHOTO = {"url": "https://szcg.example/photos/SZ-0001-after.jpg", "sha256": hashlib.sha256(b"after-photo").hexdigest()}
# Requests to 127.0.0.1 never through a proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))

CODES = """\
  chengguan:
    codes:
      street_vending:
        code: "0501"
        major: 街面秩序
        minor: 无照经营游商
        filing: 城市道路、广场等公共场所流动摆卖
        limit: 2wh
        closing: 现场无游商、无遗留物
      illegal_construction:
        code: "0101"
        major: 市容环境
        minor: 私搭乱建
        filing: 未经审批私自搭建的建筑物、构筑物或其他设施
        limit: 15wd
        closing: 彻底拆除
        stages:
          - {name: 停工, limit: 4wh}
          - {name: 处罚, limit: 7wd}
          - {name: 拆除, limit: 20wd}
"""


def signature(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class SzcgPlatform:
    """The 数字城管 platform's work-order endpoint: POST /work-orders checks the signature, records
    the request and answers 201 with its own id, SZCG-WO-1, SZCG-WO-2 … — one work order per
    Idempotency-Key, so a repeat is the same work order. With `hold` cleared it keeps each request
    unanswered until it is set."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.orders: dict[str, str] = {}
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Muster-Timestamp", "")
                signed = hmac.compare_digest(signature(ts, raw), self.headers.get("X-Muster-Signature", ""))
                with outer.lock:
                    key = self.headers.get("Idempotency-Key", "")
                    outer.posts.append({"body": json.loads(raw), "key": key, "command": self.headers.get("X-Muster-Command"),
                                        "signed": signed, "fresh": abs(time.time() - int(ts or 0)) < 300})
                outer.hold.wait(60)
                if not signed:
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    wo = outer.orders.setdefault(key, f"SZCG-WO-{len(outer.orders) + 1}")
                self.answer(201, {"id": wo})

            def answer(self, status: int, doc: dict) -> None:
                data = json.dumps(doc, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass    # the adapter was killed while the request was held

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/work-orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dispatches(self) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["command"] == "DISPATCH"]

    def work_orders(self) -> dict[str, str]:
        with self.lock:
            return dict(self.orders)

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def platform():
    p = SzcgPlatform()
    yield p
    p.close()


# --------------------------------------------------------------------------------------------
# the adapter


def chengguan_adapter(broker, url: str, listen: str | None = None) -> Path:
    """config/adapters/chengguan-plugin.yaml: plugin chengguan (key chengguan-sim-1) with the 数字城管 codes."""
    path = broker.workdir / "config" / "adapters" / "chengguan-plugin.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "chengguan.webhook-secret").write_bytes(SECRET + b"\n")
    updates = f"  updates:\n    listen: {listen}\n" if listen else ""
    statuses = "".join(f"    {act}: {json.dumps(codes)}\n" for act, codes in STATUSES.items())
    path.write_text(f"""adapter: chengguan-sim-1
agency: chengguan
name: 城管 数字城管 (plugin)
roles: [agency]
broker: {broker.endpoint}
plugin: chengguan
queue: ../../data/acts/chengguan-plugin.db
settings:
  url: {url}
  secret_file: chengguan.webhook-secret
  timeout: 60s
{updates}  statuses:
{statuses}{CODES}curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/chengguan-sim-1.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int, listen: str | None = None) -> Process:
    """Starts it; with `listen`, until its GET /health answers."""
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=f"chengguan-plugin-{n}")
    p.wait_line(r"connecting to", 10)
    if listen:
        def up() -> bool:
            try:
                with HTTP.open(f"http://{listen}/health", timeout=5) as r:
                    return r.status == 200
            except OSError:
                return not p.alive
        wait_until(up, 15, "the adapter's GET /health")
        assert p.alive, f"the adapter exited: {p.stderr_tail()}"
    return p


def push(listen: str, doc: dict) -> tuple[int, dict]:
    """The desk's status update, signed, to the adapter's POST /updates: (status, parsed body)."""
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    ts = str(int(time.time()))
    req = urllib.request.Request(f"http://{listen}/updates", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "X-Muster-Timestamp": ts,
                                          "X-Muster-Signature": signature(ts, body)})
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# --------------------------------------------------------------------------------------------
# the broker's side


def submit(broker, zmq_ctx, title: str, ref: str, category: str) -> str:
    office = Peer(broker.endpoint, f"cli-intake-{ref}", ["intake"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    r = office.request("SUBMIT", {"case": case_body(title, ref, category=category, grid=GRID)})
    assert r.command == "ACCEPTED", r
    office.bye()
    office.close()
    return r["case_id"]


def outbox_for_chengguan(broker) -> int:
    return broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:chengguan'")[0][0]


def events(broker, case_id: str, type_: str | None = None) -> list[tuple[int, str, dict]]:
    rows = broker.query("SELECT seq, type, data FROM events WHERE case_id = ? ORDER BY seq", (case_id,))
    return [(seq, t, json.loads(d)) for seq, t, d in rows if type_ is None or t == type_]


def count(broker, case_id: str, type_: str) -> int:
    return len(events(broker, case_id, type_))


def acts_in_queue(broker) -> tuple[int, int]:
    """The adapter's act queue (its `queue:` file): (acts ever queued, acts not yet answered)."""
    db = broker.workdir / "data" / "acts" / "chengguan-plugin.db"
    if not db.exists():
        return 0, 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return (con.execute("SELECT count(*) FROM acts").fetchone()[0],
                con.execute("SELECT count(*) FROM acts WHERE answered_at IS NULL").fetchone()[0])
    finally:
        con.close()


def delivered(broker, zmq_ctx, platform: SzcgPlatform, title: str, ref: str, category: str) -> tuple[str, dict]:
    """A case submitted and its work order taken by the platform: (case_id, the work order)."""
    case_id = submit(broker, zmq_ctx, title, ref, category)
    wait_until(lambda: platform.dispatches() and outbox_for_chengguan(broker) == 0, 20, "the work order taken")
    post = platform.dispatches()[-1]
    assert post["signed"] and post["fresh"], "signed: HMAC-SHA256 over timestamp.body"
    assert post["body"]["case_id"] == case_id, post
    return case_id, post["body"]


# --------------------------------------------------------------------------------------------


def test_a_street_vending_case_from_submit_to_closed_needs_the_after_photo(make_broker, processes, zmq_ctx, platform):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, chengguan_adapter(broker, platform.url, listen), 1, listen))
    case_id, order = delivered(broker, zmq_ctx, platform, "一马路流动摊贩占道经营", "CG-E2E-1", "street_vending")

    # The work order carries the case's 数字城管 class.
    assert order["category"] == "street_vending" and order["dispatch_id"].startswith("D"), order
    assert order["szcg"] == {"code": "0501", "kind": "event", "major": "街面秩序", "minor": "无照经营游商",
                             "filing": "城市道路、广场等公共场所流动摆卖", "limit": "2wh",
                             "closing": "现场无游商、无遗留物", "after_photo": True}, order
    dispatch_id, work_order = order["dispatch_id"], platform.work_orders()[platform.dispatches()[-1]["key"]]

    # 签收 by the platform's own work-order id.
    assert push(listen, {"update_id": "SZ-1-10", "work_order": work_order, "status": "10", "handler": "王队员"}) == \
        (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")
    wait_until(lambda: acts_in_queue(broker) == (1, 0), 20, "the ACK answered")
    before = events(broker, case_id)

    # 办结 without the after-photo: refused by the adapter, with the reason for the desk.
    status, answer = push(listen, {"update_id": "SZ-1-30a", "work_order": work_order, "status": "30", "result": "已劝离"})
    assert status == 422 and answer["field"] == "attachments", answer
    assert answer["error"].startswith("办结需上传处置后照片（数字城管 0501 无照经营游商 结案条件：现场无游商、无遗留物）"), answer
    assert acts_in_queue(broker) == (1, 0), "nothing of the refused update was queued"
    assert events(broker, case_id) == before, "nothing happened on the bus"

    # 办结 with the photo: finished, the photo on the record.
    status, answer = push(listen, {"update_id": "SZ-1-30b", "work_order": work_order, "status": "30", "result": "已劝离",
                                   "note": "游商已离开，现场无遗留", "attachments": [PHOTO]})
    assert (status, answer) == (200, {"queued": 1, "repeats": 0, "ignored": 0}), answer
    wait_until(lambda: count(broker, case_id, "case.resolved") == 1, 20, "case.resolved")
    resolved = events(broker, case_id, "case.resolved")[0][2]
    assert resolved.get("attachments") == [PHOTO] and resolved.get("result") == "已劝离", resolved
    wait_until(lambda: len(events(broker, case_id, "downstream.update")) == 2, 10, "both downstream.update events")
    assert [d["update"] for _, _, d in events(broker, case_id, "downstream.update")] == ["SZ-1-10", "SZ-1-30b"], \
        "the refused update never reached the broker"

    # The centre: the grid worker verifies on site (核实), the hotline's follow-up call rates it (回访) → 结案.
    grid = Peer(broker.endpoint, "grid-app-1", ["grid"], ctx=zmq_ctx, curve=broker.curve("grid-app"))
    hotline = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    try:
        grid.hello()
        ok = grid.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员现场核查：已无摊贩"})
        assert ok.command == "OK" and ok["state"] == "verified", ok
        hotline.hello()
        ok = hotline.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访满意"})
        assert ok.command == "OK" and ok["state"] == "closed", ok
    finally:
        grid.close()
        hotline.close()
    types = [t for _, t, _ in events(broker, case_id)]
    for t in ["case.accepted", "case.dispatched", "dispatch.acked", "case.resolved", "case.verified", "case.evaluated", "case.closed"]:
        assert t in types, (t, types)
    assert types.count("case.resolved") == 1, types


def test_a_staged_class_walks_its_stages_in_order_on_the_brokers_clocks(make_broker, processes, zmq_ctx, platform):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, chengguan_adapter(broker, platform.url, listen), 1, listen))
    case_id, order = delivered(broker, zmq_ctx, platform, "楼顶违法搭建彩钢房", "CG-ST-1", "illegal_construction")
    assert order["szcg"]["code"] == "0101" and order["szcg"]["stages"] == [
        {"name": "停工", "limit": "4wh"}, {"name": "处罚", "limit": "7wd"}, {"name": "拆除", "limit": "20wd"}], order
    dispatched = events(broker, case_id, "case.dispatched")[0][2]["dispatch"]
    stages = dispatched["milestones"]
    assert [(m["name"], m["within"]) for m in stages] == [("停工", "4wh"), ("处罚", "7wd"), ("拆除", "20wd")], stages
    assert "due_by" in stages[0] and "due_by" not in stages[1], "only the first stage's clock runs at dispatch"
    dispatch_id = order["dispatch_id"]
    assert push(listen, {"update_id": "SZ-2-10", "dispatch_id": dispatch_id, "status": "10"})[0] == 200
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")

    status, answer = push(listen, {"update_id": "SZ-2-20a", "dispatch_id": dispatch_id, "status": "20", "stage": "停业",
                                   "note": "阶段完成：停业"})
    assert status == 422 and answer["field"] == "stage", answer
    assert "无“停业”阶段，其阶段为 停工（4 工作时） → 处罚（7 工作日） → 拆除（20 工作日）" in answer["error"], answer
    assert acts_in_queue(broker)[0] == 1, "the refused update queued nothing"

    # The desk names the stage; the plugin writes the note and the broker reaches the stage.
    assert push(listen, {"update_id": "SZ-2-20c", "dispatch_id": dispatch_id, "status": "20",
                         "stage": "停工"}) == (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: count(broker, case_id, "dispatch.milestone_reached") == 1, 20, "停工 reached")
    assert events(broker, case_id, "dispatch.progress")[0][2]["note"] == "阶段完成：停工"
    reached = events(broker, case_id, "dispatch.milestone_reached")[0][2]
    assert reached["milestone"] == "停工" and reached["late"] is False and "next_due_by" in reached, reached

    # Out of order: the plugin takes it (the order is the broker's), the broker refuses it, and
    # nothing of it is recorded.
    assert push(listen, {"update_id": "SZ-2-20d", "dispatch_id": dispatch_id, "status": "20", "stage": "拆除"})[0] == 200
    wait_until(lambda: acts_in_queue(broker) == (3, 0), 20, "the broker answered the out-of-order stage")
    assert count(broker, case_id, "dispatch.progress") == 1 and count(broker, case_id, "dispatch.milestone_reached") == 1

    for n, stage in enumerate(["处罚", "拆除"]):
        assert push(listen, {"update_id": f"SZ-2-20e{n}", "dispatch_id": dispatch_id, "status": "20", "stage": stage})[0] == 200
        wait_until(lambda: count(broker, case_id, "dispatch.milestone_reached") == n + 2, 20, f"{stage} reached")
    assert [e[2]["milestone"] for e in events(broker, case_id, "dispatch.milestone_reached")] == ["停工", "处罚", "拆除"]
    assert "next_due_by" not in events(broker, case_id, "dispatch.milestone_reached")[2][2], "no stage after the last"
    assert push(listen, {"update_id": "SZ-2-30", "dispatch_id": dispatch_id, "status": "30", "result": "已拆除",
                         "attachments": [{"url": "https://szcg.example/photos/after-st.jpg"}]})[0] == 200
    wait_until(lambda: count(broker, case_id, "case.resolved") == 1, 20, "case.resolved after every stage")


def test_a_kill9_of_the_adapter_while_the_platform_holds_the_post_loses_nothing(make_broker, processes, zmq_ctx, platform):
    broker = make_broker(secure=True)
    config = chengguan_adapter(broker, platform.url)
    platform.hold.clear()
    first = start_adapter(broker, config, 1)
    processes.append(first)
    case_id = submit(broker, zmq_ctx, "一马路夜市占道", "CG-K9-1", "street_vending")
    wait_until(lambda: len(platform.dispatches()) >= 1, 15, "the POST in flight")
    first.kill9()
    assert outbox_for_chengguan(broker) == 1, "not acknowledged: the platform never answered"
    platform.hold.set()
    processes.append(start_adapter(broker, config, 2))
    wait_until(lambda: outbox_for_chengguan(broker) == 0, 30, "the restarted adapter hands it over")

    posts = platform.dispatches()
    assert len(posts) >= 2, "delivered again after the restart"
    assert len({p["key"] for p in posts}) == 1, f"one Idempotency-Key: {[p['key'] for p in posts]}"
    assert len(platform.work_orders()) == 1, "one work order at the platform"
    assert all(p["signed"] and p["body"]["case_id"] == case_id and p["body"]["szcg"]["code"] == "0501" for p in posts), posts
    assert count(broker, case_id, "case.dispatched") == 1


def test_check_config_names_a_bad_code_with_file_line_and_key(tmp_path):
    muster_yaml = copy_config(tmp_path)
    adapters = muster_yaml.parent / "adapters"
    (adapters / "chengguan.webhook-secret").write_bytes(SECRET + b"\n")
    bad = CODES.replace('code: "0501"', 'code: "501"').replace("limit: 7wd", "limit: 7days")
    path = adapters / "chengguan-plugin.yaml"
    path.write_text(f"""adapter: chengguan-plugin-1
agency: chengguan
name: 城管 数字城管 (plugin)
roles: [agency]
plugin: chengguan
settings:
  url: http://127.0.0.1:9/work-orders
  secret_file: chengguan.webhook-secret
{bad}""", encoding="utf-8")
    r = run_cli("check-config", "--insecure", "--config", str(muster_yaml), cwd=tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    lines = path.read_text(encoding="utf-8").splitlines()
    code_line = next(i for i, l in enumerate(lines, 1) if 'code: "501"' in l)
    stages_line = next(i for i, l in enumerate(lines, 1) if l.strip() == "stages:")
    assert f"chengguan-plugin.yaml:{code_line}: settings.chengguan.codes.street_vending.code" in out, out
    assert f"chengguan-plugin.yaml:{stages_line}: settings.chengguan.codes.illegal_construction.stages" in out, out
    assert "7days" in out, out
