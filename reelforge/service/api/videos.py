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
    "", status_code=202, response_model=Accepted,
    responses=responses(401, 413, 422, 429),
    summary="Make a video from a script or storyboard (queued; poll or stream the job)",
)
async def create_video(
    body: VideoRequest,
    request: Request,
    response: Response,
    service: ServiceDep,
    caller: CallerDep,
) -> Any:
    if caller.jobs_per_day:
        used = await run_in_threadpool(auth.jobs_today, service.db, caller.owner)
        if used >= caller.jobs_per_day:
            raise TooManyRequests(
                f"daily quota of {caller.jobs_per_day} jobs reached ({used} in the last 24 h)",
                hint="wait until older jobs leave the 24-hour window, or ask for a higher quota",
                headers={"Retry-After": "3600"},
            )
    job = await run_in_threadpool(
        service.submit_video, body.to_service(), owner=caller.owner, priority=body.priority,
        webhook_url=str(body.webhook_url) if body.webhook_url else None,
    )
    request.app.state.metrics.submitted.inc()
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return Accepted(id=job.id, status=job.status, links=links(request, job))
