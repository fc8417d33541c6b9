"""Samples of the catalogue: a voice's sample sentence, a music mood's first seconds and a
template's still (``reelforge.sample_voice``, ``sample_music``, ``sample_template``).

Public like the catalogue: they describe this installation. Each is made on its first request
and kept under ``<cache_dir>/samples``, named by what it depends on (engine versions, sentence,
template fields), so an upgrade makes new ones. Only catalogue names are accepted (404 for the
rest), so the cache holds at most one file per voice, mood and template.

A sample not made yet costs an engine run in this process, so :class:`SampleBuilds` bounds them:
one build per file whoever asks (later requests await the same build, holding no thread), a few
at once on threads of their own (the server's thread pool never waits for an engine), a short
queue, and a few per client address; past these the request is refused (429 with Retry-After,
like event streams past their caps) instead of queueing without end. A file appears in the
cache only once complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as PathParameter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from reelforge.service.api import catalogue
from reelforge.service.api.deps import SettingsDep
from reelforge.service.api.problems import (
    ApiProblem,
    NotFound,
    TooManyRequests,
    responses,
)

router = APIRouter(prefix="/api", tags=["catalogue"])

CACHE_CONTROL = "public, max-age=86400"
RETRY_AFTER_S = 5  # a sample takes a second or two to make


def _built(path: Path, build: Callable[[Path], Path]) -> Path:
    """``path``, made by ``build`` under a temporary name and renamed when complete (a request
    that finds the file never reads half of it; the name is this process's, as API processes
    sharing the cache folder may build the same sample at once)."""
    if path.is_file():  # made by a build that finished since the request looked
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
    try:
        build(partial)
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return path


class SampleBuilds:
    """The samples this API process is making, bounded (see the module's docstring)."""

    def __init__(self, workers: int = 2, queue: int = 16, per_client: int = 12) -> None:
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="reelforge-sample")
        self._limit = workers + queue
        self._per_client = per_client
        self._guard = threading.Lock()
        self._pending: dict[Path, tuple[str, Future[Path]]] = {}

    def start(self, path: Path, build: Callable[[Path], Path], client: str) -> Future[Path]:
        """The build of ``path``: the one under way, or a new one if there is room for it."""
        with self._guard:
            if path in self._pending:
                return self._pending[path][1]
            if len(self._pending) >= self._limit:
                raise self._refusal("this server is making as many samples as it can")
            if [owner for owner, _ in self._pending.values()].count(client) >= self._per_client:
                raise self._refusal("samples you asked for are still being made")
            future = self._executor.submit(_built, path, build)
            self._pending[path] = (client, future)
        future.add_done_callback(lambda _: self._forget(path))
        return future

    def close(self) -> None:
        """Drop the builds not started; those running finish on their threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _forget(self, path: Path) -> None:
        with self._guard:
            self._pending.pop(path, None)

    @staticmethod
    def _refusal(message: str) -> ApiProblem:
        return TooManyRequests(
            message,
            hint=f"retry in {RETRY_AFTER_S} s (samples already made are served at once)",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


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
    path = Path(settings.cache_dir) / "samples" / file_name
    if not path.is_file():
        builds: SampleBuilds = request.app.state.samples
        client = request.client.host if request.client is not None else "unknown"
        future = builds.start(path, build, client)
        # shielded: a client that goes away must not cancel a build others may be awaiting
        await asyncio.shield(asyncio.wrap_future(future))
    return FileResponse(path, media_type=media_type, headers=headers)


def _answers(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {}}, "description": description},
        304: {"description": "not modified (If-None-Match)"},
        **responses(404, 422, 429),
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
