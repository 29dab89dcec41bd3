"""The only place that talks HTTP to the hub.

One session factory (User-Agent, timeouts, retries for idempotent calls, and for any call
the hub turned away with `HUB_BUSY`) and one class that maps the hub's error body
`{code, message, ...}` onto the `CrunchError` tree.
`requests` is imported inside the functions that use it, so importing this module is free.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from crunch_cli import __version__
from crunch_cli.errors import ApiError, HubUnreachableError, InvalidTokenError, NotFoundError
from crunch_cli.redact import register_secret

if TYPE_CHECKING:
    import requests

    from crunch_cli.api.streams import Body

DEFAULT_API_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0
PAGE_SIZE = 100
RETRIES = 3
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
BUSY = "HUB_BUSY"
MAX_RETRY_AFTER_SECONDS = 30.0

_UPDATE_TOKEN_HINT = (
    "run `crunch update-token` with a fresh setup token from the organizer "
    "(`crunch hub token`) or from `crunch setup-command` where the project still works"
)
# Hints keyed by the hub's error code: what the user should do next.
_HINTS = {
    "INVALID_PROJECT_TOKEN": _UPDATE_TOKEN_HINT,
    "UNAUTHORIZED": _UPDATE_TOKEN_HINT,
    "COMPETITION_NAME_NOT_FOUND": "run `crunch list` to see the competitions this hub offers",
    "PROJECT_NOT_FOUND": "check the project name, or run `crunch setup` again",
    "NEVER_SUBMITTED": "push a first submission with `crunch push`",
    "SUBMISSION_NOT_FOUND": "run `crunch submission list` to see your submissions",
    "SUBMISSION_TOO_BIG": "add large files to .gitignore, or move them to the model directory",
    "MODEL_TOO_BIG": "remove unused files from the model directory (or .gitignore them there)",
    "DAILY_SUBMISSION_LIMIT_EXCEEDED": "try again tomorrow; `crunch push --dry` works offline",
    "MISSING_MAIN_FILE": "pass --main-file, or add main.py (or main.ipynb) to the workspace",
    "FORBIDDEN_LIBRARY": "remove it from requirements.txt; `crunch whitelist search NAME`",
    "REQUIREMENT_PARSE": "fix that line of requirements.txt (pip's requirement syntax)",
    "RUN_NOT_FOUND": "run `crunch run list` to see your runs",
    "STORAGE_UNAVAILABLE": "the hub's file storage is out of reach for now: try again in a "
    "minute (nothing was lost)",
    "SECRET_FILE": "add the file to .gitignore, or pass --allow-secret PATH to send it anyway",
    "SETUP_TOKEN_MISMATCH": "it is still valid: use it with the competition and project it is "
    "for, or ask for a setup token of the project you named",
}


def make_session(*, retries: int = RETRIES) -> requests.Session:
    """A session that retries idempotent requests on time-outs, dropped connections and
    502/503/504, after the `Retry-After` a 503 gives; a refused connection fails at once
    (`crunch_cli.api.transport`), and `--debug` logs every request.

    POSTs are never retried here: re-sending one could, say, mint a second submission
    (`HubClient.send` re-sends them only when the hub says it did nothing).
    """
    import requests

    from crunch_cli.api.transport import HubRetry, LoggingAdapter

    retry = HubRetry(
        total=retries,
        connect=retries,
        read=retries,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=IDEMPOTENT_METHODS,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = LoggingAdapter(max_retries=retry, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = (
        f"crunch-cli-hub/{__version__} python/{platform.python_version()}"
    )
    return session


def hint_for(code: str) -> str | None:
    return _HINTS.get(code)


def error_from_response(response: requests.Response) -> ApiError:
    """Build the right `ApiError` from an error response, whatever its body looks like."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        reason = response.reason or "error"
        return ApiError(
            "HTTP_ERROR",
            f"the hub answered {response.status_code} {reason} for {response.request.path_url}",
            status=response.status_code,
        )
    code = str(body["code"])
    message = str(body.get("message") or code)
    extras = {key: value for key, value in body.items() if key not in ("code", "message")}
    if code in ("INVALID_PROJECT_TOKEN", "UNAUTHORIZED"):
        kind: type[ApiError] = InvalidTokenError
    elif code.endswith("_NOT_FOUND") or code == "NEVER_SUBMITTED":
        kind = NotFoundError
    else:
        kind = ApiError
    return kind(code, message, status=response.status_code, extras=extras, hint=_HINTS.get(code))


class HubClient:
    """Typed calls to the hub API; one instance per hub and token."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = RETRIES,
    ):
        """`retries=0` for a call that is only advice: an unreachable hub answers at once."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self._session: requests.Session | None = None
        register_secret(token)

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            self._session = make_session(retries=self.retries)
        return self._session

    def __repr__(self) -> str:
        return f"HubClient({self.base_url!r}, token=<hidden>)"

    def send(
        self,
        method: str,
        url: str,
        *,
        auth: bool = True,
        stream: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one request; connection failures and error bodies become `CrunchError`s.

        `url` is either a path on the hub or an absolute (signed) URL, which gets no token.
        A POST the hub turned away with `HUB_BUSY` is sent again, after `Retry-After`, a
        few times (the session does the same for the other methods).
        """
        import requests

        absolute = url.startswith(("http://", "https://"))
        headers = dict(kwargs.pop("headers", None) or {})
        if auth and self.token and not absolute:
            headers["Authorization"] = f"Project-Token {self.token}"
        timeout = kwargs.pop("timeout", self.timeout)

        def attempt() -> requests.Response:
            try:
                return self.session.request(
                    method,
                    url if absolute else self.base_url + url,
                    headers=headers,
                    timeout=timeout,
                    stream=stream,
                    **kwargs,
                )
            except requests.ConnectionError as error:
                from crunch_cli.api.transport import connection_reason

                raise HubUnreachableError(self.base_url, connection_reason(error)) from error
            except requests.Timeout as error:
                raise HubUnreachableError(self.base_url, "the request timed out") from error

        response = attempt()
        retries = 0 if method.upper() in IDEMPOTENT_METHODS else RETRIES
        for _ in range(retries):
            if not _busy(response):
                break
            time.sleep(_retry_after(response))
            response = attempt()
        if response.status_code >= 400:
            raise error_from_response(response)
        return response

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.send(method, path, **kwargs).json()

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Walk a `{content, ...}` listing page by page, stopping at a short page."""
        page = 0
        while True:
            body = self.call(
                "GET", path, params={**(params or {}), "page": page, "size": PAGE_SIZE}
            )
            content = body.get("content", [])
            yield from content
            if len(content) != PAGE_SIZE:
                return
            page += 1

    # -- tokens and identity ---------------------------------------------------------------

    def upgrade_token(
        self, clone_token: str, *, competition: str | None = None, project: str | None = None
    ) -> dict[str, Any]:
        """Trade a setup token for a project token. A client holding a project token sends
        it along, and the hub revokes it if it is of the same project: it was replaced.

        The competition and project the user named go along too: our hub refuses a token of
        another project without spending it (`SETUP_TOKEN_MISMATCH`); others ignore them.
        """
        register_secret(clone_token)
        body = {"cloneToken": clone_token, "competitionName": competition, "projectName": project}
        upgraded: dict[str, Any] = self.call(
            "POST",
            "/v2/project-tokens/upgrade",
            json={key: value for key, value in body.items() if value is not None},
        )
        register_secret(upgraded.get("plain"))
        return upgraded

    def me(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.call("GET", "/v2/users/@me"))

    # -- competitions ----------------------------------------------------------------------

    def competitions(self, filters: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every competition, or those the hub keeps for `filters` (query parameters)."""
        return list(self.paginate("/v2/competitions", filters))

    def competition(self, name: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.call("GET", f"/v1/competitions/{_segment(name)}"))

    def current_round(self, competition: str) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.call("GET", f"/v1/competitions/{_segment(competition)}/rounds/@current"),
        )

    def data_release(
        self, competition: str, round_number: int, size_variant: str = "default"
    ) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.call(
                "GET",
                f"/v2/competitions/{_segment(competition)}/rounds/{round_number}"
                "/phases/submission/data-release",
                params={"sizeVariant": size_variant.upper()},
            ),
        )

    def metrics(self, competition: str) -> list[dict[str, Any]]:
        """The competition's metrics, each with its target (what scoring modules receive)."""
        return cast(
            "list[dict[str, Any]]",
            self.call("GET", f"/v1/competitions/{_segment(competition)}/metrics"),
        )

    def checks(self, competition: str) -> list[dict[str, Any]]:
        return cast(
            "list[dict[str, Any]]",
            self.call("GET", f"/v1/competitions/{_segment(competition)}/checks"),
        )

    def libraries(
        self, name: str | None = None, *, language: str = "PYTHON", standard: bool | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"language": language}
        if name is not None:
            params["name"] = name
        if standard is not None:
            params["standard"] = str(standard).lower()
        return list(self.paginate("/v2/libraries", params))

    # -- uploads ---------------------------------------------------------------------------

    def create_upload(self, name: str, size: int, chunk_size: int) -> dict[str, Any]:
        body = {"name": name, "size": size, "encrypted": False, "preferredChunkSize": chunk_size}
        return cast("dict[str, Any]", self.call("POST", "/v1/uploads", json=body))

    def upload(self, upload_id: str) -> dict[str, Any]:
        return cast("dict[str, Any]", self.call("GET", f"/v1/uploads/{_segment(upload_id)}"))

    def upload_chunk(self, upload_id: str, chunk: dict[str, Any], data: bytes | Body) -> None:
        """Send one chunk through its presigned URL and confirm it with the returned ETag."""
        number = chunk["number"]
        base = f"/v1/uploads/{_segment(upload_id)}/chunks/{number}"
        request = self.call("GET", f"{base}/request")
        response = self.send(
            request.get("method", "PUT"),
            request["url"],
            data=data,
            headers=request.get("headers") or {},
            auth=False,
        )
        etag = response.headers.get("ETag", "")
        self.call("POST", f"{base}/confirm", json={"hash": etag})

    def complete_upload(self, upload_id: str) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.call("POST", f"/v1/uploads/{_segment(upload_id)}/complete", json={}),
        )

    def delete_upload(self, upload_id: str) -> None:
        self.send("DELETE", f"/v1/uploads/{_segment(upload_id)}")

    def runtime_definitions(self, competition: str) -> list[dict[str, Any]]:
        """The runtimes the competition offers (CPU, GPU...), before any submission."""
        return list(self.paginate(f"/v1/competitions/{_segment(competition)}/runtime-definitions"))

    def leaderboard(self, competition: str) -> dict[str, Any]:
        return cast(
            "dict[str, Any]",
            self.call("GET", f"/v2/competitions/{_segment(competition)}/leaderboards/@default"),
        )

    # -- quickstarters and library requests -------------------------------------------------

    def quickstarters(self, competition: str) -> list[dict[str, Any]]:
        return cast(
            "list[dict[str, Any]]",
            self.call("GET", f"/v2/competitions/{_segment(competition)}/quickstarters"),
        )

    def quickstarter(self, competition: str, name: str) -> dict[str, Any]:
        """One quickstarter with its `files`: `{name, url, size?, sha256?}` each."""
        path = f"/v2/competitions/{_segment(competition)}/quickstarters/{_segment(name)}"
        return cast("dict[str, Any]", self.call("GET", path))

    def create_library_request(self, body: dict[str, Any]) -> dict[str, Any]:
        """Ask for a library to be whitelisted (`{competitionId, name, alias, language,
        gpuRequirement, additionalDetails}`)."""
        return cast("dict[str, Any]", self.call("POST", "/v1/library-requests", json=body))

    # -- one project -----------------------------------------------------------------------

    def project(self, competition: str, user_id: int, project: str) -> ProjectClient:
        """This client bound to one project: the calls about it no longer take its name."""
        return ProjectClient(self, competition, user_id, project)


class ProjectClient:
    """A `HubClient` bound to one project (competition, user id, project name).

    Every call a workspace makes goes through one of these, so the three names that locate
    a project are given once, where the client is made, not at each call. The calls about
    the project's competition are here too, bound to it; those about no project in
    particular (the competition list, the setup-token exchange) stay on `HubClient`.
    """

    def __init__(self, hub: HubClient, competition: str, user_id: int, project: str) -> None:
        self.hub = hub
        self.competition_name = competition
        self.user_id = user_id
        self.project_name = project

    @property
    def base_url(self) -> str:
        return self.hub.base_url

    def __repr__(self) -> str:
        return (
            f"ProjectClient({self.base_url!r}, {self.competition_name!r}, {self.user_id}, "
            f"{self.project_name!r}, token=<hidden>)"
        )

    def _path(self, version: int) -> str:
        return (
            f"/v{version}/competitions/{_segment(self.competition_name)}/projects/"
            f"{self.user_id}/{_segment(self.project_name)}"
        )

    def _get(self, path: str, **kwargs: Any) -> Any:
        return self.hub.call("GET", path, **kwargs)

    # -- the project's competition -----------------------------------------------------------

    def competition(self) -> dict[str, Any]:
        return self.hub.competition(self.competition_name)

    def current_round(self) -> dict[str, Any]:
        return self.hub.current_round(self.competition_name)

    def data_release(self, round_number: int, size_variant: str = "default") -> dict[str, Any]:
        return self.hub.data_release(self.competition_name, round_number, size_variant)

    def metrics(self) -> list[dict[str, Any]]:
        return self.hub.metrics(self.competition_name)

    def checks(self) -> list[dict[str, Any]]:
        return self.hub.checks(self.competition_name)

    def leaderboard(self) -> dict[str, Any]:
        return self.hub.leaderboard(self.competition_name)

    def leaderboard_changes(self, leaderboard: str) -> dict[str, Any]:
        """Where the project stands on a leaderboard: `{targets: [{displayName, rank,
        rewardRank, metrics: {name: {unit, current, ...}}}]}`, empty when it is not on it."""
        path = (
            f"/v3/competitions/{_segment(self.competition_name)}/leaderboards/"
            f"{_segment(leaderboard)}/changes/users/{self.user_id}"
        )
        return cast(
            "dict[str, Any]", self._get(path, params={"projectIdentifier": self.project_name})
        )

    def runtime_definitions(self) -> list[dict[str, Any]]:
        return self.hub.runtime_definitions(self.competition_name)

    def quickstarters(self) -> list[dict[str, Any]]:
        return self.hub.quickstarters(self.competition_name)

    def quickstarter(self, name: str) -> dict[str, Any]:
        return self.hub.quickstarter(self.competition_name, name)

    def libraries(
        self, name: str | None = None, *, language: str = "PYTHON", standard: bool | None = None
    ) -> list[dict[str, Any]]:
        return self.hub.libraries(name, language=language, standard=standard)

    def request_library(self, body: dict[str, Any]) -> dict[str, Any]:
        """Ask for a library to be whitelisted on the project's competition (`{name, alias,
        language, gpuRequirement, additionalDetails}`; the competition's id is added)."""
        competition_id = self.competition()["id"]
        return self.hub.create_library_request({"competitionId": competition_id, **body})

    # -- uploads (the project token's) -------------------------------------------------------

    def create_upload(self, name: str, size: int, chunk_size: int) -> dict[str, Any]:
        return self.hub.create_upload(name, size, chunk_size)

    def upload(self, upload_id: str) -> dict[str, Any]:
        return self.hub.upload(upload_id)

    def upload_chunk(self, upload_id: str, chunk: dict[str, Any], data: bytes | Body) -> None:
        self.hub.upload_chunk(upload_id, chunk, data)

    def complete_upload(self, upload_id: str) -> dict[str, Any]:
        return self.hub.complete_upload(upload_id)

    def delete_upload(self, upload_id: str) -> None:
        self.hub.delete_upload(upload_id)

    # -- tokens --------------------------------------------------------------------------------

    def create_setup_token(self) -> dict[str, Any]:
        """A one-time setup token for this project: `{plain, validUntil, project}`."""
        created: dict[str, Any] = self.hub.call("POST", self._path(3) + "/setup-tokens", json={})
        register_secret(created.get("plain"))
        return created

    # -- submissions ---------------------------------------------------------------------------

    def create_submission(self, body: dict[str, Any]) -> dict[str, Any]:
        return cast(
            "dict[str, Any]", self.hub.call("POST", self._path(4) + "/submissions", json=body)
        )

    def submissions(self) -> list[dict[str, Any]]:
        body = self._get(self._path(3) + "/submissions")
        return cast("list[dict[str, Any]]", body["content"] if isinstance(body, dict) else body)

    def submission(self, number: int | str) -> dict[str, Any]:
        return cast("dict[str, Any]", self._get(f"{self._path(3)}/submissions/{_segment(number)}"))

    def submission_files(self, number: int | str) -> list[dict[str, Any]]:
        return cast(
            "list[dict[str, Any]]",
            self._get(f"{self._path(3)}/submissions/{_segment(number)}/files"),
        )

    def clone(
        self, *, submission_number: int | None = None, include_model: bool = False
    ) -> dict[str, str]:
        """Signed links to a submission's files, keyed by path (model files prefixed)."""
        params: dict[str, Any] = {"includeModel": str(include_model).lower()}
        if submission_number is not None:
            params["submissionNumber"] = submission_number
        return cast("dict[str, str]", self._get(self._path(4) + "/clone", params=params))

    def submit_quota(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self._get(self._path(3) + "/quota/submit"))

    def compute_quota(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self._get(self._path(3) + "/quota/compute"))

    def runtime_options(self, submission: int | str) -> list[dict[str, Any]]:
        """What one submission may run on, and whether each is available to it."""
        path = f"{self._path(3)}/submissions/{_segment(submission)}/runtime-options"
        return list(self.hub.paginate(path))

    # -- runs ------------------------------------------------------------------------------------

    def create_run(self, body: dict[str, Any]) -> dict[str, Any]:
        return cast("dict[str, Any]", self.hub.call("POST", self._path(3) + "/runs", json=body))

    def runs(self) -> list[dict[str, Any]]:
        return list(self.hub.paginate(self._path(3) + "/runs"))

    def run(self, run_id: int) -> dict[str, Any]:
        return cast("dict[str, Any]", self._get(f"{self._path(3)}/runs/{run_id}"))

    def run_logs(self, run_id: int, after: int | None = None) -> list[dict[str, Any]]:
        params = {"after": after} if after is not None else None
        return cast(
            "list[dict[str, Any]]",
            self._get(f"{self._path(3)}/runs/{run_id}/logs", params=params),
        )

    def terminate_run(self, run_id: int) -> dict[str, Any]:
        return cast("dict[str, Any]", self.hub.call("DELETE", f"{self._path(3)}/runs/{run_id}"))


def _busy(response: requests.Response) -> bool:
    """Whether the hub turned the request away without acting on it."""
    if response.status_code != 503:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == BUSY


def _retry_after(response: requests.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:  # an HTTP date: rare enough to wait the default
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _segment(value: str | int) -> str:
    return quote(str(value), safe="@")
