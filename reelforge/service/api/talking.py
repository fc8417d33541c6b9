"""``POST /api/talking`` and ``POST /api/podcasts``: lip-synced talking characters and
podcasts, queued through the same job-kinds seam as videos (202).

Portraits are ``media:<id>`` references to the caller's own image uploads only; every field is
bounded by the kind's request model and checked at submit (422).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import AnyHttpUrl, Field

from reelforge.kinds.podcast import PodcastRequest
from reelforge.kinds.talking import TalkingRequest
from reelforge.service.api.schemas import Accepted, Priority
from reelforge.service.api.submit import SUBMIT_ROUTE, SubmitterDep, kind_request

router = APIRouter(tags=["talking"])


class TalkingBody(TalkingRequest):
    """A talking character: ``script`` and ``character`` (built-in) or ``portrait``
    (media:<id>)."""

    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(None, description="POSTed when the job ends")


class PodcastBody(PodcastRequest):
    """A podcast: ``dialogue`` ('HOST: ...' lines), optional ``speakers``, ``layout``."""

    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(None, description="POSTed when the job ends")


@router.post(
    "/api/talking",
    summary="Make a lip-synced talking character video (queued; poll or stream the job)",
    **SUBMIT_ROUTE,
)
async def create_talking(body: TalkingBody, submitter: SubmitterDep) -> Accepted:
    return await submitter.submit("talking", body, kind_request(body))


@router.post(
    "/api/podcasts",
    summary="Make a podcast video of a dialogue (queued; poll or stream the job)",
    **SUBMIT_ROUTE,
)
async def create_podcast(body: PodcastBody, submitter: SubmitterDep) -> Accepted:
    return await submitter.submit("podcast", body, kind_request(body))
