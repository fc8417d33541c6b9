"""The reelforge service core: durable jobs, storage and workers (no HTTP here).

``create_service()`` wires the database (migrated to the latest schema), the blob store and the
executor from :class:`~reelforge.service.settings.ServiceSettings` and returns the
:class:`~reelforge.service.jobs.JobService` that the API, the CLI and tests drive::

    service = create_service()
    job = service.submit_video({"script": "Hello there.", "preview": True})
    service.get(job.id).status   # "queued" ... "completed"
    service.close()

Nothing here imports the rendering stack until a job runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reelforge.service.jobs import JobService
    from reelforge.service.settings import ServiceSettings


def create_service(
    settings: ServiceSettings | None = None, *, start: bool = True, recover: bool = True
) -> JobService:
    """A ready :class:`JobService`: database migrated, storage checked, executor started.

    ``start=False`` leaves the executor stopped (submit-only processes, tests); ``recover``
    re-queues jobs left queued or held by a dead worker before workers start.
    """
    from reelforge.service.db import Database
    from reelforge.service.executor import executor_from_settings
    from reelforge.service.jobs import JobService
    from reelforge.service.settings import get_service_settings
    from reelforge.service.storage import storage_from_url

    settings = settings or get_service_settings()
    database = Database(settings.database_url)
    database.migrate()
    storage = storage_from_url(settings.storage_url, quota_bytes=settings.storage_quota_bytes)
    executor = executor_from_settings(database, storage, settings)
    service = JobService(database, storage, executor, settings)
    if recover:
        service.recover()
    if start:
        executor.start()
    return service


__all__ = ["create_service"]
