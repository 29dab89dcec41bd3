"""Fetch a competition's data release into `data/`, reliably.

Each file streams into `.NAME.part` next to its target, so a dropped connection or a killed
process resumes with a `Range` request instead of starting over; the bytes are hashed while
they arrive and must match the hub's sha256 before the file is renamed into place. A file
that already has the right hash is skipped without touching the network.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from crunch_cli.api.streams import Dropped, open_download
from crunch_cli.errors import (
    ApiError,
    ChecksumMismatchError,
    DownloadError,
    UntrustedInputError,
)
from crunch_cli.untrusted import HINT, relative_name, target_inside
from crunch_cli.workers import Batch
from crunch_cli.workspace import Workspace, atomic_write_json

if TYPE_CHECKING:
    from _hashlib import HASH

    from crunch_cli.api import ProjectClient
    from crunch_cli.api.streams import Session

_SHA256 = re.compile("[0-9a-f]{64}")

HASH_BLOCK = 1 << 20
# At most this much is read from the socket at a time; a read returns what has arrived,
# so a dropped connection loses nothing that was received.
NETWORK_BLOCK = 1 << 20
ATTEMPTS = 6
BACKOFF_SECONDS = 0.5
WORKERS = 4
SIZE_VARIANTS = ("default", "small", "large")


class MissingSizeVariantError(DownloadError):
    """Raised when the competition publishes no data of the size asked for (`--size`);
    `available` are the sizes it has, in `SIZE_VARIANTS` order."""

    def __init__(self, competition: str, variant: str, available: list[str]) -> None:
        super().__init__(
            f"{competition} has no {variant} data: its data comes in "
            f"{' and '.join(available)} size{'s' if len(available) > 1 else ''}",
            hint=f"pass --size {available[0]}",
        )
        self.available = available


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    key: str
    name: str
    url: str
    size: int
    sha256: str | None

    @classmethod
    def from_release(cls, key: str, value: dict[str, Any]) -> RemoteFile:
        """One `dataFiles` entry, every field checked: it names a file we are about to write."""
        size = value.get("size")
        return cls.checked(
            key,
            value.get("name"),
            value.get("url"),
            -1 if size is None else size,
            value.get("sha256"),
            what="data file",
        )

    @classmethod
    def checked(
        cls, key: str, name: object, url: object, size: object, sha256: object, *, what: str
    ) -> RemoteFile:
        path = relative_name(name, what=what)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise UntrustedInputError(
                f"the hub sent no usable link for the {what} {path}", hint=HINT
            )
        if isinstance(size, bool) or not isinstance(size, int) or size < -1:
            raise UntrustedInputError(
                f"the hub sent an impossible size for the {what} {path}", hint=HINT
            )
        if sha256 is not None and (not isinstance(sha256, str) or not _SHA256.fullmatch(sha256)):
            raise UntrustedInputError(
                f"the hub sent a malformed sha256 for the {what} {path}", hint=HINT
            )
        return cls(key, path.as_posix(), url, size, sha256)


class Outcome(enum.Enum):
    DOWNLOADED = "downloaded"
    RESUMED = "resumed"
    UP_TO_DATE = "up to date"


class Progress(Protocol):
    """What the caller shows while files arrive (a rich bar on a TTY, lines otherwise)."""

    def start(self, file: RemoteFile, completed: int) -> None: ...

    def advance(self, file: RemoteFile, amount: int) -> None: ...

    def finish(self, file: RemoteFile, outcome: Outcome) -> None: ...


class SilentProgress:
    def start(self, file: RemoteFile, completed: int) -> None:
        pass

    def advance(self, file: RemoteFile, amount: int) -> None:
        pass

    def finish(self, file: RemoteFile, outcome: Outcome) -> None:
        pass


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(HASH_BLOCK):
            digest.update(chunk)
    return digest.hexdigest()


def is_up_to_date(file: RemoteFile, target: Path) -> bool:
    """True when `target` already holds the hub's bytes (by sha256, else by size)."""
    if not target.is_file():
        return False
    if file.sha256:
        return file_sha256(target) == file.sha256
    return file.size >= 0 and target.stat().st_size == file.size


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def fetch_file(
    session: Session,
    file: RemoteFile,
    target: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch: Batch | None = None,
) -> Outcome:
    """Download one file to `target`, resuming from its `.part` file when there is one."""
    progress = progress or SilentProgress()
    batch = batch or Batch()
    if not force and is_up_to_date(file, target):
        progress.finish(file, Outcome.UP_TO_DATE)
        return Outcome.UP_TO_DATE
    part = partial_path(target)
    if force:
        part.unlink(missing_ok=True)
    resumed = part.is_file() and part.stat().st_size > 0
    digest = _stream_into(session, file, part, progress, sleep, batch)
    if file.sha256 and digest != file.sha256:
        part.unlink(missing_ok=True)
        if resumed:
            # The kept part may itself be what is damaged: one clean try before giving up.
            return fetch_file(
                session, file, target, force=True, progress=progress, sleep=sleep, batch=batch
            )
        raise ChecksumMismatchError(
            f"{file.name} arrived corrupted: sha256 {digest[:12]}… instead of {file.sha256[:12]}…",
            hint="run `crunch download` again; if it persists, tell the competition organizer",
        )
    part.replace(target)
    outcome = Outcome.RESUMED if resumed else Outcome.DOWNLOADED
    progress.finish(file, outcome)
    return outcome


def _stream_into(
    session: Session,
    file: RemoteFile,
    part: Path,
    progress: Progress,
    sleep: Callable[[float], None],
    batch: Batch,
) -> str:
    """Append the missing bytes to `part`, retrying with backoff; return the whole file's sha256.

    Never more than the announced size is kept: a hub that sends more is cut off after one
    byte too many, and the part is removed.
    """
    part.parent.mkdir(parents=True, exist_ok=True)
    digest, offset = _hash_existing(part, file.size)
    progress.start(file, offset)
    failure = "no attempt made"
    for attempt in range(ATTEMPTS):
        if attempt:
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        batch.check()
        if file.size >= 0 and offset == file.size:
            return digest.hexdigest()
        try:
            with open_download(session, file.url, offset) as response:
                if response.status == 416 or (
                    offset and response.status == 200
                ):  # the part no longer fits what the hub serves: start over
                    part.unlink(missing_ok=True)
                    digest, offset = hashlib.sha256(), 0
                    progress.start(file, 0)
                    if response.status == 416:
                        failure = "the hub refused the resume range"
                        continue
                if response.status >= 400:
                    raise _http_error(file, response.status)
                with open(part, "ab") as handle:
                    while chunk := response.read(_next_read(file.size, offset)):
                        batch.check()
                        if 0 <= file.size < offset + len(chunk):
                            part.unlink(missing_ok=True)
                            raise UntrustedInputError(
                                f"the hub sent more than the {file.size} bytes it announced "
                                f"for {file.name}; it was cut off and nothing was kept",
                                hint=HINT,
                            )
                        handle.write(chunk)
                        digest.update(chunk)
                        offset += len(chunk)
                        progress.advance(file, len(chunk))
            if file.size < 0 or offset == file.size:
                return digest.hexdigest()
            # A cut connection raises (the body is shorter than its Content-Length): a
            # response that ended cleanly is the whole file, and it is not the one listed.
            part.unlink(missing_ok=True)
            raise ChecksumMismatchError(
                f"{file.name} arrived as {offset} bytes instead of {file.size}",
                hint="run `crunch download` again; if it persists, tell the competition organizer",
            )
        except Dropped as error:
            # What was written is exactly what was hashed: carry on from there.
            failure = str(error)
    raise DownloadError(
        f"could not download {file.name} after {ATTEMPTS} attempts ({failure})",
        hint="run `crunch download` again: it resumes where this one stopped",
    )


def _next_read(size: int, offset: int) -> int:
    """A block, but never more than one byte past the announced end (to notice excess)."""
    return NETWORK_BLOCK if size < 0 else max(1, min(NETWORK_BLOCK, size - offset + 1))


def _hash_existing(part: Path, expected_size: int) -> tuple[HASH, int]:
    digest = hashlib.sha256()
    if not part.is_file():
        return digest, 0
    size = part.stat().st_size
    if expected_size >= 0 and size > expected_size:
        part.unlink()
        return digest, 0
    with open(part, "rb") as handle:
        while chunk := handle.read(HASH_BLOCK):
            digest.update(chunk)
    return digest, size


def _http_error(file: RemoteFile, status: int) -> DownloadError:
    if status == 403:
        return DownloadError(
            f"the hub refused the link to {file.name} (expired or altered)",
            hint="run `crunch download` again to get fresh links",
        )
    return DownloadError(
        f"the hub answered {status} for {file.name}",
        hint="run `crunch download` again later; it resumes where it stopped",
    )


def fetch_files(
    files: Iterable[RemoteFile],
    directory: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    workers: int = WORKERS,
    what: str = "data file",
) -> dict[str, Outcome]:
    """Download files in parallel, one HTTP session per file; the first failure is raised.

    Every target is checked before the first byte is fetched, so one bad name in the list
    writes nothing at all. A Ctrl-C returns at once, leaving `.part` files to resume from.
    """
    from crunch_cli.api import make_session

    files = list(files)
    targets = {
        file.name: target_inside(directory, PurePosixPath(file.name), what=what) for file in files
    }
    batch = Batch()

    def fetch(file: RemoteFile) -> Outcome:
        with make_session() as session:
            return fetch_file(
                session, file, targets[file.name], force=force, progress=progress, batch=batch
            )

    outcomes = batch.map(fetch, files, workers=workers)
    return {file.name: outcome for file, outcome in zip(files, outcomes, strict=True)}


def download_data(
    project: ProjectClient,
    workspace: Workspace,
    *,
    size_variant: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    competitions_source: str | None = None,
) -> dict[str, Outcome]:
    """Bring `data/` up to date with the competition's current data release, and, for a
    competition that runs its own modules, `.crunchdao/modules/` and its metrics.

    The competition, release and checks are cached in `.crunchdao/competition.json` only once
    every file is in place, so `crunch test` never sees metadata for data that is missing.

    `project` is the workspace's client (`WorkspaceSettings.client()`). `competitions_source`
    is where the modules come from, by default the hub itself
    (`environments.competitions_source`).
    """
    from crunch_cli.environments import competitions_source as resolve_source

    config = workspace.config
    competition = project.competition()
    round_ = project.current_round()
    release = _data_release(project, round_["number"], size_variant or config.size_variant)
    checks = project.checks()
    files = [RemoteFile.from_release(key, value) for key, value in release["dataFiles"].items()]
    cache = {"competition": competition, "dataRelease": _without_links(release), "checks": checks}
    modules: dict[str, bytes] = {}
    if str(competition.get("format", "")).upper() == "UNSTRUCTURED":
        # Fetched first, so that an unreachable source fails before any large file is;
        # written last, with the metadata, once every data file is in place.
        from crunch_cli.modules.store import fetch_modules, save_modules

        source = resolve_source(competitions_source, project.base_url)
        modules = fetch_modules(source, config.competition_name)
        cache["metrics"] = project.metrics()
    outcomes = fetch_files(files, workspace.data_dir, force=force, progress=progress)
    if modules:
        cache["modules"] = save_modules(workspace, modules)
    atomic_write_json(workspace.competition_cache_path, cache)
    return outcomes


def _data_release(project: ProjectClient, round_number: int, variant: str) -> dict[str, Any]:
    """The release of size `variant`. A hub that has no such size answers 404 (or 400 to a
    size it does not know), which says nothing of the sizes it has: they are asked for."""
    try:
        return project.data_release(round_number, variant)
    except ApiError as error:
        if error.status not in (400, 404):
            raise
        available = [
            other
            for other in SIZE_VARIANTS
            if other != variant.lower() and _has_release(project, round_number, other)
        ]
        if not available:
            raise
        raise MissingSizeVariantError(project.competition_name, variant, available) from error


def _has_release(project: ProjectClient, round_number: int, variant: str) -> bool:
    try:
        project.data_release(round_number, variant)
    except ApiError:
        return False
    return True


def _without_links(release: dict[str, Any]) -> dict[str, Any]:
    """Signed links expire: caching them would only invite stale downloads."""
    files = {
        key: {field: value for field, value in entry.items() if field != "url"}
        for key, entry in release.get("dataFiles", {}).items()
    }
    return {**release, "dataFiles": files}
