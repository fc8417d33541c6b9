"""``GET /api/health`` (each part, 503 when a required one is down) and ``GET /metrics``.

Anyone may ask whether the server is up: without an admin key the health says only up or down
per part. Details (job counts, worker names, paths, engine reasons) and the metrics (job counts
by status, queue depths) need an admin key (``reelforge keys create NAME --admin``), or open
mode, or ``REELFORGE_METRICS_PUBLIC=true`` for the metrics."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, Field

from reelforge.service.api.deps import OptionalCallerDep, ServiceDep, SettingsDep
from reelforge.service.api.problems import Forbidden, Unauthorized
from reelforge.service.lifecycle import JobStatus

router = APIRouter(tags=["health"])

REQUIRED = ("database", "queue", "storage", "ffmpeg")


class Part(BaseModel):
    ok: bool
    required: bool
    detail: str = ""
    info: dict[str, Any] = Field(default_factory=dict)


class Health(BaseModel):
    status: str = Field(description="ok | degraded (an optional part is down) | down")
    parts: dict[str, Part]


@router.get(
    "/api/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "a required part is down"}},
    summary="Database, queue, storage, ffmpeg and each engine (details with an admin key)",
)
async def health(request: Request, service: ServiceDep, caller: OptionalCallerDep) -> Any:
    admin = caller is not None and caller.admin
    parts = await _parts(request, service, fresh=admin)
    down = [name for name, part in parts.items() if not part.ok]
    status = "down" if any(parts[n].required for n in down) else ("degraded" if down else "ok")
    if not admin:
        parts = {name: Part(ok=part.ok, required=part.required) for name, part in parts.items()}
    body = Health(status=status, parts=parts).model_dump(mode="json")
    return JSONResponse(body, status_code=503 if status == "down" else 200)


PUBLIC_TTL_S = 1.0  # anonymous health checks share one result a second: no database load


async def _parts(request: Request, service: Any, *, fresh: bool) -> dict[str, Part]:
    cached = getattr(request.app.state, "health_cache", None)
    now = time.monotonic()
    if not fresh and cached is not None and now - cached[0] < PUBLIC_TTL_S:
        return dict(cached[1])
    parts = await run_in_threadpool(_check_all, service)
    request.app.state.health_cache = (now, parts)
    return parts


def _check_all(service: Any) -> dict[str, Part]:
    from reelforge.service.api.catalogue import engines

    parts: dict[str, Part] = {}
    try:
        core = service.health()
    except Exception as exc:  # noqa: BLE001 - a failing check is a "down", never a 500
        core = {
            name: {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            for name in ("database", "queue", "storage")
        }
    for name, state in core.items():
        if not isinstance(state, dict):
            continue  # the core's overall "ok"
        state = dict(state) if isinstance(state, dict) else {"ok": bool(state)}
        ok = bool(state.pop("ok", False))
        detail = str(state.pop("error", "") or state.pop("detail", "") or "")
        if state.get("hint"):
            detail = f"{detail} (hint: {state.pop('hint')})"
        parts[name] = Part(ok=ok, required=name in REQUIRED, detail=detail, info=_jsonable(state))
    executor = service.executor
    running = getattr(executor, "running", {})
    parts["executor"] = Part(
        ok=True,
        required=False,
        info={
            "kind": type(executor).__name__,
            "workers": getattr(executor, "workers", None),
            "running": len(running) if isinstance(running, dict) else None,
        },
    )
    ffmpeg = shutil.which("ffmpeg")
    ffprobe = shutil.which("ffprobe")
    parts["ffmpeg"] = Part(
        ok=bool(ffmpeg and ffprobe),
        required=True,
        detail="" if ffmpeg and ffprobe else "ffmpeg/ffprobe not found: apt-get install ffmpeg",
        info={"ffmpeg": ffmpeg or "", "ffprobe": ffprobe or ""},
    )
    for engine in _engines_cached(engines):
        parts[f"engine:{engine['kind']}:{engine['name']}"] = Part(
            ok=engine["available"],
            required=False,
            detail=engine["reason"],
            info={"version": engine["version"]},
        )
    return parts


_engines_state: dict[str, Any] = {"at": -1e9, "value": []}


def _engines_cached(build: Any, ttl: float = 60.0) -> list[dict[str, Any]]:
    now = time.monotonic()
    if now - _engines_state["at"] > ttl:
        _engines_state["value"] = build()
        _engines_state["at"] = now
    return list(_engines_state["value"])


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        plain = isinstance(value, str | int | float | bool | dict | list | None)
        out[str(key)] = value if plain else str(value)
    return out


# --------------------------------------------------------------------------- metrics


class Metrics:
    """Prometheus metrics of one app (its own registry, so tests can make many apps)."""

    def __init__(self, service: Any) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "reelforge_http_request_duration_seconds",
            "API request latency by route",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.submitted = Counter(
            "reelforge_jobs_submitted",
            "Jobs accepted by this API process",
            registry=self.registry,
        )
        self.registry.register(_JobsCollector(service))


class _JobsCollector:
    """Job counts by status and queue depth, read from the database at scrape time."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy import func, select

        from reelforge.service.models import Job

        by_status = GaugeMetricFamily("reelforge_jobs", "Jobs by status", labels=["status"])
        depth = GaugeMetricFamily(
            "reelforge_queue_depth", "Jobs queued and waiting for a worker", labels=["queue"]
        )
        up = GaugeMetricFamily("reelforge_database_up", "1 when the job database answers")
        try:
            with self.service.db.session() as session:
                counts = dict(
                    session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
                )
                queued = dict(
                    session.execute(
                        select(Job.queue, func.count())
                        .where(Job.status == "queued")
                        .group_by(Job.queue)
                    ).all()
                )
        except Exception:  # noqa: BLE001 - scrape must not fail because the database did
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        for status in JobStatus:
            by_status.add_metric([status.value], float(counts.get(status.value, 0)))
        for queue in sorted({"cpu", "gpu", *queued}):
            depth.add_metric([queue], float(queued.get(queue, 0)))
        yield by_status
        yield depth
        yield up


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, settings: SettingsDep, caller: OptionalCallerDep) -> Response:
    if not settings.metrics_public and (caller is None or not caller.admin):
        if caller is None:
            raise Unauthorized(
                "the metrics need an admin API key",
                hint="scrape with 'Authorization: Bearer <admin key>' "
                "(`reelforge keys create NAME --admin`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        raise Forbidden(
            "the metrics need an admin API key",
            hint="create one with `reelforge keys create NAME --admin`",
        )
    registry = request.app.state.metrics.registry
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class LatencyMiddleware:
    """Records each request's latency by route template (event streams excluded)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "(unmatched)"
            if not route.endswith("/events"):
                self.metrics.latency.labels(scope.get("method", ""), route, str(status)).observe(
                    time.perf_counter() - started
                )
