"""Where a competition's modules come from: crunch-cli's "competitions source" setting.

A source is a comma-separated list of `local://DIR`, `cache[+http|+https]://HOST/BASE
[?reference=REF]` and `github://OWNER/REPO[?reference=BRANCH]`, tried in order, with
crunch-cli's rules: a module that a source says it does not have (a missing file, a 404)
ends the search at once (the competition has no module of that kind), while any other
failure moves on to the next source. A workspace's default is the hub it was set up against.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from crunch_cli.errors import CrunchError, HubError

ENVIRONMENT_VARIABLE = "CRUNCH_COMPETITIONS_SOURCE"
MAX_MODULE_BYTES = 4 * 1024 * 1024
_REPOSITORY = re.compile(r"^[\w-]+/[\w-]+$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_HINT = "check --competitions or CRUNCH_COMPETITIONS_SOURCE (crunch-cli's syntax)"


class SourceError(CrunchError):
    """A competitions source that cannot be read, or that failed for every entry."""


@dataclasses.dataclass(frozen=True)
class Location:
    """One place a module may be: a file, or a URL."""

    path: Path | None = None
    url: str | None = None

    def __str__(self) -> str:
        return str(self.path) if self.path is not None else str(self.url)


def parse(source: str) -> list[str]:
    entries = [entry.strip() for entry in source.split(",") if entry.strip()]
    if not entries:
        raise SourceError("the competitions source is empty", hint=_HINT)
    for entry in entries:
        if "://" not in entry:
            raise SourceError(f"invalid competitions source {entry!r}", hint=_HINT)
    return entries


def default_source(base_url: str) -> str:
    """The hub a workspace talks to serves its competitions' modules in the cache layout."""
    scheme, _, rest = base_url.partition("://")
    return f"cache+{scheme}://{rest.rstrip('/')}"


def locate(entry: str, competition: str, kind: str) -> Location:
    """Where `entry` keeps module `kind` of `competition`."""
    if not _NAME.match(competition):
        raise SourceError(f"{competition!r} is not a competition name modules can have")
    relative = f"competitions/{competition}/scoring/{kind}.py"
    scheme, _, rest = entry.partition("://")
    rest, _, query = rest.partition("?")
    references = parse_qs(query).get("reference")
    reference = references[0] if references else None
    if scheme == "local":
        return Location(path=Path(rest) / relative)
    if scheme == "github":
        if not _REPOSITORY.match(rest):
            raise SourceError(f"invalid GitHub repository {rest!r} in {entry!r}", hint=_HINT)
        branch = reference or "master"
        return Location(url=f"https://github.com/{rest}/raw/refs/heads/{branch}/{relative}")
    if scheme in ("cache", "cache+http", "cache+https"):
        transport = scheme.partition("+")[2] or "https"
        base = rest.rstrip("/")
        if not urlsplit(f"{transport}://{base}").netloc:
            raise SourceError(f"invalid cache address in {entry!r}", hint=_HINT)
        suffix = f"?{urlencode({'reference': reference})}" if reference else ""
        return Location(url=f"{transport}://{base}/{relative}{suffix}")
    raise SourceError(f"unsupported competitions source {entry!r}", hint=_HINT)


def load(source: str, competition: str, kind: str) -> tuple[bytes, Location] | None:
    """The module's source and where it came from; None when the competition has none.

    Raises `SourceError` naming every failure when no entry could answer.
    """
    from crunch_cli.api.modules import fetch_module

    failures: list[str] = []
    for entry in parse(source):
        location = locate(entry, competition, kind)
        if location.path is not None:
            if not location.path.is_file():
                return None
            content = location.path.read_bytes()
        else:
            try:
                fetched = fetch_module(str(location.url), MAX_MODULE_BYTES)
            except HubError as error:
                failures.append(f"{location}: {error.message}")
                continue
            if fetched is None:
                return None
            content = fetched
        if len(content) > MAX_MODULE_BYTES:
            raise SourceError(f"{location} is larger than a module may be ({len(content)} bytes)")
        return content, location
    raise SourceError(
        f"could not load {kind}.py of {competition}: " + "; ".join(failures),
        hint="check your connection, or point --competitions at a reachable source "
        "(local://DIR works offline)",
    )
