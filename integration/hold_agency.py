#!/usr/bin/env python3
"""A deliberately bad agency instance for the kill -9 test: pure pyzmq, says HELLO, keeps its
session alive with HEARTBEATs, prints each DISPATCH it gets, and NEVER answers RECEIVED, so
everything sent to it stays in flight at the broker until the broker gives up on it.

    hold_agency.py ENDPOINT ADAPTER AGENCY

stdout (one line each, flushed):
    WELCOME <session> <heartbeat_ms>
    DISPATCH <dispatch_id> <delivery> <case_id>      (first time only per dispatch id)
"""
import json
import sys
import time

import zmq

VERSION = b"MUSTER/1"


def main() -> int:
    endpoint, adapter, agency = sys.argv[1:4]
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(endpoint)

    def send(command: str, body: dict) -> None:
        sock.send_multipart([VERSION, command.encode(), json.dumps(body).encode()])

    send("HELLO", {"id": f"hello-{adapter}", "adapter": adapter, "roles": ["agency"], "agency": agency,
                   "software": "hold_agency.py"})
    heartbeat_s = 1.0
    last_sent = time.monotonic()
    seen: set[str] = set()
    while True:
        if sock.poll(int(heartbeat_s * 1000 / 4), zmq.POLLIN):
            while True:
                try:
                    frames = sock.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                if len(frames) != 3 or frames[0] != VERSION:
                    continue
                command, body = frames[1].decode(), json.loads(frames[2])
                if command == "WELCOME":
                    heartbeat_s = body["heartbeat_ms"] / 1000
                    print(f"WELCOME {body['session']} {body['heartbeat_ms']}", flush=True)
                elif command == "ERROR":
                    print(f"ERROR {json.dumps(body, ensure_ascii=False)}", flush=True)
                elif command == "DISPATCH" and body["dispatch_id"] not in seen:
                    seen.add(body["dispatch_id"])
                    print(f"DISPATCH {body['dispatch_id']} {body['delivery']} {body['case']['case_id']}", flush=True)
        if time.monotonic() - last_sent >= heartbeat_s / 2:
            send("HEARTBEAT", {})
            last_sent = time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
