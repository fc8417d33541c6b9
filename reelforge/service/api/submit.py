"""The one way a per-kind route queues a job: count it against the caller's daily jobs, submit
it, answer 202 with its links (or give the day's job back when the submit fails).

Each kind's route (``videos``, ``talking``, ...) only parses its own request and hands the
submit call here, so the daily limit, the metrics and the 202 answer cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from reelforge.service import auth
from reelforge.service.api.deps import Caller
from reelforge.service.api.problems import TooManyRequests
from reelforge.service.api.schemas import Accepted, links
from reelforge.service.jobs import JobService
from reelforge.service.models import Job


async def queue_job(
    submit: Callable[[], Job],
    request: Request,
    response: Response,
    service: JobService,
    caller: Caller,
) -> Accepted:
    """Reserve one of ``caller``'s jobs of the day, run ``submit`` in a thread, answer 202."""
    try:
        await run_in_threadpool(auth.reserve_job, service.db, caller.owner, caller.jobs_per_day)
    except auth.QuotaExceeded as exc:
        raise TooManyRequests(
            exc.message, hint=exc.hint, headers={"Retry-After": str(exc.retry_after_s)}
        ) from None
    try:
        job = await run_in_threadpool(submit)
    except BaseException:
        await run_in_threadpool(auth.release_job, service.db, caller.owner, caller.jobs_per_day)
        raise
    request.app.state.metrics.submitted.inc()
    response.headers["Location"] = f"/api/jobs/{job.id}"
    return Accepted(id=job.id, status=job.status, links=links(request, job))
