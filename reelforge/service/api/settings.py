"""API settings: the service settings plus what only the HTTP front needs (``REELFORGE_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from reelforge.service.settings import ServiceSettings


class ApiSettings(ServiceSettings):
    """Settings of ``reelforge serve``. Environment variables are ``REELFORGE_<FIELD>``."""

    # No API key needed, every caller is the owner "local". Only for a machine of one's own:
    # it must be set explicitly (REELFORGE_OPEN_MODE=true or `reelforge serve --open`).
    open_mode: bool = False
    open_owner: str = "local"
    # Comma-separated origins allowed by CORS ("*" for any); empty = no CORS headers.
    cors_origins: str = ""
    # Per-key token bucket: refill per minute (0 = unlimited); the bucket holds rate_burst_s
    # seconds of the key's own rate, at most rate_burst requests.
    rate_per_minute: float = Field(600.0, ge=0)
    rate_burst: int = Field(60, ge=1)
    rate_burst_s: float = Field(6.0, gt=0)
    # Calls without a key to endpoints that work for anyone but cost work (a price estimate
    # validates the whole request): per client address, per minute (0 = unlimited).
    anonymous_rate_per_minute: float = Field(60.0, ge=0)
    # GET /metrics without an admin key (for a scraper on a private network).
    metrics_public: bool = False
    # Jobs a key's owner may submit in any 24 hours (0 = unlimited).
    jobs_per_day: int = Field(1000, ge=0)
    # Largest request body other than an upload (JSON scripts and storyboards), in bytes.
    max_body_bytes: int = Field(2 * 1024 * 1024, ge=1024)
    # Server-sent events: how often the stream looks for new events, and its longest life.
    sse_poll_s: float = Field(0.25, gt=0)
    sse_max_s: float = Field(3600.0, gt=0)
    sse_keepalive_s: float = Field(15.0, gt=0)
    # Open event streams allowed per owner and in all, per API process (429 beyond).
    sse_streams_per_owner: int = Field(10, ge=1)
    sse_streams_total: int = Field(200, ge=1)
    # Catalogue samples made at once by this API process (voices, moods, templates), more
    # waiting for a turn, and of those one client address may have started: past any of these
    # a sample not yet made is refused (429, Retry-After); made ones are always served.
    # The studio asks for every template's still at once: a client's share holds them all.
    sample_builds: int = Field(2, ge=1)
    sample_queue: int = Field(16, ge=0)
    sample_builds_per_client: int = Field(12, ge=1)
    # Presigned download URLs live this long (S3).
    download_url_expires_s: int = Field(3600, ge=60)
    # Signed download links in a job's links.signed (api/signing.py): the HMAC key (empty: a
    # random one kept in <data_dir>/download-secret) and how long a link opens its file.
    download_secret: str = Field("", repr=False)
    signed_url_ttl_s: float = Field(600.0, ge=30, le=86400)

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


@lru_cache(maxsize=1)
def get_api_settings() -> ApiSettings:
    """The process-wide settings read from the environment (cached)."""
    return ApiSettings()
