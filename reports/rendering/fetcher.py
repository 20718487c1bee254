"""The only URLs WeasyPrint may load while rendering a report: files of our own static
folder. Anything else (http, https, data, ftp, other local files, ``..`` escapes) is refused,
so text from users, even if it ever reached the HTML unescaped, cannot make the renderer
fetch a URL (SSRF) or read a local file.

No Django here: the render workers import this module without setting Django up.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse


class FetchRefused(ValueError):
    """Raised for a URL outside the static folder (WeasyPrint logs it and skips the resource)."""


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_root: str | Path):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.root = Path(static_root).resolve()
        self.refused: list[str] = []

    @property
    def base_url(self) -> str:
        return self.root.as_uri() + "/"

    def path_for(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self.path_for(url)
        if path is None:
            self.refused.append(url)
            raise FetchRefused(f"refused to fetch {url[:200]!r}: only the app's static files load")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": kind})
