# ruff: noqa: F811  (pytest fixtures imported from conftest_api are redefined as arguments)
"""Signed download links (links.signed): a file of one's own job without the API key for a few
minutes, with range requests; refused for another job or file, tampered, expired, or signed
under another secret; the key never appears in a link."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest_api import Api, api, assert_problem, make_api  # noqa: F401

from reelforge.service.api import signing


def _token(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def test_signed_links_open_only_their_own_file_for_a_while(api: Api) -> None:
    alice, bob = api.key("alice"), api.key("bob")
    mine = api.submit(alice)
    theirs = api.submit(bob)
    job = api.wait(mine, alice)
    assert job["status"] == "completed"
    other = api.wait(theirs, bob)
    signed = job["links"]["signed"]
    assert set(signed) == set(job["links"]["files"]) == set(job["links"]["types"])
    assert job["links"]["types"]["video"] == "video/mp4"
    assert job["links"]["types"]["captions.vtt"] == "text/vtt"
    assert all(alice not in url for url in signed.values())
    video = api.service.storage.local_path(f"jobs/{mine}/video.mp4").read_bytes()

    # No key, only the link: the whole file, and any range of it.
    whole = api.client.get(signed["video"])
    assert whole.status_code == 200 and whole.content == video
    part = api.client.get(signed["video"], headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == video[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(video)}"
    assert api.client.head(signed["captions.vtt"]).status_code == 200
    # Fetched again within the minute: the same links (the browser's cache keeps working).
    again = api.client.get(f"/api/jobs/{mine}", headers=api.headers(alice)).json()
    assert again["links"]["signed"]["video"] == signed["video"]

    token = _token(signed["video"])
    # Another file of the same job, or the same name of another owner's job: refused.
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/manifest?token={token}"), 403)
    assert_problem(api.client.get(f"/api/jobs/{theirs}/files/video?token={token}"), 403)
    bobs = _token(other["links"]["signed"]["video"])
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/video?token={bobs}"), 403)
    # Tampered: another expiry with the same MAC, or one character of the MAC changed.
    expires, mac = token.split(".")
    later = f"{int(expires) + 3600}.{mac}"
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/video?token={later}"), 403)
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/video?token={expires}.{flipped}"), 403)
    # Malformed tokens never reach the check; a missing job is a 404 as with a key.
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/video?token=abc"), 422)
    assert_problem(api.client.get(f"/api/jobs/nosuchjob/files/video?token={token}"), 404)
    # Neither key nor link: 401, as before.
    assert_problem(api.client.get(f"/api/jobs/{mine}/files/video"), 401)


def test_an_expired_link_or_another_secret_is_refused(api: Api) -> None:
    alice = api.key("alice")
    job_id = api.submit(alice)
    job = api.wait(job_id, alice)
    assert job["status"] == "completed"
    secret = signing.secret_for(api.settings)
    old = signing.sign(secret, job_id, "video", "alice", 30, now=time.time() - 600)
    body = assert_problem(api.client.get(f"/api/jobs/{job_id}/files/video?token={old}"), 403)
    assert "expired" in body["detail"] and "links.signed" in body["hint"]
    foreign = signing.sign(b"another server", job_id, "video", "alice", 600)
    assert_problem(api.client.get(f"/api/jobs/{job_id}/files/video?token={foreign}"), 403)
    fresh = signing.sign(secret, job_id, "video", "alice", 600)
    assert api.client.get(f"/api/jobs/{job_id}/files/video?token={fresh}").status_code == 200


def test_the_secret_is_kept_in_the_data_folder_unless_set(tmp_path: Path) -> None:
    from reelforge.service.api.settings import ApiSettings

    made = ApiSettings(data_dir=tmp_path / "a")
    first = signing.secret_for(made)
    path = tmp_path / "a" / "download-secret"
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) >= 32
    signing._secrets.clear()  # a new process reads the same file
    assert signing.secret_for(ApiSettings(data_dir=tmp_path / "a")) == first
    assert signing.secret_for(ApiSettings(data_dir=tmp_path / "b")) != first
    given = ApiSettings(data_dir=tmp_path / "c", download_secret="s3cret-of-the-operator")
    assert signing.secret_for(given) == b"s3cret-of-the-operator"
    assert "s3cret" not in repr(given)


@pytest.mark.parametrize("ttl", [29, 86401])
def test_the_link_lifetime_is_bounded(ttl: int, tmp_path: Path) -> None:
    from pydantic import ValidationError

    from reelforge.service.api.settings import ApiSettings

    with pytest.raises(ValidationError):
        ApiSettings(data_dir=tmp_path, signed_url_ttl_s=ttl)
