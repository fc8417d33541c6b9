"""Executors run queued jobs: an in-process thread pool (default) or Celery (scale-out).

Executors are told "job X is queued" but the database decides what runs: the in-process pool
polls it for the best ready job (critical first, then first queued) and claims it with a
compare-and-set, so a lost notification or a restart loses nothing.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from reelforge.service.db import Database
from reelforge.service.settings import ServiceSettings
from reelforge.service.storage import Storage


@runtime_checkable
class Executor(Protocol):
    def start(self) -> None:
        """Start serving (threads, or nothing for a remote executor)."""
        ...

    def submit(self, job_id: str, queue: str, priority: int) -> None:
        """Job ``job_id`` is queued in the database: run it when a worker is free."""
        ...

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, let running ones finish."""
        ...


class InProcessExecutor:
    """``workers`` threads that pick ready jobs from the database and run them."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        settings: ServiceSettings,
        workers: int | None = None,
        queues: tuple[str, ...] | None = None,
    ) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def submit(self, job_id: str, queue: str, priority: int) -> None:
        raise NotImplementedError

    def shutdown(self, wait: bool = True) -> None:
        raise NotImplementedError


def executor_from_settings(db: Database, storage: Storage, settings: ServiceSettings) -> Executor:
    """InProcessExecutor for ``executor=inprocess``; CeleryExecutor (``reelforge.service.
    celery_app``) for ``executor=celery``, constructed as ``CeleryExecutor(db, storage, settings)``.
    """
    raise NotImplementedError
