"""A real webhook receiver on 127.0.0.1 that verifies each request's signature as documented."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hutong.notifications.signing import BadSignature, verify_webhook


class Receiver:
    """Collects verified webhook bodies; answers ``fail`` (a status) for the first N requests."""

    def __init__(self, *, public_key_b64: str, node: str = "sh") -> None:
        self.public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        self.node = node
        self.received: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        self.fail_next = 0
        self.fail_status = 503
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                if receiver.fail_next > 0:
                    receiver.fail_next -= 1
                    self.send_response(receiver.fail_status)
                    self.end_headers()
                    return
                url = f"http://{self.headers['host']}{self.path}"
                try:
                    verify_webhook(
                        method="POST",
                        url=url,
                        headers=dict(self.headers.items()),
                        body=body,
                        public_key=receiver.public_key,
                        node=receiver.node,
                    )
                except BadSignature as exc:
                    receiver.rejected.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.received.append(
                    {"path": self.path, "headers": dict(self.headers.items()), **json.loads(body)}
                )
                receiver.arrived.set()
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def kinds(self) -> list[str]:
        return [r["kind"] for r in self.received]
