"""A key limited to N requests a minute cannot send the server-wide burst at once: its bucket
holds a few seconds of its own rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from conftest_api import Api, assert_problem


def test_a_slow_key_cannot_burst_past_its_rate(
    make_api: Callable[..., Api], fake_make: Any
) -> None:
    api = make_api(rate_per_minute=600, rate_burst=60)  # the defaults
    slow = api.key("scraper", rate_per_minute=30)
    headers = api.headers(slow)
    started = time.monotonic()
    codes = [api.client.get("/api/jobs", headers=headers).status_code for _ in range(60)]
    elapsed = time.monotonic() - started
    # 6 s of 30 a minute = 3 at once, plus what refilled while the loop ran (one per 2 s).
    allowed = 3 + int(elapsed / 2)
    assert 3 <= codes.count(200) <= allowed, (codes.count(200), elapsed)
    assert set(codes) == {200, 429}
    refused = api.client.get("/api/jobs", headers=headers)
    assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 2


def test_the_default_rate_keeps_its_burst(make_api: Callable[..., Api], fake_make: Any) -> None:
    api = make_api(rate_per_minute=600, rate_burst=60)
    headers = api.headers(api.key("alice"))
    codes = [api.client.get("/api/jobs", headers=headers).status_code for _ in range(61)]
    assert codes[:60] == [200] * 60


def test_bucket_sizes() -> None:
    from reelforge.service.auth import RateLimiter

    limiter = RateLimiter(600, 60, burst_s=6)
    assert limiter.capacity(30) == 3
    assert limiter.capacity(1) == 1
    assert limiter.capacity(600) == 60
    assert limiter.capacity(100_000) == 60


def test_anonymous_price_estimates_are_rate_limited_per_address(
    make_api: Callable[..., Api], fake_make: Any
) -> None:
    """POST /api/pricing needs no key but validates a whole request: without a key, one
    address cannot make the server do that work without limit."""
    api = make_api(anonymous_rate_per_minute=30)  # a bucket of 3
    body = {"script": "One. Two. Three.", "preview": True}
    codes = [api.client.post("/api/pricing", json=body).status_code for _ in range(8)]
    assert codes[:3] == [200, 200, 200] and codes.count(429) >= 4
    refused = api.client.post("/api/pricing", json=body)
    assert_problem(refused, 429)
    # a caller with a key is limited as that key, not by the anonymous bucket
    headers = api.headers(api.key("alice"))
    assert api.client.post("/api/pricing", json=body, headers=headers).status_code == 200
