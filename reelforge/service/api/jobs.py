"""Jobs: status, list, cancel-and-delete, retry, and a server-sent events progress stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from reelforge.service.api.deps import CallerDep, ServiceDep, SettingsDep
from reelforge.service.api.problems import responses
from reelforge.service.api.schemas import JobOut, JobPage, JobStatusName, job_out
from reelforge.service.api.streams import StreamHub, StreamSlot
from reelforge.service.redact import public_note

router = APIRouter(prefix="/api/jobs", tags=["jobs"], responses=responses(401, 422, 429))

JobId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
FINAL = ("completed", "failed", "cancelled")


@router.get(
    "/{job_id}",
    response_model=JobOut,
    responses=responses(404),
    summary="A job's status, stage, progress, ETA, error and result links",
)
async def get_job(job_id: JobId, request: Request, service: ServiceDep, caller: CallerDep) -> Any:
    job = await run_in_threadpool(service.get, job_id, owner=caller.owner)
    return job_out(request, job)


@router.get("", response_model=JobPage, summary="Your jobs, newest first")
async def list_jobs(
    request: Request,
    service: ServiceDep,
    caller: CallerDep,
    status: JobStatusName | None = None,
    kind: Annotated[
        str | None, Query(max_length=16, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. video")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Any:
    jobs, total = await run_in_threadpool(
        service.list, status=status, kind=kind, owner=caller.owner, limit=limit, offset=offset
    )
    return JobPage(
        items=[job_out(request, j) for j in jobs], total=total, limit=limit, offset=offset
    )


@router.delete(
    "/{job_id}",
    status_code=204,
    responses=responses(404),
    summary="Cancel the job if it runs, and delete it with its files",
)
async def delete_job(job_id: JobId, service: ServiceDep, caller: CallerDep) -> Response:
    await run_in_threadpool(service.delete, job_id, owner=caller.owner)
    return Response(status_code=204)


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    responses=responses(404, 409),
    summary="Cancel an unfinished job and keep it (its record can be retried; 409 when it has "
    "already completed or failed)",
)
async def cancel_job(
    job_id: JobId, request: Request, service: ServiceDep, caller: CallerDep
) -> Any:
    job = await run_in_threadpool(service.cancel, job_id, owner=caller.owner)
    return job_out(request, job)


@router.post(
    "/{job_id}/retry",
    status_code=202,
    response_model=JobOut,
    responses=responses(404, 409),
    summary="Queue a failed or cancelled job again",
)
async def retry_job(job_id: JobId, request: Request, service: ServiceDep, caller: CallerDep) -> Any:
    job = await run_in_threadpool(service.retry, job_id, owner=caller.owner)
    return job_out(request, job)


@router.get(
    "/{job_id}/events",
    responses={
        200: {
            "description": "text/event-stream: `progress` events, then one `end` event "
            "carrying the final job",
            "content": {"text/event-stream": {}},
        },
        **responses(404),
    },
    response_class=StreamingResponse,
    summary="Server-sent events: the job's progress until it is completed, failed or cancelled "
    "(a few streams per key; 429 beyond)",
)
async def job_events(
    job_id: JobId,
    request: Request,
    service: ServiceDep,
    settings: SettingsDep,
    caller: CallerDep,
    # Bounded: a larger integer does not fit a database column (an error mid-stream).
    last_event_id: Annotated[
        int | None, Header(ge=0, le=2**62, description="resume after this id")
    ] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="only events after this id")] = 0,
) -> StreamingResponse:
    owner = caller.owner
    await run_in_threadpool(service.get, job_id, owner=owner)  # 404 before the stream starts
    start = max(after, last_event_id or 0)
    hub: StreamHub = request.app.state.streams
    slot = hub.admit(owner)
    return _CountedStream(
        _stream(request, service, settings, hub, job_id, owner, start),
        slot,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class _CountedStream(StreamingResponse):
    """A stream that gives its slot back however it ends (even if it never started)."""

    def __init__(self, content: AsyncIterator[str], slot: StreamSlot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()


def _sse(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _stream(
    request: Request,
    service: Any,
    settings: Any,
    hub: StreamHub,
    job_id: str,
    owner: str,
    after: int,
) -> AsyncIterator[str]:
    wake = hub.watch(job_id)
    try:
        async for chunk in _follow(request, service, settings, wake, job_id, owner, after):
            yield chunk
    finally:
        hub.unwatch(job_id, wake)


async def _follow(
    request: Request,
    service: Any,
    settings: Any,
    wake: asyncio.Event,
    job_id: str,
    owner: str,
    after: int,
) -> AsyncIterator[str]:
    """The stream's events: reads the job when woken by the shared poller, or every
    keep-alive interval (to notice a deleted job)."""
    from reelforge.errors import ReelforgeError

    yield f"retry: {int(settings.sse_poll_s * 4000)}\n\n"
    started = time.monotonic()
    while True:
        wake.clear()  # before reading: news arriving during the read wakes the next wait
        try:
            # The job first, then its events: when the job read is final, every event up to
            # the final one is already stored, so none is skipped by the end.
            job = await run_in_threadpool(service.get, job_id, owner=owner)
            events = await run_in_threadpool(service.events, job_id, after, owner=owner)
        except ReelforgeError as exc:  # deleted while streaming
            yield _sse("error", {"detail": exc.message, "hint": exc.hint})
            return
        for event in events:
            after = max(after, int(event.id))
            data = event.to_dict()
            data["message"] = public_note(data.get("message"), job_id)
            if data.get("progress") is not None:
                data["progress"] = round(float(data["progress"]) * 100, 1)
            yield _sse("progress", data, event.id)
        if job.status in FINAL:
            yield _sse("end", job_out(request, job).model_dump(mode="json"), after)
            return
        left = settings.sse_max_s - (time.monotonic() - started)
        if left <= 0:
            yield _sse(
                "timeout", {"detail": "stream closed; reconnect to go on", "last_event_id": after}
            )
            return
        if await request.is_disconnected():
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=min(settings.sse_keepalive_s, left))
        except TimeoutError:
            yield ": keep-alive\n\n"
