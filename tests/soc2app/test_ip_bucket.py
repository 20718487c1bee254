"""What the per-client-address rate limits count (``soc2app.ratelimit.ip_bucket``)."""

from __future__ import annotations

import pytest

from soc2app.ratelimit import ip_bucket


@pytest.mark.parametrize(
    ("ip", "bucket"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),  # an IPv4 client on a dual-stack socket
        ("not an address", "not an address"),
    ],
)
def test_ipv4_counts_per_address_and_ipv6_per_64(ip, bucket):
    assert ip_bucket(ip) == bucket
