"""The webhook plugin's way back (issue 11), black-box: the real `muster adapter` runs `plugin: webhook`
with `updates:` against a department's system written in this test (a small real HTTP server that
takes work orders and serves its status updates on GET). The department pushes signed updates to
the adapter's POST /updates, or the adapter polls them with a cursor; the status map turns each
raw code into an act, the broker keeps the raw code (`downstream.update`), a repeat is one act, a
bad request queues nothing, a kill -9 of the adapter after its 200 loses nothing and doubles
nothing, and a department that stops answering is a NOTICE to the centre. The work orders and the
answers follow Plugins/Webhook/openapi.yaml."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import MUSTER_BIN, REPO_DIR, Peer, Process, case_body, free_port, wait_until

SECRET = b"s3cret-shared-with-the-heating-company"
OPENAPI = REPO_DIR / "Plugins" / "Webhook" / "openapi.yaml"
STATUSES = {"10": "ack", "20": "progress", "30": "resolve", "40": "return", "90": "ignore"}
# Requests to 127.0.0.1 never through a proxy from the environment.
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def signature(ts: str, body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


class Department:
    """The heating company's system: POST /work-orders checks the signature, records the work order
    and answers 201 with its own id, RL-WO-1, RL-WO-2 … (one per Idempotency-Key); GET /updates
    serves `feed` after a cursor ("c-N": the first N updates were served), recording each poll's
    `since`, the cursor it answered and whether the GET was signed. On `port`, if given."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[dict] = []
        self.ids: dict[str, str] = {}
        self.feed: list[dict] = []
        self.polls: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                ts = self.headers.get("X-Muster-Timestamp", "")
                with outer.lock:
                    key = self.headers.get("Idempotency-Key", "")
                    wo = outer.ids.setdefault(key, f"RL-WO-{len(outer.ids) + 1}")
                    outer.posts.append({"body": json.loads(raw), "key": key, "command": self.headers.get("X-Muster-Command"),
                                        "signed": hmac.compare_digest(signature(ts, raw), self.headers.get("X-Muster-Signature", ""))})
                self.answer(201, {"id": wo})

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                if url.path != "/updates":
                    return self.answer(404, {"error": "no such endpoint"})
                ts = self.headers.get("X-Muster-Timestamp", "")
                since = parse_qs(url.query).get("since", [None])[0]
                with outer.lock:
                    start = int(since[2:]) if since else 0
                    updates = outer.feed[start:]
                    cursor = f"c-{start + len(updates)}"
                    outer.polls.append({"since": since, "cursor": cursor, "served": [u["update_id"] for u in updates],
                                        "signed": hmac.compare_digest(signature(ts, b""), self.headers.get("X-Muster-Signature", ""))})
                self.answer(200, {"updates": updates, "cursor": cursor})

            def answer(self, status: int, doc: dict) -> None:
                data = json.dumps(doc, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url, self.poll_url = f"{base}/work-orders", f"{base}/updates"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def dispatches(self) -> list[dict]:
        with self.lock:
            return [p for p in self.posts if p["command"] == "DISPATCH"]

    def polled(self) -> list[dict]:
        with self.lock:
            return list(self.polls)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def department():
    d = Department()
    yield d
    d.close()


# --------------------------------------------------------------------------------------------
# the adapter


def webhook_adapter(broker, url: str, *, listen: str | None = None, poll: str | None = None, dead_after: int = 5) -> Path:
    """config/adapters/reli-webhook.yaml: plugin webhook for reli (key reli-sim-1) with the way back."""
    path = broker.workdir / "config" / "adapters" / "reli-webhook.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "reli.webhook-secret").write_bytes(SECRET + b"\n")
    updates = "".join([f"    listen: {listen}\n" if listen else "",
                       f"    poll: {poll}\n    poll_every: 1s\n" if poll else ""])
    by_act: dict[str, list[str]] = {}
    for code, act in STATUSES.items():
        by_act.setdefault(act, []).append(code)
    statuses = "".join(f'    {act}: [{", ".join(json.dumps(c) for c in codes)}]\n' for act, codes in by_act.items())
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
  timeout: 10s
  dead_after: {dead_after}
  category_codes: {{heating_not_warm: "RL-0101"}}
  updates:
{updates}  statuses:
{statuses}  push_statuses:
    dispatch: "01"
curve:
  server_key: ../../data/keys/broker.pub
  key: ../../data/keys/reli-sim-1.key
""", encoding="utf-8")
    return path


def start_adapter(broker, config: Path, n: int, listen: str | None = None) -> Process:
    """Starts it; with `listen`, until its GET /health answers."""
    p = Process([str(MUSTER_BIN), "adapter", "--config", str(config)], cwd=broker.workdir, name=f"reli-webhook-{n}")
    p.wait_line(r"connecting to", 10)
    if listen:
        wait_until(lambda: health(listen) is not None or not p.alive, 15, "the adapter's GET /health")
        assert p.alive, f"the adapter exited: {p.stderr_tail()}"
    return p


def health(listen: str) -> dict | None:
    try:
        with HTTP.open(f"http://{listen}/health", timeout=5) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def push(listen: str, doc: dict | None = None, *, raw: bytes | None = None, ts: str | None = None,
         secret: bytes = SECRET, signed: bool = True) -> tuple[int, dict]:
    """POST http://LISTEN/updates, signed (unless told otherwise); (status, parsed body)."""
    body = raw if raw is not None else json.dumps(doc, ensure_ascii=False).encode("utf-8")
    ts = ts or str(int(time.time()))
    headers = {"Content-Type": "application/json"}
    if signed:
        headers.update({"X-Muster-Timestamp": ts, "X-Muster-Signature": signature(ts, body, secret)})
    req = urllib.request.Request(f"http://{listen}/updates", data=body, headers=headers, method="POST")
    try:
        with HTTP.open(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


# --------------------------------------------------------------------------------------------
# the broker's side


def submit(broker, zmq_ctx, ref: str) -> str:
    """A heating case (lead reli) from an intake peer that holds no `ops` role, so that the centre's
    NOTICEs go to the test's own ops peer only."""
    office = Peer(broker.endpoint, f"cli-intake-{ref}", ["intake"], ctx=zmq_ctx, curve=broker.curve("operator"))
    office.hello()
    r = office.request("SUBMIT", {"case": case_body("暖气不热", ref, category="heating_not_warm")})
    assert r.command == "ACCEPTED", r
    office.bye()
    office.close()
    return r["case_id"]


def outbox_for_reli(broker) -> int:
    return broker.query("SELECT count(*) FROM outbox WHERE target = 'agency:reli'")[0][0]


def events(broker, case_id: str, type_: str | None = None) -> list[tuple[int, str, dict]]:
    """The case's events (seq, type, data), in log order."""
    rows = broker.query("SELECT seq, type, data FROM events WHERE case_id = ? ORDER BY seq", (case_id,))
    return [(seq, t, json.loads(d)) for seq, t, d in rows if type_ is None or t == type_]


def count(broker, case_id: str, type_: str) -> int:
    return len(events(broker, case_id, type_))


def queued_acts(broker) -> int:
    """Acts in the adapter's queue not yet answered by the broker (its `queue:` file)."""
    db = broker.workdir / "data" / "acts" / "reli-webhook.db"
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM acts WHERE answered_at IS NULL").fetchone()[0]
    finally:
        con.close()


def delivered(broker, zmq_ctx, department: Department, ref: str) -> tuple[str, str]:
    """A case submitted and its work order taken by the department (the push acknowledged at the
    broker, so the adapter has the department's id for it): (case_id, dispatch_id)."""
    case_id = submit(broker, zmq_ctx, ref)
    wait_until(lambda: department.dispatches() and outbox_for_reli(broker) == 0, 20, "the work order taken")
    order = department.dispatches()[-1]["body"]
    assert order["case_id"] == case_id, order
    return case_id, order["dispatch_id"]


# --------------------------------------------------------------------------------------------


def test_pushed_updates_become_acts_with_the_raw_status_kept(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url, listen=listen), 1, listen))
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-1")

    # 签收, by the department's own work-order id
    assert push(listen, {"update_id": "RL-77-1", "work_order": "RL-WO-1", "status": "10", "handler": "张师傅"}) == \
        (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")
    # 办结, by dispatch id
    status, answer = push(listen, {"update_id": "RL-77-3", "dispatch_id": dispatch_id, "status": "30", "result": "已修复"})
    assert (status, answer) == (200, {"queued": 1, "repeats": 0, "ignored": 0}), answer
    wait_until(lambda: count(broker, case_id, "case.resolved") == 1, 20, "case.resolved")
    wait_until(lambda: len(events(broker, case_id, "downstream.update")) == 2, 10, "both downstream.update events")

    log = events(broker, case_id)
    ups = [d for _, t, d in log if t == "downstream.update"]
    assert [(u["status"], u["ref"], u["update"], u["subject"]) for u in ups] == \
        [("10", "RL-WO-1", "RL-77-1", dispatch_id), ("30", "RL-WO-1", "RL-77-3", dispatch_id)], ups
    types = [t for _, t, _ in log]
    acked = types.index("dispatch.acked")
    assert types[acked + 1] == "downstream.update", f"downstream.update right after dispatch.acked: {types}"
    assert types.index("case.resolved") < max(i for i, t in enumerate(types) if t == "downstream.update"), types
    acked_data = events(broker, case_id, "dispatch.acked")[0][2]
    assert acked_data.get("dispatch_id") == dispatch_id, acked_data


def test_a_repeated_update_is_dropped(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url, listen=listen), 1, listen))
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-2")
    update = {"update_id": "RL-R-1", "dispatch_id": dispatch_id, "status": "10"}
    assert push(listen, update) == (200, {"queued": 1, "repeats": 0, "ignored": 0})
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")
    # The department did not get (or lost) the 200 and sends it again, after the act was applied.
    assert push(listen, update) == (200, {"queued": 0, "repeats": 1, "ignored": 0})
    # A later update: acts go in order, so once it is applied a resent ACK would have been too.
    assert push(listen, {"update_id": "RL-R-2", "dispatch_id": dispatch_id, "status": "20", "note": "已到场"})[0] == 200
    wait_until(lambda: count(broker, case_id, "dispatch.progress") == 1, 20, "dispatch.progress")
    # A code the map lists under ignore: taken, nothing on the bus.
    assert push(listen, {"update_id": "RL-R-0", "dispatch_id": dispatch_id, "status": "90"}) == \
        (200, {"queued": 0, "repeats": 0, "ignored": 1})
    assert count(broker, case_id, "dispatch.acked") == 1
    assert [d["update"] for _, _, d in events(broker, case_id, "downstream.update")] == ["RL-R-1", "RL-R-2"]


def test_bad_updates_change_nothing(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url, listen=listen), 1, listen))
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-3")
    ack = {"update_id": "RL-B-1", "dispatch_id": dispatch_id, "status": "10"}

    # 401: a wrong secret, no signature, a stale timestamp
    assert push(listen, ack, secret=b"not-the-secret")[0] == 401
    assert push(listen, ack, signed=False)[0] == 401
    assert push(listen, ack, ts=str(int(time.time()) - 1000))[0] == 401
    # 422: an unknown status in a batch of two (the first valid); bad JSON; a required member missing
    status, answer = push(listen, {"updates": [ack, {"update_id": "RL-B-2", "dispatch_id": dispatch_id, "status": "35"}]})
    assert status == 422 and answer.get("field") == "updates[1].status" and answer.get("error"), answer
    status, answer = push(listen, raw=b'{"update_id": "RL-B-1", "status": ')
    assert status == 422 and answer.get("error"), answer
    status, answer = push(listen, {"dispatch_id": dispatch_id, "status": "10"})
    assert status == 422 and answer.get("field") == "update_id", answer
    # 404: a work order the adapter never saw
    status, answer = push(listen, {"update_id": "RL-B-4", "work_order": "RL-WO-999", "status": "10"})
    assert status == 404 and answer.get("field") == "work_order", answer

    # Nothing of those was queued: the batch's valid update is new, not a repeat …
    assert push(listen, ack) == (200, {"queued": 1, "repeats": 0, "ignored": 0})
    # … and it is the first and only act of the case.
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")
    wait_until(lambda: queued_acts(broker) == 0, 20, "every act answered")
    assert count(broker, case_id, "dispatch.acked") == 1
    assert [d["update"] for _, _, d in events(broker, case_id, "downstream.update")] == ["RL-B-1"]


def test_polled_updates_with_a_since_cursor(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    config = webhook_adapter(broker, department.url, poll=department.poll_url)
    processes.append(start_adapter(broker, config, 1))
    wait_until(lambda: department.polled(), 15, "the first poll")
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-4")

    with department.lock:
        department.feed.append({"update_id": "RL-P-1", "work_order": "RL-WO-1", "status": "10", "handler": "李师傅"})
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked from a poll")
    with department.lock:
        department.feed.append({"update_id": "RL-P-2", "dispatch_id": dispatch_id, "status": "90"})   # ignored
        department.feed.append({"update_id": "RL-P-3", "dispatch_id": dispatch_id, "status": "30", "result": "阀门已更换"})
    wait_until(lambda: count(broker, case_id, "case.resolved") == 1, 20, "case.resolved from a poll")
    # Two more polls after the last update was served: it is not served, nor acted on, again.
    served_all = len(department.polled())
    wait_until(lambda: len(department.polled()) >= served_all + 2, 15, "two more polls")

    polls = department.polled()
    assert polls[0]["since"] is None, "no since the first time"
    for before, after in zip(polls, polls[1:]):
        assert after["since"] == before["cursor"], f"each poll asks from the last cursor: {polls}"
    assert all(p["signed"] for p in polls), "every GET signed over timestamp + '.'"
    assert [u for p in polls for u in p["served"]] == ["RL-P-1", "RL-P-2", "RL-P-3"], polls
    assert count(broker, case_id, "dispatch.acked") == 1 and count(broker, case_id, "case.resolved") == 1
    ups = [d for _, _, d in events(broker, case_id, "downstream.update")]
    assert [(u["status"], u["update"]) for u in ups] == [("10", "RL-P-1"), ("30", "RL-P-3")], ups
    assert all(u["ref"] == "RL-WO-1" for u in ups), ups


def test_kill9_between_the_update_and_the_brokers_ok_loses_and_doubles_nothing(make_broker, processes, zmq_ctx, department):
    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    config = webhook_adapter(broker, department.url, listen=listen)
    first = start_adapter(broker, config, 1, listen)
    processes.append(first)
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-5")

    pid = broker.child.proc.pid
    os.kill(pid, signal.SIGSTOP)     # the broker cannot answer the act
    try:
        status, answer = push(listen, {"update_id": "RL-K-1", "dispatch_id": dispatch_id, "status": "10"})
        assert (status, answer) == (200, {"queued": 1, "repeats": 0, "ignored": 0}), "200 once durable in the adapter's queue"
        first.kill9()
    finally:
        os.kill(pid, signal.SIGCONT)
    # (The dead adapter's ACK may still be in the broker's socket buffer and be applied now; the
    # restarted adapter sends it again under the same request id: one act either way.)
    processes.append(start_adapter(broker, config, 2, listen))
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 30, "the queued act applied after the restart")
    wait_until(lambda: queued_acts(broker) == 0, 20, "every act answered")
    assert count(broker, case_id, "dispatch.acked") == 1
    assert [d["update"] for _, _, d in events(broker, case_id, "downstream.update")] == ["RL-K-1"]


def test_a_dead_department_is_a_notice_to_the_centre(make_broker, processes, zmq_ctx):
    broker = make_broker(secure=True)
    ops = Peer(broker.endpoint, "cli-ops-health", ["ops"], ctx=zmq_ctx, curve=broker.curve("operator"), auto_received=True)
    ops.hello()
    dead_port = free_port()          # nobody listens there
    listen = f"127.0.0.1:{free_port()}"
    config = webhook_adapter(broker, f"http://127.0.0.1:{dead_port}/work-orders", listen=listen, dead_after=2)
    processes.append(start_adapter(broker, config, 1, listen))
    case_id = submit(broker, zmq_ctx, "WU-6")

    def notices(kind: str) -> list:
        return [m for m in ops.all_pushes if m.command == "NOTICE" and m.get("kind") == kind]

    down = wait_until(lambda: notices("downstream_down"), 60, "NOTICE downstream_down to the centre", pump=[ops])[0]
    assert down["agency"] == "reli" and down["adapter"] == "reli-sim-1", down
    assert down["failures"] >= 2 and down.get("detail"), down
    rows = broker.query("SELECT data FROM events WHERE case_id = '' AND type = 'adapter.health' ORDER BY seq")
    assert [json.loads(d)["state"] for (d,) in rows][-1:] == ["down"], rows
    assert outbox_for_reli(broker) == 1, "the dispatch is still unacknowledged: never lost"
    assert count(broker, case_id, "dispatch.acked") == 0
    assert (health(listen) or {}).get("state") == "down"

    # The department comes back (on the same port): the dispatch goes through, the centre is told.
    back = Department(port=dead_port)
    try:
        wait_until(lambda: notices("downstream_restored"), 60, "NOTICE downstream_restored", pump=[ops])
        wait_until(lambda: outbox_for_reli(broker) == 0, 20, "the dispatch delivered", pump=[ops])
        assert [p["body"]["case_id"] for p in back.dispatches()][:1] == [case_id]
        rows = broker.query("SELECT data FROM events WHERE case_id = '' AND type = 'adapter.health' ORDER BY seq")
        assert [json.loads(d)["state"] for (d,) in rows][-1] == "ok", rows
    finally:
        back.close()
        ops.close()


def test_the_sent_work_order_matches_the_published_schema(make_broker, processes, zmq_ctx, department):
    import jsonschema  # scripts/install-deps.sh installs it (and pyyaml)
    import yaml
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))

    def check(schema: dict, instance: object) -> None:
        # The OpenAPI 3.1 schema dialect is JSON Schema 2020-12; "#/components/…" refs resolve in `spec`.
        jsonschema.Draft202012Validator({**schema, "components": spec["components"]}).validate(instance)

    def answer_schema(status: str) -> dict:
        return spec["paths"]["/updates"]["post"]["responses"][status]["content"]["application/json"]["schema"]

    broker = make_broker(secure=True)
    listen = f"127.0.0.1:{free_port()}"
    processes.append(start_adapter(broker, webhook_adapter(broker, department.url, listen=listen), 1, listen))
    case_id, dispatch_id = delivered(broker, zmq_ctx, department, "WU-7")

    post = department.dispatches()[-1]
    order = post["body"]
    check(spec["webhooks"]["workOrder"]["post"]["requestBody"]["content"]["application/json"]["schema"], order)
    check({"$ref": "#/components/schemas/DispatchWorkOrder"}, order)
    assert post["signed"] and post["command"] == "DISPATCH"
    assert order["department_status"] == "01" and order["department_code"] == "RL-0101", order

    update = {"update_id": "RL-S-1", "work_order": "RL-WO-1", "status": "10"}
    check({"$ref": "#/components/schemas/Update"}, update)
    status, ok = push(listen, update)
    assert status == 200, ok
    check(answer_schema("200"), ok)
    status, refused = push(listen, {"update_id": "RL-S-2", "dispatch_id": dispatch_id, "status": "35"})
    assert status == 422, refused
    check(answer_schema("422"), refused)
    check({"$ref": "#/components/schemas/Health"}, health(listen))
    wait_until(lambda: count(broker, case_id, "dispatch.acked") == 1, 20, "dispatch.acked")
