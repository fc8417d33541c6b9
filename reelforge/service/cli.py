"""``reelforge serve`` and ``reelforge keys``: the service's commands for the main CLI.

:func:`add_service_commands` adds them to the main parser's subparsers and returns their
handlers by name (the CLI dispatches by command name and alone turns errors into exit codes).
Nothing heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_service_commands(subparsers: Any) -> dict[str, Handler]:
    """Add ``serve`` and ``keys`` to ``subparsers``; returns {command name: handler}."""
    serve = subparsers.add_parser(
        "serve",
        help="run the REST API with its job workers (SQLite + local folder by default)",
        description="Serve the REST API (OpenAPI at /docs) and run jobs in-process. Settings "
        "come from REELFORGE_* environment variables (database, storage, workers, limits).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes (each runs its own job workers; default 1)",
    )
    serve.add_argument(
        "--open",
        action="store_true",
        help="open mode: no API key needed (only for your own machine)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )

    keys = subparsers.add_parser("keys", help="create, list and revoke API keys")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = keys_sub.add_parser("create", help="create a key (shown once; stored hashed)")
    create.add_argument("name", help="a name for the key; also its owner unless --owner")
    create.add_argument("--owner", help="owner the key's jobs belong to (default: NAME)")
    create.add_argument("--rate-per-minute", type=int, help="request rate limit for this key")
    create.add_argument("--jobs-per-day", type=int, help="job quota for this key")
    create.add_argument(
        "--admin",
        action="store_true",
        help="an operator's key: health details and /metrics (not other owners' jobs)",
    )
    listing = keys_sub.add_parser("list", help="list keys (never the secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked keys")
    listing.add_argument("--json", action="store_true")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by id, name or prefix")
    revoke.add_argument("key", help="key id, name or displayed prefix (rf_...)")
    return {"serve": _cmd_serve, "keys": _cmd_keys}


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reelforge.service.api.settings import ApiSettings

    if args.open and args.host not in LOOPBACK:
        print(
            f"warning: open mode on {args.host}: anyone who can reach it can use it",
            file=sys.stderr,
        )
    if args.workers > 1:
        # Worker processes build their own app from the environment: pass --open through it.
        if args.open:
            os.environ["REELFORGE_OPEN_MODE"] = "true"
        uvicorn.run(
            "reelforge.service.api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=args.log_level,
        )
        return 0
    from reelforge.service.api.app import create_app

    settings = ApiSettings(open_mode=True) if args.open else ApiSettings()
    app = create_app(settings=settings)
    mode = "open mode (no keys)" if settings.open_mode else "API keys required"
    print(
        f"reelforge API on http://{args.host}:{args.port} ({mode}); docs at /docs; "
        f"data in {settings.data_dir}",
        file=sys.stderr,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _database() -> Any:
    from reelforge.service.api.settings import ApiSettings
    from reelforge.service.db import Database

    db = Database(ApiSettings().database_url)
    db.migrate()
    return db


def _cmd_keys(args: argparse.Namespace) -> int:
    from reelforge.service import auth

    db = _database()
    try:
        if args.keys_command == "create":
            key = auth.create_api_key(
                db,
                args.name,
                owner=args.owner,
                rate_per_minute=args.rate_per_minute,
                jobs_per_day=args.jobs_per_day,
                admin=args.admin,
            )
            print(key)
            print("store it now: it is not shown again (only its hash is kept)", file=sys.stderr)
            return 0
        if args.keys_command == "list":
            records = auth.list_api_keys(db, include_revoked=args.all)
            if args.json:
                print(json.dumps([r.to_dict() for r in records], indent=1))
                return 0
            for r in records:
                state = "revoked" if r.revoked_at else ("admin" if r.admin else "active")
                used = r.last_used_at.isoformat(timespec="seconds") if r.last_used_at else "never"
                print(
                    f"{r.id}  {r.prefix}...  {r.name:20} owner={r.owner:16} {state:8} "
                    f"last used {used}"
                )
            return 0
        record = auth.revoke_api_key(db, args.key)
        print(f"revoked {record.prefix}... ({record.name})")
        return 0
    finally:
        db.dispose()
