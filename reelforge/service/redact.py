"""Server paths out of what tenants read: job errors, hints and event notes.

ffmpeg's stderr names its inputs by absolute path, and a worker's files live under the data
folder (``<data>/work/jobs/<id>/...``, ``<data>/storage/...``). A tenant needs the file's name
to understand an error, never where the server keeps it, so every path under one of the
server's folders is cut down to its last part. The CLI (a local user, their own paths) does
not go through this.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from reelforge.service.settings import ServiceSettings

__all__ = ["redact_paths", "server_folders"]

# what may follow a folder in a path: anything but spaces, quotes and the separators ffmpeg
# and Python put around names
_REST = r"(?:[/\\][^\s'\"<>|,;:()\[\]]*)?"
_END = r"(?![^\s/\\'\"<>|,;:()\[\]])"


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
