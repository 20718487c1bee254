"""A real SMTP server on loopback for tests: it speaks enough SMTP for Django's SMTP backend
(EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps what it accepted. With ``stall=True`` it
receives a message and then stops answering (no "250" after the body), like a mail server
hanging mid-conversation; ``stalled`` is set when that happens."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message


class SmtpServer:
    def __init__(self, *, stall: bool = False) -> None:
        self.stall = stall
        self.messages: list[Message] = []
        self.stalled = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(0.2)
            reader = _Lines(conn, self._stop)
            conn.sendall(b"220 test ESMTP ready\r\n")
            while (line := reader.line()) is not None:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 test\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    body = reader.until(b"\r\n.\r\n")
                    if body is None:
                        return
                    if self.stall:
                        self.stalled.set()  # the message is here; the answer never comes
                        self._stop.wait()
                        return
                    self.messages.append(message_from_bytes(body.replace(b"\r\n..", b"\r\n.")))
                    conn.sendall(b"250 accepted\r\n")
                elif verb == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # MAIL, RCPT, RSET, NOOP
                    conn.sendall(b"250 ok\r\n")


class _Lines:
    def __init__(self, conn: socket.socket, stop: threading.Event) -> None:
        self.conn, self.stop, self.buffer = conn, stop, b""

    def until(self, end: bytes) -> bytes | None:
        while end not in self.buffer:
            if self.stop.is_set():
                return None
            try:
                chunk = self.conn.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return None
            self.buffer += chunk
        found, self.buffer = self.buffer.split(end, 1)
        return found

    def line(self) -> bytes | None:
        return self.until(b"\r\n")


@contextmanager
def smtp_server(*, stall: bool = False) -> Iterator[SmtpServer]:
    server = SmtpServer(stall=stall)
    server.start()
    try:
        yield server
    finally:
        server.stop()
