"""LocalStorage: keys, atomic writes, byte ranges, prefixes, quota, and refused paths."""

from __future__ import annotations

import os

import pytest

from reelforge.errors import JobError
from reelforge.service.storage import (
    LocalStorage,
    Storage,
    StorageError,
    check_key,
    storage_from_url,
)


@pytest.fixture
def store(tmp_path):
    return LocalStorage(tmp_path / "store")


def test_is_a_storage(store):
    assert isinstance(store, Storage)
    assert store.url("jobs/a/video.mp4") is None  # the API serves local files itself
    store.check()


def test_put_read_size_exists_and_local_path(store, tmp_path):
    store.put_bytes("jobs/a/input.json", b'{"x": 1}', "application/json")
    source = tmp_path / "clip.bin"
    source.write_bytes(bytes(range(256)) * 10)
    store.put_file("jobs/a/video.mp4", source, "video/mp4")
    assert store.exists("jobs/a/video.mp4") and not store.exists("jobs/a/other.mp4")
    assert store.size("jobs/a/video.mp4") == 2560
    assert b"".join(store.open_range("jobs/a/input.json")) == b'{"x": 1}'
    assert store.local_path("jobs/a/video.mp4").read_bytes() == source.read_bytes()
    assert store.usage_bytes() == 2560 + 8


def test_byte_ranges_are_inclusive_and_clamped(store):
    data = bytes(range(256)) * 8192  # 2 MiB: crosses the 1 MiB read chunk
    store.put_bytes("k/blob", data)
    assert b"".join(store.open_range("k/blob", 10, 19)) == data[10:20]
    assert b"".join(store.open_range("k/blob", 1_000_000, 1_100_000)) == data[1_000_000:1_100_001]
    assert b"".join(store.open_range("k/blob", len(data) - 5)) == data[-5:]
    assert b"".join(store.open_range("k/blob", 0, 10**9)) == data
    with pytest.raises(StorageError):
        store.open_range("k/blob", len(data) + 10)
    with pytest.raises(StorageError):
        store.open_range("k/missing")


def test_writes_replace_atomically_and_leave_no_temporaries(store):
    store.put_bytes("jobs/a/video.mp4", b"first")
    store.put_bytes("jobs/a/video.mp4", b"second version")
    assert b"".join(store.open_range("jobs/a/video.mp4")) == b"second version"
    names = [p.name for p in (store.root / "jobs" / "a").iterdir()]
    assert names == ["video.mp4"]


def test_delete_prefix_removes_only_that_folder(store):
    keys = ("jobs/a/video.mp4", "jobs/a/video.srt", "jobs/ab/video.mp4", "media/x/original.png")
    for key in keys:
        store.put_bytes(key, b"data")
    assert store.delete_prefix("jobs/a/") == 2
    assert not store.exists("jobs/a/video.mp4")
    assert store.exists("jobs/ab/video.mp4") and store.exists("media/x/original.png")
    assert store.delete_prefix("jobs/none/") == 0


@pytest.mark.parametrize(
    "key",
    [
        "../escape",
        "jobs/../../etc/passwd",
        "/etc/passwd",
        "C:/Windows/win.ini",
        "jobs\\a\\video.mp4",
        "jobs//video.mp4",
        "jobs/./video.mp4",
        "",
        "jobs/a/\x00.mp4",
        "jobs/a/na me.mp4",
    ],
)
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(JobError) as info:
        store.put_bytes(key, b"x")
    assert info.value.hint
    with pytest.raises(JobError):
        store.open_range(key)
    with pytest.raises(JobError):
        check_key(key)
    with pytest.raises(JobError):
        store.delete_prefix(key)


def test_symlink_out_of_the_store_is_refused(store, tmp_path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    os.symlink(outside, store.root / "link")
    with pytest.raises(StorageError, match="outside"):
        store.open_range("link/passwd")
    with pytest.raises(StorageError):
        store.put_bytes("link/new", b"x")
    assert not (outside / "new").exists()


def test_quota_refuses_writes_that_would_exceed_it(tmp_path):
    store = LocalStorage(tmp_path / "q", quota_bytes=100)
    store.put_bytes("a/one", b"x" * 60)
    with pytest.raises(StorageError, match="quota") as info:
        store.put_bytes("a/two", b"x" * 50)
    assert "QUOTA" in info.value.hint
    # tenants read this error: neither the key nor the store's totals are in it
    assert "a/two" not in str(info.value) and "100" not in str(info.value)
    assert not store.exists("a/two")
    store.put_bytes("a/one", b"y" * 100)  # replacing a file counts only the difference
    assert store.usage_bytes() == 100


def test_storage_from_url(tmp_path):
    local = storage_from_url(f"file://{tmp_path / 'from-url'}")
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "from-url").resolve()
    plain = storage_from_url(str(tmp_path / "plain"), quota_bytes=5)
    assert isinstance(plain, LocalStorage) and plain.quota_bytes == 5
    with pytest.raises(StorageError, match="unsupported"):
        storage_from_url("ftp://example.org/x")


def test_quota_space_comes_back_after_a_delete(tmp_path):
    store = LocalStorage(tmp_path / "q", quota_bytes=100)
    store.put_bytes("jobs/a/video.mp4", b"x" * 80)
    with pytest.raises(StorageError, match="quota"):
        store.put_bytes("jobs/b/video.mp4", b"x" * 80)
    store.delete_prefix("jobs/a/")
    store.put_bytes("jobs/b/video.mp4", b"x" * 80)
    assert store.usage_bytes() == 80


def test_quota_holds_under_concurrent_writers(tmp_path):
    import threading

    store = LocalStorage(tmp_path / "q", quota_bytes=1000)
    outcomes: list[bool] = []

    def write(number: int) -> None:
        try:
            store.put_bytes(f"k/{number}", b"x" * 100)
            outcomes.append(True)
        except StorageError:
            outcomes.append(False)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 10 and store.usage_bytes() == 1000
