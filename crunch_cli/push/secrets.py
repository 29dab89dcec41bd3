"""Whether what a push would send looks like a secret, by file name or by content.

Names are checked against the deny list shared with the hub (`crunch_cli.secret_names`),
for code and model files alike: a `.pem` in the model directory is still a key. Contents
are scanned for private keys and the token shapes of services competitors use, in the code
files only (the converted notebook and the files embedded in it included):

- model files are weights, pickles or archives: binary, often gigabytes, where a token
  would be compressed or pickled out of a regex's sight and random bytes would match by
  chance;
- a file with a NUL byte in its first 8 KB is binary (git's test), for the same reasons;
- a file over `MAX_SCANNED_SIZE` is data (a CSV, a JSON dump), not code someone pasted a
  key into; scanning it would slow every push and its hashes and ids would match by chance.

Each pattern is a token's documented prefix plus its length and alphabet, tight enough that
ordinary code and notebooks do not match; the value found is never kept or printed, only
the file, the line and the kind of secret. The table is ours rather than a scanner
library's: these few shapes are all a push needs, and the generic entropy checks such
libraries add would refuse ordinary notebooks.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable
from pathlib import Path

from crunch_cli.errors import SecretFileError
from crunch_cli.secret_names import secret_name_rule

MAX_SCANNED_SIZE = 1024 * 1024
BINARY_SNIFF_SIZE = 8000

TOKEN_PATTERNS = tuple(
    (kind, re.compile(pattern))
    for kind, pattern in (
        # A body and an end line too: code that handles keys names the header alone.
        (
            "a private key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]{64,}?-----END ",
        ),
        ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a GitHub token", r"\bgh[pousr]_[0-9A-Za-z]{36}\b"),
        ("a GitHub token", r"\bgithub_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59}\b"),
        ("a Slack token", r"\bxox[abprs]-[0-9]{8,}-[0-9A-Za-z-]{10,}"),
        # Legacy keys are plain alphanumerics; project, service-account and admin keys (and
        # Anthropic's) carry a prefix and may hold `-` and `_`, as CSS class names like
        # scikit-learn's `sk-estimator` do, which the prefix requirement keeps out.
        (
            "an OpenAI-style API key",
            r"\bsk-(?:(?:proj|svcacct|admin|ant-api\d\d)-[0-9A-Za-z_-]{40,}|[0-9A-Za-z]{40,})",
        ),
        ("a Hugging Face token", r"\bhf_[0-9A-Za-z]{30,}\b"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}"),
        ("a Stripe secret key", r"\b[rs]k_live_[0-9A-Za-z]{24,}\b"),
    )
)


@dataclasses.dataclass(frozen=True)
class Outgoing:
    """A code file as push would send it: `path` is relative to the workspace, `content`
    the file on disk or the bytes push made (`origin` says from what, for the message)."""

    path: str
    content: Path | bytes
    origin: str = ""


@dataclasses.dataclass(frozen=True)
class Finding:
    path: str
    what: str
    line: int | None = None
    origin: str = ""

    def describe(self) -> str:
        where = self.path if self.line is None else f"{self.path} line {self.line}"
        made = f", {self.origin}" if self.origin else ""
        return f"{where} ({self.what}{made})"


def refuse_secrets(
    code: Iterable[Outgoing], model_paths: Iterable[str], *, allowed: Collection[str] = ()
) -> list[str]:
    """Raise `SecretFileError` naming every finding outside `allowed` (workspace paths).

    Returns the sent files whose names are on the deny list, all of them allowed: the hub
    refuses those unless the submission lists them too.
    """
    code = list(code)
    names = list(_name_findings([*(file.path for file in code), *model_paths]))
    findings = sorted([*names, *_content_findings(code)], key=lambda f: (f.path, f.line or 0))
    refused = [finding for finding in findings if finding.path not in allowed]
    if refused:
        raise SecretFileError([finding.describe() for finding in refused])
    return sorted({finding.path for finding in names})


def scan_text(text: str) -> list[tuple[int, str]]:
    """(line number, kind of secret) of each token in `text`, in order of lines."""
    hits = {
        (text.count("\n", 0, match.start()) + 1, kind)
        for kind, pattern in TOKEN_PATTERNS
        for match in pattern.finditer(text)
    }
    return sorted(hits)


def _content_findings(code: Iterable[Outgoing]) -> Iterable[Finding]:
    for file in code:
        text = _scannable_text(file.content)
        if text is not None:
            for line, kind in scan_text(text):
                yield Finding(file.path, kind, line, file.origin)


def _name_findings(paths: Iterable[str]) -> Iterable[Finding]:
    for path in paths:
        rule = secret_name_rule(path)
        if rule is not None:
            yield Finding(path, f"a secret file name, like {rule}")


def _scannable_text(content: Path | bytes) -> str | None:
    if isinstance(content, Path):
        if content.stat().st_size > MAX_SCANNED_SIZE:
            return None
        content = content.read_bytes()
    if len(content) > MAX_SCANNED_SIZE or b"\0" in content[:BINARY_SNIFF_SIZE]:
        return None
    return content.decode("utf-8", "replace")
