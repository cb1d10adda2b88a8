"""The signed media route: signature, expiry, missing files, Range requests, downloads."""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.factories import services_with
from viralshorts.integrations.services import use_services
from viralshorts.integrations.storage_local import LocalStorage, sign
from viralshorts.settings import get_settings
from viralshorts.web.routes import build_api

DATA = bytes(range(256)) * 100


def _secret() -> str:
    return get_settings().secret_key.get_secret_value()


KEY = "videos/7/9/cafe.mp4"


@pytest.fixture()
def storage(tmp_path: Path) -> Iterator[LocalStorage]:
    storage = LocalStorage(get_settings())
    source = tmp_path / "v.mp4"
    source.write_bytes(DATA)
    storage.put_file(KEY, source, "video/mp4")
    use_services(services_with(storage=storage))  # the media route needs nothing else
    yield storage
    use_services(None)


@pytest.fixture()
def client() -> TestClient:
    return TestClient(build_api())


def test_signed_url_plays_inline_with_range_support(storage, client):
    url = storage.signed_url(KEY, expires_in=60)
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole.content == DATA
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-disposition"] == "inline"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(DATA)}"
    assert part.content == DATA[1000:2000]
    head = client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(DATA))


def test_download_link_is_an_attachment_with_its_name(storage, client):
    response = client.get(storage.signed_url(KEY, expires_in=60, download_name="my-video-9.mp4"))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="my-video-9.mp4"'


def test_tampered_or_expired_links_are_refused(storage, client):
    url = storage.signed_url(KEY, expires_in=60)
    assert client.get(url.replace("cafe.mp4", "other.mp4")).status_code == 403
    assert client.get(url[:-4] + "0000").status_code == 403
    assert client.get(f"/api/media/{KEY}").status_code == 403
    renamed = storage.signed_url(KEY, expires_in=60, download_name="a.mp4").replace("dl=a", "dl=b")
    assert client.get(renamed).status_code == 403
    exp = int(time.time()) - 5
    expired = f"/api/media/{KEY}?exp={exp}&sig={sign(_secret(), KEY, exp, 'inline')}"
    assert client.get(expired).status_code == 403


def test_missing_file_is_404(storage, client):
    url = storage.signed_url("videos/7/9/gone.mp4", expires_in=60)
    assert client.get(url).status_code == 404


def test_a_signed_link_that_expires_too_far_ahead_is_refused(storage, client):
    far = int(time.time()) + 100 * 365 * 86400
    url = f"/api/media/{KEY}?exp={far}&sig={sign(_secret(), KEY, far, 'inline')}"
    assert client.get(url).status_code == 403


def test_a_non_numeric_expiry_is_refused(storage, client):
    assert client.get(f"/api/media/{KEY}?exp=%C2%B2&sig=x").status_code == 403


def test_no_route_serves_files_when_storage_is_not_local(client):
    use_services(services_with(storage=object()))
    try:
        assert client.get(f"/api/media/{KEY}?exp=1&sig=x").status_code == 404
    finally:
        use_services(None)
