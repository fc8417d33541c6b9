"""``POST /api/videos``: queue a video job (202).

The service validates the request (storyboard fields, templates, voices) and its files: only
``media:<id>`` references to the caller's own uploads are accepted in a file field, so no path,
URL or ffmpeg protocol string from a request reaches the filesystem or ffmpeg.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from reelforge.service import auth
from reelforge.service.api.deps import CallerDep, ServiceDep
from reelforge.service.api.problems import TooManyRequests, responses
from reelforge.service.api.schemas import Accepted, VideoRequest, links

router = APIRouter(prefix="/api/videos", tags=["videos"])


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    responses=responses(401, 413, 422, 429, 507),
    summary="Make a video from a script or storyboard (queued; poll or stream the job)",
)
async def create_video(
    body: VideoRequest,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: CallerDep,
) -> Any:
    try:
        await run_in_threadpool(auth.reserve_job, service.db, caller.owner, caller.jobs_per_day)
    except auth.QuotaExceeded as exc:
        raise TooManyRequests(
            exc.message, hint=exc.hint, headers={"Retry-After": str(exc.retry_after_s)}
        ) from None
    try:
        job = await run_in_threadpool(
            service.submit_video,
            body.to_service(),
            owner=caller.owner,
            priority=body.priority,
            webhook_url=str(body.webhook_url) if body.webhook_url else None,
        )
    except BaseException:
        await run_in_threadpool(auth.release_job, service.db, caller.owner, caller.jobs_per_day)
        raise
    request.app.state.metrics.submitted.inc()
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return Accepted(id=job.id, status=job.status, links=links(request, job))
