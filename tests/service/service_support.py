"""Constants the service tests share, in a module of its own name: ``from conftest import``
would pick whichever folder's conftest was imported last when several test folders run in one
pytest command (tests/talking has a conftest too)."""

from __future__ import annotations

from typing import Any

from reelforge.kinds.video import OUTPUTS as VIDEO_TABLE
from reelforge.kinds.video import TRANSLATION_OUTPUTS

TINY = {"scenes": [{"narration": "Hello there."}], "music": "none"}
# What a video job writes: the output table less the caption translations (written on request).
VIDEO_OUTPUTS = {
    name: output for name, output in VIDEO_TABLE.items() if name not in TRANSLATION_OUTPUTS
}

# Settings for tests: no worker threads of its own, short leases, no waiting between retries.
FAST_SETTINGS: dict[str, Any] = {
    "workers": 0,
    "lease_seconds": 5,
    "poll_seconds": 0.05,
    "progress_interval_s": 0.0,
    "retry_backoff_s": 0.0,
    "max_attempts": 3,
    "webhook_backoff_s": 0.05,
    "webhook_timeout_s": 2,
}
