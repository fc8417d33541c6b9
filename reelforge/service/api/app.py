"""The FastAPI application: routers, problem+json errors, CORS, metrics, and the service's life.

``create_app()`` with no arguments reads :class:`ApiSettings` from the environment and builds
the service; tests pass their own (its executor not yet started: the app's lifespan recovers
jobs left by a previous run, starts the executor, and closes the service on shutdown).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from reelforge import __version__
from reelforge.service.api import (
    catalogue,
    clips,
    docs,
    files,
    health,
    jobs,
    media,
    problems,
    samples,
    scripts,
    storyboards,
    talking,
    videos,
    web,
)
from reelforge.service.api.nesting import JsonNestingMiddleware
from reelforge.service.api.settings import ApiSettings
from reelforge.service.api.streams import StreamHub
from reelforge.service.auth import RateLimiter

log = logging.getLogger(__name__)

DESCRIPTION = """\
Turn scripts and storyboards into narrated, captioned, scored videos.

Submit with `POST /api/videos` (202 and a job id), follow with `GET /api/jobs/{id}` or the
server-sent events at `GET /api/jobs/{id}/events`, download with
`GET /api/jobs/{id}/files/{name}` (range requests supported). Upload pictures, sounds and
clips with `POST /api/media` and use the returned `media:<id>` in storyboards.

Authenticate with `Authorization: Bearer rf_...` or `X-API-Key: rf_...` (create keys with
`reelforge keys create NAME`). Errors are `application/problem+json` with a `hint`.
"""


def create_app(service: Any = None, settings: ApiSettings | None = None) -> FastAPI:
    """The API application over ``service`` (a JobService; built from ``settings`` if None)."""
    if settings is None:
        given = getattr(service, "settings", None)
        settings = (
            given
            if isinstance(given, ApiSettings)
            else ApiSettings(**given.model_dump())
            if given is not None
            else ApiSettings()
        )
    if service is None:
        from reelforge.service import create_service

        service = create_service(settings, start=False, recover=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.recover)
        await run_in_threadpool(service.executor.start)
        expiry = asyncio.create_task(_expire_periodically(service, settings))
        try:
            yield
        finally:
            expiry.cancel()
            await app.state.streams.close()
            app.state.samples.close()
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="reelforge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # served by api/docs.py without a CDN
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.limiter = RateLimiter(
        settings.rate_per_minute, settings.rate_burst, settings.rate_burst_s
    )
    app.state.metrics = health.Metrics(service)
    app.state.samples = samples.SampleBuilds(
        settings.sample_builds, settings.sample_queue, settings.sample_builds_per_client
    )
    app.state.streams = StreamHub(
        service.db,
        poll_s=settings.sse_poll_s,
        per_owner=settings.sse_streams_per_owner,
        total=settings.sse_streams_total,
    )

    problems.install(app)
    modules = (
        videos,
        talking,
        clips,
        jobs,
        files,
        media,
        catalogue,
        samples,
        storyboards,
        health,
        docs,
    )
    for module in modules:
        app.include_router(module.router)
    app.include_router(scripts.router)  # POST /api/scripts: write a script from an idea
    web.install(app)  # the studio at / (and Swagger UI's files for /docs)

    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials="*" not in origins,
            allow_methods=["GET", "POST", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "Range",
                "If-Range",
                "Last-Event-ID",
            ],
            expose_headers=[
                "Content-Range",
                "Accept-Ranges",
                "Content-Length",
                "ETag",
                "Location",
                "Retry-After",
            ],
        )
    app.add_middleware(JsonNestingMiddleware)  # inside the body limit: scans bounded bodies
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes, exempt=("/api/media",))
    app.add_middleware(health.LatencyMiddleware, metrics=app.state.metrics)
    app.add_middleware(NoSniffMiddleware)
    return app


class NoSniffMiddleware:
    """``X-Content-Type-Options: nosniff`` on every response: a browser must not read a
    caption file or an upload as HTML or script whatever its bytes look like."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_header(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != NOSNIFF[0]]
                message = {**message, "headers": [*headers, NOSNIFF]}
            await send(message)

        await self.app(scope, receive, add_header)


NOSNIFF = (b"x-content-type-options", b"nosniff")


async def _expire_periodically(service: Any, settings: ApiSettings) -> None:
    """Uploads and jobs past their retention are deleted now and every retention interval."""
    from reelforge.service.retention import expire

    if settings.media_retention_s is None and settings.job_retention_s is None:
        return
    while True:
        try:
            removed = await run_in_threadpool(expire, service)
            if any(removed.values()):
                log.info("retention: removed %(jobs)d jobs and %(media)d uploads", removed)
        except Exception:  # noqa: BLE001 - try again next time; serving goes on
            log.warning("retention run failed", exc_info=True)
        await asyncio.sleep(settings.retention_interval_s)


class BodyLimitMiddleware:
    """Refuses request bodies over ``limit`` bytes with 413: at once when Content-Length says
    so, else while the body streams in. Uploads (``exempt`` paths) have their own limit."""

    def __init__(self, app: Any, limit: int, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    def _too_large(self) -> problems.ApiProblem:
        return problems.PayloadTooLarge(
            f"the request body is larger than this server's limit of {self.limit} bytes",
            hint="send a shorter script or storyboard; upload media with POST /api/media",
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE") and not declared:
            await self.app(scope, receive, send)
            return
        # Read the (small) body here, up to the limit, then hand it on: a body that streams in
        # without a Content-Length is refused as soon as it passes the limit.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client went away
                return
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
        await self.app(scope, _replay(replay, receive), send)

    async def _refuse(self, scope: Any, receive: Any, send: Any) -> None:
        error = self._too_large()
        response = problems.problem(
            413,
            error.title,
            error.message,
            slug=error.slug,
            hint=error.hint,
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)


def _replay(messages: list[dict[str, Any]], then: Any = None) -> Any:
    """An ASGI ``receive`` giving ``messages`` first, then deferring to ``then``."""
    queue = list(messages)

    async def receive() -> Any:
        if queue:
            return queue.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive
