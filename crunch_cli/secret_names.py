"""File names that hold credentials: the deny list shared by `crunch push` and the hub.

Both sides apply it: push refuses to send such a file unless the user names it with
`--allow-secret`, and the hub refuses a submission listing one (for clients that do not
check, such as older versions or scripts). It lives at the top of the package, not in
`push/`, because the hub may not import the competitor-side push code (DESIGN.md).

The patterns use .gitignore syntax and are matched against the path of a file relative to
the workspace or to the model directory, so `.ssh/` catches that folder at any depth and a
pattern with a `/` inside starts with `**/` to do the same.

SSH private keys are matched by their standard names only (`id_rsa`, `id_ed25519`, ...,
never their `.pub` halves): a broader `id_*` would catch ordinary files such as
`id_mapping` or `id_columns`, and a key saved under any other name is still found by
push's content scan, since every private key file starts with a `-----BEGIN ... PRIVATE
KEY-----` line.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathspec

SECRET_FILE_PATTERNS = (
    # Environment files: dotenv, direnv. Their committed templates hold no values.
    ".env",
    ".env.*",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    # Private keys and certificate stores.
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
    # Folders of credentials copied from a home directory.
    ".ssh/",
    ".aws/",
    ".gnupg/",
    "**/.docker/config.json",
    "**/.kube/config",
    # Login files of tools a competitor uses: curl/git/pip/npm/twine, Kaggle's API.
    ".netrc",
    "_netrc",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "kaggle.json",
    # Google Cloud: the OAuth client file of Google's quickstarts, service-account keys.
    "credentials.json",
    "client_secret*.json",
    "service-account*.json",
)


def secret_name_rule(path: str) -> str | None:
    """The deny-list pattern that `path` (POSIX, relative) matches, or None."""
    result = _spec().check_file(path)
    if not result.include or result.index is None:
        return None
    return SECRET_FILE_PATTERNS[result.index]


@functools.cache
def _spec() -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(SECRET_FILE_PATTERNS)
