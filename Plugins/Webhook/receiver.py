"""A department's system for Muster's webhook (plugin: webhook), in 30 lines of standard-library Python:
takes each signed work order once (by Idempotency-Key), answers its id; push_update sends a status back."""
import hashlib, hmac, json, time, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = open("webhook.secret", "rb").read().strip()      # the same secret as the adapter's secret_file
orders = {}                                               # Idempotency-Key → our work-order number
sign = lambda ts, body: "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()

# push_update({"update_id": "WO-000001/30", "work_order": "WO-000001", "status": "30"}) → {"queued": 1, "repeats": 0, "ignored": 0}
def push_update(update, url="http://127.0.0.1:8701/updates"):   # the adapter's settings.updates.listen
    body, ts = json.dumps(update).encode(), str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Muster-Timestamp": ts, "X-Muster-Signature": sign(ts, body)}
    return json.load(urllib.request.urlopen(urllib.request.Request(url, body, headers)))  # 401/404/422: HTTPError
class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body, ts = self.rfile.read(int(self.headers["Content-Length"])), self.headers.get("X-Muster-Timestamp", "0")
        if not hmac.compare_digest(sign(ts, body), self.headers.get("X-Muster-Signature", "")) or abs(time.time() - int(ts)) > 300:
            return self.answer(401, {"error": "bad signature"})
        order, key = json.loads(body), self.headers["Idempotency-Key"]    # the same key on every redelivery
        if key not in orders:
            orders[key] = f"WO-{len(orders) + 1:06d}"       # store it in your system here, then answer
            print("new work order", orders[key], order.get("type"), order.get("title"))
        self.answer(201, {"id": orders[key]})   # 2xx taken; 503 + Retry-After: later; 422 {"reason": "not_our_duty"}: refused
    def answer(self, code, doc):
        data = json.dumps(doc).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)

if __name__ == "__main__": HTTPServer(("127.0.0.1", 8080), Receiver).serve_forever()
