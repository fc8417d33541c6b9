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
from collections.abc import Callable
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

Name = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_-]*$")]


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


_AUDIO = _answers("audio/mp4", "an AAC sample (.m4a)")
_IMAGE = _answers("image/jpeg", "a 320x180 JPEG")


@router.get(
    "/voices/{voice_id}/sample",
    response_class=Response,
    responses=_AUDIO,
    summary="A few seconds of this voice reading a fixed sentence in its language",
)
async def voice_sample(
    voice_id: Name,
    request: Request,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    from reelforge import samples

    voices = await run_in_threadpool(catalogue.list_voices)
    if voice_id not in {v["id"] for v in voices}:
        raise NotFound(f"no voice {voice_id!r} here", hint="GET /api/voices lists them")
    tag = await run_in_threadpool(samples.voice_sample_tag, voice_id)
    return await _serve(
        request,
        settings,
        f"voice-{voice_id}-{tag}{samples.SAMPLE_SUFFIX}",
        tag,
        samples.SAMPLE_MEDIA_TYPE,
        lambda path: samples.sample_voice(voice_id, path),
        if_none_match,
    )


@router.get(
    "/music-moods/{mood}/sample",
    response_class=Response,
    responses=_AUDIO,
    summary="Eight seconds of music in this mood",
)
async def mood_sample(
    mood: Name,
    request: Request,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    from reelforge import samples

    moods = await run_in_threadpool(catalogue.list_moods)
    if mood not in {m["name"] for m in moods}:
        raise NotFound(f"no music mood {mood!r}", hint="GET /api/music-moods lists them")
    tag = await run_in_threadpool(samples.music_sample_tag, mood)
    return await _serve(
        request,
        settings,
        f"mood-{mood}-{tag}{samples.SAMPLE_SUFFIX}",
        tag,
        samples.SAMPLE_MEDIA_TYPE,
        lambda path: samples.sample_music(mood, path),
        if_none_match,
    )


@router.get(
    "/templates/{name}/thumbnail",
    response_class=Response,
    responses=_IMAGE,
    summary="A still of this template: its title card over its picture style",
)
async def template_thumbnail(
    name: Name,
    request: Request,
    settings: SettingsDep,
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    from reelforge import samples

    templates = await run_in_threadpool(catalogue.list_templates)
    if name not in {t["name"] for t in templates}:
        raise NotFound(f"no template {name!r}", hint="GET /api/templates lists them")
    tag = await run_in_threadpool(samples.template_sample_tag, name)
    return await _serve(
        request,
        settings,
        f"template-{name}-{tag}.jpg",
        tag,
        "image/jpeg",
        lambda path: samples.sample_template(name, path),
        if_none_match,
    )
