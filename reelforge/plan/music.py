"""Music: a given file looped under the video, or composed by the music engine named in the
storyboard. Composing starts first, on its own thread, for a generous estimate of the length,
so it runs while the voices are synthesised; it is composed again only if too short.
"""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reelforge.engines import registry
from reelforge.engines.base import MusicRequest
from reelforge.spec.model import Storyboard
from reelforge.spec.templates import Template
from reelforge.timeline import AudioTrack

Music = tuple[list[AudioTrack], dict[str, str] | None]  # the tracks and the engine's facts


def music(sb: Storyboard, template: Template, duration_ms: int, workdir: Path) -> Music:
    """The music track (a given file, or composed) and its engine, for the manifest."""
    if not sb.music.enabled:
        return [], None
    if sb.music.path:  # checked by planning before any engine ran
        track = AudioTrack(
            sb.music.path,
            "music",
            0,
            sb.music.volume_db,
            loop=True,
            fade_in_ms=500,
            fade_out_ms=2000,
        )
        return [track], {"name": "given", "version": Path(sb.music.path).name}
    engine = registry.get("music", sb.music.engine)
    mood = sb.music.mood or template.music_mood
    seed = sb.music.seed if sb.music.seed is not None else sb.seed
    result = engine.compose(MusicRequest(mood, duration_ms + 500, seed), workdir)
    info = engine.info()
    track = AudioTrack(str(result.audio), "music", 0, sb.music.volume_db, fade_out_ms=1500)
    return [track], {"name": info.name, "version": info.version, "mood": mood}


class Composer:
    """The music, composed on its own thread from an estimate of the video's length."""

    def __init__(self, sb: Storyboard, template: Template, estimate_ms: int, workdir: Path) -> None:
        self.sb, self.template, self.workdir = sb, template, workdir
        self.estimate_ms = estimate_ms
        self.seconds = 0.0  # time spent composing, for the timings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="music")
        # In a copy of this context, so a job's Cancellation reaches the composer's processes.
        self._job: Future[Music] = self._pool.submit(
            contextvars.copy_context().run, self._compose, estimate_ms
        )

    def _compose(self, duration_ms: int) -> Music:
        started = time.perf_counter()
        try:
            return music(self.sb, self.template, duration_ms, self.workdir)
        finally:
            self.seconds += time.perf_counter() - started

    def result(self, duration_ms: int) -> Music:
        """The music for a video of ``duration_ms``: composed again when the estimate was
        short."""
        tracks, engine = self._job.result()
        self._pool.shutdown()
        if self.estimate_ms < duration_ms and engine and engine["name"] != "given":
            tracks, engine = self._compose(duration_ms)
        return tracks, engine
