"""Webhooks: a signed POST when a job completes or fails, retried with backoff, off-thread.

Body: ``{"event": "job.completed" | "job.failed", "job": {...the job as GET /api/jobs/<id>}}``.
Headers: ``X-Reelforge-Event``, ``X-Reelforge-Timestamp: <unix seconds>`` and
``X-Reelforge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>``
(``REELFORGE_WEBHOOK_SECRET``). Receivers recompute it with :func:`verify_signature` and refuse
old timestamps (replays). Each attempt is recorded as a job event (``stage="webhook"``).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from reelforge.service.db import Database
from reelforge.service.models import Job, JobEvent, utcnow
from reelforge.service.settings import ServiceSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Reelforge-Signature"
TIMESTAMP_HEADER = "X-Reelforge-Timestamp"
EVENT_HEADER = "X-Reelforge-Event"
NOTIFIED = ("completed", "failed")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Reelforge-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300
) -> bool:
    """True when ``signature`` is right for ``body`` and ``timestamp`` is recent."""
    try:
        age = abs(time.time() - float(timestamp))
    except (TypeError, ValueError):
        return False
    if age > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(job: Job) -> dict[str, Any]:
    data = job.to_dict()
    data.pop("owner", None)
    data.pop("webhook_url", None)
    return {"event": f"job.{job.status}", "job": data}


def deliver(
    url: str, body: bytes, secret: str, event: str, timeout_s: float
) -> tuple[bool, str]:
    """One POST; returns (delivered, what happened)."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "reelforge-webhook",
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: timestamp,
    }
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return 200 <= response.status < 300, f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{type(exc).__name__}: {reason}"


def _record(db: Database, job_id: str, status: str, message: str) -> None:
    try:
        with db.transaction() as session:
            if session.get(Job, job_id) is not None:
                session.add(
                    JobEvent(job_id=job_id, at=utcnow(), status=status, stage="webhook",
                             message=message)
                )
    except Exception:  # noqa: BLE001 - recording is best effort; delivery matters more
        log.warning("could not record a webhook attempt for job %s", job_id, exc_info=True)


def send(job_id: str, db: Database, settings: ServiceSettings) -> bool:
    """Deliver the job's webhook now, retrying with backoff; True when a 2xx came back."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None or not job.webhook_url or job.status not in NOTIFIED:
            return False
        url, status = job.webhook_url, job.status
        body = json.dumps(payload(job), ensure_ascii=False, separators=(",", ":")).encode()
    event = f"job.{status}"
    for attempt in range(1, settings.webhook_attempts + 1):
        ok, outcome = deliver(url, body, settings.webhook_secret, event, settings.webhook_timeout_s)
        _record(db, job_id, status, f"webhook {event} attempt {attempt}: {outcome}")
        if ok:
            return True
        if attempt < settings.webhook_attempts:
            time.sleep(settings.webhook_backoff_s * 2 ** (attempt - 1))
    log.warning("webhook for job %s not delivered after %d attempts", job_id, attempt)
    return False


def notify(job_id: str, db: Database, settings: ServiceSettings) -> threading.Thread:
    """Send the job's webhook (if it has one) in a background thread; returns the thread."""
    thread = threading.Thread(
        target=send, args=(job_id, db, settings), name=f"webhook-{job_id}", daemon=True
    )
    thread.start()
    return thread
