"""A real local webhook receiver for tests (fixtures ``receiver``, ``allow_private`` and
``endpoint``, which posts to it) and ``verify``, what a receiver does to check a signature.
The tenants tests get the fixtures from their conftest; other tests import them."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tenants.webhooks.services import webhook_endpoint_create


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records requests and answers ``status``."""

    url: str
    status: int = 200
    requests: list[dict] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append({"headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"nope" if state.status >= 400 else b"ok")

        def log_message(self, *args: object) -> None:
            pass

    with local_http_server(Handler) as base:
        state.url = f"{base}/hook?source=soc2"
        yield state


@contextmanager
def local_http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def endpoint(org, owner, receiver, allow_private):
    created, secret = webhook_endpoint_create(
        membership=owner, url=receiver.url, events=["evidence.stale", "report.ready"]
    )
    created.plain_secret = secret
    return created


def verify(request: dict, secret: str) -> dict:
    """What a receiver does: recompute the signature over "<timestamp>.<body>"."""
    headers, body = request["headers"], request["body"]
    expected = hmac.new(
        secret.encode(), headers["X-Soc2-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["X-Soc2-Signature"], f"sha256={expected}")
    return json.loads(body)
