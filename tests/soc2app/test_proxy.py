"""Two clients that send an upload's headers and then stall do not take the web tier down:
gunicorn with the production configuration (``deploy/gunicorn.conf.py``: 2 sync workers)
behind a real nginx with the repository's configuration (``deploy/nginx/``), and ``/healthz``
keeps answering while the stalled connections are held open. nginx also refuses a body
over its limit with 413 before the app reads any of it.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.workers import stop_process, wait_for

# gunicorn on its own SQLite file, whatever the test run's database (``backend_free``: CI runs
# it once, in the PostgreSQL stage).
pytestmark = [pytest.mark.nginx, pytest.mark.backend_free, pytest.mark.slow]

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _render(template: str, values: dict[str, str]) -> str:
    """What the nginx image's envsubst does: only the variables it is given."""
    return re.sub(r"\$\{(NGINX_\w+)\}", lambda m: values[m.group(1)], template)


def _get(port: int, path: str, timeout: float = 10) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("GET", path, headers={"Host": "localhost"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def stack(tmp_path) -> Iterator[int]:
    """gunicorn (2 sync workers) behind nginx on loopback ports; yields nginx's port."""
    app_port, proxy_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "soc2app.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # /healthz needs no database
        "CELERY_BROKER_URL": "memory://",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with contextlib.ExitStack() as processes:
        yield from _serve(processes, tmp_path, env, app_port, proxy_port)


def _serve(
    processes: contextlib.ExitStack, tmp_path: Path, env: dict, app_port: int, proxy_port: int
) -> Iterator[int]:
    gunicorn = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")]
        + ["soc2app.wsgi:application"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=(tmp_path / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    processes.callback(stop_process, gunicorn)  # stopped however the set-up below ends
    site = _render(
        (DEPLOY / "nginx" / "default.conf.template").read_text(),
        {
            "NGINX_UPSTREAM": f"127.0.0.1:{app_port}",
            "NGINX_PORT": f"127.0.0.1:{proxy_port}",
            "NGINX_MAX_BODY_MB": str(settings.EVIDENCE_MAX_UPLOAD_BYTES // 1024 // 1024 + 5),
        },
    )
    (tmp_path / "site.conf").write_text(site)
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for folder in temp.values():
        folder.mkdir()
    main = f"""
        daemon off;
        {"user root;" if os.geteuid() == 0 else ""}
        worker_processes 1;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/nginx-error.log info;
        events {{ worker_connections 256; }}
        http {{
            access_log off;
            client_body_temp_path {temp["body"]};
            proxy_temp_path {temp["proxy"]};
            fastcgi_temp_path {temp["fastcgi"]};
            uwsgi_temp_path {temp["uwsgi"]};
            scgi_temp_path {temp["scgi"]};
            include {tmp_path}/site.conf;
        }}
    """
    (tmp_path / "nginx.conf").write_text(main)
    nginx_bin = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    nginx = subprocess.Popen(  # noqa: S603
        [nginx_bin, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "nginx.log").open("w"),
    )
    processes.callback(stop_process, nginx)

    def up() -> bool:
        try:
            return _get(proxy_port, "/healthz", timeout=2).status == 200
        except OSError:
            return False

    wait_for(up, 60, "gunicorn behind nginx")
    yield proxy_port


def _csrf_cookie(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/accounts/login/", headers={"Host": "localhost"})
    response = connection.getresponse()
    response.read()
    connection.close()
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie", ""))
    assert cookie, "the login page sets no CSRF cookie"
    return cookie.group(1)


def _stalled_upload(port: int, csrf: str) -> socket.socket:
    """An upload's headers and the start of its body, then silence (the socket stays open).
    With a valid CSRF cookie and a size under the limits, Django's CSRF check reads the body:
    without the proxy, the worker would wait for the rest of it."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\n"
        + f"Cookie: csrftoken={csrf}\r\n".encode()
        + b"Content-Type: multipart/form-data; boundary=b0undary\r\n"
        + b"Content-Length: 1000000\r\n\r\n--b0undary\r\n"
        + b'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n'
        + b"x" * 4096
    )
    return sock


def test_stalled_uploads_do_not_block_the_web_workers(stack):
    csrf = _csrf_cookie(stack)
    stalled = [_stalled_upload(stack, csrf) for _ in range(2)]  # one per gunicorn worker
    try:
        # While both are held open, request after request is answered: neither reached a
        # gunicorn worker (nginx is still reading their bodies).
        answers = [_get(stack, "/healthz").status for _ in range(20)]
        assert answers == [200] * 20
        # The stalled connections are still open (nginx has not given up on them yet).
        for sock in stalled:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in stalled:
            sock.close()


def test_a_body_over_the_limit_is_refused_by_the_proxy(stack):
    limit = settings.EVIDENCE_MAX_UPLOAD_BYTES + 5 * 1024 * 1024
    connection = http.client.HTTPConnection("127.0.0.1", stack, timeout=10)
    connection.putrequest("POST", "/accounts/login/", skip_host=True)
    connection.putheader("Host", "localhost")
    connection.putheader("Content-Length", str(limit + 1))
    connection.endheaders()  # no body sent: nginx answers from the headers alone
    response = connection.getresponse()
    assert response.status == 413
    connection.close()
    # Proxy headers reach the app's responses: the request id nginx made is echoed.
    assert _get(stack, "/healthz").getheader("X-Request-ID")
