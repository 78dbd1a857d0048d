#!/usr/bin/env python3
"""A department adapter for Muster in plain Python (pyzmq only) — an example to copy.

It joins the bus as one instance of a department (role `agency`) over CURVE, keeps its session
alive, comes back when the broker or the network goes away, and takes each dispatch through
the closed loop:

    DISPATCH → store it as a work order → RECEIVED → ACK (签收) → … → RESOLVE (办结)

RECEIVED goes out only once the work order is on disk, so a crash before that loses nothing:
the broker still holds the dispatch and sends it again. ACK and RESOLVE are retried with the
same request id until the broker answers, and the ids are made from the dispatch id, so even a
restarted adapter repeats them under the same id and nothing is applied twice (the broker
answers a repeated id with its stored reply).

The department's side is the `Department` class: here a folder of JSON work orders that are
signed for at once and finished `--resolve-after` seconds later. Put your work-order system
there.

    python3 muster_adapter.py --endpoint tcp://127.0.0.1:7400 --adapter reli-py-1 --agency reli \\
        --server-key data/keys/broker.pub --key data/keys/reli-py-1.key --inbox data/reli-py-1

The wire protocol is docs/PROTOCOL.md (normative); the key files are described in
docs/SECURITY.md ("Key files"). Each line this program prints starts with the time.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path

import zmq

VERSION = b"MUSTER/1"
PUSHES = ("DISPATCH", "NOTICE", "EVENT", "SUMMON")
RETRY_AFTER = 5.0        # seconds before an unanswered request is sent again (same id)
TRANSIENT = {"unavailable", "rate_limited", "internal"}   # refused for now: send again later
Z85 = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


def log(text: str) -> None:
    print(time.strftime("%H:%M:%S"), text, flush=True)


# ------------------------------------------------------------------------------------------
# key files (`muster keys gen NAME` writes NAME.key with `public:` and `secret:` lines, mode
# 0600, and NAME.pub with the `public:` line only)


def read_key_file(path: str) -> dict:
    """{"public": …, "secret": … or None}, read as leniently as the broker reads them: a BOM,
    CRLF line ends, spaces and quotes around names and keys are all fine."""
    values = {}
    with open(path, encoding="utf-8-sig") as f:       # utf-8-sig drops a leading BOM
        for line in f.read().splitlines():            # LF, CRLF or CR
            name, colon, value = line.partition(":")  # the first colon: Z85 keys contain ':'
            if colon:
                values[name.strip(" \t\ufeff\"'")] = value.strip(" \t\ufeff\"'")
    public, secret = values.get("public", ""), values.get("secret")
    if len(public) != 40 or not set(public) <= Z85:
        raise ValueError(f"{path}: no `public: …` line with a 40-character Z85 key")
    if secret is not None and (len(secret) != 40 or not set(secret) <= Z85):
        raise ValueError(f"{path}: the `secret:` key is not 40 Z85 characters")
    return {"public": public, "secret": secret}


# ------------------------------------------------------------------------------------------
# the department's side


class Department:
    """Work orders as JSON files, one per dispatch: INBOX/<dispatch_id>.json holding the
    dispatch as received and its status (new → acked → resolved, or closed if the broker
    refused to go on). Replace with the department's own system; keep `store` durable."""

    def __init__(self, inbox: Path, handler: str, resolve_after: float):
        self.inbox, self.handler, self.resolve_after = inbox, handler, resolve_after

    def _path(self, dispatch_id: str) -> Path:
        return self.inbox / f"{dispatch_id}.json"

    def _write(self, order: dict) -> None:
        # Durable before it counts: write a temporary file, fsync it, rename it into place, and
        # fsync the folder, so that the rename itself survives a power cut.
        self.inbox.mkdir(parents=True, exist_ok=True)
        path = self._path(order["dispatch"]["dispatch_id"])
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(order, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        folder = os.open(self.inbox, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def store(self, dispatch: dict) -> dict:
        """The work order for this dispatch, written to disk first if it is new. Raises OSError
        if it cannot be stored (then the dispatch must not be acknowledged)."""
        try:
            return self.load(dispatch["dispatch_id"])
        except FileNotFoundError:
            order = {"status": "new", "dispatch": dispatch}
            self._write(order)
            return order

    def load(self, dispatch_id: str) -> dict:
        with open(self._path(dispatch_id), encoding="utf-8") as f:
            return json.load(f)

    def unfinished(self) -> list:
        """Work orders a previous run stored but did not finish."""
        if not self.inbox.is_dir():
            return []
        orders = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.inbox.glob("*.json"))]
        return [o for o in orders if o["status"] in ("new", "acked")]

    def mark(self, order: dict, status: str, **info) -> None:
        order.update(info, status=status)
        self._write(order)

    def result(self, order: dict) -> str:
        """What the department did (the RESOLVE `result`)."""
        return f"已处理：{order['dispatch']['case'].get('title', '')}"


# ------------------------------------------------------------------------------------------
# the MUSTER/1 side


class Adapter:
    def __init__(self, args: argparse.Namespace, department: Department):
        self.args, self.department = args, department
        self.ctx = zmq.Context()
        self.sock = None
        self.curve = None
        if not args.insecure:
            server, own = read_key_file(args.server_key), read_key_file(args.key)
            if own["secret"] is None:
                raise ValueError(f"{args.key}: no `secret:` line (a .pub file? give the .key)")
            self.curve = (server["public"], own["public"], own["secret"])
        self.welcomed = False
        self.heartbeat = 5.0            # seconds; WELCOME says the broker's
        self.hello_id = ""
        self.hellos = 0
        self.backoff = 1.0
        self.last_sent = self.last_heard = self.hello_sent = 0.0
        self.requests = {}              # id -> [command, body, sent_at or None]: until answered
        self.timers = []                # [when, order]: work orders to finish later
        self.notices = deque(maxlen=1000)   # delivery ids of NOTICEs already shown
        self.stopping = False

    # -- connection and session

    def connect(self) -> None:
        if self.sock is not None:
            self.sock.close(0)
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if self.curve:                  # CURVE: the broker's public key and our own pair
            self.sock.curve_serverkey = self.curve[0].encode("ascii")
            self.sock.curve_publickey = self.curve[1].encode("ascii")
            self.sock.curve_secretkey = self.curve[2].encode("ascii")
        self.sock.connect(self.args.endpoint)
        log(f"connecting to {self.args.endpoint} as {self.args.adapter} ({self.args.agency})")
        self.hello()

    def hello(self) -> None:
        self.welcomed = False
        self.hellos += 1
        self.hello_id = f"hello-{os.getpid()}-{self.hellos}"
        self.send("HELLO", {"id": self.hello_id, "adapter": self.args.adapter, "roles": ["agency"],
                            "agency": self.args.agency, "software": "muster_adapter.py/1.0"})
        self.hello_sent = time.monotonic()

    def send(self, command: str, body: dict) -> None:
        self.sock.send_multipart([VERSION, command.encode("ascii"),
                                  json.dumps(body, ensure_ascii=False).encode("utf-8")])
        self.last_sent = time.monotonic()

    def request(self, command: str, body: dict) -> None:
        """Sends now if there is a session, else after the next WELCOME; and again every
        RETRY_AFTER seconds, with the same id, until the broker answers."""
        self.requests[body["id"]] = [command, body, None]
        if self.welcomed:
            self.send(command, body)
            self.requests[body["id"]][2] = time.monotonic()

    # -- the loop

    def run(self) -> None:
        for order in self.department.unfinished():
            log(f"resuming {order['dispatch']['dispatch_id']} ({order['status']}) from the inbox")
            self.work(order)
        self.connect()
        while not self.stopping:
            if self.sock.poll(100, zmq.POLLIN):
                while True:
                    try:
                        frames = self.sock.recv_multipart(zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self.last_heard = time.monotonic()
                    self.handle(frames)
            self.tick()
        if self.welcomed:
            self.send("BYE", {})        # our unreceived pushes go to a sibling at once
        self.sock.close(linger=500)
        self.ctx.term()
        log("stopped")

    def tick(self) -> None:
        now = time.monotonic()
        if not self.welcomed:
            # No WELCOME: the broker is down, or the CURVE handshake failed (a key the broker
            # does not admit never gets an answer). Start over on a new socket, backing off.
            if now - self.hello_sent > max(self.backoff, 3 * self.heartbeat):
                log(f"no WELCOME after {now - self.hello_sent:.0f}s (broker down? this key not in its peers.yaml?); reconnecting")
                self.backoff = min(self.backoff * 2, 30.0)
                self.connect()
            return
        if now - self.last_heard > 3 * self.heartbeat:
            log("the broker has been silent for 3 heartbeats; reconnecting")
            self.connect()
            return
        if now - self.last_sent >= self.heartbeat / 2:
            self.send("HEARTBEAT", {})
        for entry in self.requests.values():
            if entry[2] is None or now - entry[2] >= RETRY_AFTER:
                self.send(entry[0], entry[1])
                entry[2] = now
        for timer in [t for t in self.timers if t[0] <= now]:
            self.timers.remove(timer)
            self.resolve(timer[1])

    def handle(self, frames: list) -> None:
        if len(frames) != 3 or frames[0] != VERSION:
            log(f"ignored a malformed message ({len(frames)} frames)")
            return
        command, body = frames[1].decode("ascii", "replace"), json.loads(frames[2])
        if command == "HEARTBEAT":
            return
        if command == "WELCOME" and body.get("re") == self.hello_id:
            self.welcomed, self.backoff = True, 1.0
            self.heartbeat = body["heartbeat_ms"] / 1000
            log(f"WELCOME session={body['session']} heartbeat_ms={body['heartbeat_ms']} pending={body['pending']}")
            for entry in self.requests.values():
                entry[2] = None         # resend what is unanswered, same ids, on the new session
        elif command == "DISPATCH":
            self.dispatch(body)
        elif command in PUSHES:
            if body["delivery"] not in self.notices:   # at least once: show each only once
                self.notices.append(body["delivery"])
                log(f"{command} {json.dumps(body, ensure_ascii=False)}")
            self.send("RECEIVED", {"deliveries": [body["delivery"]]})
        elif command == "ERROR" and body.get("re") == self.hello_id:
            log(f"HELLO refused: {body['code']} {body['message']} {body.get('detail')}")
            raise SystemExit(2)         # adapter id, agency or key: a person must fix the config
        elif command == "ERROR" and body.get("code") == "not_registered":
            log("not_registered (broker restarted or session ended): HELLO again")
            self.hello()
        elif body.get("re") in self.requests:
            self.answered(command, body)
        else:
            log(f"{command} {json.dumps(body, ensure_ascii=False)}")

    # -- dispatches

    def dispatch(self, d: dict) -> None:
        dispatch_id, delivery = d["dispatch_id"], d["delivery"]
        try:
            order = self.department.store(d)
        except OSError as e:
            # Not stored, so not RECEIVED: the broker keeps the dispatch and sends it again.
            log(f"DISPATCH {dispatch_id} delivery={delivery} case={d['case']['case_id']} NOT stored ({e}); no RECEIVED")
            return
        self.send("RECEIVED", {"deliveries": [delivery]})
        log(f"DISPATCH {dispatch_id} delivery={delivery} case={d['case']['case_id']} role={d['role']} stored, RECEIVED")
        self.work(order)

    def working_on(self, dispatch_id: str) -> bool:
        return (f"ack-{dispatch_id}" in self.requests or f"resolve-{dispatch_id}" in self.requests
                or any(t[1]["dispatch"]["dispatch_id"] == dispatch_id for t in self.timers))

    def work(self, order: dict) -> None:
        dispatch_id = order["dispatch"]["dispatch_id"]
        if self.working_on(dispatch_id):
            return                      # a repeated delivery of a dispatch in hand
        if order["status"] == "new":
            self.request("ACK", {"id": f"ack-{dispatch_id}", "dispatch_id": dispatch_id,
                                 "handler": self.department.handler, "note": "已签收"})
        elif order["status"] == "acked":
            self.timers.append([time.monotonic() + self.department.resolve_after, order])

    def resolve(self, order: dict) -> None:
        dispatch_id = order["dispatch"]["dispatch_id"]
        self.request("RESOLVE", {"id": f"resolve-{dispatch_id}", "dispatch_id": dispatch_id,
                                 "result": self.department.result(order), "note": "办结"})

    def answered(self, command: str, body: dict) -> None:
        sent_command, request, _ = self.requests[body["re"]]
        if command == "ERROR" and body["code"] in TRANSIENT:
            log(f"{sent_command} {request['dispatch_id']}: {body['code']}, will retry with the same id")
            return
        del self.requests[body["re"]]
        order = self.department.load(request["dispatch_id"])
        if command == "ERROR":
            # e.g. invalid_transition with detail.state "cancelled": the dispatch was withdrawn.
            log(f"{sent_command} {request['dispatch_id']} refused: {body['code']} {body['message']} {body.get('detail')}")
            self.department.mark(order, "closed", refused=body)
        elif sent_command == "ACK":
            log(f"ACK {request['dispatch_id']} OK state={body.get('state')}")
            self.department.mark(order, "acked")
            self.work(order)
        elif sent_command == "RESOLVE":
            log(f"RESOLVE {request['dispatch_id']} OK state={body.get('state')}")
            self.department.mark(order, "resolved")


def main() -> int:
    p = argparse.ArgumentParser(description="A Muster department adapter in Python (pyzmq).")
    p.add_argument("--endpoint", default=os.environ.get("MUSTER_ENDPOINT", "tcp://127.0.0.1:7400"))
    p.add_argument("--adapter", required=True, help="this instance's adapter id (peers.yaml must allow it for the key)")
    p.add_argument("--agency", required=True, help="the agency code from routing.yaml, e.g. reli")
    p.add_argument("--server-key", default="data/keys/broker.pub", help="the broker's public key file")
    p.add_argument("--key", help="this adapter's key file from `muster keys gen` (default data/keys/ADAPTER.key)")
    p.add_argument("--insecure", action="store_true", help="plain TCP, only for a broker run with --insecure")
    p.add_argument("--inbox", help="folder of work orders (default inbox-ADAPTER)")
    p.add_argument("--handler", default="值班员", help="who signs for dispatches (ACK handler)")
    p.add_argument("--resolve-after", type=float, default=2.0, help="seconds from ACK to RESOLVE")
    args = p.parse_args()
    args.key = args.key or f"data/keys/{args.adapter}.key"
    department = Department(Path(args.inbox or f"inbox-{args.adapter}"), args.handler, args.resolve_after)
    try:
        adapter = Adapter(args, department)
    except (OSError, ValueError) as e:
        print(f"muster_adapter.py: {e}", file=sys.stderr)
        return 2

    def stop(*_):
        adapter.stopping = True
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    adapter.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
