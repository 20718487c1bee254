"""Policy text: Markdown rendered without raw HTML, the organization's name substituted as
plain text, and the SHA-256 that identifies exactly what a reader was shown."""

from __future__ import annotations

import hashlib
import re

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

PLACEHOLDER = "{{ organization_name }}"
MAX_BODY = 200_000  # characters of Markdown in one version

# CommonMark with tables and strikethrough; raw HTML is escaped (``html``: False) and
# markdown-it refuses javascript:, vbscript:, file: and data: (but images) link targets.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def substitute(body: str, organization_name: str) -> str:
    """The Markdown a reader sees: the placeholder replaced by the name, escaped so that a
    name with Markdown characters stays plain text."""
    return body.replace(PLACEHOLDER, _MD_SPECIAL.sub(r"\\\1", organization_name))


def render(body: str, organization_name: str) -> SafeString:
    return mark_safe(_md.render(substitute(body, organization_name)))  # noqa: S308 (escaped)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
