"""Samples of the catalogue: a voice's sample sentence, a music mood's first seconds and a
template's still (``reelforge.sample_voice``, ``sample_music``, ``sample_template``).

Public like the catalogue: they describe this installation. Each is made on its first request
and kept under ``<cache_dir>/samples``, named by what it depends on (engine versions, sentence,
template fields), so an upgrade makes new ones. Only catalogue names are accepted (404 for the
rest), so the cache holds at most one file per voice, mood and template. One synthesis runs at a
time per sample (a second request waits for the first one's file), at most two at once in all,
always on a worker thread: the event loop never waits for an engine.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from reelforge.service.api import catalogue
from reelforge.service.api.deps import SettingsDep
from reelforge.service.api.problems import NotFound, responses

router = APIRouter(prefix="/api", tags=["catalogue"])

CACHE_CONTROL = "public, max-age=86400"
_BUILDS = threading.BoundedSemaphore(2)  # syntheses at once, all samples together
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def cached_sample(folder: Path, name: str, build: Callable[[Path], Path]) -> Path:
    """``folder/name``, built by ``build(path)`` if it is not there yet: once, whoever asks."""
    path = folder / name
    if path.is_file():
        return path
    with _lock_for(name):
        if path.is_file():  # built by the request we waited for
            return path
        with _BUILDS:
            folder.mkdir(parents=True, exist_ok=True)
            build(path)
    return path


async def _serve(
    request: Request,
    settings: Any,
    file_name: str,
    tag: str,
    media_type: str,
    build: Callable[[Path], Path],
    if_none_match: str | None,
) -> Response:
    etag = f'"{tag}"'
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    folder = Path(settings.cache_dir) / "samples"
    path = await run_in_threadpool(cached_sample, folder, file_name, build)
    return FileResponse(path, media_type=media_type, headers=headers)


def _answers(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {}}, "description": description},
        304: {"description": "not modified (If-None-Match)"},
        **responses(404, 422),
    }


_NAME = r"^[a-z][a-z0-9_-]*$"  # catalogue names only
_DESCRIPTIONS = {"": "an AAC sample (.m4a)", "image/jpeg": "a 320x180 JPEG"}


@dataclass(frozen=True)
class _Sample:
    """One kind of sample: its route, catalogue check, cache name and how it is made."""

    path: str  # the route, with ``{param}`` naming its catalogue entry
    param: str
    summary: str
    route_name: str
    listing: str  # the catalogue function listing the entries, and each entry's name key
    key: str
    missing: str  # "no voice {name!r} here"-style message, ``{name}`` filled in
    listed_by: str
    file_name: str  # "voice-{name}-{tag}{suffix}"-style cache name
    tag_function: str  # in reelforge.samples
    build_function: str  # in reelforge.samples
    media_type: str  # "" for the audio samples' own


_SAMPLES = (
    _Sample(
        "/voices/{voice_id}/sample",
        "voice_id",
        "A few seconds of this voice reading a fixed sentence in its language",
        "voice_sample",
        "list_voices",
        "id",
        "no voice {name!r} here",
        "GET /api/voices lists them",
        "voice-{name}-{tag}{suffix}",
        "voice_sample_tag",
        "sample_voice",
        "",
    ),
    _Sample(
        "/music-moods/{mood}/sample",
        "mood",
        "Eight seconds of music in this mood",
        "mood_sample",
        "list_moods",
        "name",
        "no music mood {name!r}",
        "GET /api/music-moods lists them",
        "mood-{name}-{tag}{suffix}",
        "music_sample_tag",
        "sample_music",
        "",
    ),
    _Sample(
        "/templates/{name}/thumbnail",
        "name",
        "A still of this template: its title card over its picture style",
        "template_thumbnail",
        "list_templates",
        "name",
        "no template {name!r}",
        "GET /api/templates lists them",
        "template-{name}-{tag}.jpg",
        "template_sample_tag",
        "sample_template",
        "image/jpeg",
    ),
)


def _endpoint(kind: _Sample) -> Callable[..., Awaitable[Response]]:
    """The route answering ``kind``'s samples: 404 for a name not in the catalogue."""

    async def endpoint(
        name: str,
        request: Request,
        settings: SettingsDep,
        if_none_match: Annotated[str | None, Header(max_length=200)] = None,
    ) -> Response:
        from reelforge import samples

        entries = await run_in_threadpool(getattr(catalogue, kind.listing))
        if name not in {e[kind.key] for e in entries}:
            raise NotFound(kind.missing.format(name=name), hint=kind.listed_by)
        tag = await run_in_threadpool(getattr(samples, kind.tag_function), name)
        build = getattr(samples, kind.build_function)
        return await _serve(
            request,
            settings,
            kind.file_name.format(name=name, tag=tag, suffix=samples.SAMPLE_SUFFIX),
            tag,
            kind.media_type or samples.SAMPLE_MEDIA_TYPE,
            lambda path: build(name, path),
            if_none_match,
        )

    # The path parameter keeps its name (voice_id, mood, name) in the route and the OpenAPI
    # document; the annotation is set here, where the kind is known.
    endpoint.__annotations__["name"] = Annotated[
        str, PathParameter(alias=kind.param, min_length=1, max_length=64, pattern=_NAME)
    ]
    return endpoint


for _kind in _SAMPLES:
    router.add_api_route(
        _kind.path,
        _endpoint(_kind),
        methods=["GET"],
        name=_kind.route_name,
        response_class=Response,
        responses=_answers(_kind.media_type or "audio/mp4", _DESCRIPTIONS[_kind.media_type]),
        summary=_kind.summary,
    )
