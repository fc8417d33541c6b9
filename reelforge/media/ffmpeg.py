"""The only place reelforge spawns ffmpeg and ffprobe.

Everything that runs one of them goes through this module, so that progress parsing, timeouts,
cleanup of killed processes and the translation of ffmpeg's stderr into a ``RenderError`` with a
hint the user can act on live in one place.

Every process starts in its own process group (session). Work run inside a
:class:`Cancellation` (``with Cancellation(memory_bytes=...) as control: make(...)``) has each
of its processes started under that memory limit (``RLIMIT_AS``), and ``control.cancel()``, from
any thread, or its wall-clock limit kills them all at once, whatever they are doing: the job
service cancels a render stuck inside libass this way.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from reelforge.errors import RenderCancelled, RenderError, ResourceLimitExceeded

__all__ = [
    "FILE_DEMUXERS",
    "Cancellation",
    "FfmpegProcess",
    "atomic_output",
    "capture_ffmpeg",
    "check_disk_space",
    "error_hint",
    "ffmpeg_binary",
    "ffprobe_binary",
    "guard_inputs",
    "run_ffmpeg",
    "run_ffprobe",
    "spawn",
    "start_ffmpeg",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float], None]

_INSTALL_HINT = "run `make setup` or `apt-get install ffmpeg`"
_STDERR_TAIL_LINES = 200  # enough context for a hint; bounded so a chatty run cannot eat memory
_MESSAGE_LINES = 4  # how many stderr lines go into the error message itself
_MiB = 1024 * 1024


# --------------------------------------------------------------------------- binaries
def ffmpeg_binary() -> str:
    """Path of the ffmpeg executable: the system one, else the one bundled by ``imageio-ffmpeg``."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise RenderError("ffmpeg was not found", hint=_INSTALL_HINT) from None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:  # the package is there but its binary is not
        raise RenderError(f"ffmpeg was not found ({exc})", hint=_INSTALL_HINT) from None


def ffprobe_binary() -> str:
    """Path of the ffprobe executable (on PATH, or next to the ffmpeg in use)."""
    found = shutil.which("ffprobe")
    if found:
        return found
    # imageio-ffmpeg ships no ffprobe, but a hand-installed static build often has both together.
    with contextlib.suppress(RenderError):
        beside = Path(ffmpeg_binary()).with_name("ffprobe" + (".exe" if os.name == "nt" else ""))
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
    raise RenderError("ffprobe was not found", hint=_INSTALL_HINT)


# --------------------------------------------------------------------------- error hints
def _input_files(args: Sequence[str]) -> list[str]:
    """The ``-i`` operands of an ffmpeg command line, for hints that must name a file."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == "-i"]


def _subject(line: str, marker: str) -> str:
    """``'clip.mp4: No such file or directory'`` -> ``'clip.mp4'`` (ffmpeg's own format)."""
    head = line.split(marker, 1)[0].rstrip().rstrip(":").strip()
    # Lines from a component start with "[demuxer @ 0x...]": that is not a file name.
    return "" if head.startswith("[") else head


def error_hint(stderr: str, args: Sequence[str] = ()) -> str:
    """What the user should do about an ffmpeg/ffprobe failure, from known stderr patterns."""
    lines = stderr.splitlines()
    inputs = _input_files(args)

    def subject_of(marker: str) -> str:
        for line in reversed(lines):
            if marker in line and (name := _subject(line, marker)):
                return name
        return ""

    if "No space left on device" in stderr:
        return "free disk space: the output folder's disk is full"
    if "Invalid data found when processing input" in stderr or "moov atom not found" in stderr:
        name = subject_of("Invalid data found") or (inputs[0] if len(inputs) == 1 else "")
        name = name or ", ".join(inputs) or "one of the inputs"
        return (
            f"the input file is corrupt or not a media file: {name}; "
            "re-export or re-download it, and check that it plays in a media player"
        )
    if "No such file or directory" in stderr:
        name = subject_of("No such file or directory") or "one of the inputs"
        return f"this file does not exist: {name}; check the path and that it was not moved"
    if "Permission denied" in stderr:
        name = subject_of("Permission denied") or "an input or the output"
        return f"reelforge may not read or write {name}: check the file's and folder's permissions"
    if "Unknown encoder" in stderr or "No such filter" in stderr:
        what = re.search(r"(Unknown encoder '[^']*'|No such filter: '[^']*')", stderr)
        missing = what.group(1) if what else "a codec or filter"
        return (
            f"this ffmpeg lacks a feature reelforge needs ({missing}): install Debian's ffmpeg "
            "(libx264, libass) with `apt-get install ffmpeg`, or `make setup`"
        )
    if "does not contain any stream" in stderr or "Stream map" in stderr:
        return (
            "an input lacks the stream asked for (for example a video with no audio track): "
            f"check the inputs {', '.join(inputs) or ''}".rstrip()
        )
    if "Cannot allocate memory" in stderr:
        return "the machine ran out of memory: close other programs or render at a smaller size"
    if "Error initializing filter" in stderr or "Error reinitializing filters" in stderr:
        return "the filtergraph reelforge built was rejected by ffmpeg: this is a reelforge bug"
    return "this is likely a reelforge bug: the full ffmpeg command is logged at DEBUG level"


def _meaningful_tail(stderr: str, count: int = _MESSAGE_LINES) -> str:
    """The last distinct non-empty stderr lines: ffmpeg often ends on generic lines."""
    picked: list[str] = []
    for line in reversed(stderr.splitlines()):
        line = line.strip()
        if not line or line in picked or line.startswith("Press [q]"):
            continue
        picked.append(line)
        if len(picked) == count:
            break
    return "\n".join(reversed(picked))


def _failure(tool: str, returncode: int, stderr: str, args: Sequence[str]) -> RenderError:
    tail = _meaningful_tail(stderr)
    if returncode < 0:
        # Killed by a signal: the OOM killer is the usual culprit on small machines.
        hint = "the process was killed (out of memory?): render at a smaller size or free memory"
        reason = f"{tool} was killed by signal {-returncode}"
    else:
        hint = error_hint(stderr, args)
        reason = f"{tool} failed (exit code {returncode})"
    return RenderError(f"{reason}: {tail}" if tail else reason, hint=hint)


# --------------------------------------------------------------------------- process control
_GiB = 1024 * _MiB
# What a process that ran out of its address space says (or the loader, at start).
_MEMORY_FAILURES = (
    "Cannot allocate memory",
    "failed to map segment",
    "malloc of size",
    "out of memory",
    "Out of memory",
    "bad_alloc",
    "memory allocation failed",
)
# Signals of a process that crashed on a failed allocation (libraries that do not check).
_CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGKILL})


class Cancellation:
    """The processes of one piece of work (a render), stoppable at once from any thread.

    As a context manager it applies to every ffmpeg/ffprobe started inside it on this thread
    (and in contexts copied from it): each runs under ``memory_bytes`` of address space
    (``RLIMIT_AS``; ``None`` = no limit), and :meth:`cancel`, or ``wall_seconds`` passing,
    kills every one of their process groups with SIGKILL. Processes started after a cancel are
    killed as they start. The work then fails with the error given to :meth:`cancel`
    (:class:`RenderCancelled` by default, :class:`ResourceLimitExceeded` for the limits).
    """

    def __init__(self, *, memory_bytes: int | None = None, wall_seconds: float | None = None):
        self.memory_bytes = memory_bytes or None
        self.wall_seconds = wall_seconds
        self._lock = threading.Lock()
        self._processes: list[subprocess.Popen[bytes]] = []
        self._error: RenderError | None = None
        self._timer: threading.Timer | None = None
        self._tokens: list[contextvars.Token[Cancellation | None]] = []

    @property
    def error(self) -> RenderError | None:
        """Why the work was stopped, or ``None`` while it may go on."""
        return self._error

    def check(self) -> None:
        """Raise the cancellation's error if the work was stopped."""
        if self._error is not None:
            raise _fresh(self._error)

    def cancel(self, error: RenderError | None = None) -> None:
        """Stop the work now: kill every running process group (safe from any thread, twice)."""
        with self._lock:
            if self._error is None:
                self._error = error or RenderCancelled(
                    "the render was cancelled", hint="its processes were stopped"
                )
            running = list(self._processes)
        for process in running:
            kill_group(process)

    def adopt(self, process: subprocess.Popen[bytes]) -> None:
        """Put a just-started process under this cancellation (killed at once if cancelled)."""
        with self._lock:
            self._processes = [p for p in self._processes if p.returncode is None]
            self._processes.append(process)
            cancelled = self._error is not None
        if cancelled:
            kill_group(process)

    def __enter__(self) -> Cancellation:
        self._tokens.append(_CURRENT.set(self))
        if self.wall_seconds is not None and self._timer is None:
            limit = ResourceLimitExceeded(
                f"the render ran longer than its limit of {self.wall_seconds:g} s and was stopped",
                hint="render a shorter video or a preview, or raise the time limit",
            )
            self._timer = threading.Timer(self.wall_seconds, self.cancel, args=(limit,))
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._tokens.pop())
        if not self._tokens and self._timer is not None:
            self._timer.cancel()
            self._timer = None


_CURRENT: contextvars.ContextVar[Cancellation | None] = contextvars.ContextVar(
    "reelforge_cancellation", default=None
)


def current_cancellation() -> Cancellation | None:
    """The :class:`Cancellation` the work on this thread runs under, if any."""
    return _CURRENT.get()


def _fresh(error: RenderError) -> RenderError:
    """A new instance of ``error``: one exception object is raised on one thread only."""
    return type(error)(error.message, error.hint)


def spawn(command: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own process group, under the current cancellation's memory
    limit and registered with it. Raises the cancellation's error if it was already cancelled,
    and ``RenderError`` if the program cannot start."""
    control = _CURRENT.get()
    if control is not None:
        control.check()
    try:
        process: subprocess.Popen[bytes] = subprocess.Popen(
            list(command), start_new_session=True, **popen
        )
    except OSError as exc:
        raise RenderError(
            f"could not start {Path(command[0]).name}: {exc}", hint=_INSTALL_HINT
        ) from exc
    if control is not None:
        if control.memory_bytes:
            _limit_memory(process.pid, control.memory_bytes)
        control.adopt(process)
    return process


def _limit_memory(pid: int, limit: int) -> None:
    """Cap ``pid``'s address space. Set right after the start: the dynamic loader is still
    mapping libraries then, long before a filter could allocate anything."""
    try:
        import resource

        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except (ImportError, AttributeError):  # not Linux: no per-process limit to set
        pass
    except (ProcessLookupError, PermissionError):  # it exited already
        pass


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL ``process`` and everything in its process group, at once; safe to repeat."""
    if process.poll() is not None:
        return  # reaped: its pid (and group id) may belong to someone else now
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        with contextlib.suppress(OSError):
            process.kill()


def _stopped(
    tool: str, returncode: int, stderr: str, args: Sequence[str], control: Cancellation | None
) -> RenderError:
    """The error of a failed process: the cancellation's own when it was stopped, a
    :class:`ResourceLimitExceeded` when it ran out of its memory limit, else its failure."""
    if control is not None and control.error is not None:
        return _fresh(control.error)
    limit = control.memory_bytes if control is not None else None
    crashed = returncode < 0 and -returncode in _CRASH_SIGNALS
    if limit and (crashed or any(text in stderr for text in _MEMORY_FAILURES)):
        return ResourceLimitExceeded(
            f"{tool} went over its memory limit of {limit / _MiB:.0f} MiB and was stopped",
            hint="the video asks for more memory than a render may use: render a smaller "
            "size, shorter captions or fewer layers, or raise the memory limit",
        )
    return _failure(tool, returncode, stderr, args)


# --------------------------------------------------------------------------- process runner
def _drain(stream: IO[bytes], sink: deque[str], lock: threading.Lock) -> None:
    """Read a pipe until EOF so the child never blocks on a full pipe buffer."""
    for raw in iter(stream.readline, b""):
        with lock:
            sink.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
    stream.close()


def _read_progress(stream: IO[bytes], values: queue.Queue[float | None], total_ms: int) -> None:
    """Turn ``-progress pipe:1`` key=value lines into fractions of ``total_ms``."""
    for raw in iter(stream.readline, b""):
        key, _, value = raw.decode("ascii", "replace").strip().partition("=")
        if key == "out_time_us" and total_ms > 0:
            with contextlib.suppress(ValueError):  # "N/A" before the first frame
                values.put(min(1.0, max(0.0, int(value) / 1000 / total_ms)))
    stream.close()
    values.put(None)  # end of stream


class FfmpegProcess:
    """A running ffmpeg, usually fed raw frames or samples on its stdin.

    Progress callbacks are always called on the caller's thread (from ``write`` and
    ``close_and_wait``), never from the reader threads.
    Use it as a context manager so an exception kills the process instead of orphaning it.
    """

    def __init__(
        self,
        args: Sequence[str],
        *,
        stdin: int | None,
        total_ms: int | None = None,
        progress: ProgressCallback | None = None,
        capture_stdout: bool = False,
        loglevel: str = "error",
    ) -> None:
        self.args = list(args)
        command = [ffmpeg_binary(), "-hide_banner"]
        if stdin is None:
            command.append("-nostdin")  # else ffmpeg reads keys from a terminal and can stall
        command += ["-y", "-loglevel", loglevel, "-nostats"]
        if not capture_stdout:
            # A report every quarter second: smooth enough for a bar, cheap for ffmpeg.
            command += ["-progress", "pipe:1", "-stats_period", "0.25"]
        command += guard_inputs(self.args)
        self.command = command
        logger.debug("running %s", shlex.join(command))
        self._progress = progress
        self._last_fraction = -1.0
        self._stderr: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._stderr_lock = threading.Lock()
        self._exited_early = False
        self._values: queue.Queue[float | None] = queue.Queue()
        self._stdout_chunks: list[bytes] = []
        self._control = _CURRENT.get()
        self._process = spawn(
            command,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if self._process.stdin is not None:
            _widen_pipe(self._process.stdin.fileno())
        assert self._process.stdout is not None and self._process.stderr is not None
        stdout = self._process.stdout
        self._threads = [
            threading.Thread(
                target=_drain,
                args=(self._process.stderr, self._stderr, self._stderr_lock),
                daemon=True,
            )
        ]
        if capture_stdout:
            self._threads.append(
                threading.Thread(target=self._collect, args=(stdout,), daemon=True)
            )
        else:
            self._threads.append(
                threading.Thread(
                    target=_read_progress, args=(stdout, self._values, total_ms or 0), daemon=True
                )
            )
        for thread in self._threads:
            thread.start()

    def _collect(self, stream: IO[bytes]) -> None:
        while chunk := stream.read(1 << 16):
            self._stdout_chunks.append(chunk)
        stream.close()
        self._values.put(None)  # lets close_and_wait stop waiting at once

    @property
    def stderr(self) -> str:
        """What ffmpeg has written to stderr so far (its last lines)."""
        with self._stderr_lock:
            return "\n".join(self._stderr)

    def _deliver_progress(self) -> None:
        while True:
            try:
                value = self._values.get_nowait()
            except queue.Empty:
                return
            if value is not None:
                self._report(value)

    def _report(self, fraction: float) -> None:
        # Only forward increases: ffmpeg may repeat a time, and callers draw progress bars.
        if self._progress is not None and fraction > self._last_fraction:
            self._last_fraction = fraction
            self._progress(fraction)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send bytes to ffmpeg's stdin; if ffmpeg died, raise its error instead."""
        stdin = self._process.stdin
        if stdin is None:
            raise RenderError("this ffmpeg process was started without a stdin pipe")
        if self._exited_early:
            return
        try:
            stdin.write(data)
        except (BrokenPipeError, ValueError, OSError):
            # ffmpeg stopped reading: either it failed (its stderr says why) or it had all it
            # wanted (-t, -frames), which close_and_wait will report as success.
            self._close_stdin()
            returncode = self._wait_and_join(timeout=30)
            if returncode != 0:
                raise self._error(returncode) from None
            self._exited_early = True
        self._deliver_progress()

    def _close_stdin(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                self._process.stdin.close()

    def _wait_and_join(self, timeout: float | None, limit: float | None = None) -> int:
        try:
            returncode = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RenderError(
                f"ffmpeg did not finish within {limit or timeout or 0:g} s and was stopped",
                hint="the render is larger or slower than expected: raise the timeout, "
                "or render at a smaller size",
            ) from None
        for thread in self._threads:
            thread.join(timeout=5)
        return returncode

    def close_and_wait(self, timeout: float | None = None) -> None:
        """Close stdin, wait for ffmpeg, report progress; raise ``RenderError`` on failure."""
        self._close_stdin()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # Deliver progress while ffmpeg works, on this thread, until the progress pipe closes.
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                wait = 0.5 if remaining is None else min(0.5, remaining)
                try:
                    value = self._values.get(timeout=wait)
                except queue.Empty:
                    if self._process.poll() is not None and not self._threads[1].is_alive():
                        break
                    continue
                if value is None:
                    break
                self._report(value)
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            returncode = self._wait_and_join(timeout=remaining, limit=timeout)
        except BaseException:
            self.kill()  # Ctrl-C or a failing callback must not leave ffmpeg running
            raise
        if returncode != 0:
            raise self._error(returncode)
        self._report(1.0)

    def _error(self, returncode: int) -> RenderError:
        return _stopped("ffmpeg", returncode, self.stderr, self.args, self._control)

    def output(self) -> bytes:
        """Everything ffmpeg wrote to stdout (only when started with ``capture_stdout``)."""
        return b"".join(self._stdout_chunks)

    def kill(self) -> None:
        """Stop ffmpeg now; safe to call twice."""
        self._close_stdin()
        if self._process.poll() is None:
            kill_group(self._process)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=10)

    def __enter__(self) -> FfmpegProcess:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        if exc_type is not None:
            self.kill()


# Every input is opened with its demuxer forced and with only the protocol it needs, so that
# no file can make ffmpeg open another one: an HLS or m3u playlist, a concat list or a `movie`
# filter naming `<data dir>/storage/jobs/<another job>/video.mp4` would otherwise be followed,
# whatever the file's name or first bytes claim. Files get the demuxer ffprobe found, from this
# allow-list (playlists, concat lists, "data", tty and image-sequence patterns are not in it).
FILE_DEMUXERS = frozenset(
    {
        "mov",  # mov, mp4, m4a, 3gp
        "matroska",  # mkv, webm
        "avi",
        "mpegts",
        "mp3",
        "wav",
        "flac",
        "ogg",
        "aac",
        "aiff",
        "png_pipe",
        "jpeg_pipe",
        "webp_pipe",
        "bmp_pipe",
        "gif",
    }
)
# Subtitles reelforge wrote itself (the soft tracks of caption translations): opened only when
# the plan forces the demuxer (-f srt), never chosen for a file by probing.
SUBTITLE_DEMUXERS = frozenset({"srt"})
# What reelforge feeds through pipes: raw frames and samples it produced itself.
PIPE_DEMUXERS = frozenset({"rawvideo", "f32le", "s16le", "wav"})
# ffprobe may only pick one of these while it finds out what a file is; `image2` (a JPEG named
# .jpg) is opened again with the matching `_pipe` demuxer, never as a file pattern.
PROBE_DEMUXERS = FILE_DEMUXERS | {"image2"}
# The protocols one input needs: a plain path opens with `file` alone, so `concat:`, `subfile,`,
# `http:`, `data:` or `crypto:` names are refused.
PROTOCOL_WHITELIST = "file"
PIPE_PROTOCOLS = {"pipe:": "pipe", "-": "pipe", "fd:": "fd"}
# Filters that open files or URLs of their own, unguarded by any input option.
_OPENING_FILTERS = re.compile(r"(?:^|[;,\]])\s*(?:a?movie|sendcmd|a?zmq)\s*(?:[=;,\[]|$)")
_FILTER_OPTIONS = {"-vf", "-af", "-filter_complex", "-lavfi", "-filter:v", "-filter:a"}


def guard_inputs(args: Sequence[str]) -> list[str]:
    """``args`` with every input (``-i``) opened safely: its demuxer forced (``-f`` as given,
    or from ffprobe for a file given without one), and a protocol and format whitelist of what
    that one input needs. Raises ``RenderError``/``MediaError`` for an input that may not be
    opened, before any process starts."""
    out: list[str] = []
    options: list[str] = []  # the options of the next input, since the previous one
    for index, arg in enumerate(args):
        previous = args[index - 1] if index else ""
        if previous in _FILTER_OPTIONS:
            _refuse_opening_filters(arg)
        if previous == "-i":
            out += _guarded_input(options, arg)
            options = []
        elif arg != "-i":
            options.append(arg)
    return out + options


def _forced_demuxer(options: list[str]) -> str | None:
    found = [options[k + 1] for k in range(len(options) - 1) if options[k] == "-f"]
    return found[-1] if found else None


def _guarded_input(options: list[str], name: str) -> list[str]:
    """The input options plus ``-i name``, with the demuxer and whitelists set."""
    demuxer = _forced_demuxer(options)
    protocol = next((p for prefix, p in PIPE_PROTOCOLS.items() if name.startswith(prefix)), "")
    if protocol:
        if demuxer not in PIPE_DEMUXERS:
            raise RenderError(
                f"a pipe input must be raw data reelforge made (-f {demuxer})",
                hint="this is a reelforge bug",
            )
        return [*options, "-protocol_whitelist", protocol, "-i", name]
    if demuxer == "lavfi":
        _refuse_opening_filters(name)
        return [*options, "-protocol_whitelist", "none", "-i", name]
    if demuxer == "concat":
        # Only reelforge's own segment lists: relative names beside the list (-safe 1), and
        # nothing but the MP4 segments it wrote may be opened through them.
        safe = options[options.index("-safe") + 1] if "-safe" in options[:-1] else "1"
        if safe != "1":
            raise RenderError("a concat list must be read in safe mode", hint="a reelforge bug")
        return [
            *options,
            "-protocol_whitelist",
            PROTOCOL_WHITELIST,
            "-format_whitelist",
            "concat,mov",
            "-i",
            name,
        ]
    if demuxer is None:
        from reelforge.media.probe import input_demuxer

        demuxer = input_demuxer(Path(name))
        options = [*options, "-f", demuxer]
    if demuxer not in FILE_DEMUXERS | SUBTITLE_DEMUXERS:
        raise RenderError(
            f"reelforge does not open files with the {demuxer} demuxer",
            hint="this is a reelforge bug: inputs are opened with the demuxer ffprobe found",
        )
    return [
        *options,
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-format_whitelist",
        demuxer,
        "-i",
        name,
    ]


def _refuse_opening_filters(graph: str) -> None:
    if _OPENING_FILTERS.search(graph):
        raise RenderError(
            "a filtergraph may not open files of its own (movie, amovie, sendcmd, zmq)",
            hint="this is a reelforge bug: media reach ffmpeg as inputs (-i) only",
        )


def _widen_pipe(fd: int) -> None:
    """Raise a pipe's buffer from 64 KiB towards 1 MiB (Linux): a raw 1080p frame then
    crosses in a few writes instead of ~50, with far fewer wake-ups of ffmpeg's reader."""
    try:
        import fcntl

        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), min(limit, 1 << 20))
    except (OSError, ValueError, ImportError):
        pass  # not Linux, or not allowed: the default buffer works, only slower


def start_ffmpeg(
    args: Sequence[str],
    *,
    stdin_pipe: bool = True,
    total_ms: int | None = None,
    progress: ProgressCallback | None = None,
) -> FfmpegProcess:
    """Start ffmpeg in the background, by default reading from a pipe (``-i pipe:0`` in args).

    Typical use streams raw frames::

        with start_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "320x180", "-r", "30",
                           "-i", "pipe:0", "out.mp4"]) as process:
            for frame in frames:
                process.write(frame.tobytes())
            process.close_and_wait()
    """
    return FfmpegProcess(
        args,
        stdin=subprocess.PIPE if stdin_pipe else None,
        total_ms=total_ms,
        progress=progress,
    )


def run_ffmpeg(
    args: Sequence[str],
    *,
    total_ms: int | None = None,
    progress: ProgressCallback | None = None,
    stdin: int | None = None,
    timeout: float | None = None,
) -> None:
    """Run ffmpeg to completion; raise ``RenderError`` with a hint if it fails.

    ``progress`` receives increasing fractions 0..1 of ``total_ms`` (the expected output length)
    and a final 1.0 on success. ``stdin`` is a file descriptor to feed ffmpeg, if any.
    """
    process = FfmpegProcess(args, stdin=stdin, total_ms=total_ms, progress=progress)
    process.close_and_wait(timeout=timeout)


def capture_ffmpeg(
    args: Sequence[str], *, loglevel: str = "error", timeout: float | None = 120
) -> tuple[bytes, str]:
    """Run ffmpeg writing its output to stdout (``pipe:1``); return ``(stdout, stderr)``.

    For decoding frames or samples into memory, and for filters that report on stderr
    (``ebur128`` needs ``loglevel="info"``).
    """
    process = FfmpegProcess(args, stdin=None, capture_stdout=True, loglevel=loglevel)
    process.close_and_wait(timeout=timeout)
    return process.output(), process.stderr


def run_ffprobe(args: Sequence[str], *, timeout: float | None = 60) -> str:
    """Run ffprobe and return its stdout; raise ``RenderError`` (with a hint) if it fails."""
    command = [
        ffprobe_binary(),
        "-v",
        "error",
        "-hide_banner",
        "-protocol_whitelist",
        PROTOCOL_WHITELIST,
        "-format_whitelist",
        ",".join(sorted(PROBE_DEMUXERS)),
        *args,
    ]
    logger.debug("running %s", shlex.join(command))
    process = spawn(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        process.communicate()
        raise RenderError(
            f"ffprobe did not answer within {timeout:g} s",
            hint="the file may be on a slow or stalled disk or network share",
        ) from None
    except BaseException:
        kill_group(process)  # Ctrl-C: its own process group no longer gets the terminal's
        raise
    stderr = err.decode("utf-8", "replace")
    if process.returncode != 0:
        inputs = ["-i", args[-1]] if args else []
        raise _stopped("ffprobe", process.returncode, stderr, inputs, _CURRENT.get())
    return out.decode("utf-8", "replace")


# --------------------------------------------------------------------------- outputs
@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A crash, a Ctrl-C or an ffmpeg failure thus never leaves a half-written file under the final
    name. The temporary keeps the extension (``.name.partial.mp4``) because ffmpeg picks the
    container from it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    partial.unlink(missing_ok=True)  # left over from a run that was killed
    try:
        yield partial
        if not partial.exists():
            raise RenderError(
                f"no output was written for {path}",
                hint="this is a reelforge bug: the render step wrote nothing",
            )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def check_disk_space(folder: Path, need_bytes: int) -> None:
    """Fail fast, before a long render, if ``folder``'s disk cannot hold ``need_bytes``."""
    probe_at = Path(folder).resolve()
    while not probe_at.exists() and probe_at != probe_at.parent:
        probe_at = probe_at.parent  # the output folder may not exist yet
    free = shutil.disk_usage(probe_at).free
    if free < need_bytes:
        raise RenderError(
            f"not enough free disk space in {folder}: {free / _MiB:.0f} MiB free, "
            f"about {need_bytes / _MiB:.0f} MiB needed",
            hint="free disk space, or write the output to another disk with -o",
        )
