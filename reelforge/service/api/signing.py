"""Signed download links: what a ``<video>``, ``<track>`` or ``<a download>`` uses, since a
browser sends no Authorization header for them.

A link is ``/api/jobs/{id}/files/{name}?token=<expiry>.<mac>``: the MAC is HMAC-SHA256, under a
server secret, of the job id, the download name, the job's owner and the expiry (Unix seconds).
It opens that one file of that one job for a few minutes (``signed_url_ttl_s``), whoever holds
it, like a presigned S3 URL; it never carries the API key. A token made for another job or
file, altered, expired or made under another secret is refused (403). Expiries are rounded up
to the minute, so a page fetched twice in a minute gets the same links (the browser's cache and
a player's range requests keep working).

The secret is ``REELFORGE_DOWNLOAD_SECRET``; without it, a random one is made once and kept in
``<data_dir>/download-secret`` (mode 0600), which every API process of one data folder shares.
Servers on several hosts must set the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

from reelforge.service.api.problems import Forbidden

_ROUND_S = 60
_lock = threading.Lock()
_secrets: dict[Path, bytes] = {}

FRESH_HINT = "fetch GET /api/jobs/{id} again for fresh links (links.signed), or send your API key"


def secret_for(settings: Any) -> bytes:
    """The signing secret: the setting, else the data folder's own random one."""
    if settings.download_secret:
        return str(settings.download_secret).encode()
    path = Path(settings.data_dir) / "download-secret"
    with _lock:
        if path not in _secrets:
            _secrets[path] = _read_or_create(path)
        return _secrets[path]


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # another process made it first: read theirs
    else:
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    for _ in range(50):  # a file another process is still writing
        value = path.read_text().strip()
        if value:
            return value.encode()
        time.sleep(0.01)
    raise RuntimeError(f"the download secret file {path.name} is empty")


def _mac(secret: bytes, job_id: str, name: str, owner: str | None, expires: int) -> str:
    message = f"download\n{job_id}\n{name}\n{owner or ''}\n{expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(
    secret: bytes,
    job_id: str,
    name: str,
    owner: str | None,
    ttl_s: float,
    now: float | None = None,
) -> str:
    """A token opening download ``name`` of job ``job_id`` (of ``owner``) for about
    ``ttl_s`` seconds (up to a minute more)."""
    moment = time.time() if now is None else now
    expires = math.ceil((moment + ttl_s) / _ROUND_S) * _ROUND_S
    return f"{expires}.{_mac(secret, job_id, name, owner, expires)}"


def verify(
    secret: bytes,
    token: str,
    job_id: str,
    name: str,
    owner: str | None,
    now: float | None = None,
) -> None:
    """Nothing when ``token`` opens ``name`` of ``job_id`` now, else :class:`Forbidden`."""
    expires_text, _, given = token.partition(".")
    if not expires_text.isdigit() or not given:
        raise Forbidden("the download link's token is malformed", hint=FRESH_HINT)
    expires = int(expires_text)
    expected = _mac(secret, job_id, name, owner, expires)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the download link is not valid for this file", hint=FRESH_HINT)
    if (time.time() if now is None else now) > expires:
        raise Forbidden("the download link has expired", hint=FRESH_HINT)
