"""Decode a video file into raw BGR frames at the output size, through one ffmpeg process.

The fit (cover, contain, blurred background) and the frame rate conversion happen inside ffmpeg
so each source is decoded and scaled once; Python receives ready-sized frames.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelforge.colours import parse_hex
from reelforge.errors import MediaError
from reelforge.media.ffmpeg import ffmpeg_binary, guard_inputs, kill_group, spawn


def _ffmpeg() -> str:
    return ffmpeg_binary()  # the one lookup (system ffmpeg, else imageio-ffmpeg's)


def fit_filter(width: int, height: int, fit: str, background: str = "#000000") -> str:
    """The ffmpeg filter chain that fits any picture into width x height."""
    red, green, blue, _ = parse_hex(background, "background colour")
    bg = f"0x{red:02x}{green:02x}{blue:02x}"
    if fit == "contain":
        return (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={bg},setsar=1"
        )
    if fit == "blur":
        return (
            "split=2[bgsrc][fgsrc];"
            f"[bgsrc]scale={width // 4}:{height // 4}:force_original_aspect_ratio=increase,"
            f"crop={width // 4}:{height // 4},boxblur=8:2,scale={width}:{height}[bg];"
            f"[fgsrc]scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic[fg];"
            "[bg][fg]overlay=(W-w)/2:(H-h)/2,setsar=1"
        )
    return (
        f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
        f"crop={width}:{height},setsar=1"
    )


class VideoReader:
    """Sequential BGR frames of a video, fitted to width x height at ``fps``.

    ``loop`` restarts the file when it ends; otherwise the last frame is held.
    """

    def __init__(
        self,
        path: str | Path,
        width: int,
        height: int,
        fps: int,
        *,
        start_s: float = 0.0,
        loop: bool = True,
        fit: str = "cover",
        background: str = "#000000",
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise MediaError(
                f"the video {self.path} does not exist",
                hint="check the path in the storyboard (paths are relative to the storyboard file)",
            )
        self.width, self.height, self.fps = width, height, fps
        self.frame_bytes = width * height * 3
        graph = f"[0:v]fps={fps},{fit_filter(width, height, fit, background)}[v]"
        options = ["-stream_loop", "-1"] if loop else []
        if start_s > 0:
            options += ["-ss", f"{start_s:.3f}"]
        # the demuxer ffprobe found, forced; local file only (see guard_inputs)
        options += ["-i", str(self.path), "-filter_complex", graph, "-map", "[v]", "-an"]
        options += ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
        args = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin"]
        args += guard_inputs(options)
        self._proc = spawn(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=self.frame_bytes
        )
        self._stderr: list[bytes] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self._last: NDArray[np.uint8] | None = None

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        for line in self._proc.stderr:
            self._stderr.append(line)

    def read(self) -> NDArray[np.uint8]:
        assert self._proc.stdout is not None
        buf = self._proc.stdout.read(self.frame_bytes)
        if buf is None or len(buf) < self.frame_bytes:
            if self._last is None:
                self.close()
                err = b"".join(self._stderr[-5:]).decode("utf-8", "replace").strip()
                raise MediaError(
                    f"the video {self.path} could not be decoded" + (f": {err}" if err else ""),
                    hint="the file is corrupt or not a video; re-export it as MP4 (H.264)",
                )
            return self._last  # hold the last frame
        frame = np.frombuffer(buf, np.uint8).reshape(self.height, self.width, 3)
        self._last = frame
        return frame

    def close(self) -> None:
        if self._proc.poll() is None:
            kill_group(self._proc)
        self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
