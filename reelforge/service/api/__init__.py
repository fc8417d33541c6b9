"""The REST API: a thin FastAPI client of :class:`reelforge.service.jobs.JobService`.

One router per resource (videos, jobs, files, media, catalogue, health); errors become
``application/problem+json`` in :mod:`.problems` only. ``create_app()`` builds the app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from reelforge.service.api.settings import ApiSettings


def create_app(service: Any = None, settings: ApiSettings | None = None) -> FastAPI:
    from reelforge.service.api.app import create_app as build

    return build(service, settings)


__all__ = ["create_app"]
