#!/usr/bin/env python3
"""Local stand-ins for the five departments' own systems, so that `make run` shows the department
plugins working (config/plugins/*.yaml): 数字城管 (城管), 110 接处警 (公安), 住建's work orders and
site register, the heating company (热力) and the water company (供水). Each takes the plugin's
signed work orders at POST /<agency>/work-orders, answers with its own work-order number, and a
moment later pushes its status changes back to the plugin's updates endpoint, signed with the same
secret, carrying what that department's plugin requires (an after-photo, a room temperature).
Standard library only; one process, one port. Not for production: a stand-in, as its name says."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8700
SECRET = Path(sys.argv[2] if len(sys.argv) > 2 else "config/plugins/standins.secret").read_bytes().strip()
# Where each plugin listens for updates (its settings.updates.listen in config/plugins/AGENCY.yaml).
LISTEN = {"chengguan": 8711, "gongan": 8712, "zhujian": 8713, "reli": 8714, "gongshui": 8715}
SIGN_AFTER, FINISH_AFTER = 0.3, 1.5
numbers = itertools.count(1)
orders: dict[str, str] = {}  # Idempotency-Key → our number: a redelivered work order is the same one
lock = threading.Lock()


def sign(ts: str, body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def push(agency: str, update: dict) -> None:
    body, ts = json.dumps(update, ensure_ascii=False).encode(), str(int(time.time()))
    req = urllib.request.Request(f"http://127.0.0.1:{LISTEN[agency]}/updates", body,
                                 {"Content-Type": "application/json", "X-Muster-Timestamp": ts, "X-Muster-Signature": sign(ts, body)})
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except Exception as e:  # noqa: BLE001 - a stand-in logs and goes on
        print(f"[{agency}] update {update['update_id']} not taken: {e}", flush=True)


def work(agency: str, number: str, order: dict) -> None:
    """The department at work: signs for it, then finishes it with what its plugin requires."""
    if order.get("type") == "summon":
        summon = order["body"]["summon_id"]
        time.sleep(SIGN_AFTER)
        push(agency, {"update_id": f"{number}/en_route", "summon_id": summon, "status": "50", "note": "已出发"})
        time.sleep(FINISH_AFTER)
        push(agency, {"update_id": f"{number}/on_site", "summon_id": summon, "status": "60", "note": "已到场"})
        return
    if order.get("type") != "dispatch" or order.get("action") == "explain":
        return  # notices are read, not worked; 住建 answers an explained complaint itself
    ref = {"work_order": number}
    if agency != "gongan":  # 110 signs for it at once through the plugin (its 警情号)
        time.sleep(SIGN_AFTER)
        push(agency, {"update_id": f"{number}/10", **ref, "status": "10", "handler": "值班员（模拟）"})
    time.sleep(FINISH_AFTER)
    done = "04" if agency == "gongan" else "30"  # 110's 处警完毕 has its own code
    finish = {"update_id": f"{number}/{done}", **ref, "status": done, "result": "已处理（模拟）"}
    if agency == "chengguan":
        finish["attachments"] = [{"url": f"http://127.0.0.1:{PORT}/photos/{number}.jpg"}]  # 处置后照片
    if agency == "reli":
        finish["room_temperature"] = 19.5  # 入户实测室温
    push(agency, finish)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body, ts = self.rfile.read(int(self.headers["Content-Length"])), self.headers.get("X-Muster-Timestamp", "0")
        if not hmac.compare_digest(sign(ts, body), self.headers.get("X-Muster-Signature", "")):
            return self.answer(401, {"error": "bad signature"})
        agency = self.path.strip("/").split("/")[0]
        if agency not in LISTEN:
            return self.answer(404, {"error": f"no department at {self.path}"})
        order, key = json.loads(body), self.headers.get("Idempotency-Key", "")
        with lock:
            new = key not in orders
            if new:
                orders[key] = f"{agency.upper()}-{next(numbers):06d}" if agency != "gongan" else f"J{time.strftime('%Y%m%d')}{next(numbers):05d}"
            number = orders[key]
        if new:
            print(f"[{agency}] {number} {order.get('type')} {order.get('title') or ''}", flush=True)
            threading.Thread(target=work, args=(agency, number, order), daemon=True).start()
        self.answer(201, {"id": number})

    def do_GET(self) -> None:  # noqa: N802
        # 住建's site register, 热力's outages, 供水's notices: nothing to report in the stand-in.
        path = self.path.split("?")[0].strip("/")
        feeds = {"zhujian/sites": {"sites": []}, "reli/outages": {"outages": []}, "gongshui/notices": {"notices": []}}
        self.answer(200, feeds[path]) if path in feeds else self.answer(404, {"error": "not found"})

    def answer(self, code: int, doc: dict) -> None:
        data = json.dumps(doc, ensure_ascii=False).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


if __name__ == "__main__":
    print(f"department stand-ins on http://127.0.0.1:{PORT}/<agency>/work-orders", flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
