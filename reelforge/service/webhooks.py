"""Webhooks: a signed POST when a job completes or fails, retried with backoff, off-thread.

Body: ``{"event": "job.completed" | "job.failed", "job": {...}}``: the job's public fields and
its download links (no owner, no worker names, no storage keys). Headers:
``X-Reelforge-Event``, ``X-Reelforge-Timestamp: <unix seconds>`` and
``X-Reelforge-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed by the secret>``
(``REELFORGE_WEBHOOK_SECRET``). Receivers recompute it with :func:`verify_signature` and refuse
old timestamps (replays).

Target policy (server-side request forgery): unless ``webhook_allow_private`` is on, a webhook
may only reach globally routable addresses. An IP literal is checked at submit time; a name is
resolved once per delivery attempt, every address it gives is checked (including IPv4 carried
inside IPv6: mapped, 6to4, Teredo, NAT64), and the connection goes to the checked address, so
a name that changes its answer between check and connect (DNS rebinding) gains nothing.
Redirects are never followed. Each attempt is recorded as a job event (``stage="webhook"``)
with a coarse outcome only ("delivered", "failed (HTTP 500)", "failed (could not connect)",
"failed (refused target)"): no error numbers or timings that would map a network.
"""

from __future__ import annotations

import contextlib
import hmac
import http.client
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from reelforge import kinds
from reelforge.errors import SpecError
from reelforge.network import (
    RefusedAddress,
    checked_target,
    connection,
    is_local_name,
    is_public,
    literal_address,
)
from reelforge.service.db import Database
from reelforge.service.models import Job, JobEvent, utcnow
from reelforge.service.redact import public_note
from reelforge.service.settings import ServiceSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Reelforge-Signature"
TIMESTAMP_HEADER = "X-Reelforge-Timestamp"
EVENT_HEADER = "X-Reelforge-Event"
NOTIFIED = ("completed", "failed")
UNREACHABLE = "failed (could not connect)"
MAX_URL_CHARS = 2000


class RefusedTarget(SpecError):
    """A webhook URL whose address is not public while private targets are not allowed."""


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


# --------------------------------------------------------------------------- target policy


def _refused(url: str) -> RefusedTarget:
    return RefusedTarget(
        f"webhook URL {url!r} points to a private or reserved address",
        hint="give a public http(s) URL; this server does not call internal networks "
        "(an operator can allow it with REELFORGE_WEBHOOK_ALLOW_PRIVATE=true)",
    )


def check_url(url: str, settings: ServiceSettings) -> None:
    """Refuse (:class:`SpecError`) a webhook URL that is not http(s), or, unless
    ``webhook_allow_private``, whose host is a non-public IP literal or a ``localhost`` name.
    Other names are resolved and checked at delivery (they may change in between anyway)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL_CHARS:
        raise SpecError(f"invalid webhook URL {url!r}", hint="give an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - a port outside 0-65535 raises ValueError
    except ValueError:
        raise SpecError(f"invalid port in webhook URL {url!r}", hint="e.g. :443") from None
    if settings.webhook_allow_private:
        return
    host = parts.hostname.rstrip(".").lower()
    if is_local_name(host):
        raise _refused(url)
    address = literal_address(host)
    if address is not None and not is_public(address):
        raise _refused(url)


# --------------------------------------------------------------------------- payload


def payload(job: Job) -> dict[str, Any]:
    """The webhook body: public fields of the job and its download links."""
    base = f"/api/jobs/{job.id}"
    files = {}
    if job.status == "completed" and job.kind in kinds.KINDS:
        for name in kinds.get(job.kind).downloads(job.result or {}):
            files[name] = f"{base}/files/{name}"
    data = job.to_dict()
    fields = ("id", "kind", "status", "stage", "priority", "queue", "attempts", "max_attempts")
    times = ("created_at", "queued_at", "started_at", "finished_at", "updated_at")
    public = {name: data[name] for name in (*fields, *times)}
    public["progress"] = round(float(data["progress"] or 0.0) * 100, 1)
    public["error"] = public_note(data["error"], job.id)
    public["hint"] = data["hint"]
    public["links"] = {"self": base, "events": f"{base}/events", "files": files}
    return {"event": f"job.{job.status}", "job": public}


# --------------------------------------------------------------------------- delivery


def deliver(url: str, body: bytes, event: str, settings: ServiceSettings) -> tuple[bool, str]:
    """One POST to the checked address; returns (delivered, coarse outcome)."""
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "reelforge-webhook",
        EVENT_HEADER: event,
        TIMESTAMP_HEADER: timestamp,
    }
    if settings.webhook_secret:
        headers[SIGNATURE_HEADER] = sign(settings.webhook_secret, timestamp, body)
    try:
        check_url(url, settings)
        # resolved once, every address checked; the connection goes to the checked one
        scheme, host, port, address, path = checked_target(url, settings.webhook_allow_private)
    except (RefusedTarget, RefusedAddress):
        return False, "failed (refused target)"
    except (OSError, UnicodeError, ValueError):
        return False, UNREACHABLE
    opened = connection(scheme, host, port, address, settings.webhook_timeout_s)
    try:
        opened.request("POST", path, body=body, headers=headers)
        response = opened.getresponse()
        response.read(64 * 1024)  # drained, never stored
        status = response.status
    except (OSError, http.client.HTTPException, ValueError):
        return False, UNREACHABLE
    finally:
        with contextlib.suppress(Exception):
            opened.close()
    if 200 <= status < 300:
        return True, f"delivered (HTTP {status})"
    return False, f"failed (HTTP {status})"


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
    for attempt in range(1, settings.webhook_attempts + 1):
        started = time.monotonic()
        ok, outcome = deliver(url, body, event, settings)
        if outcome == UNREACHABLE:
            # A refused port answers at once, a filtered one at the timeout: the event's time
            # must not tell them apart either.
            time.sleep(max(0.0, settings.webhook_timeout_s - (time.monotonic() - started)))
        _record(db, job_id, status, f"webhook {event} attempt {attempt}: {outcome}")
        if ok:
            return True
        if outcome == "failed (refused target)":
            return False  # the policy will not change between attempts
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
