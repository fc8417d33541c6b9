"""The FastAPI application: routers, problem+json errors, CORS, metrics, and the service's life.

``create_app()`` with no arguments reads :class:`ApiSettings` from the environment and builds
the service; tests pass their own (its executor not yet started: the app's lifespan recovers
jobs left by a previous run, starts the executor, and closes the service on shutdown).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from reelforge import __version__
from reelforge.service.api import catalogue, files, health, jobs, media, problems, videos
from reelforge.service.api.settings import ApiSettings
from reelforge.service.auth import RateLimiter

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
        settings = (given if isinstance(given, ApiSettings)
                    else ApiSettings(**given.model_dump()) if given is not None
                    else ApiSettings())
    if service is None:
        from reelforge.service import create_service

        service = create_service(settings, start=False, recover=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.recover)
        await run_in_threadpool(service.executor.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.close)

    app = FastAPI(
        title="reelforge",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
    app.state.metrics = health.Metrics(service)

    problems.install(app)
    for module in (videos, jobs, files, media, catalogue, health):
        app.include_router(module.router)

    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials="*" not in origins,
            allow_methods=["GET", "POST", "DELETE", "HEAD", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Range", "If-Range",
                           "Last-Event-ID"],
            expose_headers=["Content-Range", "Accept-Ranges", "Content-Length", "ETag",
                            "Location", "Retry-After"],
        )
    app.add_middleware(health.LatencyMiddleware, metrics=app.state.metrics)
    return app
