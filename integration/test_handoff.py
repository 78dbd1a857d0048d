"""Acknowledgement after hand-off (issue 8, item 5): the Swift adapter kit says RECEIVED only after
the department's downstream has taken the dispatch. The downstream here is a small real HTTP
server written in this test (a department's work-order system); the adapter is the real
`muster adapter` with `downstream: {kind: http}`, a child process we kill -9 mid-forward."""
from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest

import re

from conftest import MUSTER_BIN, Peer, Process, adapter_config, case_body, wait_until

GRID = "zz/erqi/jiefanglu"


class WorkOrderSystem:
    """The department's system: records every POST; `fail_next` makes it answer 503 at once to
    that many requests; the others are held unanswered until `release` is set."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.release.set()
        self.fail_next = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.posts.append({"body": body, "command": self.headers.get("X-Muster-Command"),
                                        "key": self.headers.get("Idempotency-Key")})
                    fail = outer.fail_next > 0
                    if fail:
                        outer.fail_next -= 1
                if not fail:
                    outer.release.wait(60)
                self.send_response(503 if fail else 201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/work-orders"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dispatches(self) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["command"] == "DISPATCH"]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()


@pytest.fixture
def work_orders():
    w = WorkOrderSystem()
    yield w
    w.close()


def forwarding_adapter(broker, url: str) -> Path:
    path = broker.workdir / "config" / "adapters" / "reli-forward.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""adapter: reli-sim-1
agency: reli
name: 热力 heating (forwarding to its work-order system)
roles: [agency]
broker: {broker.endpoint}
downstream:
  kind: http
  url: {url}
  timeout: 60s
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/reli-sim-1.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int) -> Process:
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=f"reli-forward-{n}")
    p.wait_line(r"connecting to", 10)
    return p


def outbox_for_reli(broker) -> int:
    return broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:reli'")[0][0]


@pytest.mark.slow
def test_an_adapter_killed_while_forwarding_gets_the_dispatch_again_and_the_downstream_sees_it(
        make_broker, processes, zmq_ctx, work_orders):
    broker = make_broker(secure=True, heartbeat="1s", resend_after="2s")
    config = forwarding_adapter(broker, work_orders.url)
    work_orders.release.clear()                      # the downstream takes its time
    first = start_adapter(broker, config, 1)
    processes.append(first)

    hotline = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    hotline.hello()
    acc = hotline.request("SUBMIT", {"case": case_body("暖气不热", "HO-1", category="heating_not_warm",
                                                       grid=GRID, address="民主路3号院")})
    assert acc.command == "ACCEPTED", acc
    posted = wait_until(lambda: work_orders.dispatches(), 15, "the adapter to forward the DISPATCH", pump=[hotline])
    assert posted[0]["body"]["case"]["case_id"] == acc["case_id"]
    # The downstream has not answered: the dispatch is not RECEIVED, it waits in the outbox.
    assert outbox_for_reli(broker) == 1

    first.kill9()
    work_orders.release.set()                        # too late for the dead adapter
    second = start_adapter(broker, config, 2)
    processes.append(second)
    wait_until(lambda: len(work_orders.dispatches()) >= 2, 20, "the restarted adapter to forward it again", pump=[hotline])
    again = work_orders.dispatches()[1]
    assert again["body"]["dispatch_id"] == posted[0]["body"]["dispatch_id"]
    assert again["key"] == posted[0]["key"] == posted[0]["body"]["delivery"], "the same delivery: the downstream can drop the repeat"
    wait_until(lambda: outbox_for_reli(broker) == 0, 15, "RECEIVED once the downstream answered 201", pump=[hotline])
    hotline.close()


@pytest.mark.slow
def test_a_downstream_that_fails_keeps_the_dispatch_unreceived_until_it_answers(make_broker, processes, zmq_ctx, work_orders):
    broker = make_broker(secure=True, heartbeat="1s", resend_after="30s")
    work_orders.fail_next = 2                        # 503, 503, then 201 once released
    work_orders.release.clear()
    adapter = start_adapter(broker, forwarding_adapter(broker, work_orders.url), 1)
    processes.append(adapter)
    hotline = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    hotline.hello()
    acc = hotline.request("SUBMIT", {"case": case_body("暖气不热", "HO-2", category="heating_not_warm",
                                                       grid=GRID, address="民主路5号院")})
    assert acc.command == "ACCEPTED", acc
    wait_until(lambda: len(work_orders.dispatches()) >= 3, 15, "two failed forwards and a third attempt", pump=[hotline])
    assert outbox_for_reli(broker) == 1, "a failed hand-off is not acknowledged"
    work_orders.release.set()
    wait_until(lambda: outbox_for_reli(broker) == 0, 20, "RECEIVED after the third attempt succeeded", pump=[hotline])
    # resend_after is 30 s: the retries were the kit's own back-off, not the broker resending.
    assert len(work_orders.dispatches()) == 3
    assert len({p["key"] for p in work_orders.dispatches()}) == 1
    hotline.close()


@pytest.mark.slow
def test_a_simulated_agency_killed_before_its_hand_off_gets_the_dispatch_again(make_broker, processes, zmq_ctx):
    """The simulator's hand-off is its own (simulated) handling: a `muster adapter` with
    `downstream: simulate` killed in the middle of it has not said RECEIVED, and its next run
    takes the dispatch round the loop."""
    broker = make_broker(secure=True, heartbeat="1s", resend_after="2s")
    config = adapter_config(broker.workdir, "reli")

    def simulate(sign_after: str) -> None:
        text = config.read_text(encoding="utf-8")
        text, n = re.subn(r"(?m)^(\s*sign_after:\s*)\S+", rf"\g<1>{sign_after}", text)
        assert n == 1
        config.write_text(text, encoding="utf-8")

    def start(n: int) -> Process:
        p = Process(["env", "MUSTER_LOG=debug", str(MUSTER_BIN), "adapter", "--config", str(config), "--endpoint", broker.endpoint],
                    cwd=broker.workdir, name=f"reli-sim-{n}")
        processes.append(p)
        p.wait_line(r"connecting to", 10)
        return p

    simulate("1h")                                   # it takes the dispatch over, and is still at it
    first = start(1)
    hotline = Peer(broker.endpoint, "hotline-12345", ["intake"], ctx=zmq_ctx, curve=broker.curve("hotline-12345"))
    hotline.hello()
    acc = hotline.request("SUBMIT", {"case": case_body("暖气不热", "HO-3", category="heating_not_warm",
                                                       grid=GRID, address="民主路7号院")})
    assert acc.command == "ACCEPTED", acc
    wait_until(lambda: "push received; handing it over" in first.stderr_tail(200), 15,
               "the simulator to receive the DISPATCH", pump=[hotline])
    assert outbox_for_reli(broker) == 1, "received but not handed off: not RECEIVED"
    first.kill9()

    simulate("100ms")
    start(2)

    def state() -> str:
        return broker.query("SELECT state FROM cases WHERE case_id = ?", (acc["case_id"],))[0][0]
    wait_until(lambda: state() == "finished" and outbox_for_reli(broker) == 0, 30,
               "the restarted simulator to take the case to 办结", pump=[hotline])
    hotline.close()
