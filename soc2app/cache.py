"""A Redis cache that degrades to "nothing cached" while Redis is down.

The cache only holds rate-limit counters and derived values, so losing it for the length of an
outage must not take pages and API reads down with it (issue: "with Redis stopped, pages and API
reads still work"). Every failed call is logged; rate limits fail open until Redis is back.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


def _warn(operation: str, exc: Exception) -> None:
    logger.warning("cache %s skipped, Redis unreachable: %s", operation, exc)


class TolerantRedisCache(RedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except _DOWN as exc:
            _warn("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        try:
            return super().get_many(keys, version)
        except _DOWN as exc:
            _warn("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except _DOWN as exc:
            _warn("has_key", exc)
            return False

    def add(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except _DOWN as exc:
            _warn("add", exc)
            return True  # as if stored: callers (rate limits) go on as for a first hit

    def set(self, key: Any, value: Any, timeout: Any = 300, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except _DOWN as exc:
            _warn("set", exc)

    def set_many(self, data: dict, timeout: Any = 300, version: int | None = None) -> list:
        try:
            return super().set_many(data, timeout, version)
        except _DOWN as exc:
            _warn("set_many", exc)
            return list(data)

    def touch(self, key: Any, timeout: Any = 300, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except _DOWN as exc:
            _warn("touch", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except _DOWN as exc:
            _warn("incr", exc)
            return delta

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except _DOWN as exc:
            _warn("delete", exc)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except _DOWN as exc:
            _warn("delete_many", exc)

    def clear(self) -> None:
        try:
            super().clear()
        except _DOWN as exc:
            _warn("clear", exc)
