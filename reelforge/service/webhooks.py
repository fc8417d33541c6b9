"""Webhooks: a signed POST when a job completes or fails, retried with backoff, off-thread.

Body: ``{"event": "job.completed" | "job.failed", "job": {...the job as GET /api/jobs/<id>}}``.
Headers: ``X-Reelforge-Event``, ``X-Reelforge-Timestamp: <unix seconds>`` and
``X-Reelforge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>``
(``REELFORGE_WEBHOOK_SECRET``). Receivers recompute it with :func:`verify_signature` and refuse
old timestamps (replays). Each attempt is recorded as a job event (``stage="webhook"``).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlparse

from reelforge.errors import SpecError
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


def private_address(url: str) -> str | None:
    """The loopback/private/link-local/reserved address ``url``'s host resolves to, if any."""
    host = urlparse(url).hostname
    if not host:
        return "(no host)"
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return None  # unresolvable: delivery will fail and be recorded
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
            or address.is_multicast
            or address.is_unspecified
        ):
            return str(address)
    return None


def check_url(url: str, settings: ServiceSettings) -> None:
    """Refuse a webhook URL that is not http(s), or that targets a private network when
    ``webhook_allow_private`` is off (:class:`SpecError`)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000:
        raise SpecError(f"invalid webhook URL {url!r}", hint="give an http:// or https:// URL")
    if not settings.webhook_allow_private:
        address = private_address(url)
        if address is not None:
            raise SpecError(
                f"webhook URL {url!r} points to a private address ({address})",
                hint="give a public http(s) URL; this server does not call internal networks",
            )


def payload(job: Job) -> dict[str, Any]:
    data = job.to_dict()
    data.pop("owner", None)
    data.pop("webhook_url", None)
    return {"event": f"job.{job.status}", "job": data}


def deliver(url: str, body: bytes, secret: str, event: str, timeout_s: float) -> tuple[bool, str]:
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
                    JobEvent(
                        job_id=job_id, at=utcnow(), status=status, stage="webhook", message=message
                    )
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
    if not settings.webhook_allow_private and (address := private_address(url)) is not None:
        _record(db, job_id, status, f"webhook {event} refused: {address} is a private address")
        return False
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
