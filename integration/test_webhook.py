"""The webhook plugin (issue 11, item 3), black-box: the real `muster adapter` runs `plugin: webhook`
against a department's work-order system written in this test (a small real HTTP server). Each
push is POSTed as a signed work order; the dispatch is acknowledged only once the department has
taken it; a refusal returns it; a kill -9 of the adapter before the department answers loses
nothing and doubles nothing (the department sees the same Idempotency-Key again)."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from pathlib import Path

import pytest

from conftest import MUSTER_BIN, Peer, Process, case_body, wait_until

GRID = "zz/erqi/jiefanglu"
SECRET = b"s3cret-shared-with-the-heating-company"


class Department:
    """The heating company's work-order system: checks each POST's signature, records it, and
    answers from `script` (a list of (status, headers, body)); then 201 with its own id. With
    `hold` cleared it keeps requests unanswered until it is set."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.script: list[tuple[int, dict, dict]] = []
        self.lock = threading.Lock()
        self.hold = threading.Event()
        self.hold.set()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Muster-Timestamp", "")
                want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
                with outer.lock:
                    outer.posts.append({"body": json.loads(raw), "key": self.headers.get("Idempotency-Key"),
                                        "command": self.headers.get("X-Muster-Command"),
                                        "signed": hmac.compare_digest(want, self.headers.get("X-Muster-Signature", "")),
                                        "fresh": abs(time.time() - int(ts or 0)) < 300})
                    status, headers, doc = outer.script.pop(0) if outer.script else (201, {}, {"id": "RL-WO-0001"})
                outer.hold.wait(60)
                data = json.dumps(doc).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/work-orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dispatches(self) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["command"] == "DISPATCH"]

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()


@pytest.fixture
def department():
    d = Department()
    yield d
    d.close()


def webhook_adapter(broker, url: str) -> Path:
    path = broker.workdir / "config" / "adapters" / "reli-webhook.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "reli.webhook-secret").write_bytes(SECRET + b"\n")
    path.write_text(f"""adapter: reli-sim-1
agency: reli
name: 热力 heating (webhook)
roles: [agency]
broker: {broker.endpoint}
plugin: webhook
queue: ../../data/acts/reli-webhook.db
settings:
  url: {url}
  secret_file: reli.webhook-secret
  timeout: 60s
  category_codes: {{heating_not_warm: "RL-0101"}}
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/reli-sim-1.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int) -> Process:
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=f"reli-webhook-{n}")
    p.wait_line(r"connecting to", 10)
    return p


def outbox_for_reli(broker) -> int:
    return broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:reli'")[0][0]


def submit(broker, zmq_ctx, ref: str) -> str:
    office = Peer(broker.endpoint, "cli-webhook", ["intake", "monitor", "ops"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    r = office.request("SUBMIT", {"case": case_body("暖气不热", ref, category="heating_not_warm")})
    assert r.command == "ACCEPTED", r
    office.close()
    return r["case_id"]


def test_a_signed_work_order_is_acknowledged_only_once_the_department_takes_it(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    # Down twice (503 with Retry-After), then it takes it.
    department.script = [(503, {"Retry-After": "1"}, {}), (503, {"Retry-After": "1"}, {}), (201, {}, {"id": "RL-WO-7"})]
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url), 1))
    case_id = submit(broker, zmq_ctx, "WH-1")
    wait_until(lambda: len(department.dispatches()) >= 1, 10, "the first POST")
    assert outbox_for_reli(broker) == 1, "not acknowledged while the department answers 503"
    wait_until(lambda: len(department.dispatches()) >= 3 and outbox_for_reli(broker) == 0, 20,
               "acknowledged once the department took it")
    posts = department.dispatches()
    assert len(posts) == 3 and len({p["key"] for p in posts}) == 1, "the same work order, under one Idempotency-Key"
    assert all(p["signed"] and p["fresh"] for p in posts), "every POST signed (HMAC-SHA256 over timestamp.body)"
    order = posts[-1]["body"]
    assert order["type"] == "dispatch" and order["case_id"] == case_id and order["dispatch_id"].startswith("D"), order
    assert order["department_code"] == "RL-0101" and order["category"] == "heating_not_warm", order
    assert set(order["due"]) >= {"ack_by", "resolve_by", "return_by"}, order


def test_a_kill9_of_the_adapter_before_the_department_answers_loses_nothing(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    config = webhook_adapter(broker, department.url)
    department.hold.clear()
    first = start_adapter(broker, config, 1)
    processes.append(first)
    submit(broker, zmq_ctx, "WH-2")
    wait_until(lambda: len(department.dispatches()) >= 1, 10, "the POST in flight")
    first.kill9()
    assert outbox_for_reli(broker) == 1, "the dispatch is not acknowledged: the department never answered"
    department.hold.set()
    processes.append(start_adapter(broker, config, 2))
    wait_until(lambda: outbox_for_reli(broker) == 0, 30, "the restarted adapter hands it over")
    keys = {p["key"] for p in department.dispatches()}
    assert len(keys) == 1, f"one work order, delivered again under the same key: {keys}"


def test_a_department_that_refuses_returns_the_dispatch_with_its_reason(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    department.script = [(422, {}, {"reason": "not_our_jurisdiction", "note": "该小区不在本公司供热范围"})]
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url), 1))
    case_id = submit(broker, zmq_ctx, "WH-3")
    wait_until(lambda: broker.query("SELECT count(*) FROM events WHERE case_id = ? AND type = 'dispatch.returned'", (case_id,))[0][0] == 1,
               20, "the dispatch returned (退单)")
    data = json.loads(broker.query("SELECT data FROM events WHERE case_id = ? AND type = 'dispatch.returned'", (case_id,))[0][0])
    assert data["reason"] == "not_our_jurisdiction" and data["note"] == "该小区不在本公司供热范围", data
    wait_until(lambda: outbox_for_reli(broker) == 0, 10, "and the push acknowledged")
