"""The database: one engine and session factory; schema made by Alembic migrations only.

SQLite (the embedded default) runs in WAL mode with a busy timeout so an API thread and worker
threads can write at once; the same code runs unchanged on PostgreSQL
(``postgresql+psycopg://user:pass@host/db``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from reelforge.errors import JobError

MIGRATIONS = Path(__file__).with_name("migrations")


class Base(DeclarativeBase):
    """Declarative base of every service table (jobs, events, media, api keys...)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Database:
    """An engine plus a session factory for ``url`` (SQLAlchemy URL)."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            # Threads share the pool; every connection gets WAL and a busy timeout.
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        """A new session (use as a context manager; commit explicitly)."""
        return self.sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with Alembic (the only way tables are created)."""
        from alembic import command

        command.upgrade(alembic_config(self), revision)

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def check(self) -> None:
        """Raise :class:`JobError` when the database cannot be reached."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any driver error means "down"
            raise JobError(
                f"the database is unreachable: {type(exc).__name__}: {exc}",
                hint="check REELFORGE_DATABASE_URL and that the database server is running",
            ) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(database: Database) -> Any:
    """An Alembic Config without alembic.ini, pointing at the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    # env.py uses this engine instead of making its own (keeps SQLite pragmas and pools).
    config.attributes["engine"] = database.engine
    return config
