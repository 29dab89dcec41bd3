"""Running hubs and calling them over HTTP, for tests: plain code that test modules import
(`from hubs import Caller, serve_hub`) and the fixtures in conftest.py use. It lives apart
from conftest.py because several folders have a conftest.py of their own, and which of them
`import conftest` finds depends on what pytest collected first."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
import s3_server
from sqlalchemy import select, update

from crunch_cli.hub import HubSettings, organizer
from crunch_cli.hub.models import CloneToken, Competition, DataFile, utcnow
from crunch_cli.hub.server import serve_in_thread
from crunch_cli.hub.store import HubStore


@dataclasses.dataclass(frozen=True)
class Hub:
    url: str
    root: Path
    settings: HubSettings

    def mint_token(self, competition: str, user: str, project: str) -> str:
        return organizer.mint_setup_token(self.settings, competition, user, project)

    def create_competition(
        self, name: str, data_dir: Path, **kwargs: Any
    ) -> organizer.CompetitionSummary:
        return organizer.create_competition(self.settings, name, data_dir, **kwargs)

    def set_limits(self, competition: str, **limits: int) -> None:
        organizer.update_limits(self.settings, competition, **limits)

    def expire_setup_tokens(self) -> None:
        """Age every setup token past its validity, as if minutes had gone by."""
        with HubStore(self.settings) as store, store.session() as session:
            session.execute(update(CloneToken).values(expires_at=utcnow() - timedelta(seconds=1)))

    def data_file_key(self, competition: str, key: str) -> str:
        """The blob key of a released data file."""
        with HubStore(self.settings) as store, store.session() as session:
            return session.scalars(
                select(DataFile.blob_key)
                .join(Competition)
                .where(Competition.name == competition, DataFile.key == key, ~DataFile.hidden)
            ).one()

    def blob_path(self, competition: str, key: str) -> Path:
        """Where a released data file is stored (a hub on the folder store only)."""
        return self.settings.blobs_dir / self.data_file_key(competition, key)

    def corrupt_data_file(self, competition: str, key: str) -> None:
        """Flip bytes of a stored data file: the hub now serves bytes that miss their sha256."""
        blob_key = self.data_file_key(competition, key)
        if self.settings.blob_store is not None:
            s3_server.rewrite_object(self.settings, blob_key, flip_bytes)
            return
        path = self.settings.blobs_dir / blob_key
        path.write_bytes(flip_bytes(path.read_bytes()))


def flip_bytes(content: bytes) -> bytes:
    changed = bytearray(content)
    for index in range(0, len(changed), max(1, len(changed) // 16)):
        changed[index] ^= 0xFF
    return bytes(changed)


@contextmanager
def serve_hub(root: Path, workers: int = 1, **options: Any) -> Iterator[Hub]:
    """A hub on `root` for the `with` block: tests that stop and restart hubs use this.
    `options` are other `HubSettings` fields (`database_url` among them)."""
    settings = HubSettings(root, workers=workers, **options)
    with serve_in_thread(settings) as server:
        yield Hub(url=server.url, root=root, settings=settings)


# -- calling the hub over HTTP, for the hub's own tests ----------------------------------

DEMO_COMPETITION = "demo-timeseries"


@dataclasses.dataclass
class Caller:
    url: str
    token: str
    user_id: int
    project: str
    competition: str = DEMO_COMPETITION

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

    def create_run(self, submission_id: int, **extra: Any) -> dict:
        response = self.call(
            "POST", self.project_path(3) + "/runs", json={"submissionId": submission_id, **extra}
        )
        assert response.status_code == 200, response.text
        return response.json()

    def run(self, run_id: int) -> dict:
        response = self.call("GET", f"{self.project_path(3)}/runs/{run_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_for_run(self, run_id: int, timeout: float = 60.0) -> dict:
        """Poll until the run is COMPLETED; fail the test if it takes longer than `timeout`."""
        deadline = time.monotonic() + timeout
        while (run := self.run(run_id))["status"] != "COMPLETED":
            assert time.monotonic() < deadline, f"run {run_id} still {run['status']}"
            time.sleep(0.05)
        return run

    def run_logs(self, run_id: int, after: int | None = None) -> list[dict]:
        params = {} if after is None else {"after": after}
        response = self.call("GET", f"{self.project_path(3)}/runs/{run_id}/logs", params=params)
        assert response.status_code == 200, response.text
        return response.json()


def make_caller(
    hub: Hub, user: str = "alice", project: str = "alpha", competition: str = DEMO_COMPETITION
) -> Caller:
    body = requests.post(
        f"{hub.url}/v2/project-tokens/upgrade",
        json={"cloneToken": hub.mint_token(competition, user, project)},
    ).json()
    return Caller(hub.url, body["plain"], body["project"]["userId"], project, competition)
