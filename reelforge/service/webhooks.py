"""Webhooks: a signed POST when a job completes or fails, retried with backoff, off-thread.

Headers: ``X-Reelforge-Timestamp: <unix seconds>`` and
``X-Reelforge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>``.
Receivers recompute the HMAC (see :func:`verify_signature`) and refuse old timestamps.
"""

from __future__ import annotations

from reelforge.service.db import Database
from reelforge.service.settings import ServiceSettings


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Reelforge-Signature`` value for ``body`` sent at ``timestamp``."""
    raise NotImplementedError


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300
) -> bool:
    """True when ``signature`` is right for ``body`` and ``timestamp`` is recent."""
    raise NotImplementedError


def notify(job_id: str, db: Database, settings: ServiceSettings) -> None:
    """Send the job's webhook (if it has one) in a background thread; returns at once."""
    raise NotImplementedError
