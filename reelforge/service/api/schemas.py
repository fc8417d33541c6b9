"""Request and response bodies of the API (the OpenAPI schema is generated from these)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from reelforge import kinds
from reelforge.service.api import signing
from reelforge.service.redact import public_note

Priority = Literal["critical", "high", "medium", "low"]
JobStatusName = Literal[
    "submitted",
    "queued",
    "processing",
    "rendering",
    "post_processing",
    "uploading",
    "completed",
    "failed",
    "cancelled",
]


class VideoRequest(BaseModel):
    """A video to make: a script (plain text or Markdown) or a storyboard, plus overrides."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"script": "Hello there. This is a test.", "music": "none", "preview": True},
                {
                    "storyboard": {
                        "scenes": [
                            {
                                "narration": "Fresh bread every morning.",
                                "visual": "media:0123abcd.jpg",
                            }
                        ]
                    },
                    "template": "restaurant",
                    "format": "9:16",
                    "priority": "high",
                },
            ]
        },
    )

    script: str | None = Field(
        None,
        min_length=1,
        max_length=100_000,
        description="plain text or Markdown; paragraphs become scenes, "
        "![](media:<id>) pictures are allowed",
    )
    storyboard: dict[str, Any] | None = Field(
        None, description="a storyboard (see `reelforge schema`); files only as media:<id>"
    )
    title: str | None = Field(None, max_length=200)
    template: str | None = Field(None, max_length=64, description="see GET /api/templates")
    language: str | None = Field(None, max_length=16, description="e.g. en, fr, ar-dz")
    voice: str | None = Field(None, max_length=64, description="see GET /api/voices")
    format: Literal["16:9", "9:16", "1:1"] | None = None
    duration: float | None = Field(None, gt=0, le=3600, description="target seconds")
    resolution: int | None = Field(None, ge=144, le=2160, description="short side, pixels")
    music: str | None = Field(
        None, max_length=200, description="a mood (GET /api/music-moods), 'none', or media:<id>"
    )
    captions: str | None = Field(
        None, max_length=32, description="a caption style (GET /api/options) or 'none'"
    )
    translate: list[str] | None = Field(
        None,
        max_length=8,
        description="caption translations (ISO 639-1 codes, e.g. ['fr', 'ar']): downloads "
        "captions.<code>.srt/.vtt and soft subtitle tracks in the MP4; the server needs a "
        "translation engine configured",
    )
    priority: Priority = "medium"
    webhook_url: AnyHttpUrl | None = Field(
        None, description="POSTed (HMAC-signed) when the job completes or fails"
    )
    preview: bool = Field(False, description="small and fast, to check timing")
    queue: Literal["cpu", "gpu"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> VideoRequest:
        if (self.script is None) == (self.storyboard is None):
            raise ValueError("give exactly one of 'script' or 'storyboard'")
        return self

    def to_service(self) -> dict[str, Any]:
        """The request dict :meth:`JobService.submit_video` takes."""
        out: dict[str, Any] = {}
        if self.script is not None:
            out["script"] = self.script
        else:
            out["storyboard"] = self.storyboard
        for name in (
            "title",
            "template",
            "language",
            "voice",
            "format",
            "resolution",
            "music",
            "translate",
            "queue",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.duration is not None:
            out["target_duration"] = self.duration
        if self.captions is not None:
            out["captions"] = False if self.captions.lower() in ("none", "off") else self.captions
        out["preview"] = self.preview
        return out


class JobLinks(BaseModel):
    self: str
    events: str
    retry: str
    files: dict[str, str] = Field(
        default_factory=dict, description="download links of a completed job, by name"
    )
    signed: dict[str, str] = Field(
        default_factory=dict,
        description="the same downloads as links that need no API key for a few minutes "
        "(for <video>, <track> and <a download>, which send no Authorization header); "
        "fetch the job again for fresh ones",
    )
    types: dict[str, str] = Field(
        default_factory=dict, description="the media type of each download, by name"
    )


class JobOut(BaseModel):
    id: str
    kind: str
    status: JobStatusName
    stage: str | None = None
    progress: float = Field(description="percent, 0 to 100")
    eta_s: float | None = Field(None, description="estimated seconds until done")
    priority: str
    queue: str
    attempts: int
    max_attempts: int
    error: str | None = None
    hint: str | None = Field(None, description="what to do about the error")
    cached_from: str | None = None
    summary: dict[str, Any] | None = Field(
        None,
        description="what a completed job's kind says about its result (clips: rank, score, "
        "reasons, times in the source, title of each clip), each item's downloads as 'files' "
        "and 'signed' links",
    )
    webhook_url: str | None = None
    created_at: str | None = None
    queued_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    updated_at: str | None = None
    links: JobLinks


class Accepted(BaseModel):
    id: str
    status: JobStatusName
    links: JobLinks


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class MediaOut(BaseModel):
    id: str
    reference: str = Field(description="use this in a storyboard's file fields")
    kind: Literal["image", "audio", "video"]
    content_type: str
    filename: str | None = None
    size: int
    sha256: str
    created_at: str | None = None


def _url(request: Request, path: str) -> str:
    # Relative links: right behind any proxy, and what a browser needs.
    root = request.scope.get("root_path", "")
    return f"{root}{path}"


def links(request: Request, job: Any) -> JobLinks:
    base = f"/api/jobs/{job.id}"
    files: dict[str, str] = {}
    signed: dict[str, str] = {}
    types: dict[str, str] = {}
    if job.status == "completed" and job.kind in kinds.KINDS:
        settings = request.app.state.settings
        secret = signing.secret_for(settings)
        kind = kinds.get(job.kind)
        # What GET /api/jobs/{id}/files/{name} serves: the download names of the job's kind.
        for name in kind.downloads(job.result or {}):
            files[name] = _url(request, f"{base}/files/{name}")
            found = kind.output_named(name)
            if found is not None:
                types[name] = found[1].content_type
            token = signing.sign(secret, job.id, name, job.owner, settings.signed_url_ttl_s)
            signed[name] = f"{files[name]}?token={token}"
    return JobLinks(
        self=_url(request, base),
        events=_url(request, f"{base}/events"),
        retry=_url(request, f"{base}/retry"),
        files=files,
        signed=signed,
        types=types,
    )


def summary_out(job: Any, found: JobLinks) -> dict[str, Any] | None:
    """A completed job's stored summary, each ``"outputs"`` mapping (label -> result name)
    replaced by ``"files"`` and ``"signed"`` (label -> the download's links)."""
    if (
        job.status != "completed"
        or not isinstance(job.summary, dict)
        or job.kind not in kinds.KINDS
    ):
        return None
    table = kinds.get(job.kind).outputs

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        out = {key: resolve(item) for key, item in value.items() if key != "outputs"}
        outputs = value.get("outputs")
        if isinstance(outputs, dict):
            downloads = {
                label: table[name].download
                for label, name in outputs.items()
                if isinstance(name, str) and name in table and name in (job.result or {})
            }
            out["files"] = {label: found.files[name] for label, name in downloads.items()}
            out["signed"] = {label: found.signed[name] for label, name in downloads.items()}
        return out

    return resolve(job.summary)  # type: ignore[no-any-return]


def job_out(request: Request, job: Any) -> JobOut:
    data = job.to_dict()
    data["progress"] = round(max(0.0, min(1.0, float(data.get("progress") or 0.0))) * 100, 1)
    data["error"] = public_note(data.get("error"), job.id)  # no worker names, no other jobs
    found = links(request, job)
    data["summary"] = summary_out(job, found)
    fields = set(JobOut.model_fields) - {"links"}
    return JobOut(**{k: v for k, v in data.items() if k in fields}, links=found)
