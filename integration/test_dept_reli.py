"""热力 (`plugin: reli`), black-box: the real `muster adapter` runs the reli plugin against a stand-in of
the heating company's system written in this test — its work-order intake and its outage feed, both real
HTTP, both checking signatures. 暖气不热 in the heating season is finished only with a measured room
temperature of at least 18 ℃ (a lower one is refused to the company's desk with the reason, the accepted
one is written into the case's result), then verified and rated to closed; out of season it is returned
(退单) with the season; an outage the company reports is a known incident that the reports it causes
join, ended when the company says so."""
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

SECRET = b"s3cret-shared-with-reli"
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))
GRID = "zz/erqi/jiefanglu"
CST = timezone(timedelta(hours=8))
TODAY = datetime.now(CST).date()
STATUSES = '{ack: ["10"], progress: ["20"], resolve: ["30"], return: ["40"], ignore: ["90"]}'


def signature(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class Company:
    """The heating company's system: POST /work-orders (signed, else 401) answers {"id": "RL-WO-n"} per
    Idempotency-Key; GET /outages (signed over "timestamp.", else 401) answers the outages it reports now."""

    def __init__(self) -> None:
        self.orders: list[dict] = []
        self.ids: dict[str, str] = {}
        self.outages: list[dict] = []
        self.polls = 0
        self.lock = threading.Lock()
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
                    wo = outer.ids.setdefault(key, f"RL-WO-{len(outer.ids) + 1}")
                    outer.orders.append({"body": json.loads(raw), "command": self.headers.get("X-Muster-Command"), "id": wo})
                self.answer(201, {"id": wo})

            def do_GET(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/outages" or not self.signed(b""):
                    return self.answer(401, {"error": "bad signature"})
                with outer.lock:
                    outer.polls += 1
                    doc = {"outages": json.loads(json.dumps(outer.outages))}
                self.answer(200, doc)

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
        self.url, self.outages_url = f"{base}/work-orders", f"{base}/outages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def order_for(self, case_id: str) -> dict | None:
        with self.lock:
            return next((o for o in self.orders if o["command"] == "DISPATCH" and o["body"]["case_id"] == case_id), None)

    def polled_since(self, n: int) -> bool:
        with self.lock:
            return self.polls > n

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def company():
    c = Company()
    yield c
    c.close()


def reli_adapter(broker, company: Company, listen: str, seasons: list[tuple[str, str]]) -> Path:
    """config/adapters/reli-plugin.yaml with its own sla copy (reli-sla.yaml): the broker's sla.yaml but
    for the heating seasons, which the test sets so that today is in one or not."""
    path = broker.workdir / "config" / "adapters" / "reli-plugin.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "reli.webhook-secret").write_bytes(SECRET + b"\n")
    sla = (broker.workdir / "config" / "sla.yaml").read_text(encoding="utf-8")
    start = sla.index("heating_season:")
    end = sla.index("\ndefaults:")
    own = "heating_season:\n" + "".join(f"  - {{from: {a}, to: {b}}}\n" for a, b in seasons)
    (path.parent / "reli-sla.yaml").write_text(sla[:start] + own + sla[end + 1:], encoding="utf-8")
    path.write_text(f"""adapter: reli-sim-1
agency: reli
name: 热力
roles: [agency]
broker: {broker.endpoint}
plugin: reli
queue: ../../data/acts/reli-plugin.db
settings:
  url: {company.url}
  secret_file: reli.webhook-secret
  updates:
    listen: {listen}
  statuses: {STATUSES}
  reli:
    sla: reli-sla.yaml
    min_room_temperature: 18
    heating_categories: [heating_not_warm, heating_leak]
    outages_url: {company.outages_url}
    outages_every: 1s
    secret_file: reli.webhook-secret
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/reli-sim-1.key
""", encoding="utf-8")
    return path


IN_SEASON = [(str(TODAY - timedelta(days=30)), str(TODAY + timedelta(days=30)))]
OUT_OF_SEASON = [(str(TODAY - timedelta(days=200)), str(TODAY - timedelta(days=80))),
                 (str(TODAY + timedelta(days=100)), str(TODAY + timedelta(days=220)))]


def start(broker, company: Company, processes, seasons=IN_SEASON) -> str:
    listen = f"127.0.0.1:{free_port()}"
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(reli_adapter(broker, company, listen, seasons))],
                cwd=broker.workdir, name="reli")
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


def clock(moment: datetime) -> str:
    """As the plugin says a time: "22:00" today, else "12月3日 22:00"."""
    hm = moment.strftime("%H:%M")
    return hm if moment.date() == datetime.now(CST).date() else f"{moment.month}月{moment.day}日 {hm}"


# --------------------------------------------------------------------------------------------


def test_not_warm_in_season_is_finished_only_at_18_degrees_and_closed(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    listen = start(broker, company, processes)
    desk = hotline(broker, zmq_ctx)
    r = desk.request("SUBMIT", {"case": case_body("家里暖气不热", "HL-RL-1", category="heating_not_warm", grid=GRID,
                                                  address="民主路3号院2号楼1单元501", description="暖气片温乎，屋里只有15度")})
    assert r.command == "ACCEPTED" and r["state"] == "dispatched", r
    case_id = r["case_id"]

    order = wait_until(lambda: company.order_for(case_id), 20, "the work order at the heating company")
    wo, ref = order["body"], order["id"]
    assert wo["in_season"] is True and wo["heating_season"] == {"from": IN_SEASON[0][0], "to": IN_SEASON[0][1]}, wo
    assert wo["min_room_temperature"] == 18 and "18℃" in wo["finish_needs"], wo

    assert push(listen, {"update_id": "RL-U-1", "work_order": ref, "status": "10", "handler": "二七区供热服务站 王师傅"})[0] == 200
    wait_until(lambda: events(broker, case_id, "dispatch.acked"), 10, "签收")

    status, answer = push(listen, {"update_id": "RL-U-2", "work_order": ref, "status": "30", "result": "已排气",
                                   "room_temperature": 16})
    assert status == 422 and answer["field"] == "room_temperature", (status, answer)
    assert "实测室温 16℃ 低于 18℃" in answer["error"] and "不能办结" in answer["error"], answer
    status, answer = push(listen, {"update_id": "RL-U-3", "work_order": ref, "status": "30", "result": "已排气"})
    assert status == 422 and answer["field"] == "room_temperature" and "办结需填写入户实测室温" in answer["error"], answer
    assert case_state(broker, case_id) == "handling" and events(broker, case_id, "case.resolved") == []

    status, answer = push(listen, {"update_id": "RL-U-4", "work_order": ref, "status": "30",
                                   "result": "已清洗过滤器并排气，暖气恢复正常", "room_temperature": 19.5})
    assert status == 200 and answer["queued"] == 1, answer
    wait_until(lambda: case_state(broker, case_id) == "finished", 10, "finished")
    resolved = events(broker, case_id, "case.resolved")
    assert len(resolved) == 1 and resolved[0]["result"] == "已清洗过滤器并排气，暖气恢复正常；入户实测室温 19.5℃", resolved
    assert [e["update"] for e in events(broker, case_id, "downstream.update")] == ["RL-U-1", "RL-U-4"]

    grid = Peer(broker.endpoint, "grid-app-1", ["grid"], ctx=zmq_ctx, curve=broker.curve("grid-app"))
    grid.hello()
    ok = grid.request("VERIFY", {"case_id": case_id, "passed": True, "note": "网格员回访入户：室温19度"})
    assert ok.command == "OK" and ok["state"] == "verified", ok
    ok = desk.request("EVALUATE", {"case_id": case_id, "satisfaction": "satisfied", "note": "回访：暖气热了，满意"})
    assert ok.command == "OK" and ok["state"] == "closed", ok
    for peer in (grid, desk):
        peer.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr


def test_not_warm_out_of_season_is_returned_with_the_season_and_a_leak_is_not(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    start(broker, company, processes, seasons=OUT_OF_SEASON)
    desk = hotline(broker, zmq_ctx)
    cold = desk.request("SUBMIT", {"case": case_body("暖气不热", "HL-RL-2", category="heating_not_warm", grid=GRID,
                                                     address="民主路5号院")})
    leak = desk.request("SUBMIT", {"case": case_body("暖气片漏水", "HL-RL-3", category="heating_leak", grid=GRID,
                                                     address="民主路7号院")})
    assert cold["state"] == leak["state"] == "dispatched", (cold, leak)

    returned = wait_until(lambda: events(broker, cold["case_id"], "dispatch.returned"), 20, "the return (退单)")
    assert returned[0]["reason"] == "not_our_duty", returned
    nxt = OUT_OF_SEASON[1]
    assert returned[0]["note"].startswith(f"非供暖季（下一供暖季 {nxt[0]}至{nxt[1]}）"), returned
    assert company.order_for(cold["case_id"]) is None, "refused before it was sent"

    wo = wait_until(lambda: company.order_for(leak["case_id"]), 20, "the leak's work order")["body"]
    assert wo["in_season"] is False and "heating_season" not in wo and "min_room_temperature" not in wo, wo
    assert events(broker, leak["case_id"], "dispatch.returned") == []
    desk.close()


def test_an_outage_is_a_known_incident_that_the_reports_join_until_it_ends(make_broker, processes, zmq_ctx, company):
    broker = make_broker(secure=True)
    restore = (datetime.now(CST) + timedelta(hours=3)).replace(second=0, microsecond=0)
    with company.lock:
        company.outages = [{"id": "RL-OUT-7", "grids": [GRID], "area": "解放路一带", "cause": "换热站故障",
                            "expected_restore": restore.isoformat(), "ended": False, "outcome": "resolved"}]
    start(broker, company, processes)

    declared = wait_until(lambda: broker.query(
        "SELECT incident_id, state FROM incidents WHERE ref = 'RL-OUT-7' AND agency = 'reli'"), 20, "the outage declared")
    incident = declared[0][0]
    message = f"解放路一带因换热站故障停暖，预计 {clock(restore)} 恢复供暖，热力公司正在抢修"

    desk = hotline(broker, zmq_ctx)
    for n in range(5):
        grid = f"{GRID}/minzhulu" if n % 2 else GRID
        r = desk.request("SUBMIT", {"case": case_body("暖气不热", f"HL-RL-OUT-{n}", category="heating_not_warm", grid=grid,
                                                      address=f"解放路{n + 10}号院")})
        assert r.command == "ACCEPTED" and r["state"] == "merged" and r["merged_into"] == incident, r
        assert r["incident"]["message"] == message and r["incident"]["ref"] == "RL-OUT-7", r["incident"]
        assert r["incident"]["cause"] == "换热站故障" and r["incident"]["categories"] == ["heating_not_warm"], r["incident"]
    # A leak in the same street is not the outage: a case of its own, sent to the company.
    leak = desk.request("SUBMIT", {"case": case_body("暖气管漏水", "HL-RL-OUT-leak", category="heating_leak", grid=GRID,
                                                     address="解放路30号院")})
    assert leak["state"] == "dispatched", leak
    listed = desk.request("QUERY", {"what": "incidents"})
    assert [(i["incident_id"], i["reports"], i["state"]) for i in listed["incidents"]] == [(incident, 5, "active")], listed

    with company.lock:
        company.outages[0]["ended"] = True
    ended = wait_until(lambda: events(broker, incident, "incident.ended"), 20, "incident.ended")
    assert [(e["outcome"], e["note"]) for e in ended] == [("resolved", "已恢复供暖")], ended
    # The feed still lists it: read again, nothing more happens.
    with company.lock:
        polls = company.polls
    wait_until(lambda: company.polled_since(polls + 1), 10, "two more reads of the feed")
    assert broker.query("SELECT count(*) FROM events WHERE type LIKE 'incident.%'")[0][0] == 2
    desk.close()
    for p in processes:
        p.stop()
    assert broker.stop() == 0
    v = verify_log(broker.db)
    assert v.returncode == 0, v.stdout + v.stderr
