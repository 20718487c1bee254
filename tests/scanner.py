"""ClamAV made unreachable for a test: uploads take the real path and are held as pending."""

from __future__ import annotations

import socket


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again on return: nothing listens there


def hold_uploads(settings) -> None:
    """Point the scanner at a closed port: every file upload is stored as ``pending``."""
    settings.CLAMAV_SOCKET = ""
    settings.CLAMAV_HOST, settings.CLAMAV_PORT = "127.0.0.1", closed_port()
    settings.CLAMAV_TIMEOUT_SECONDS = 2
