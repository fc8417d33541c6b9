"""Requests in, kind requests out: shape checks, ``media:<id>`` references, the cache key.

A video request (what ``POST /api/videos`` carries) is a dict::

    {"script": "...markdown or plain text..."}          # or
    {"storyboard": {...storyboard fields...}}
    # optional overrides (storyboard fields): template, language, voice, format, resolution,
    # target_duration (alias: duration), max_scenes, music, captions, title, seed, ...
    # optional: "preview": bool (small and fast), "queue": "cpu" | "gpu"

Media files are never given as paths: upload them and refer to them as ``media:<id>`` in any
path field (scene visuals, music, narration, watermark) or in a Markdown image
``![](media:<id>)``. Anything else in a path field is refused (:func:`check_media`), so user
input never names a file on the server. These checks hold for every kind: they read a kind's
files through :attr:`reelforge.kinds.JobKind.media`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reelforge import __version__, translation
from reelforge.errors import MediaError, SpecError
from reelforge.kinds import JobKind, JobRequest
from reelforge.kinds.video import VideoRequest, storyboard
from reelforge.service.models import QUEUES, Media

REQUEST_KEYS = {"script", "storyboard", "preview", "queue"}
OVERRIDE_KEYS = {
    "title",
    "translate",
    "template",
    "language",
    "voice",
    "speed",
    "format",
    "resolution",
    "fps",
    "target_duration",
    "duration",
    "max_scenes",
    "padding",
    "transition",
    "grade",
    "music",
    "captions",
    "loudness",
    "seed",
    "watermark",
}
MEDIA_REF = re.compile(r"media:([0-9a-f]{32})(?:\.[A-Za-z0-9]{1,5})?")
CANONICAL_REF = re.compile(r"^media:([0-9a-f]{32})(\.[a-z0-9]{1,5})$")
MAX_SCRIPT_CHARS = 200_000
# A family name for fontconfig: no path separators, no ':' pattern properties (file=...).
_FONT_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,63}$")

MediaLookup = Callable[[str], Media | None]
"""Finds an upload by id (``None`` when unknown or not the caller's)."""


def _rewrite_refs(value: Any, rewrite: Callable[[str], str]) -> Any:
    """Every ``media:<id>`` inside strings of ``value`` (nested dicts/lists) rewritten."""
    if isinstance(value, str):
        return MEDIA_REF.sub(lambda m: rewrite(m.group(1)), value)
    if isinstance(value, dict):
        return {k: _rewrite_refs(v, rewrite) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rewrite_refs(v, rewrite) for v in value]
    return value


def normalise_request(request: Any) -> dict[str, Any]:
    """Check the request's shape (not yet its storyboard): a dict with a script or storyboard."""
    if not isinstance(request, dict):
        raise SpecError("a video request must be a JSON object", hint='{"script": "Hello."}')
    unknown = sorted(set(request) - REQUEST_KEYS - OVERRIDE_KEYS)
    if unknown:
        raise SpecError(
            "unknown request field" + ("s" if len(unknown) > 1 else "") + ": " + ", ".join(unknown),
            hint="fields: " + ", ".join(sorted(REQUEST_KEYS | OVERRIDE_KEYS)),
        )
    script, fields = request.get("script"), request.get("storyboard")
    if (script is None) == (fields is None):
        raise SpecError(
            "give exactly one of 'script' (text) or 'storyboard' (an object)",
            hint='{"script": "Hello there."} or {"storyboard": {"scenes": ["Hello there."]}}',
        )
    if script is not None and (not isinstance(script, str) or not script.strip()):
        raise SpecError("'script' must be non-empty text", hint="write at least one sentence")
    if isinstance(script, str) and len(script) > MAX_SCRIPT_CHARS:
        raise SpecError(
            f"the script is {len(script)} characters long; the limit is {MAX_SCRIPT_CHARS}",
            hint="split it into several videos",
        )
    if fields is not None and not isinstance(fields, dict):
        raise SpecError("'storyboard' must be an object", hint="see GET /api/schema")
    preview = request.get("preview", False)
    if not isinstance(preview, bool):
        raise SpecError("'preview' must be true or false", hint='"preview": true')
    queue = request.get("queue", "cpu")
    if queue not in QUEUES:
        raise SpecError(f"unknown queue {queue!r}", hint="one of: " + ", ".join(QUEUES))
    out = dict(request)
    if "duration" in out:
        out.setdefault("target_duration", out.pop("duration"))
        out.pop("duration", None)
    out["preview"] = preview
    out["queue"] = queue
    return out


def video_request(request: Any, media: MediaLookup | None = None) -> VideoRequest:
    """The video kind's request for a lenient video ``request`` (see the module docstring).

    ``media(id)`` finds an upload; every ``media:<id>`` becomes the canonical
    ``media:<id>.<ext>`` so the storyboard infers the right visual type. With ``media=None``
    (estimates) references are accepted unchecked. Raises :class:`SpecError` for a bad shape or
    storyboard, an unknown media id, or a font file given as a font.
    """
    normalised = normalise_request(request)
    missing: list[str] = []

    def canonical(media_id: str) -> str:
        if media is None:
            return f"media:{media_id}.png"
        item = media(media_id)
        if item is None:
            missing.append(media_id)
            return f"media:{media_id}.bin"
        return item.reference

    resolved = _rewrite_refs(normalised, canonical)
    if missing:
        raise SpecError(
            "unknown media: " + ", ".join(f"media:{m}" for m in sorted(set(missing))),
            hint="upload files with POST /api/media and use the id it returns",
        )
    overrides = {k: v for k, v in resolved.items() if k in OVERRIDE_KEYS and v is not None}
    board = storyboard(resolved.get("script"), resolved.get("storyboard"), **overrides)
    font = board.captions.font
    if font is not None and (
        not _FONT_FAMILY.match(font) or font.lower().endswith((".ttf", ".otf", ".ttc", ".otc"))
    ):
        raise SpecError(
            f"captions.font: {font!r} is not a font family name (the service takes installed "
            "family names, not font files)",
            hint="name an installed font family, e.g. DejaVu Sans",
        )
    if board.translate:  # refused now, not when a worker finds no engine
        translation.check_engine()
    return VideoRequest(storyboard=board, preview=resolved["preview"], queue=resolved["queue"])


def check_media(kind: JobKind, request: JobRequest, media: MediaLookup | None) -> dict[str, Media]:
    """The uploads ``request`` names, by id, once every file field holds a canonical
    ``media:<id>.<ext>`` of an upload of the right kind. ``media=None`` (estimates) checks the
    form only. Raises :class:`SpecError` listing every problem."""
    problems: list[str] = []
    found: dict[str, Media] = {}
    for item in kind.media(request):
        match = CANONICAL_REF.match(item.value)
        if not item.kinds:
            problems.append(f"{item.field}: files of this kind cannot be uploaded to the service")
        elif match is None:
            problems.append(
                f"{item.field}: {item.value!r} is a file path; the service only accepts "
                "uploaded media"
            )
        elif media is not None:
            upload = found.get(match.group(1)) or media(match.group(1))
            if upload is None:
                problems.append(f"{item.field}: unknown media:{match.group(1)}")
            elif upload.kind not in item.kinds:
                problems.append(
                    f"{item.field}: media:{upload.id} is {upload.kind}, "
                    f"this field takes {' or '.join(item.kinds)}"
                )
            else:
                found[upload.id] = upload
    if problems:
        raise SpecError(
            "; ".join(problems),
            hint="upload files with POST /api/media and refer to them as media:<id>",
        )
    return found


def inspect_uploads(
    kind: JobKind, request: JobRequest, uploads: dict[str, Media], local: Callable[[str], Path]
) -> None:
    """The kind's own look into each upload ``request`` names (:attr:`JobKind.inspect`: a
    portrait's faces), before the job is queued; ``local`` gives a stored file's local path by
    its key. Raises :class:`SpecError` naming every field the kind would refuse."""
    if kind.inspect is None:
        return
    problems: list[str] = []
    hints: list[str] = []
    for item in kind.media(request):
        match = CANONICAL_REF.match(item.value)
        if match is None or match.group(1) not in uploads:
            continue  # check_media refused it already
        try:
            kind.inspect(local(uploads[match.group(1)].key))
        except (SpecError, MediaError) as exc:  # not a StorageError: the store, not the file
            problems.append(f"{item.field}: {exc.message}")
            hints.append(exc.hint or "")
    if problems:
        raise SpecError("; ".join(problems), hint=next((h for h in hints if h), ""))


def input_hash(kind: JobKind, request: JobRequest, uploads: dict[str, Media]) -> str:
    """What determines a job's output: the kind, its request with uploads named by their
    content, and the reelforge version (the queue is hardware, not output)."""

    def by_content(path: str) -> str:
        match = CANONICAL_REF.match(path)
        return f"sha256:{uploads[match.group(1)].sha256}" if match else path

    named = kind.with_media(request, by_content).model_dump(mode="json", exclude={"queue"})
    text = json.dumps(
        {"kind": kind.name, "request": named, "reelforge": __version__},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
