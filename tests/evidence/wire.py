"""Raw HTTP/1.1 against the live test server: bodies that lie about their length, stop
half-way or come chunked, which no test client can send."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

BOUNDARY = "----soc2-wire-test"
CSRF = "a" * 32  # an unmasked CSRF secret: the same value as cookie and form field


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> dict:
        return json.loads(self.body)


def multipart(fields: list[tuple[str, str]], file: tuple[str, bytes] | None = None) -> bytes:
    """A multipart/form-data body: ``fields`` before the file (as a browser sends a form
    whose file input is last), then the closing boundary."""
    out = bytearray()
    for name, value in fields:
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    if file is not None:
        filename, data = file
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def send(
    base_url: str,
    path: str,
    *,
    body: bytes,
    headers: dict[str, str],
    content_length: int | None = None,
    close_after_body: bool = True,
    timeout: float = 30,
) -> Reply:
    """POST ``body`` to the live server and read its answer.

    ``content_length`` can claim more than ``body`` holds. With ``close_after_body`` the client
    then shuts its side (the body is cut off); without it, the socket stays open, so a reply
    proves the server answered without waiting for the rest of the body.
    """
    url = urlsplit(base_url)
    head = [f"POST {path} HTTP/1.1", f"Host: {url.hostname}:{url.port}"]
    if content_length is not None:
        head.append(f"Content-Length: {content_length}")
    head += [f"{k}: {v}" for k, v in headers.items()]
    with socket.create_connection((url.hostname, url.port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        if close_after_body:
            sock.shutdown(socket.SHUT_WR)
        return _read_reply(sock)


def _read_reply(sock: socket.socket) -> Reply:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed without answering: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    # Only this answer: a test server may answer the unread rest of a body as a next request.
    return Reply(status, headers, body[:length] if length >= 0 else body)


def temp_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())
