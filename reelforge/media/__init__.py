"""The process boundary: the only package that spawns ffmpeg and ffprobe.

``ffmpeg`` runs processes (progress, timeouts, errors with hints, atomic outputs);
``probe`` answers questions about media files (streams, frames, levels, loudness).
"""

from __future__ import annotations

from reelforge.media.ffmpeg import (
    FfmpegProcess,
    atomic_output,
    capture_ffmpeg,
    check_disk_space,
    ffmpeg_binary,
    ffprobe_binary,
    run_ffmpeg,
    run_ffprobe,
    start_ffmpeg,
)
from reelforge.media.probe import (
    MediaInfo,
    audio_levels,
    check_audio,
    check_image,
    check_video,
    count_frames,
    decode_frame,
    loudness,
    probe,
)

__all__ = [
    "FfmpegProcess",
    "MediaInfo",
    "atomic_output",
    "audio_levels",
    "capture_ffmpeg",
    "check_audio",
    "check_disk_space",
    "check_image",
    "check_video",
    "count_frames",
    "decode_frame",
    "ffmpeg_binary",
    "ffprobe_binary",
    "loudness",
    "probe",
    "run_ffmpeg",
    "run_ffprobe",
    "start_ffmpeg",
]
