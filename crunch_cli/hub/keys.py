"""The hub's signing key: the HMAC key of its signed URLs and of its web forms' CSRF tokens.

Every hub of a deployment must hold the same key: behind a load balancer, a URL one hub
signed, or a form one hub served, comes back to whichever hub the next request reaches.

- `--secret-file PATH` (or CRUNCH_HUB_SECRET_FILE) names the deployment's key: made once by
  the organizer (`openssl rand -hex 32`), given to every machine the way its other secrets
  are (a mounted secret, a file its configuration tool writes). The hub refuses a file that
  is missing, that other users may read or that its group may change, or that holds fewer
  than 32 bytes; surrounding whitespace is not part of the key, so a text file works.
- Without it, the root's own key is used (ROOT/secret, made on the first start): enough for
  hubs that share one root.

A file, not a row of the shared database: the key then travels with the deployment's other
secrets and is rotated the same way (replace the file, restart the hubs), a dump, replica or
read-only user of the database does not get the power to sign URLs and forms, and SQLite
and PostgreSQL hubs work alike.

The root keeps a copy of the deployment's key (ROOT/secret, mode 0600): the organizer's
`crunch hub ...` commands on that root, and a later start without the option, hold the same
key, and the root still shows that a hub was started there (`HubSettings.exists`).

The key is never logged or printed: errors name its file, never its bytes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from crunch_cli.errors import CrunchError
from crunch_cli.hub.settings import HubSettings

KEY_BYTES = 32
# Other users may not touch the file at all; its group may read it (a secret mounted for a
# service group) but not change it.
FORBIDDEN_MODE = stat.S_IWGRP | stat.S_IRWXO
MAKE_ONE = "(umask 077; openssl rand -hex 32 > {path})"


class SigningKeyError(CrunchError):
    """Raised when the hub's signing key cannot be read, or is unfit to sign with."""


def load_signing_key(settings: HubSettings) -> bytes:
    """The deployment's key (`settings.secret_file`), copied into the root; else the
    root's own key, made on the first start."""
    if settings.secret_file is None:
        return _load_or_create_root_key(settings.secret_path)
    key = read_key_file(Path(settings.secret_file).expanduser())
    _keep_copy(settings.secret_path, key)
    return key


def read_key_file(path: Path) -> bytes:
    """The key in `path`, refused (SigningKeyError) unless only its owner (and, to read,
    its group) may reach it and it holds at least KEY_BYTES bytes."""
    make = MAKE_ONE.format(path=path)
    try:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise SigningKeyError(
                f"the hub's key file {path} is not a file",
                hint=f"name a file made with `{make}`",
            )
        if status.st_mode & FORBIDDEN_MODE:
            raise SigningKeyError(
                f"other users may read or change the hub's key file {path} "
                f"(mode {stat.S_IMODE(status.st_mode):04o})",
                hint=f"chmod 600 {path} (a group of the hub's user may read it: chmod 640)",
            )
        key = path.read_bytes().strip()
    except FileNotFoundError:
        raise SigningKeyError(
            f"the hub's key file {path} does not exist",
            hint=f"make it once with `{make}` and give every hub of the deployment that file",
        ) from None
    except OSError as error:
        raise SigningKeyError(
            f"cannot read the hub's key file {path}: {error.strerror or error}",
            hint="let the user the hub runs as read it (chmod 600, owned by that user)",
        ) from error
    if len(key) < KEY_BYTES:
        raise SigningKeyError(
            f"the hub's key file {path} holds {len(key)} bytes; a key needs at least {KEY_BYTES}",
            hint=f"make a new one with `{make}`",
        )
    return key


def _keep_copy(path: Path, key: bytes) -> None:
    """Write `key` to `path` (0600), atomically, unless it holds that key already."""
    with contextlib.suppress(FileNotFoundError):
        if path.read_bytes() == key:
            return
    _write_private(path, key, replace=True)


def _load_or_create_root_key(path: Path) -> bytes:
    """The root's key: made once (0600), reused so URLs survive restarts.

    Written to a temp file and hard-linked into place, so two hubs starting at once on one
    root agree on a single key and neither can read a half-written one.
    """
    if not path.exists():
        _write_private(path, secrets.token_bytes(KEY_BYTES), replace=False)
    key = path.read_bytes()
    if len(key) < KEY_BYTES:
        raise SigningKeyError(
            f"the hub's signing key {path} is damaged",
            hint="delete it; the hub makes a new one (signed URLs already given out stop working)",
        )
    return key


def _write_private(path: Path, content: bytes, *, replace: bool) -> None:
    """A 0600 file at `path`, never seen half-written; `replace=False` keeps a file another
    process put there first."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".secret.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(content)
        if replace:
            Path(temporary).replace(path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
