"""The broker's metrics and health (issue 15 items 2 and 3), black-box: `muster broker --metrics`
serves /metrics in Prometheus's text format — parsed here by the Prometheus project's own parser
(prometheus_client) — with counts checked against what the test did: requests by command and
outcome, errors by code, commits, rungs fired (as many as the log's case.escalated), open cases
by state, overdue dispatches by agency, sessions by role, pushes pending. /readyz goes unready
while the store cannot commit (another process holds SQLite's write lock) and ready again after;
`muster status` says the same; an adapter's --health port is ready while the broker welcomes it."""
from __future__ import annotations

import json
import re
import sqlite3
import time
import urllib.error
import urllib.request

import pytest

from conftest import MUSTER_BIN, REPO_DIR, Peer, Process, adapter_config, http_get, case_body, free_port, run_cli, wait_until
from test_calendar import at

parser = pytest.importorskip("prometheus_client.parser")
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


get = http_get


def metrics(address: str) -> dict[tuple[str, tuple], float]:
    """Every sample: (name, sorted labels) → value, through prometheus_client's parser."""
    status, text = get(address, "/metrics")
    assert status == 200, status
    out = {}
    for family in parser.text_string_to_metric_families(text):
        assert family.name.startswith("muster_"), family.name
        for s in family.samples:
            if family.type == "counter":
                assert s.name.endswith(("_total", "_created")), f"a counter without _total: {s.name}"
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: dict, name: str, **labels) -> float:
    return m.get((name, tuple(sorted(labels.items()))), 0.0)


def total(m: dict, name: str) -> float:
    return sum(v for (n, _), v in m.items() if n == name)


def submit(office: Peer, ref: str, grid: str = "zz/jinshui/huayuanlu/weiwulu/g01"):
    return office.request("SUBMIT", {"case": case_body(f"花园路占道经营 {ref}", ref, category="street_vending", grid=grid)})


def test_the_broker_counts_what_happened_and_is_unready_while_it_cannot_commit(make_broker, zmq_ctx):
    past = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 20 * 86400))
    broker = make_broker(secure=True, prefix=at(past))
    office = Peer(broker.endpoint, "cli-metrics", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    for ref in ("M-1", "M-2"):
        assert submit(office, ref).command == "ACCEPTED"
    office.close()
    broker.stop()
    address = f"127.0.0.1:{free_port()}"
    broker.prefix, broker.args = [], ["--metrics", address]   # today: both 15 days late, their rungs fire at start
    started = time.monotonic()
    broker.start()
    wait_until(lambda: get(address, "/readyz")[0] == 200, 10, "/readyz")
    busy_at_start = value(metrics(address), "muster_broker_busy_seconds_total")

    cg = Peer(broker.endpoint, "chengguan-sim-1", ["agency"], agency="chengguan", ctx=zmq_ctx, curve=broker.curve("chengguan-sim-1"))
    cg.hello()
    office = Peer(broker.endpoint, "cli-metrics", ["intake", "monitor"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    assert submit(office, "M-3", grid="zz/erqi/yimalu").command == "ACCEPTED"
    assert office.request("QUERY", {"what": "everything"}).command == "ERROR"
    assert office.request("QUERY", {"what": "stats"}).command == "RESULT"

    escalated = broker.query("SELECT count(*) FROM events WHERE type = 'case.escalated'")[0][0]
    assert escalated > 0
    # The gauges are sampled once a second: wait for one that has seen both sessions.
    m = wait_until(lambda: (lambda m: m if value(m, "muster_sessions", role="agency") == 1 else None)(metrics(address)), 10,
                   "a sample with both sessions", pump=[cg, office])
    assert value(m, "muster_requests_total", command="SUBMIT", outcome="ok") == 1
    assert value(m, "muster_requests_total", command="QUERY", outcome="error") == 1
    assert value(m, "muster_requests_total", command="QUERY", outcome="ok") == 1
    assert value(m, "muster_requests_total", command="HELLO", outcome="ok") == 2
    assert value(m, "muster_errors_total", code="bad_field") == 1
    assert total(m, "muster_rungs_fired_total") == escalated
    assert value(m, "muster_cases", state="dispatched") == 3
    assert value(m, "muster_dispatches_overdue", agency="chengguan") == 2
    assert value(m, "muster_sessions", role="intake") == 1 and value(m, "muster_sessions", role="monitor") == 1
    assert value(m, "muster_whistles_open") == 0
    pending = broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:chengguan'")[0][0]
    assert value(m, "muster_outbox_pending", to="chengguan") == pending, pending
    commits = value(m, "muster_store_fsyncs_total")
    assert commits >= 2 and value(m, "muster_commit_duration_seconds_count") == commits
    assert value(m, "muster_commit_duration_seconds_bucket", le="+Inf") == commits
    assert value(m, "muster_commit_batch_size_count") >= 1 and value(m, "muster_timer_firing_lag_seconds_count") == escalated
    # The loop's work, its waits and its own commits left out: sampled as it goes (it grew while
    # the requests were served), and far less than its time alive (nearly idle: waits counted
    # as work would make it ~all of it).
    busy = value(m, "muster_broker_busy_seconds_total")
    assert busy_at_start < busy < 0.5 * (time.monotonic() - started), (busy_at_start, busy)

    # The sample Grafana dashboard asks only for series the broker exports.
    dashboard = (REPO_DIR / "docs" / "grafana-muster.json").read_text(encoding="utf-8")
    asked = set(re.findall(r"muster_[a-z_]+", dashboard)) - {"muster_broker"}
    exported = {name for name, _ in m}
    assert asked and asked <= exported, asked - exported

    status = run_cli("status", "--broker", address, "--web", "")
    assert status.returncode == 0 and "就绪 ready" in status.stdout, status.stdout

    # Another process holds SQLite's write lock: the next commit fails, the request is answered
    # unavailable, and the broker says it is not ready — until the lock is gone.
    holder = sqlite3.connect(str(broker.db), timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = submit(office, "M-4")
        assert r.command == "ERROR" and r["code"] == "unavailable", r
        code, body = get(address, "/readyz")
        assert code == 503 and json.loads(body)["state"] == "unready", body
        assert any("cannot commit" in reason for reason in json.loads(body)["reasons"]), body
        assert get(address, "/healthz")[0] == 200, "alive all the same"
        status = run_cli("status", "--broker", address, "--web", "")
        assert status.returncode == 1 and "未就绪 unready" in status.stdout, status.stdout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert submit(office, "M-4").command == "ACCEPTED"
    assert get(address, "/readyz")[0] == 200
    m = metrics(address)
    assert value(m, "muster_commit_failures_total") == 1 and value(m, "muster_errors_total", code="unavailable") == 1
    assert value(m, "muster_requests_total", command="SUBMIT", outcome="ok") == 2
    cg.close()
    office.close()


def test_an_adapters_health_port_follows_its_session(make_broker, processes):
    broker = make_broker(secure=True, heartbeat="1s")
    health = f"127.0.0.1:{free_port()}"
    cfg = adapter_config(broker.workdir, "gongshui")
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(cfg), "--endpoint", broker.endpoint, "--health", health],
                cwd=broker.workdir, name="gongshui")
    processes.append(p)
    wait_until(lambda: get(health, "/readyz")[0] == 200, 15, "the adapter ready")
    assert json.loads(get(health, "/readyz")[1])["broker_session"] == "welcomed"
    status = run_cli("status", "--broker", "127.0.0.1:1", "--web", "", "--adapter", health)
    assert status.returncode == 69 and "无应答" in status.stdout and "就绪 ready" in status.stdout, status.stdout
    broker.stop()
    wait_until(lambda: get(health, "/readyz")[0] == 503, 15, "the adapter unready without its broker")
    assert get(health, "/healthz")[0] == 200


def test_json_logs_are_one_object_per_line(make_broker, zmq_ctx):
    """--log-format json: every line the broker logs is a JSON object a log shipper can read."""
    broker = make_broker(secure=True, args=["--log-format", "json"])
    office = Peer(broker.endpoint, "cli-logs", ["intake"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    assert submit(office, "L-1").command == "ACCEPTED"
    office.close()
    broker.stop()
    lines = [l for l in broker.stderr_tail(500).splitlines() if l.strip()]
    assert len(lines) >= 3, lines
    docs = [json.loads(l) for l in lines]
    assert all({"ts", "level", "logger", "msg"} <= d.keys() for d in docs), docs
    ready = next(d for d in docs if d["msg"] == "broker ready")
    assert ready["level"] == "info" and ready["logger"] == "muster.broker" and ready["db"].endswith("muster.db"), ready
    assert any(d["msg"] == "session started" and d.get("adapter") == "cli-logs" for d in docs), docs
