"""Server internals out of what tenants read: job errors, hints and event notes.

ffmpeg's stderr names its inputs by absolute path, and a worker's files live under the data
folder (``<data>/work/jobs/<id>/...``, ``<data>/storage/...``). A tenant needs the file's name
to understand an error, never where the server keeps it, so every path under one of the
server's folders is cut down to its last part. The CLI (a local user, their own paths) does
not go through this.

Worker ids (``<prefix>-<host>-<pid>-<hex>``, :func:`reelforge.service.executor.worker_name`)
name the server's machines and processes, and a note may name another job (a cache donor,
possibly another tenant's): :func:`public_note` takes both out of job errors, event messages
and webhook payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from reelforge.service.settings import ServiceSettings

__all__ = ["public_note", "redact_paths", "server_folders"]

# what may follow a folder in a path: anything but spaces, quotes and the separators ffmpeg
# and Python put around names
_REST = r"(?:[/\\][^\s'\"<>|,;:()\[\]]*)?"
_END = r"(?![^\s/\\'\"<>|,;:()\[\]])"
_WORKER_ID = re.compile(r"\b[A-Za-z0-9_]+-[A-Za-z0-9._-]+-\d+-[0-9a-f]{6}\b")
_JOB_ID = re.compile(r"\b[0-9a-f]{32}\b")


def server_folders(settings: ServiceSettings) -> tuple[str, ...]:
    """The folders whose paths tenants must not see (as given and resolved)."""
    folders = [settings.data_dir, settings.work_dir, settings.cache_dir]
    if settings.storage_url.startswith("file://"):
        folders.append(Path(urlparse(settings.storage_url).path))
    found: set[str] = set()
    for folder in folders:
        if folder is not None:
            found.add(str(Path(folder)))
            found.add(str(Path(folder).resolve()))
    return tuple(sorted((f for f in found if f not in ("", "/")), key=len, reverse=True))


def redact_paths(text: str, folders: Iterable[str]) -> str:
    """``text`` with every path under ``folders`` replaced by its last part (``mix.wav``),
    or ``<server folder>`` for a folder itself."""
    for folder in folders:
        # the folder itself, not a longer name that starts like it (data vs database)
        pattern = re.escape(folder) + _END + "(" + _REST + ")"
        text = re.sub(pattern, lambda match: _last_part(match.group(1)), text)
    return text


def _last_part(rest: str) -> str:
    parts = [part for part in re.split(r"[/\\]", rest) if part]
    return parts[-1] if parts else "<server folder>"


def public_note(text: str | None, job_id: str) -> str | None:
    """Job ``job_id``'s note or message as its owner may see it: no worker names, no other
    jobs' ids."""
    if text is None:
        return None
    text = _WORKER_ID.sub("a worker", text).replace("worker a worker", "a worker")
    return _JOB_ID.sub(lambda m: m.group(0) if m.group(0) == job_id else "another job", text)
