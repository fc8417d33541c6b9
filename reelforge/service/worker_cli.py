"""``reelforge worker``: a Celery worker that runs jobs from the ``cpu`` or ``gpu`` queue.

:func:`add_worker_command` adds the command to the main CLI's subparsers and returns its handler
by name, like :func:`reelforge.service.cli.add_service_commands`. Settings come from the
``REELFORGE_*`` environment (``DATABASE_URL``, ``STORAGE_URL``, ``BROKER_URL``...), the same as the
API's, so workers and the API share one database, one store and one broker.

``python -m reelforge.service.worker_cli --queue gpu`` runs the same command without the main CLI.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def add_worker_command(subparsers: Any) -> dict[str, Handler]:
    """Add ``worker`` to ``subparsers``; returns ``{"worker": handler}``."""
    worker = subparsers.add_parser(
        "worker",
        help="run a Celery worker for the job queue (scale-out: Redis + PostgreSQL + S3)",
        description="Run jobs from a queue of the Celery broker (REELFORGE_BROKER_URL). The "
        "database (REELFORGE_DATABASE_URL) holds job state and the store "
        "(REELFORGE_STORAGE_URL) the files; run as many workers as you like, on any machine.",
    )
    _arguments(worker)
    return {"worker": _cmd_worker}


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--queue",
        "-Q",
        action="append",
        choices=["cpu", "gpu"],
        dest="queues",
        help="queue to serve (repeat for both; default cpu)",
    )
    parser.add_argument(
        "--concurrency",
        "-c",
        type=int,
        default=1,
        help="jobs run at once (default 1; a GPU worker usually wants 1)",
    )
    parser.add_argument(
        "--pool",
        choices=["solo", "prefork", "threads"],
        help="Celery pool (default: solo for concurrency 1, else prefork)",
    )
    parser.add_argument("--name", help="worker name (default: <queues>@<host>-<pid>)")
    parser.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )


def _cmd_worker(args: argparse.Namespace) -> int:
    from reelforge.errors import JobError
    from reelforge.service.celery_app import make_celery, runtime, visibility_timeout
    from reelforge.service.settings import ServiceSettings

    settings = ServiceSettings()
    queues = list(dict.fromkeys(args.queues or ["cpu"]))
    if args.concurrency < 1:
        raise JobError("--concurrency must be at least 1", hint="use --concurrency 1 or more")
    pool = args.pool or ("solo" if args.concurrency == 1 else "prefork")
    if pool == "solo" and args.concurrency != 1:
        raise JobError("the solo pool runs one job at a time", hint="use --pool prefork")
    here = runtime(settings)
    # Fail fast, with the setting to fix, rather than take jobs that cannot run.
    here.db.check()
    here.storage.check()
    if here.db.current_revision() is None:
        raise JobError(
            f"the database at {here.db.engine.url.render_as_string(hide_password=True)} has no "
            "reelforge tables yet",
            hint="start the API once (reelforge serve) or run Database(url).migrate()",
        )
    app = make_celery(settings)
    name = args.name or f"{'+'.join(queues)}@{socket.gethostname()}-{os.getpid()}"
    print(
        f"reelforge worker {name}: queues {', '.join(queues)}, {pool} pool x{args.concurrency}; "
        f"broker {_safe(settings.broker_url)}, storage {here.storage!r}, lease "
        f"{settings.lease_seconds:g} s, visibility timeout {visibility_timeout(settings)} s",
        file=sys.stderr,
    )
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(queues),
            "--concurrency",
            str(args.concurrency),
            "--pool",
            pool,
            "--hostname",
            name,
            "--loglevel",
            args.log_level.upper(),
            # No worker-to-worker chatter: the database coordinates everything.
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
    return 0


def _safe(url: str) -> str:
    from kombu.utils.url import maybe_sanitize_url

    return str(maybe_sanitize_url(url))


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m reelforge.service.worker_cli``: the worker command on its own."""
    from reelforge.errors import ReelforgeError

    parser = argparse.ArgumentParser(prog="reelforge worker", description=__doc__)
    _arguments(parser)
    args = parser.parse_args(argv)
    try:
        return _cmd_worker(args)
    except ReelforgeError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
