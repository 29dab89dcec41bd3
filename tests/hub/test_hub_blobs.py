"""Signed blob URLs: only the exact URL the hub signed works, until it expires, and
downloads honour `Range` so interrupted transfers can resume."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from crunch_cli.hub.signing import sign_blob_url
from crunch_cli.hub.store import HubStore

COMPETITION = "demo-timeseries"


@pytest.fixture
def release(hub) -> dict:
    token = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": hub.mint_token(COMPETITION, "alice", "alpha")},
    ).json()["plain"]
    return requests.get(
        f"{hub.url}/v2/competitions/{COMPETITION}/rounds/@current/phases/submission/data-release",
        headers={"Authorization": f"Project-Token {token}"},
    ).json()


def test_a_signed_url_serves_the_file_with_its_size_and_sha256(release):
    entry = release["dataFiles"]["X_train"]

    response = requests.get(entry["url"])

    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert "etag" in response.headers
    assert len(response.content) == entry["size"]
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("part", ["signature", "expires", "path"])
def test_a_tampered_signed_url_is_refused(release, part):
    url = release["dataFiles"]["X_train"]["url"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if part == "signature":
        tampered = url.replace(query["signature"][0], "0" * 64)
    elif part == "expires":
        expires = query["expires"][0]
        tampered = url.replace(f"expires={expires}", f"expires={int(expires) + 3600}")
    else:
        other = urlsplit(release["dataFiles"]["y_train"]["url"]).path
        tampered = url.replace(parts.path, other)

    response = requests.get(tampered)

    assert response.status_code == 403
    assert response.json() == {
        "code": "ACCESS_DENIED",
        "message": "this signed URL is invalid or has expired",
    }


def test_an_expired_signed_url_is_refused(hub, release):
    key = urlsplit(release["dataFiles"]["X_train"]["url"]).path.removeprefix("/blobs/")
    with HubStore(hub.settings) as store:
        expired = sign_blob_url(store.secret, hub.url, key, ttl=timedelta(seconds=-1))

    response = requests.get(expired)

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"


def test_a_url_signed_for_download_cannot_be_used_to_upload(release):
    response = requests.put(release["dataFiles"]["X_train"]["url"], data=b"overwrite")

    assert response.status_code in (403, 405)
    assert "code" in response.json()


def test_range_requests_return_exactly_the_asked_bytes(release):
    entry = release["dataFiles"]["X_train"]
    whole = requests.get(entry["url"]).content

    middle = requests.get(entry["url"], headers={"Range": "bytes=100-199"})
    tail = requests.get(entry["url"], headers={"Range": f"bytes={entry['size'] - 10}-"})

    assert middle.status_code == 206
    assert middle.content == whole[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{entry['size']}"
    assert tail.status_code == 206
    assert tail.content == whole[-10:]


def test_a_range_past_the_end_is_unsatisfiable(release):
    entry = release["dataFiles"]["X_train"]

    response = requests.get(entry["url"], headers={"Range": f"bytes={entry['size']}-"})

    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{entry['size']}"
