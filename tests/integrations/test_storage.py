"""Storage adapters: local folder (atomic writes, safe keys, signed URLs) and S3 via moto."""

import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.integrations.storage_local import LocalStorage, disposition_for, sign, verify
from viralshorts.integrations.storage_s3 import S3Storage
from viralshorts.settings import Settings

BIN = Path(sys.executable).parent
SECRET = "k" * 40
KEY = "videos/1/2/abc.mp4"


@pytest.fixture()
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(Settings(media_root=tmp_path / "media", secret_key=SECRET))


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_local_put_download_delete_roundtrip(local, tmp_path):
    source = _file(tmp_path, "a.mp4", b"x" * 5000)
    local.put_file("videos/1/2/abc.mp4", source, "video/mp4")
    assert local.exists("videos/1/2/abc.mp4")
    copy = local.download_to("videos/1/2/abc.mp4", tmp_path / "out" / "copy.mp4")
    assert copy.read_bytes() == source.read_bytes()
    folder = local.path_for("videos/1/2/abc.mp4").parent
    assert [p.name for p in folder.iterdir()] == ["abc.mp4"]  # no temp file left behind
    local.delete("videos/1/2/abc.mp4")
    assert not local.exists("videos/1/2/abc.mp4")
    with pytest.raises(NotFoundError):
        local.download_to("videos/1/2/abc.mp4", tmp_path / "again.mp4")


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/etc/passwd", "videos//x.mp4", "videos/.hidden", "a/../b", ""]
)
def test_local_refuses_unsafe_keys(local, tmp_path, key):
    with pytest.raises(ValidationError):
        local.put_file(key, _file(tmp_path, "s.bin", b"1"), "application/octet-stream")


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def test_local_signed_url_verifies_for_its_key_expiry_and_secret_only(local):
    url = local.signed_url(KEY, expires_in=60)
    assert urlparse(url).path == "/api/media/videos/1/2/abc.mp4"
    exp, sig = int(_query(url)["exp"]), _query(url)["sig"]
    assert verify(SECRET, KEY, exp, "inline", sig, max_ttl=3600)
    assert not verify(SECRET, "videos/1/2/other.mp4", exp, "inline", sig, max_ttl=3600)
    assert not verify(SECRET, KEY, exp + 1, "inline", sig, max_ttl=3600)
    assert not verify("another-secret", KEY, exp, "inline", sig, max_ttl=3600)


def test_a_correctly_signed_but_expired_url_is_refused():
    exp = int(time.time()) - 1
    signature = sign(SECRET, KEY, exp, "inline")
    assert verify(SECRET, KEY, exp + 2, "inline", sign(SECRET, KEY, exp + 2, "inline"), max_ttl=60)
    assert not verify(SECRET, KEY, exp, "inline", signature, max_ttl=60)


def test_a_wrong_signature_is_refused_before_expiry():
    exp = int(time.time()) + 30
    good = sign(SECRET, KEY, exp, "inline")
    assert verify(SECRET, KEY, exp, "inline", good, max_ttl=60)
    wrong = ("0" if good[0] != "0" else "1") + good[1:]
    assert not verify(SECRET, KEY, exp, "inline", wrong, max_ttl=60)
    assert not verify(SECRET, KEY, exp, "inline", "", max_ttl=60)


def test_a_signed_expiry_beyond_the_maximum_lifetime_is_refused():
    far = int(time.time()) + 100 * 365 * 86400  # the year-5138 kind of link
    assert not verify(SECRET, KEY, far, "inline", sign(SECRET, KEY, far, "inline"), max_ttl=3600)


def test_signed_urls_never_outlive_the_configured_lifetime(tmp_path):
    storage = LocalStorage(
        Settings(media_root=tmp_path / "m", secret_key=SECRET, signed_url_ttl_seconds=120)
    )
    exp = int(_query(storage.signed_url(KEY, expires_in=10**9))["exp"])
    assert exp <= int(time.time()) + 120


def test_a_download_url_signs_its_file_name(local):
    download = local.signed_url(KEY, expires_in=60, download_name="my.mp4")
    query = _query(download)
    assert query["dl"] == "my.mp4"
    exp, sig = int(query["exp"]), query["sig"]
    assert verify(SECRET, KEY, exp, disposition_for("my.mp4"), sig, max_ttl=3600)
    assert not verify(SECRET, KEY, exp, disposition_for("other.mp4"), sig, max_ttl=3600)
    assert not verify(SECRET, KEY, exp, "inline", sig, max_ttl=3600)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(endpoint, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield endpoint
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture()
def s3(moto_endpoint) -> S3Storage:
    settings = Settings(
        storage_backend="s3",
        s3_bucket="viralshorts-test",
        s3_endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    storage = S3Storage(settings)
    storage.client.create_bucket(Bucket="viralshorts-test")
    return storage


def test_s3_upload_presigned_get_and_range(s3, tmp_path):
    data = bytes(range(256)) * 40
    s3.put_file("videos/1/2/h.mp4", _file(tmp_path, "v.mp4", data), "video/mp4")
    assert s3.exists("videos/1/2/h.mp4")
    assert not s3.exists("videos/1/2/missing.mp4")
    url = s3.signed_url("videos/1/2/h.mp4", expires_in=600)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["response-content-disposition"] == ["inline"]
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.content == data[100:200]


def test_s3_download_url_names_the_file_and_delete_removes_it(s3, tmp_path):
    s3.put_file("videos/1/2/h.srt", _file(tmp_path, "c.srt", b"1\n"), "application/x-subrip")
    url = s3.signed_url("videos/1/2/h.srt", expires_in=60, download_name="my video.srt")
    query = parse_qs(urlparse(url).query)
    assert query["response-content-disposition"] == ['attachment; filename="my video.srt"']
    assert query["response-content-type"] == ["application/x-subrip"]
    copy = s3.download_to("videos/1/2/h.srt", tmp_path / "dl" / "c.srt")
    assert copy.read_bytes() == b"1\n"
    s3.delete("videos/1/2/h.srt")
    with pytest.raises(NotFoundError):
        s3.download_to("videos/1/2/h.srt", tmp_path / "dl" / "again.srt")
