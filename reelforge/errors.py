"""One error tree. The library raises these; only the CLI and the API translate them.

Every error carries a ``hint``: what the user should do about it.
"""

from __future__ import annotations


class ReelforgeError(Exception):
    """Base of every error reelforge raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\n  hint: {self.hint}" if self.hint else "")


class SpecError(ReelforgeError):
    """The script or storyboard is invalid (empty, unknown template, bad field...)."""

    exit_code = 2


class MediaError(ReelforgeError):
    """An input media file is missing, unreadable or corrupt."""

    exit_code = 3


class EngineUnavailable(ReelforgeError):
    """An engine cannot run here: a missing extra, binary or model."""

    exit_code = 4


class EngineFailed(ReelforgeError):
    """An engine ran and failed."""

    exit_code = 5


class RenderError(ReelforgeError):
    """ffmpeg/ffprobe failed or is absent, or the output could not be written."""

    exit_code = 6


class JobError(ReelforgeError):
    """A job could not be submitted, run or found."""

    exit_code = 7


class RenderCancelled(RenderError):
    """The render was cancelled (the job was cancelled, deleted or taken over): its processes
    were killed."""


class ResourceLimitExceeded(RenderError):
    """A render went over its memory or wall-clock limit and was stopped. Running it again
    would hit the same limit, so the service does not retry it."""
