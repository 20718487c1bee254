"""Reading the catalog's YAML data files with errors that say where the problem is.

Every problem is a ``CatalogError`` naming the file, the line and the key path
(``categories[0].series[2].criteria[1].title``), so a maintainer can fix the data file
without reading the loader.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml


class CatalogError(Exception):
    def __init__(self, file: str, problem: str, *, line: int | None = None, key: str = ""):
        where = file + (f", line {line}" if line else "") + (f", at {key}" if key else "")
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.key, self.problem = file, line, key, problem


class _Mapping(dict):
    line: int = 0


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Mapping:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line + 1
    mapping = _Mapping(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, *, label: str) -> Reader:
    """Parse ``path``; ``label`` is how the file is named in messages (a relative path)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(label, f"cannot be read ({exc})") from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogError(
            label, f"is not valid YAML: {problem}", line=mark.line + 1 if mark else None
        ) from exc
    return Reader(label, data, "", getattr(data, "line", 1))


class Reader:
    """A position in a parsed document; every accessor checks shape and type."""

    def __init__(self, file: str, value: Any, path: str, line: int | None):
        self.file, self.value, self.path = file, value, path
        self.line = getattr(value, "line", None) or line

    def error(self, problem: str, key: str | None = None) -> CatalogError:
        path = self._join(key) if key is not None else self.path
        return CatalogError(self.file, problem, line=self.line, key=path)

    def _join(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def mapping(self, required: Iterable[str], optional: Iterable[str] = ()) -> Reader:
        if not isinstance(self.value, dict):
            raise self.error("must be a mapping of keys to values")
        required, allowed = set(required), set(required) | set(optional)
        missing = sorted(required - set(self.value))
        if missing:
            raise self.error(f"missing key(s): {', '.join(missing)}")
        unknown = sorted(str(k) for k in set(self.value) - allowed)
        if unknown:
            raise self.error(f"unknown key(s): {', '.join(unknown)}")
        return self

    def child(self, key: str) -> Reader:
        return Reader(self.file, self.value.get(key), self._join(key), self.line)

    def text(self, key: str, *, max_length: int, required: bool = True) -> str:
        value = self.value.get(key)
        if value is None and not required:
            return ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.error("must be a non-empty text", key)
        value = " ".join(value.split())
        if len(value) > max_length:
            raise self.error(f"is {len(value)} characters long; at most {max_length} allowed", key)
        return value

    def choice(self, key: str, choices: Iterable[str]) -> str:
        choices = list(choices)
        value = self.value.get(key)
        if value not in choices:
            raise self.error(f"is {value!r}; expected one of {', '.join(choices)}", key)
        return value

    def integer(self, key: str, *, minimum: int, maximum: int, required: bool = True) -> int | None:
        value = self.value.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
            raise self.error(f"must be a whole number from {minimum} to {maximum}", key)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.value.get(key, default)
        if not isinstance(value, bool):
            raise self.error("must be true or false", key)
        return value

    def items(self, key: str, *, min_items: int = 1) -> list[Reader]:
        value = self.value.get(key)
        if not isinstance(value, list) or len(value) < min_items:
            raise self.error(f"must be a list of at least {min_items} item(s)", key)
        return [
            Reader(self.file, item, f"{self._join(key)}[{i}]", self.line)
            for i, item in enumerate(value)
        ]

    def strings(self, key: str, *, max_length: int, min_items: int = 1) -> list[str]:
        out = []
        for item in self.items(key, min_items=min_items):
            if not isinstance(item.value, str) or not item.value.strip():
                raise item.error("must be a non-empty text")
            if len(item.value) > max_length:
                raise item.error(f"is longer than {max_length} characters")
            out.append(" ".join(item.value.split()))
        return out

    def string_map(self, key: str, *, max_length: int) -> dict[str, str]:
        value = self.value.get(key)
        if not isinstance(value, dict) or not value:
            raise self.error("must be a non-empty mapping", key)
        out = {}
        for k, v in value.items():
            if not isinstance(v, str) or not v.strip() or len(v) > max_length:
                raise self.error(
                    f"must be a non-empty text of at most {max_length} characters", f"{key}.{k}"
                )
            out[str(k)] = " ".join(v.split())
        return out
