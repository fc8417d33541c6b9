"""The one way a per-kind route queues a job: count it against the caller's daily jobs, submit
it, answer 202 with its links (or give the day's job back when the submit fails).

Each kind's route (``videos``, ``talking``, ...) only parses its own request and hands it to
the :class:`Submitter` it depends on, declared with :data:`SUBMIT_ROUTE`, so the daily limit,
the metrics, the 202 answer and its documented problems cannot drift apart::

    @router.post("/api/things", summary="Make a thing (queued)", **SUBMIT_ROUTE)
    async def create_thing(body: ThingBody, submitter: SubmitterDep) -> Accepted:
        return await submitter.submit("thing", body, kind_request(body))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import AnyHttpUrl, BaseModel

from reelforge.kinds import JobRequest
from reelforge.service import auth
from reelforge.service.api.deps import Caller, CallerDep, ServiceDep
from reelforge.service.api.problems import TooManyRequests, responses
from reelforge.service.api.schemas import Accepted, links
from reelforge.service.jobs import JobService
from reelforge.service.models import Job

SUBMIT_ROUTE: dict[str, Any] = {
    "status_code": 202,
    "response_model": Accepted,
    "responses": responses(401, 413, 422, 429, 507),
}
"""The decorator arguments every kind's submit route shares (202, its body, its problems)."""


class Delivery(Protocol):
    """What every submit body carries beside its kind's request: how urgent the job is and
    where to tell when it ends."""

    @property
    def priority(self) -> str: ...
    @property
    def webhook_url(self) -> AnyHttpUrl | None: ...


def kind_request(body: BaseModel) -> dict[str, Any]:
    """The kind's request in a submit body that extends the kind's request model: all its
    fields but the :class:`Delivery` ones."""
    return body.model_dump(mode="json", exclude={"priority", "webhook_url"})


@dataclass(frozen=True)
class Submitter:
    """Queues the jobs of one request to a submit route, for its caller."""

    request: Request
    response: Response
    service: JobService
    caller: Caller

    def delivery(self, body: Delivery) -> dict[str, Any]:
        """The keyword arguments of the service's submit verbs for ``body``'s caller."""
        webhook_url = str(body.webhook_url) if body.webhook_url else None
        return {"owner": self.caller.owner, "priority": body.priority, "webhook_url": webhook_url}

    async def submit(
        self,
        kind: str,
        body: Delivery,
        job_request: JobRequest | dict[str, Any] | Callable[[], JobRequest | dict[str, Any]],
    ) -> Accepted:
        """Queue a ``kind`` job of ``job_request``: the kind's request, or a function that
        builds it (called in a worker thread, where it may read the database)."""
        build = job_request if callable(job_request) else lambda: job_request
        return await self.queue(lambda: self.service.submit(kind, build(), **self.delivery(body)))

    async def queue(self, submit: Callable[[], Job]) -> Accepted:
        """Reserve one of the caller's jobs of the day, run ``submit`` in a thread, answer
        202."""
        owner, per_day = self.caller.owner, self.caller.jobs_per_day
        try:
            await run_in_threadpool(auth.reserve_job, self.service.db, owner, per_day)
        except auth.QuotaExceeded as exc:
            raise TooManyRequests(
                exc.message, hint=exc.hint, headers={"Retry-After": str(exc.retry_after_s)}
            ) from None
        try:
            job = await run_in_threadpool(submit)
        except BaseException:
            await run_in_threadpool(auth.release_job, self.service.db, owner, per_day)
            raise
        self.request.app.state.metrics.submitted.inc()
        self.response.headers["Location"] = f"/api/jobs/{job.id}"
        return Accepted(id=job.id, status=job.status, links=links(self.request, job))


def get_submitter(
    request: Request, response: Response, service: ServiceDep, caller: CallerDep
) -> Submitter:
    return Submitter(request, response, service, caller)


SubmitterDep = Annotated[Submitter, Depends(get_submitter)]
