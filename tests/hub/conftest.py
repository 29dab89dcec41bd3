"""A thin HTTP caller for the hub tests: a project token and the upload dance spelled out,
so each test reads as the calls a client makes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import requests

COMPETITION = "demo-timeseries"


@dataclasses.dataclass
class Caller:
    url: str
    token: str
    user_id: int
    project: str
    competition: str = COMPETITION

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Project-Token {self.token}"}

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.headers, **kwargs)

    def project_path(self, version: int) -> str:
        return f"/v{version}/competitions/{self.competition}/projects/{self.user_id}/{self.project}"

    def start_upload(self, name: str, size: int, chunk_size: int | None = None) -> dict:
        body = {"name": name, "size": size, "encrypted": False}
        if chunk_size:
            body["preferredChunkSize"] = chunk_size
        response = self.call("POST", "/v1/uploads", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def put_chunk(self, upload_id: str, number: int, data: bytes) -> requests.Response:
        signed = self.call("GET", f"/v1/uploads/{upload_id}/chunks/{number}/request").json()
        return requests.request(
            signed["method"], signed["url"], data=data, headers=signed["headers"]
        )

    def send_chunk(self, upload: dict, chunk: dict, content: bytes) -> None:
        data = content[chunk["offset"] : chunk["offset"] + chunk["size"]]
        put = self.put_chunk(upload["id"], chunk["number"], data)
        assert put.status_code == 200, put.text
        confirm = self.call(
            "POST",
            f"/v1/uploads/{upload['id']}/chunks/{chunk['number']}/confirm",
            json={"hash": put.headers["ETag"]},
        )
        assert confirm.status_code == 200, confirm.text

    def upload(self, name: str, content: bytes, chunk_size: int | None = None) -> str:
        upload = self.start_upload(name, len(content), chunk_size)
        for chunk in upload["chunks"]:
            self.send_chunk(upload, chunk, content)
        done = self.call("POST", f"/v1/uploads/{upload['id']}/complete", json={})
        assert done.json()["status"] == "SUCCEEDED", done.text
        return upload["id"]

    def submit(
        self,
        code: dict[str, bytes],
        model: dict[str, bytes] | None = None,
        **extra: Any,
    ) -> requests.Response:
        body = {
            "message": "test",
            "mainFilePath": "main.py",
            "modelDirectoryPath": "resources",
            "type": "CODE",
            "codeFiles": {path: self.upload(path, data) for path, data in code.items()},
            "modelFiles": {path: self.upload(path, data) for path, data in (model or {}).items()},
            "submitterImprint": "tests",
            **extra,
        }
        return self.call("POST", self.project_path(4) + "/submissions", json=body)


def make_caller(hub, user: str = "alice", project: str = "alpha", competition: str = COMPETITION):
    body = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": hub.mint_token(competition, user, project)},
    ).json()
    return Caller(hub.url, body["plain"], body["project"]["userId"], project, competition)


@pytest.fixture
def caller_for(hub):
    """Make a caller for another user or project: `caller_for("bob", "beta")`."""
    return lambda *args: make_caller(hub, *args)


@pytest.fixture
def caller(hub) -> Caller:
    """Alice's project `alpha` in the demo time-series competition, with its token."""
    return make_caller(hub)
