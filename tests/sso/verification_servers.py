"""The outside world of domain verification, run locally: a DNS server (dnslib) answering TXT
records, and a web server answering ``/.well-known/soc2app-verification.txt`` per Host."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from dnslib import QTYPE, RCODE, RR, TXT, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.sso.local_server import LocalHttpServer


class _Records(BaseResolver):
    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}
        self.a: dict[str, list[str]] = {}  # IPv4 addresses (the file check resolves here)

    def resolve(self, request, handler):  # noqa: ANN001, ANN201 (dnslib's API)
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.txt and name not in self.a:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in self.txt.get(name, []):
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        elif request.q.qtype == QTYPE.A:
            for value in self.a.get(name, []):
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(value), ttl=60))
        return reply


class LocalDns:
    def __init__(self) -> None:
        self.records = _Records()
        quiet = DNSLogger(prefix=False, logf=lambda _line: None)
        self.server = DNSServer(self.records, port=0, address="127.0.0.1", logger=quiet)
        self.port = self.server.server.server_address[1]

    def __enter__(self) -> LocalDns:
        self.server.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        self.server.server.server_close()


class LocalWeb(LocalHttpServer):
    def __init__(self) -> None:
        self.files: dict[str, tuple[int, str]] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                host = (self.headers.get("Host") or "").split(":")[0]
                status, body = files.get(host, (404, "not found"))
                if self.path != "/.well-known/soc2app-verification.txt":
                    status, body = 404, "not found"
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        super().__init__(Handler)
