"""``POST /api/videos``: queue a video job (202).

The service validates the request (storyboard fields, templates, voices) and its files: only
``media:<id>`` references to the caller's own uploads are accepted in a file field, so no path,
URL or ffmpeg protocol string from a request reaches the filesystem or ffmpeg.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from reelforge.service.api.deps import CallerDep, ServiceDep
from reelforge.service.api.problems import responses
from reelforge.service.api.schemas import Accepted, VideoRequest
from reelforge.service.api.submit import queue_job

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
    webhook_url = str(body.webhook_url) if body.webhook_url else None
    return await queue_job(
        lambda: service.submit_video(
            body.to_service(), owner=caller.owner, priority=body.priority, webhook_url=webhook_url
        ),
        request,
        response,
        service,
        caller,
    )
