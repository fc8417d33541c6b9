"""``POST /api/videos``: queue a video job (202).

The service validates the request (storyboard fields, templates, voices) and its files: only
``media:<id>`` references to the caller's own uploads are accepted in a file field, so no path,
URL or ffmpeg protocol string from a request reaches the filesystem or ffmpeg.
"""

from __future__ import annotations

from fastapi import APIRouter

from reelforge.service.api.schemas import Accepted, VideoRequest
from reelforge.service.api.submit import SUBMIT_ROUTE, SubmitterDep

router = APIRouter(prefix="/api/videos", tags=["videos"])


@router.post(
    "",
    summary="Make a video from a script or storyboard (queued; poll or stream the job)",
    **SUBMIT_ROUTE,
)
async def create_video(body: VideoRequest, submitter: SubmitterDep) -> Accepted:
    service, delivery = submitter.service, submitter.delivery(body)
    return await submitter.queue(lambda: service.submit_video(body.to_service(), **delivery))
