"""Keep secrets out of everything we print.

The API client registers each token it holds; the one place that prints errors
(`crunch_cli.cli`) passes every message through `redact`. A token therefore cannot leak
through an exception message that happened to quote a URL, a header or a response body.
"""

from __future__ import annotations

_secrets: set[str] = set()

MASK = "<hidden>"


def register_secret(value: str | None) -> None:
    # Short values would mask ordinary words; real tokens are long.
    if value and len(value) >= 8:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
