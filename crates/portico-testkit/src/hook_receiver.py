"""A host app's webhook receiver for Portico's tests.

Verifies every delivery with the Standard Webhooks reference library (`standardwebhooks` from
PyPI) and keeps what it received in a folder, so a receiver stopped and started again on the
same port remembers. `POST /_control` with `{"secret": "whsec_…", "answer": 204}` sets the
secret and the status it answers; `GET /_received` lists what arrived, in order.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    control = os.path.join(args.dir, "control.json")
    received = os.path.join(args.dir, "received.jsonl")

    def state():
        try:
            with open(control) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"secret": None, "answer": 204}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status, body=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != "/_received":
                return self.answer(404)
            entries = []
            if os.path.exists(received):
                with open(received) as f:
                    entries = [json.loads(line) for line in f if line.strip()]
            self.answer(200, json.dumps(entries).encode())

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path == "/_control":
                now = state()
                now.update(json.loads(body))
                with open(control, "w") as f:
                    json.dump(now, f)
                return self.answer(204)
            now = state()
            entry = {
                "path": self.path,
                "id": self.headers.get("webhook-id"),
                "timestamp": self.headers.get("webhook-timestamp"),
                "answered": now["answer"],
            }
            try:
                payload = Webhook(now["secret"] or "whsec_AAAA").verify(
                    body, dict(self.headers.items())
                )
                entry["verified"] = True
                entry["type"] = payload["type"]
                entry["data"] = payload["data"]
            except (WebhookVerificationError, ValueError, KeyError) as e:
                entry["verified"] = False
                entry["error"] = str(e)
            with open(received, "a") as f:
                f.write(json.dumps(entry) + "\n")
            if not entry["verified"]:
                return self.answer(400)
            self.answer(now["answer"])

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
