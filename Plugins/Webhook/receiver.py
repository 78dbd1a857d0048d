"""A department's work-order system receiving Muster's webhook (plugin: webhook), in 30 lines.
Checks the signature, takes each work order once (by Idempotency-Key), answers with its own id."""
import hashlib, hmac, json, time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = open("webhook.secret", "rb").read().strip()      # the same secret as the adapter's secret_file
orders = {}                                               # Idempotency-Key → our work-order number

class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers["X-Muster-Timestamp"]
        want = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, self.headers["X-Muster-Signature"]) or abs(time.time() - int(ts)) > 300:
            return self.answer(401, {"error": "bad signature"})
        order = json.loads(body)
        key = self.headers["Idempotency-Key"]               # the same on every redelivery
        if key not in orders:
            orders[key] = f"WO-{len(orders) + 1:06d}"       # store it in your system here, then answer
            print("new work order", orders[key], order.get("type"), order.get("title"))
        self.answer(201, {"id": orders[key]})               # 2xx: taken; 503 + Retry-After: try later;
                                                            # 422 {"reason": "not_our_duty", "note": …}: refused
    def answer(self, code, doc):
        data = json.dumps(doc).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)

HTTPServer(("127.0.0.1", 8080), Receiver).serve_forever()
