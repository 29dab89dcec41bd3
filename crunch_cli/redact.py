"""Keep secrets out of everything we print.

The API client registers each token it holds, and the printers of errors, logs and debug
output pass their text through `redact`. Registered tokens are masked wherever they appear;
so is anything shaped like a credential (the value after an `Authorization` scheme or a
`token=`-style key, and long random strings of mixed case and digits), because a hub may echo
a token we never held, say another project's, and a traceback may quote a header.
"""

from __future__ import annotations

import re

_secrets: set[str] = set()

MASK = "<hidden>"

# `Project-Token abc`, `Bearer abc`, `"cloneToken": "abc"`, `?token=abc&...`, `apiKey: abc`.
_KEYED = re.compile(
    r"""
    (?P<key>
        \b(?:Project-Token|Bearer|Basic)\s+
      | \b(?:[A-Za-z]*[Tt]oken|plain|api[_-]?[Kk]ey|password|secret|signature)
        ["']?\s*[:=]\s*["']?
    )
    (?P<value>[^\s"'&,;}\]]{4,})
    """,
    re.VERBOSE,
)
# What `secrets.token_urlsafe` and most API keys look like: long, random, mixed.
_SHAPED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")


def register_secret(value: str | None) -> None:
    # Short values would mask ordinary words; real tokens are long.
    if value and len(value) >= 8:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEYED.sub(lambda match: match["key"] + MASK, text)
    return _SHAPED.sub(_mask_if_random, text)


def _mask_if_random(match: re.Match[str]) -> str:
    """Identifiers and hex digests are long too: only mixed case with digits is masked."""
    word = match[0]
    mixed = any(c.isupper() for c in word) and any(c.islower() for c in word)
    return MASK if mixed and any(c.isdigit() for c in word) else word
