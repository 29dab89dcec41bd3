"""Where a hub keeps its state, resolved once and passed to everything that needs it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

DATABASE_FILE = "hub.sqlite3"
BLOBS_DIRECTORY = "blobs"
BLOB_CACHE_DIRECTORY = "blob-cache"
SECRET_FILE = "secret"
RUNS_DIRECTORY = "runs"
ENVIRONMENTS_DIRECTORY = "environments"


@dataclasses.dataclass(frozen=True)
class HubSettings:
    """Everything under `root` belongs to the hub: the default SQLite database, the blob
    folder and the signing key. `public_url` is only needed when the hub sits behind a
    proxy; otherwise signed URLs are built from the URL each request came in on.
    `workers` is how many submissions run at once (0: runs queue up, none starts).

    `sandbox=False` (`--unsafe-no-sandbox`) runs submissions without bubblewrap: only for
    trusted code. `project_token_ttl` None: project tokens never expire. `allowed_hosts`
    adds Host header values to the loopback names and the public URL's host ("*": any).
    `upload_quota` caps the bytes a project may hold in unfinished and unused uploads
    (None: twice the competition's code and model limits). `web_projects_per_hour` is how
    many new projects the website's setup box creates per client address and hour.

    `blob_store` None keeps the hub's files in ROOT/blobs; `s3://BUCKET/PREFIX` keeps them
    in an S3 bucket (ROOT/blob-cache then holds local copies for runs), reached at
    `s3_endpoint_url` in `s3_region` (None: the AWS settings of the environment).

    `secret_file` names the deployment's signing key, shared by every hub that serves the
    same competitions (None: the root's own key, ROOT/secret); see `crunch_cli.hub.keys`.

    `executor` says where runs execute: "local" (this process's pool of `workers`
    threads) or "ray" (a Ray cluster at `ray_address`, `workers` runs on it at once;
    None: the cluster `ray.init()` finds by itself, such as RAY_ADDRESS).
    """

    root: Path
    database_url: str | None = None
    public_url: str | None = None
    setup_token_ttl: timedelta = timedelta(minutes=3)
    signed_url_ttl: timedelta = timedelta(hours=6)
    upload_ttl: timedelta = timedelta(hours=24)
    workers: int = 1
    sandbox: bool = True
    project_token_ttl: timedelta | None = timedelta(days=90)
    allowed_hosts: tuple[str, ...] = ()
    openapi: bool = True
    max_requests_in_flight: int = 256
    upload_quota: int | None = None
    web_projects_per_hour: int = 10
    blob_store: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    executor: str = "local"
    ray_address: str | None = None
    secret_file: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().absolute())

    @property
    def exists(self) -> bool:
        """Whether a hub was started here: its signing key is made on the first start."""
        return self.secret_path.is_file()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / DATABASE_FILE}"

    @property
    def blobs_dir(self) -> Path:
        return self.root / BLOBS_DIRECTORY

    @property
    def blob_cache_dir(self) -> Path:
        return self.root / BLOB_CACHE_DIRECTORY

    @property
    def secret_path(self) -> Path:
        return self.root / SECRET_FILE

    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS_DIRECTORY

    @property
    def environments_dir(self) -> Path:
        return self.root / ENVIRONMENTS_DIRECTORY
