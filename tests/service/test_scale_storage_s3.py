"""S3Storage against a real S3 server (SeaweedFS's ``weed server -s3`` on loopback)."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest
from servers import S3Server

pytest.importorskip("boto3")

from reelforge.service.storage import Storage, StorageError, storage_from_url
from reelforge.service.storage_s3 import S3Storage


@pytest.fixture
def store(s3_env: S3Server, tmp_path: Path) -> S3Storage:
    """A store in a new bucket (made by check()), under a prefix, with a small multipart size."""
    bucket = s3_env.new_bucket_name()
    store = S3Storage.from_url(
        f"s3://{bucket}/reelforge/test?endpoint_url={s3_env.endpoint_url}"
        f"&region={s3_env.region}&multipart_threshold={5 * 1024 * 1024}",
        cache_dir=tmp_path / "cache",
    )
    store.check()
    return store


def test_storage_url_selects_s3_and_keeps_the_prefix(s3_env: S3Server) -> None:
    store = storage_from_url(f"s3://some-bucket/a/b?endpoint_url={s3_env.endpoint_url}")
    assert isinstance(store, S3Storage) and isinstance(store, Storage)
    assert (store.bucket, store.prefix, store.endpoint_url) == (
        "some-bucket",
        "a/b/",
        s3_env.endpoint_url,
    )
    with pytest.raises(StorageError, match="unknown option"):
        storage_from_url("s3://bucket/p?password=x")


def test_check_creates_the_bucket_and_bytes_round_trip(store: S3Storage, s3_env: S3Server) -> None:
    buckets = [b["Name"] for b in s3_env.client().list_buckets()["Buckets"]]
    assert store.bucket in buckets
    store.put_bytes("jobs/1/input.json", b'{"script": "hi"}', "application/json")
    assert store.exists("jobs/1/input.json")
    assert not store.exists("jobs/1/other.json")
    assert store.size("jobs/1/input.json") == 16
    assert b"".join(store.open_range("jobs/1/input.json")) == b'{"script": "hi"}'
    head = s3_env.client().head_object(Bucket=store.bucket, Key="reelforge/test/jobs/1/input.json")
    assert head["ContentType"] == "application/json"  # stored under the prefix, typed


def test_big_file_goes_up_in_parts_and_reads_back_by_range(
    store: S3Storage, s3_env: S3Server, tmp_path: Path
) -> None:
    data = os.urandom(11 * 1024 * 1024 + 123)  # over the 5 MiB threshold: three parts
    source = tmp_path / "video.mp4"
    source.write_bytes(data)
    store.put_file("jobs/2/video.mp4", source, "video/mp4")
    head = s3_env.client().head_object(Bucket=store.bucket, Key="reelforge/test/jobs/2/video.mp4")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart upload's ETag counts its parts
    assert store.size("jobs/2/video.mp4") == len(data)
    middle = b"".join(store.open_range("jobs/2/video.mp4", 5_000_000, 5_999_999))
    assert middle == data[5_000_000:6_000_000]
    assert b"".join(store.open_range("jobs/2/video.mp4", len(data) - 10)) == data[-10:]
    assert b"".join(store.open_range("jobs/2/video.mp4", 0, 10**12)) == data  # end clamps
    with pytest.raises(StorageError, match="outside"):
        store.open_range("jobs/2/video.mp4", len(data) + 5)

    local = store.local_path("jobs/2/video.mp4")
    assert local.read_bytes() == data and local.is_relative_to(tmp_path / "cache")
    assert store.local_path("jobs/2/video.mp4") == local  # cached: same file, no new download
    store.put_bytes("jobs/2/video.mp4", b"changed")
    assert store.local_path("jobs/2/video.mp4").read_bytes() == b"changed"  # ETag changed


def test_presigned_url_serves_the_object_and_ranges(store: S3Storage) -> None:
    store.put_bytes("jobs/3/video.srt", b"1\n00:00:00,000 --> 00:00:01,000\nHello\n")
    url = store.url("jobs/3/video.srt", expires=120)
    assert url is not None and url.startswith(store.endpoint_url) and "X-Amz-Signature" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read().endswith(b"Hello\n")
    request = urllib.request.Request(url, headers={"Range": "bytes=2-9"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.headers["Content-Range"].startswith("bytes 2-9/")
        assert response.read() == b"00:00:00"
    import httpx

    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered, timeout=10).status_code == 403


def test_delete_prefix_pages_through_many_keys_and_usage_counts(store: S3Storage) -> None:
    # Small pages and batches so 25 keys take several list pages and DeleteObjects calls.
    store.list_page_size, store.delete_batch_size = 4, 10
    for index in range(25):
        store.put_bytes(f"jobs/4/frames/{index:04d}.txt", b"x")
    store.put_bytes("jobs/40/keep.txt", b"keep me")  # shares the characters, not the folder
    assert store.usage_bytes() == 25 + 7
    assert len(store.keys("jobs/4")) == 25
    assert store.delete_prefix("jobs/4") == 25
    assert store.keys() == ["jobs/40/keep.txt"]
    assert store.delete_prefix("jobs/nothing") == 0
    assert store.usage_bytes() == 7


def test_missing_keys_bad_keys_and_the_quota(s3_env: S3Server, tmp_path: Path) -> None:
    store = S3Storage(
        s3_env.new_bucket_name(),
        "q",
        endpoint_url=s3_env.endpoint_url,
        quota_bytes=100,
        cache_dir=tmp_path,
    )
    store.check()
    with pytest.raises(StorageError, match="no such stored file"):
        store.size("jobs/none/video.mp4")
    with pytest.raises(StorageError, match="no such stored file"):
        store.open_range("jobs/none/video.mp4")
    with pytest.raises(StorageError, match="refused storage key"):
        store.put_bytes("../escape", b"x")
    store.put_bytes("a.bin", b"x" * 60)
    store.put_bytes("a.bin", b"x" * 90)  # replacing counts only the difference
    with pytest.raises(StorageError, match="storage quota exceeded") as caught:
        store.put_bytes("b.bin", b"x" * 20)
    assert "REELFORGE_STORAGE_QUOTA_BYTES" in (caught.value.hint or "")
    assert not store.exists("b.bin")  # refused before anything was sent


def test_unreachable_server_and_bad_credentials_say_what_to_check(
    s3_env: S3Server, tmp_path: Path
) -> None:
    from servers import free_port

    down = S3Storage("bucket", endpoint_url=f"http://127.0.0.1:{free_port()}", cache_dir=tmp_path)
    down.client.meta.config.retries = {"max_attempts": 1}
    with pytest.raises(StorageError, match="unreachable") as caught:
        down.check()
    assert "REELFORGE_STORAGE_URL" in (caught.value.hint or "")
    wrong = S3Storage(
        s3_env.new_bucket_name(),
        endpoint_url=s3_env.endpoint_url,
        access_key="nobody",
        secret_key="wrong",
        cache_dir=tmp_path,
    )
    with pytest.raises(StorageError) as caught:
        wrong.check()
    assert "AWS_ACCESS_KEY_ID" in (caught.value.hint or "")
