"""JobService: validation before acceptance, stored inputs, listing, cancel/retry/delete,
uploads (sniffed types, size limit), media references and estimates."""

from __future__ import annotations

import io
import json

import pytest
from service_support import TINY
from service_support import VIDEO_OUTPUTS as OUTPUTS
from sqlalchemy import func, select

from reelforge.errors import JobError, MediaError, SpecError
from reelforge.service.jobs import (
    JobConflict,
    JobNotFound,
    UnsupportedMedia,
    UploadTooLarge,
)
from reelforge.service.models import Job, JobEvent, Media
from reelforge.service.uploads import sniff
from reelforge.service.worker import run_job


def _count(service, model) -> int:
    with service.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def _files(service, prefix: str = "") -> list[str]:
    root = service.storage.root
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and str(p.relative_to(root)).startswith(prefix)
    )


def test_submit_stores_input_and_queues(service):
    job = service.submit_video({"storyboard": TINY, "preview": True}, priority="high")
    assert job.status == "queued" and job.kind == "video" and job.priority_name == "high"
    assert [h["status"] for h in job.history] == ["submitted", "queued"]
    stored = json.loads(b"".join(service.storage.open_range(f"jobs/{job.id}/input.json")))
    assert stored["kind"] == "video" and stored["request"]["preview"] is True
    board = stored["request"]["storyboard"]
    assert [scene["narration"] for scene in board["scenes"]] == ["Hello there."]
    again = service.get(job.id)
    assert again.status == "queued" and again.queued_at is not None
    assert len(job.input_hash) == 64


def test_script_requests_and_overrides_are_accepted(service):
    job = service.submit_video(
        {
            "script": "# Title\n\nHello there. Welcome.",
            "format": "9:16",
            "music": "none",
            "duration": 4,
            "preview": True,
        }
    )
    board = job.params["storyboard"]
    assert board["target_duration"] == 4 and board["format"] == "9:16"


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [
        ({}, "exactly one"),
        ({"script": "a", "storyboard": TINY}, "exactly one"),
        ({"script": "   "}, "non-empty"),
        ({"storyboard": {"scenes": []}}, "scenes"),
        ({"storyboard": {"scenes": ["Hi."], "format": "4:3"}}, "format"),
        ({"storyboard": TINY, "colour": "red"}, "unknown request field"),
        ({"storyboard": TINY, "preview": "yes"}, "preview"),
        ({"storyboard": TINY, "queue": "tpu"}, "queue"),
        ({"storyboard": {**TINY, "template": "nope"}}, "nope"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_stored(service, request_body, fragment):
    with pytest.raises(SpecError) as info:
        service.submit_video(request_body)
    assert fragment in str(info.value)
    assert info.value.hint
    assert _count(service, Job) == 0
    assert _files(service, "jobs") == []


def test_server_limits_on_scenes_and_duration(service):
    service.settings.max_scenes = 3
    service.settings.max_video_seconds = 60
    with pytest.raises(SpecError, match="at most 3"):
        service.submit_video({"storyboard": {"scenes": ["One.", "Two.", "Three.", "Four."]}})
    with pytest.raises(SpecError, match="at most 60 s"):
        service.submit_video({"storyboard": {**TINY, "target_duration": 600}})
    service.settings.max_scenes = 200
    with pytest.raises(SpecError, match="at most 60 s"):
        service.estimate({"script": "word " * 400})  # about 160 s of narration
    assert _count(service, Job) == 0
    assert service.submit_video({"storyboard": {**TINY, "target_duration": 30}}).id


def test_bad_priority_and_webhook_are_refused(service):
    with pytest.raises(JobError, match="priority"):
        service.submit_video({"storyboard": TINY}, priority="urgent")
    with pytest.raises(SpecError, match="webhook"):
        service.submit_video({"storyboard": TINY}, webhook_url="file:///etc/passwd")
    assert _count(service, Job) == 0


@pytest.mark.parametrize(
    "storyboard",
    [
        {"scenes": [{"narration": "Hi.", "visual": "/etc/passwd.png"}]},
        {"scenes": [{"narration": "Hi.", "visual": {"type": "image", "path": "../x.png"}}]},
        {"scenes": ["Hi."], "music": {"path": "/root/song.mp3"}},
        {"scenes": ["Hi."], "narration": {"path": "voice.wav"}},
        {"scenes": ["Hi."], "captions": {"file": "/etc/subs.srt"}},
    ],
)
def test_file_paths_in_storyboards_are_refused(service, storyboard):
    with pytest.raises(SpecError) as info:
        service.submit_video({"storyboard": storyboard})
    assert "media" in info.value.hint
    assert _count(service, Job) == 0


@pytest.mark.parametrize("font", ["/etc/passwd", "../fonts/x.ttf", "Evil.otf", "Sans:file=/x"])
def test_font_files_are_refused(service, font):
    with pytest.raises(SpecError, match="captions.font"):
        service.submit_video({"storyboard": {**TINY, "captions": {"font": font}}})


def test_font_family_names_are_accepted(service):
    job = service.submit_video({"storyboard": {**TINY, "captions": {"font": "DejaVu Sans"}}})
    assert job.status == "queued"


def test_markdown_image_paths_are_refused(service):
    with pytest.raises(SpecError, match="file path"):
        service.submit_video({"script": "Hello there.\n\n![](../../secret.png)"})


def test_get_list_and_owner_isolation(service):
    mine = [service.submit_video({"storyboard": TINY}, owner="alice") for _ in range(3)]
    theirs = service.submit_video({"storyboard": TINY}, owner="bob")
    assert service.get(mine[0].id, owner="alice").id == mine[0].id
    with pytest.raises(JobNotFound):
        service.get(theirs.id, owner="alice")
    with pytest.raises(JobNotFound):
        service.get("0" * 32)
    page, total = service.list(owner="alice", limit=2)
    assert total == 3 and len(page) == 2
    assert {j.owner for j in page} == {"alice"}
    rest, _ = service.list(owner="alice", limit=2, offset=2)
    assert {j.id for j in page + rest} == {j.id for j in mine}
    assert service.list(status="queued")[1] == 4
    assert service.list(status="completed")[1] == 0
    assert service.list(kind="video")[1] == 4
    with pytest.raises(SpecError):
        service.list(status="exploded")
    with pytest.raises(SpecError):
        service.list(limit=0)


def test_cancel_retry_conflicts(service, fake_make):
    job = service.submit_video({"storyboard": TINY})
    cancelled = service.cancel(job.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert service.cancel(job.id).status == "cancelled"  # idempotent
    assert run_job(job.id, service.db, service.storage, service.settings, "w") is None
    again = service.retry(job.id)
    assert again.status == "queued" and again.attempts == 0
    assert run_job(job.id, service.db, service.storage, service.settings, "w") == "completed"
    with pytest.raises(JobConflict):
        service.retry(job.id)
    with pytest.raises(JobConflict):
        service.cancel(job.id)
    assert [h["status"] for h in service.get(job.id).history][-1] == "completed"


def test_delete_removes_files_rows_and_events(service, fake_make):
    job = service.submit_video({"storyboard": TINY})
    keep = service.submit_video({"storyboard": {"scenes": ["Another one."]}})
    assert run_job(job.id, service.db, service.storage, service.settings, "w") == "completed"
    assert len(_files(service, f"jobs/{job.id}")) == len(OUTPUTS) + 1
    service.delete(job.id)
    assert _files(service, f"jobs/{job.id}") == []
    with pytest.raises(JobNotFound):
        service.get(job.id)
    with service.db.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(JobEvent).where(JobEvent.job_id == job.id)
            )
            == 0
        )
    assert service.get(keep.id).status == "queued"
    assert _files(service, f"jobs/{keep.id}") == [f"jobs/{keep.id}/input.json"]
    with pytest.raises(JobNotFound):
        service.delete(job.id)


def test_delete_cancels_a_queued_job(service):
    job = service.submit_video({"storyboard": TINY})
    service.delete(job.id)
    assert _count(service, Job) == 0


def test_artifact_keys(service, fake_make):
    job = service.submit_video({"storyboard": TINY})
    with pytest.raises(JobConflict):
        service.artifact_key(job.id, "video")
    run_job(job.id, service.db, service.storage, service.settings, "w")
    key = service.artifact_key(job.id, "video")
    assert key == f"jobs/{job.id}/video.mp4" and service.storage.exists(key)
    with pytest.raises(JobNotFound):
        service.artifact_key(job.id, "poster")


def test_identical_inputs_hash_alike(service):
    a = service.submit_video({"storyboard": TINY, "preview": True})
    b = service.submit_video({"storyboard": dict(TINY), "preview": True})
    c = service.submit_video({"storyboard": TINY, "preview": False})
    d = service.submit_video({"storyboard": {**TINY, "format": "9:16"}, "preview": True})
    assert a.input_hash == b.input_hash
    assert len({a.input_hash, c.input_hash, d.input_hash}) == 3


def test_estimate(service):
    short = service.estimate({"script": "Hello there.", "preview": True})
    full = service.estimate({"script": "Hello there.", "preview": False})
    gpu = service.estimate({"script": "Hello there.", "preview": False, "queue": "gpu"})
    longer = service.estimate({"storyboard": {**TINY, "target_duration": 60}})
    assert 0 < short["compute_s"] < full["compute_s"]
    assert short["cost"] < full["cost"] < gpu["cost"]
    assert longer["duration_s"] == 60 and longer["compute_s"] > full["compute_s"]
    assert short["currency"] == "USD" and short["rates"]["cpu_second"] > 0
    with pytest.raises(SpecError):
        service.estimate({"storyboard": {"scenes": []}})


# --- uploads -----------------------------------------------------------------------------------


def test_upload_image_is_sniffed_and_stored(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    media = service.store_upload("alice", "holiday photo.png", io.BytesIO(png), "image/png")
    assert (media.kind, media.content_type, media.extension) == ("image", "image/png", ".png")
    assert media.size == len(png) and media.owner == "alice"
    assert b"".join(service.storage.open_range(media.key)) == png
    assert service.get_media(media.id, owner="alice").sha256 == media.sha256
    with pytest.raises(JobNotFound):
        service.get_media(media.id, owner="bob")


def test_upload_declared_as_another_kind_is_refused(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    with pytest.raises(UnsupportedMedia, match="audio/mpeg"):
        service.store_upload(None, "song.mp3", io.BytesIO(png), "audio/mpeg")
    assert _count(service, Media) == 0
    assert _files(service, "media") == []


def test_upload_with_wrong_subtype_is_retyped(service, tmp_media):
    jpeg = tmp_media.make_image("a.jpg").read_bytes()
    media = service.store_upload(None, "a.png", io.BytesIO(jpeg), "image/png")
    assert media.content_type == "image/jpeg" and media.key.endswith(".jpg")


def test_upload_audio_and_chunked_streams(service, tmp_media):
    wav = tmp_media.make_tone("t.wav", seconds=0.5).read_bytes()
    chunks = [wav[i : i + 1000] for i in range(0, len(wav), 1000)]
    media = service.store_upload(None, "t.wav", iter(chunks), None)
    assert media.kind == "audio" and media.content_type == "audio/wav"


def test_upload_refuses_unknown_corrupt_and_empty(service):
    with pytest.raises(UnsupportedMedia):
        service.store_upload(None, "x.txt", io.BytesIO(b"just some text, not media"), None)
    with pytest.raises(UnsupportedMedia):
        service.store_upload(None, "x.png", io.BytesIO(b""), "image/png")
    with pytest.raises(MediaError):  # a PNG signature followed by garbage
        service.store_upload(None, "x.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), None)
    assert _count(service, Media) == 0
    assert _files(service, "media") == []


def test_upload_size_limit_is_enforced_while_streaming(service):
    service.settings.upload_max_bytes = 10_000
    consumed = []

    def endless():
        while True:
            consumed.append(1)
            yield b"\x89PNG\r\n\x1a\n" + b"\0" * 992

    with pytest.raises(UploadTooLarge) as info:
        service.store_upload(None, "huge.png", endless(), "image/png")
    assert "10000" in info.value.message and info.value.hint
    assert len(consumed) <= 12  # stopped reading soon after the limit
    uploads = service.settings.work_dir / "uploads"
    assert list(uploads.iterdir()) == []
    assert _count(service, Media) == 0


def test_sniff_table():
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ")[0] == "image"
    assert sniff(b"RIFF\0\0\0\0WAVEfmt ")[0] == "audio"
    assert sniff(b"\0\0\0\x20ftypisom\0\0\0\0")[0] == "video"
    assert sniff(b"\0\0\0\x20ftypM4A \0\0\0\0")[0] == "audio"
    assert sniff(b"ID3\x04\0\0")[0] == "audio"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'>") is None
    assert sniff(b"#EXTM3U\n") is None  # playlists (network/file tricks) are not media


# --- media references ----------------------------------------------------------------------------


def test_media_references_resolve_for_the_owner_only(service, tmp_media, fake_make):
    png = tmp_media.make_image("a.png").read_bytes()
    wav = tmp_media.make_tone("t.wav", seconds=0.5).read_bytes()
    image = service.store_upload("alice", "a.png", io.BytesIO(png), "image/png")
    sound = service.store_upload("alice", "t.wav", io.BytesIO(wav), "audio/wav")
    storyboard = {
        "scenes": [{"narration": "Look.", "visual": f"media:{image.id}"}],
        "music": {"path": f"media:{sound.id}"},
    }
    with pytest.raises(SpecError, match="unknown media"):
        service.submit_video({"storyboard": storyboard}, owner="bob")
    with pytest.raises(SpecError, match="takes audio"):
        service.submit_video(
            {"storyboard": {"scenes": ["Hi."], "music": {"path": f"media:{image.id}"}}},
            owner="alice",
        )
    job = service.submit_video({"storyboard": storyboard}, owner="alice")
    seen = {}
    fake_make.before = lambda board: seen.setdefault("board", board)
    assert run_job(job.id, service.db, service.storage, service.settings, "w") == "completed"
    board = seen["board"]
    visual = board.scenes[0].visual
    assert visual.type == "image"
    inputs = service.settings.work_dir / job.id / "attempt-1" / "inputs"
    assert visual.path == str(inputs / f"{image.id}.png")
    assert board.music.path == str(inputs / f"{sound.id}.wav")


def test_media_reference_in_a_markdown_script(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    image = service.store_upload(None, "a.png", io.BytesIO(png), None)
    job = service.submit_video({"script": f"Hello there.\n\n![a picture](media:{image.id})"})
    visuals = [scene["visual"] for scene in job.params["storyboard"]["scenes"]]
    assert {"type": "image", "path": f"media:{image.id}.png"}.items() <= visuals[-1].items()


def test_same_content_uploaded_twice_is_stored_once_per_owner(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    one = service.store_upload("alice", "a.png", io.BytesIO(png), None)
    again = service.store_upload("alice", "copy.png", io.BytesIO(png), None)
    other = service.store_upload("bob", "a.png", io.BytesIO(png), None)
    assert again.id == one.id and other.id != one.id
    assert len(_files(service, "media")) == 2


def test_same_content_uploaded_twice_hashes_alike(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    one = service.store_upload("alice", "a.png", io.BytesIO(png), None)
    two = service.store_upload("bob", "b.png", io.BytesIO(png), None)
    jobs = [
        service.submit_video(
            {"storyboard": {"scenes": [{"narration": "Hi.", "visual": f"media:{m.id}"}]}},
            owner=m.owner,
        )
        for m in (one, two)
    ]
    assert jobs[0].input_hash == jobs[1].input_hash


def test_delete_media(service, tmp_media):
    png = tmp_media.make_image("a.png").read_bytes()
    media = service.store_upload("alice", "a.png", io.BytesIO(png), None)
    with pytest.raises(JobNotFound):
        service.delete_media(media.id, owner="bob")
    service.delete_media(media.id, owner="alice")
    assert _files(service, "media") == [] and _count(service, Media) == 0
    with pytest.raises(SpecError, match="unknown media"):
        service.submit_video(
            {"storyboard": {"scenes": [{"narration": "Hi.", "visual": f"media:{media.id}"}]}},
            owner="alice",
        )


def test_purge_deletes_old_finished_jobs_only(service, fake_make):
    from datetime import timedelta

    from sqlalchemy import update

    from reelforge.service.models import utcnow

    old = service.submit_video({"storyboard": TINY})
    run_job(old.id, service.db, service.storage, service.settings, "w")
    recent = service.submit_video({"storyboard": {"scenes": ["Recent."]}})
    run_job(recent.id, service.db, service.storage, service.settings, "w")
    waiting = service.submit_video({"storyboard": {"scenes": ["Waiting."]}})
    with service.db.transaction() as session:
        session.execute(
            update(Job).where(Job.id == old.id).values(finished_at=utcnow() - timedelta(days=10))
        )
    assert service.purge(older_than_s=7 * 86400) == 1
    assert {j.id for j in service.list()[0]} == {recent.id, waiting.id}
    assert _files(service, f"jobs/{old.id}") == []
    assert service.storage.exists(f"jobs/{recent.id}/video.mp4")
