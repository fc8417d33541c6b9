"""One error tree. The library raises these; only the CLI and the API translate them.

Every error carries a ``hint``: what the user should do about it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ReelforgeError(Exception):
    """Base of every error reelforge raises on purpose."""

    exit_code = 1
    """The command line's exit status for this error; a subclass sets its own with
    ``class SpecError(ReelforgeError, exit_code=2)``."""

    def __init_subclass__(cls, exit_code: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class SpecError(ReelforgeError, exit_code=2):
    """The script or storyboard is invalid (empty, unknown template, bad field...)."""


class MediaError(ReelforgeError, exit_code=3):
    """An input media file is missing, unreadable or corrupt."""


class EngineUnavailable(ReelforgeError, exit_code=4):
    """An engine cannot run here: a missing extra, binary or model."""


class EngineFailed(ReelforgeError, exit_code=5):
    """An engine ran and failed."""


class RenderError(ReelforgeError, exit_code=6):
    """ffmpeg/ffprobe failed or is absent, or the output could not be written."""


class JobError(ReelforgeError, exit_code=7):
    """A job could not be submitted, run or found."""


class RenderCancelled(RenderError):
    """The render was cancelled (the job was cancelled, deleted or taken over): its processes
    were killed."""


class ResourceLimitExceeded(RenderError):
    """A render went over its memory or wall-clock limit and was stopped. Running it again
    would hit the same limit, so the service does not retry it."""


@contextmanager
def optional_import(error: type[ReelforgeError], what: str, hint: str) -> Iterator[None]:
    """Around the import of an optional extra: where it fails, raise ``error`` saying that
    ``what`` is not available, with ``hint`` (what to install)."""
    try:
        yield
    except ImportError as exc:
        raise error(f"{what} is not available: {exc}", hint=hint) from exc
