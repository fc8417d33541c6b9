"""Service fixtures: a JobService on a temporary SQLite database and a temporary local store.

``service`` has no running workers (tests drive ``run_job`` themselves or start the executor);
``fake_make`` replaces the renderer with one that writes small files, so most job tests take
milliseconds; one test renders for real in preview.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_support import FAST_SETTINGS

from reelforge.service.settings import ServiceSettings

pytest.importorskip("sqlalchemy")
pytest.importorskip("alembic")


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session; tests start from a copy (faster)."""
    from reelforge.service.db import Database

    path = tmp_path_factory.mktemp("template") / "reelforge.db"
    database = Database(f"sqlite:///{path}")
    database.migrate()
    with database.engine.connect() as connection:  # fold the WAL into the file
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return path


@pytest.fixture
def service_settings(tmp_path: Path, migrated_sqlite: Path) -> ServiceSettings:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(migrated_sqlite, data / "reelforge.db")
    return ServiceSettings(data_dir=data, **FAST_SETTINGS)


@pytest.fixture
def service(service_settings: ServiceSettings) -> Iterator[Any]:
    from reelforge.service import create_service

    svc = create_service(service_settings, start=False)
    yield svc
    svc.close(wait=True)


class FakeMake:
    """Stands in for ``reelforge.pipeline.make``: writes the output files, reports progress."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.before: Callable[[Any], None] | None = None  # hook run inside make

    def __call__(self, storyboard: Any, output: Any, **kwargs: Any) -> Any:
        from reelforge.pipeline import MakeResult

        out = Path(output)
        with self.lock:
            self.calls.append(str(out))
        progress = kwargs.get("progress")
        for stage, fraction in (("plan", 0.5), ("plan", 1.0), ("render", 0.5), ("render", 1.0)):
            if self.before is not None:
                self.before(storyboard)
            if progress:
                progress(stage, fraction)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\0" * 64)
        captions = {}
        for ext in ("srt", "vtt", "ass", "words.json"):
            path = out.with_suffix("." + ext)
            path.write_text(f"{ext} of {storyboard.scenes[0].narration}", encoding="utf-8")
            captions[ext] = path
        thumb = out.with_suffix(".jpg")
        thumb.write_bytes(b"\xff\xd8\xff\xe0fake")
        manifest = out.with_suffix(".json")
        manifest.write_text(json.dumps({"video": out.name}), encoding="utf-8")
        return MakeResult(out, captions, thumb, manifest, None, {})  # type: ignore[arg-type]


@pytest.fixture
def fake_make(monkeypatch: pytest.MonkeyPatch) -> FakeMake:
    fake = FakeMake()
    monkeypatch.setattr("reelforge.pipeline.make", fake)
    return fake
