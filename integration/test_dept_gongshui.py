"""供水 (`plugin: gongshui`), black-box: the real `muster adapter` runs the gongshui plugin against a stand-in
of the water company's system written in this test — its work-order intake and its shut-off notices
(停水通知), both real HTTP, both checking signatures. An unplanned outage is a known incident: a burst of
停水 calls in one street joins it, one incident with every reporter; it carries the 24-hour emergency-supply
notice to the centre (郑州供水条例 Art. 30); the company's `ended` ends it. A planned shut-off announced for
later is an incident from its start: a call before the water goes off is a case of its own, one after joins
it; announced less than 12 h ahead it is declared all the same, its cause saying it was late. A burst
main (供水管道爆裂), which no incident covers, is a case: its signed work order goes to the company, the
company's 签收 and 办结 come back over the adapter's POST /updates, and the centre verifies and rates it
to closed. A kill -9 of the adapter while the company holds the work order's POST loses nothing: the
same Idempotency-Key comes again and the company has one work order."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import MUSTER_BIN, Peer, Process, case_body, free_port, verify_log, wait_until

SECRET = b"s3cret-shared-with-gongshui"
STREET = "zz/erqi/jiefanglu"
CST = timezone(timedelta(hours=8))
# Requests to 127.0.0.1 never through a proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
STATUSES = '{ack: ["10"], progress: ["20"], resolve: ["30"], return: ["40"], ignore: ["90"]}'


def signature(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def rfc3339(d: datetime) -> str:
    return d.isoformat(timespec="seconds")


def ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


class Company:
    """The water company's system: POST /work-orders (signed, else 401) answers {"id": "GS-WO-n"} per
    Idempotency-Key; GET /notices (signed over "timestamp.", else 401) answers the notices it lists now.
    Every POST that arrives is in `posts`; with `hold` cleared it keeps each POST unanswered (and not
    taken) until it is set."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.posts: list[dict] = []
        self.ids: dict[str, str] = {}
        self.notices: list[dict] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def signed(self, body: bytes) -> bool:
                ts = self.headers.get("X-Muster-Timestamp", "")
                return hmac.compare_digest(signature(ts, body), self.headers.get("X-Muster-Signature", "")) \
                    and abs(time.time() - int(ts or 0)) <= 300

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                signed = urlsplit(self.path).path == "/work-orders" and self.signed(raw)
                key, command = self.headers.get("Idempotency-Key", ""), self.headers.get("X-Muster-Command")
                with outer.lock:
                    outer.posts.append({"body": json.loads(raw), "command": command, "key": key, "signed": signed})
                outer.hold.wait(60)
                if not signed:
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    wo = outer.ids.setdefault(key, f"GS-WO-{len(outer.ids) + 1}")
                    outer.orders.append({"body": json.loads(raw), "command": command, "key": key, "id": wo})
                self.answer(201, {"id": wo})

            def do_GET(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/notices" or not self.signed(b""):
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    doc = {"notices": json.loads(json.dumps(outer.notices))}
                self.answer(200, doc)

            def answer(self, status: int, doc: dict) -> None:
                data = json.dumps(doc, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass    # the adapter was killed while the POST was held

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url, self.notices_url = f"{base}/work-orders", f"{base}/notices"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def order_for(self, case_id: str) -> dict | None:
        with self.lock:
            return next((o for o in self.orders if o["command"] == "DISPATCH" and o["body"]["case_id"] == case_id), None)

    def dispatches(self) -> list[dict]:
        """Every DISPATCH POST that arrived, taken or not."""
        with self.lock:
            return [p for p in self.posts if p["command"] == "DISPATCH"]

    def work_orders(self) -> dict[str, str]:
        with self.lock:
            return dict(self.ids)

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def company():
    c = Company()
    yield c
    c.close()


def gongshui_adapter(broker, company: Company, listen: str, timeout: str = "10s") -> Path:
    path = broker.workdir / "config" / "adapters" / "gongshui-plugin.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "gongshui.webhook-secret").write_bytes(SECRET + b"\n")
    path.write_text(f"""adapter: gongshui-sim-1
agency: gongshui
name: 供水
roles: [agency]
broker: {broker.endpoint}
plugin: gongshui
queue: ../../data/acts/gongshui-plugin.db
settings:
  url: {company.url}
  secret_file: gongshui.webhook-secret
  timeout: {timeout}
  updates:
    listen: {listen}
  statuses: {STATUSES}
  gongshui:
    notices_url: {company.notices_url}
    notices_every: 1s
    secret_file: gongshui.webhook-secret
    notice_ahead: 12h
    water_categories: [water_outage]
    emergency_after: 24h
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/gongshui-sim-1.key
""", encoding="utf-8")
    return path


def start(broker, company: Company, processes, listen: str | None = None, timeout: str = "10s", n: int = 1) -> Process:
    """Starts the adapter (its POST /updates on `listen`, a free port if not given) until its GET /health answers."""
    listen = listen or f"127.0.0.1:{free_port()}"
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(gongshui_adapter(broker, company, listen, timeout))],
                cwd=broker.workdir, name=f"gongshui-{n}")
    processes.append(p)
    p.wait_line(r"connecting to", 10)
    wait_until(lambda: health(listen) or not p.alive, 15, "the adapter's GET /health")
    assert p.alive, p.stderr_tail()
    p.listen = listen
    return p


def health(listen: str) -> dict | None:
    try:
        with HTTP.open(f"http://{listen}/health", timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def push(listen: str, doc: dict) -> tuple[int, dict]:
    """The company's status update, signed, to the adapter's POST /updates: (status, parsed body)."""
    body = json.dumps(doc, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(f"http://{listen}/updates", data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Muster-Timestamp": ts, "X-Muster-Signature": signature(ts, body)})
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def hotline(broker, zmq_ctx) -> Peer:
    p = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    p.hello()
    return p


def declared(broker, ref: str) -> str:
    rows = wait_until(lambda: broker.query("SELECT incident_id FROM incidents WHERE ref = ? AND agency = 'gongshui'", (ref,)),
                      20, f"incident {ref} declared")
    return rows[0][0]


def events(broker, case_id: str, type_: str) -> list[dict]:
    rows = broker.query("SELECT data FROM events WHERE case_id = ? AND type = ? ORDER BY seq", (case_id, type_))
    return [json.loads(d) for (d,) in rows]


def types(broker, case_id: str) -> list[str]:
    return [t for (t,) in broker.query("SELECT type FROM events WHERE case_id = ? ORDER BY seq", (case_id,))]


def case_state(broker, case_id: str) -> str:
    return broker.query("SELECT state FROM cases WHERE case_id = ?", (case_id,))[0][0]


def outbox_for_gongshui(broker) -> int:
    """Pushes to 供水 the broker still holds unacknowledged."""
    return broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:gongshui'")[0][0]


# --------------------------------------------------------------------------------------------


def test_a_burst_of_calls_during_an_outage_is_one_incident(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    now = datetime.now(CST).replace(microsecond=0)
    began, until = now - timedelta(minutes=20), now + timedelta(hours=6)
    with company.lock:
        company.notices = [{"id": "GS-OUT-9", "kind": "unplanned", "grids": [STREET], "area": "解放路一带",
                            "starts_at": rfc3339(began), "expected_end": rfc3339(until), "reason": "DN300管道爆裂",
                            "published_at": rfc3339(began), "ended": False}]
    start(broker, company, processes)
    incident = declared(broker, "GS-OUT-9")
    # The emergency-supply notice: one rung for the centre, due 24 h after the water went off.
    rungs = broker.query("SELECT notice, due, recipients FROM timers WHERE owner = ?", (incident,))
    assert [(n, d) for n, d, _ in rungs] == [("emergency_supply", ms(began + timedelta(hours=24)))], rungs

    desk = hotline(broker, zmq_ctx)
    for n in range(200):
        grid = f"{STREET}/minzhulu" if n % 2 else STREET
        r = desk.request("SUBMIT", {"case": case_body("家里停水了", f"12345-GS-{n}", category="water_outage", grid=grid,
                                                      address=f"解放路{n}号院")})
        assert r.command == "ACCEPTED" and r["state"] == "merged" and r["merged_into"] == incident, r
        assert r["incident"]["ref"] == "GS-OUT-9" and r["incident"]["cause"] == "DN300管道爆裂", r["incident"]
        assert r["incident"]["starts_at"].startswith(rfc3339(began)[:19]), r["incident"]
    message = r["incident"]["message"]
    assert message.startswith("解放路一带因DN300管道爆裂停水，预计 ") and message.endswith("恢复供水，供水公司正在抢修"), message
    assert until.strftime("%H:%M") in message, message

    merged = broker.query("SELECT count(*) FROM events WHERE type = 'case.merged' AND json_extract(data, '$.merged_into') = ?",
                          (incident,))[0][0]
    assert merged == 200
    listed = desk.request("QUERY", {"what": "incidents"})
    assert [(i["incident_id"], i["reports"], i["state"]) for i in listed["incidents"]] == [(incident, 200, "active")], listed
    assert broker.query("SELECT count(*) FROM dispatches WHERE agency = 'gongshui'")[0][0] == 0, "no call became a case"

    with company.lock:
        company.notices[0]["ended"] = True
    ended = wait_until(lambda: events(broker, incident, "incident.ended"), 20, "incident.ended")
    assert [(e["outcome"], e.get("note")) for e in ended] == [("resolved", "已恢复供水")], ended
    assert broker.query("SELECT count(*) FROM timers WHERE owner = ?", (incident,))[0][0] == 0, "no emergency notice after the end"
    desk.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr


def test_a_planned_shut_off_is_an_incident_from_its_start_and_a_late_notice_is_declared_flagged(
        make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    now = datetime.now(CST).replace(microsecond=0)
    off, on = now + timedelta(seconds=6), now + timedelta(hours=4)
    with company.lock:   # published just now: less than the 12 h Zhengzhou asks
        company.notices = [{"id": "TS-2026-118", "kind": "planned", "grids": [STREET], "area": "解放路一带",
                            "starts_at": rfc3339(off), "expected_end": rfc3339(on), "reason": "DN300管网改造",
                            "published_at": rfc3339(now), "ended": False}]
    adapter = start(broker, company, processes)
    incident = declared(broker, "TS-2026-118")
    record = json.loads(broker.query("SELECT record FROM incidents WHERE incident_id = ?", (incident,))[0][0])
    assert "未按规定提前12小时通知" in json.dumps(record, ensure_ascii=False), record
    wait_until(lambda: any("not announced in time" in line for line in adapter.stderr_tail(200).splitlines()), 10,
               "the adapter's warning about the late notice")

    desk = hotline(broker, zmq_ctx)
    early = desk.request("SUBMIT", {"case": case_body("家里停水了", "12345-TS-early", category="water_outage", grid=STREET,
                                                      address="解放路1号院")})
    assert datetime.now(CST) < off, "the test machine was too slow to call before the shut-off"
    assert early.command == "ACCEPTED" and early["state"] == "dispatched", early
    assert wait_until(lambda: company.order_for(early["case_id"]), 20, "the early call's work order")

    wait_until(lambda: datetime.now(CST) >= off + timedelta(seconds=1), 15, "the shut-off to begin")
    joined = desk.request("SUBMIT", {"case": case_body("停水了", "12345-TS-after", category="water_outage", grid=STREET,
                                                       address="解放路2号院")})
    assert joined["state"] == "merged" and joined["merged_into"] == incident, joined
    i = joined["incident"]
    assert i["starts_at"].startswith(rfc3339(off)[:19]) and i["expected_end"].startswith(rfc3339(on)[:19]), i
    assert i["cause"].startswith("DN300管网改造；未按规定提前12小时通知"), i
    assert "计划停水" in i["message"] and "（停水通知 TS-2026-118），请提前储水" in i["message"], i
    assert broker.query("SELECT count(*) FROM timers WHERE owner = ? AND notice = 'emergency_supply'", (incident,))[0][0] == 1
    desk.close()


def burst(ref: str, address: str) -> dict:
    """A 12345 call about a burst main (供水管道爆裂): no notice covers it, so it is a case for the company."""
    return case_body("解放路自来水管爆裂，路面跑水", ref, category="water_main_burst", grid=STREET, address=address,
                     description="人行道下冒水，水已漫到机动车道", reporter={"name": "王强", "phone": "13812345678"})


def test_a_burst_main_from_submit_to_closed(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    listen = start(broker, company, processes).listen
    desk = hotline(broker, zmq_ctx)
    r = desk.request("SUBMIT", {"case": burst("12345-GS-E2E-1", "解放路与民主路交叉口东50米")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    case_id = r["case_id"]

    # The signed work order at the company (an unsigned one it answers 401 and never takes).
    order = wait_until(lambda: company.order_for(case_id), 20, "the work order at the water company")
    arrived = [p for p in company.dispatches() if p["body"]["case_id"] == case_id]
    assert arrived and all(p["signed"] for p in arrived), "signed: HMAC-SHA256 over timestamp.body"
    wo, ref = order["body"], order["id"]
    assert wo["type"] == "dispatch" and wo["role"] == "lead" and wo["round"] == 1, wo
    assert wo["category"] == "water_main_burst" and wo["grid"] == STREET and wo["dispatch_id"].startswith("D"), wo
    assert wo["address"] == "解放路与民主路交叉口东50米", wo
    # 供水 may call the household back (routing.yaml: contacts_reporters): the phone is not masked.
    assert wo["reporter"]["phone"] == "13812345678", wo["reporter"]
    wait_until(lambda: outbox_for_gongshui(broker) == 0, 10, "the dispatch acknowledged at the broker")

    # 签收 and 办结 by the company's own work-order id, signed, over the adapter's POST /updates.
    assert push(listen, {"update_id": "GS-U-1", "work_order": ref, "status": "10", "handler": "二七区供水抢修队 李班长"}) == \
        (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 20, "签收")
    assert case_state(broker, case_id) == "handling"
    assert push(listen, {"update_id": "GS-U-2", "work_order": ref, "status": "30",
                         "result": "已关阀抢修，更换DN300管段，恢复通水"}) == (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: case_state(broker, case_id) == "finished", 20, "finished")
    resolved = events(broker, case_id, "case.resolved")
    assert len(resolved) == 1 and resolved[0]["result"] == "已关阀抢修，更换DN300管段，恢复通水", resolved
    wait_until(lambda: len(events(broker, case_id, "downstream.update")) == 2, 10, "both downstream.update events")
    assert [e["update"] for e in events(broker, case_id, "downstream.update")] == ["GS-U-1", "GS-U-2"]

    # The centre: the grid worker verifies on site (核实), the hotline's follow-up call rates it (回访) → 结案.
    grid = Peer(broker.endpoint, "grid-app-1", ["grid"], ctx=zmq_ctx, curve=broker.curve("grid-app"))
    grid.hello()
    ok = grid.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员现场核查：路面已无积水，管道已修复"})
    assert ok.command == "OK" and ok["state"] == "verified", ok
    ok = desk.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访：已恢复供水，满意"})
    assert ok.command == "OK" and ok["state"] == "closed", ok
    seen = types(broker, case_id)
    for t in ["case.accepted", "case.dispatched", "dispatch.acked", "case.resolved", "case.verified", "case.evaluated",
              "case.closed"]:
        assert t in seen, (t, seen)
    assert seen.count("case.closed") == 1 and seen.count("case.resolved") == 1, seen
    for peer in (grid, desk):
        peer.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr


def test_a_kill9_of_the_adapter_mid_delivery_loses_nothing(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    company.hold.clear()
    first = start(broker, company, processes, timeout="60s")
    desk = hotline(broker, zmq_ctx)
    r = desk.request("SUBMIT", {"case": burst("12345-GS-K9-1", "解放路88号门前")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    case_id = r["case_id"]

    wait_until(lambda: company.dispatches(), 15, "the work order's POST in flight")
    first.kill9()
    assert outbox_for_gongshui(broker) == 1, "not acknowledged: the company never answered"
    assert company.work_orders() == {}, "held: nothing taken yet"
    company.hold.set()
    second = start(broker, company, processes, timeout="60s", n=2)
    wait_until(lambda: outbox_for_gongshui(broker) == 0, 30, "the restarted adapter hands it over")

    posts = company.dispatches()
    assert len(posts) >= 2, "delivered again after the restart"
    assert len({p["key"] for p in posts}) == 1, f"one Idempotency-Key: {[p['key'] for p in posts]}"
    assert all(p["signed"] and p["body"]["case_id"] == case_id and p["body"]["category"] == "water_main_burst"
               for p in posts), posts
    assert company.work_orders() == {posts[0]["key"]: "GS-WO-1"}, "one work order at the company"
    assert broker.query("SELECT count(*) FROM dispatches WHERE agency = 'gongshui'")[0][0] == 1

    # The restarted adapter knows the work order: the company's 签收 by its id reaches the case.
    assert push(second.listen, {"update_id": "GS-K9-10", "work_order": "GS-WO-1", "status": "10"})[0] == 200
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 20, "签收 after the restart")
    assert case_state(broker, case_id) == "handling"
    desk.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr
