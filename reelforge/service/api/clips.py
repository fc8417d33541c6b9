"""``POST /api/clips``: queue a clips job (202) for an uploaded talk.

The video is named only as ``media:<id>`` of the caller's own upload (no path, URL or
protocol string reaches ffmpeg); every option is bounded by the kind's request model
(:class:`reelforge.kinds.clips.ClipsRequest`), which the body extends.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import AnyHttpUrl, ConfigDict, Field

from reelforge.kinds.clips import ClipsRequest
from reelforge.service.api.schemas import Accepted, Priority
from reelforge.service.api.submit import SUBMIT_ROUTE, SubmitterDep, kind_request

router = APIRouter(prefix="/api/clips", tags=["clips"])


class ClipsBody(ClipsRequest):
    """A talk to cut into clips: an uploaded video and the options of ``reelforge clips``
    (the kind's request, its times named without their ``_s``), and where the job goes."""

    model_config = ConfigDict(
        alias_generator=lambda name: name.removesuffix("_s"),
        json_schema_extra={
            "examples": [
                {"video": "media:0123456789abcdef0123456789abcdef", "count": 3, "format": "9:16"},
                {"video": "media:0123456789abcdef0123456789abcdef", "query": "pricing"},
            ]
        },
    )

    video: str = Field(
        pattern=r"^media:[0-9a-f]{32}(\.[A-Za-z0-9]{1,5})?$",
        description="media:<id> of an uploaded video (POST /api/media)",
    )
    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(
        None, description="POSTed (HMAC-signed) when the job completes or fails"
    )

    def to_request(self, video: str) -> dict[str, Any]:
        """The kind's request, for the upload ``video`` (its canonical reference)."""
        return kind_request(self) | {"video": video}


@router.post(
    "",
    summary="Cut an uploaded talk into ranked, captioned vertical clips (queued)",
    **SUBMIT_ROUTE,
)
async def create_clips(body: ClipsBody, submitter: SubmitterDep) -> Accepted:
    service, owner = submitter.service, submitter.caller.owner
    return await submitter.submit(
        "clips",
        body,
        lambda: body.to_request(service.media_reference("video", body.video, owner)),
    )
