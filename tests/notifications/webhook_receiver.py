"""A webhook receiver for the notification tests that checks signatures after
the Standard Webhooks specification with its own implementation (Python's
hmac, hashlib and base64; nothing of Kontor's).

    python webhook_receiver.py PORT OUTFILE SECRET [FAIL_FIRST]

For each POST it checks webhook-id, webhook-timestamp (within 5 minutes)
and webhook-signature (v1, HMAC-SHA256 over "id.timestamp.body" keyed with
the base64 after "whsec_", compared in constant time), and appends a JSON
line {"id", "timestamp", "verified", "reason", "type", "body"} to OUTFILE.
The first FAIL_FIRST requests are answered 503 (and recorded with
"answered": 503) so the sender must retry. A verified request gets 204, a
forged one 401. Prints "ready" once it listens.
"""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE = 5 * 60


def verify(secret, headers, body):
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return False, "missing header"
    try:
        ts = int(timestamp)
    except ValueError:
        return False, "bad timestamp"
    if abs(time.time() - ts) > TOLERANCE:
        return False, "timestamp out of tolerance"
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True, ""
    return False, "no valid signature"


def main():
    port, path, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    fail_first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    lock = threading.Lock()
    seen = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            with lock:
                seen["n"] += 1
                failing = seen["n"] <= fail_first
            ok, reason = verify(secret, self.headers, body)
            try:
                kind = json.loads(body).get("type")
            except ValueError:
                kind = None
            status = 503 if failing else (204 if ok else 401)
            with lock, open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps({
                    "id": self.headers.get("webhook-id"),
                    "timestamp": self.headers.get("webhook-timestamp"),
                    "verified": ok,
                    "reason": reason,
                    "type": kind,
                    "answered": status,
                    "body": body.decode("utf-8", "replace"),
                }) + "\n")
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
