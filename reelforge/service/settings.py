"""Service settings: the only reader of the environment for the service (prefix ``REELFORGE_``).

Everything has a default that runs on a laptop: SQLite and a local folder under ``data_dir``,
an in-process worker pool. Scale-out sets ``database_url`` (PostgreSQL), ``storage_url``
(``s3://bucket/prefix``), ``executor=celery`` and ``broker_url``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "reelforge"


class ServiceSettings(BaseSettings):
    """Settings of the job service. Environment variables are ``REELFORGE_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="REELFORGE_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    # Filled from data_dir when not given: sqlite:///<data_dir>/reelforge.db
    database_url: str = ""
    # Filled from data_dir when not given: file://<data_dir>/storage
    storage_url: str = ""
    storage_quota_bytes: int | None = Field(default=None, ge=0)  # None = unlimited
    # Each owner's uploads plus completed results (service/quotas.py); None = unlimited.
    owner_quota_bytes: int | None = Field(default=None, ge=0)
    # Uploads and finished jobs are deleted this long after they were stored / finished
    # (service/retention.py, run by `reelforge serve` every retention_interval_s); None = kept.
    media_retention_s: float | None = Field(default=None, gt=0)
    job_retention_s: float | None = Field(default=None, gt=0)
    retention_interval_s: float = Field(default=3600.0, gt=0)
    # Step cache (voices, music) shared by jobs; filled as <data_dir>/cache when not given.
    cache_dir: Path | None = None
    # Per-job work folders; filled as <data_dir>/work when not given.
    work_dir: Path | None = None

    executor: Literal["inprocess", "celery"] = "inprocess"
    workers: int = Field(default=1, ge=0)  # in-process worker threads (0 = submit only)
    broker_url: str = "redis://127.0.0.1:6379/0"
    queues: tuple[str, ...] = ("cpu", "gpu")  # queues an in-process pool serves

    # Per-kind run time limits in seconds (kind -> seconds); unknown kinds use timeout_s.
    timeouts: dict[str, float] = Field(
        default_factory=lambda: {"video": 1800.0, "clips": 3600.0, "podcast": 3600.0}
    )
    timeout_s: float = Field(default=1800.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retry_backoff_s: float = Field(default=10.0, ge=0)  # first retry delay; then doubles
    retry_backoff_max_s: float = Field(default=600.0, ge=0)
    lease_seconds: float = Field(default=60.0, gt=0)  # a worker silent this long has died
    poll_seconds: float = Field(default=0.5, gt=0)  # how often idle workers look for work
    progress_interval_s: float = Field(default=0.5, ge=0)  # throttle for progress writes
    keep_work_dirs: bool = False
    # Address space each ffmpeg/ffprobe of a job may use (RLIMIT_AS); None or 0 = no limit. A
    # 4K x264 encode peaks near 1.3 GB on 2 cores; more cores mean more encoder threads.
    ffmpeg_memory_bytes: int | None = Field(default=4 * 1024**3, ge=0)

    webhook_secret: str = ""  # HMAC key; empty = webhooks are sent unsigned
    webhook_timeout_s: float = Field(default=5.0, gt=0)
    webhook_attempts: int = Field(default=5, ge=1)
    webhook_backoff_s: float = Field(default=2.0, ge=0)
    # Webhooks reach only globally routable addresses unless this is on (a private network of
    # one's own): loopback, private, link-local, shared (100.64/10), cloud metadata refused.
    webhook_allow_private: bool = False

    upload_max_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    # Pixels per uploaded image (read from its header, never decoded by the API): 40 MP is a
    # 7680 x 5120 photo, far more than a 1080p (2 MP) or 4K (8 MP) frame can show.
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    max_scenes: int = Field(default=200, ge=1)  # per video request
    max_video_seconds: float = Field(default=1800.0, gt=0)  # per video request (estimated)
    # Per-kind limits on the estimated output length (kind -> seconds); others: max_video_seconds.
    max_output_seconds: dict[str, float] = Field(default_factory=dict)

    # Pricing: an estimate of compute seconds per second of output, and what a second costs.
    price_cpu_second: float = Field(default=0.0001, ge=0)
    price_gpu_second: float = Field(default=0.0008, ge=0)
    currency: str = "USD"
    compute_per_output_second: float = Field(default=1.5, ge=0)  # full render, CPU
    compute_per_output_second_preview: float = Field(default=0.3, ge=0)
    compute_overhead_s: float = Field(default=5.0, ge=0)  # fixed start-up cost per job

    @model_validator(mode="after")
    def _fill_defaults(self) -> ServiceSettings:
        self.data_dir = Path(self.data_dir).expanduser()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'reelforge.db'}"
        if not self.storage_url:
            self.storage_url = f"file://{self.data_dir / 'storage'}"
        if self.cache_dir is None:
            self.cache_dir = self.data_dir / "cache"
        if self.work_dir is None:
            self.work_dir = self.data_dir / "work"
        return self

    def timeout_for(self, kind: str) -> float:
        """The run time limit in seconds for jobs of ``kind``."""
        return float(self.timeouts.get(kind, self.timeout_s))

    def max_seconds_for(self, kind: str) -> float:
        """The longest output (estimated seconds) this server makes for a job of ``kind``."""
        return float(self.max_output_seconds.get(kind, self.max_video_seconds))

    def backoff_for(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` after attempt ``attempt`` failed."""
        delay = self.retry_backoff_s * (2 ** max(attempt - 1, 0))
        return float(min(delay, self.retry_backoff_max_s))


@lru_cache(maxsize=1)
def get_service_settings() -> ServiceSettings:
    """The process-wide settings read from the environment (cached)."""
    return ServiceSettings()
