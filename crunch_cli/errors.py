"""The one exception tree of crunch_cli.

Core code raises these and never prints or exits; the CLI turns them into one line on
stderr, a hint, and an exit status (`crunch_cli.cli.main`). Each class says when it is
raised, and each message says what to do next.

    CrunchError
    ├── WorkspaceError            the local project folder is missing, foreign or incomplete
    │   ├── NotInWorkspaceError   no `.crunchdao/` in this folder or any parent
    │   └── WorkspaceExistsError  refusing to write over something the user made
    ├── HubError                  talking to the hub went wrong
    │   ├── HubUnreachableError   no answer at all (connection refused, DNS, timeout)
    │   ├── ApiError              the hub answered with an error body `{code, message}`
    │   │   ├── InvalidTokenError     INVALID_PROJECT_TOKEN, UNAUTHORIZED
    │   │   └── NotFoundError         a *_NOT_FOUND code
    │   ├── WaitTimeoutError      a run did not end within --timeout (exit status 2)
    │   └── UntrustedInputError   the hub sent a name or a body that is refused unwritten
    ├── DownloadError             a data file could not be fetched intact
    │   └── ChecksumMismatchError the bytes do not hash to the hub's sha256
    ├── HubStorageError           the hub's own file storage failed (hub side only)
    │   ├── BlobIntegrityError    a stored blob's bytes no longer hash to its sha256
    │   └── InsufficientStorageError  no space left for the hub's files
    ├── ConversionError           a notebook could not be turned into a script
    ├── RequirementsError         requirements that cannot be parsed, merged or allowed
    ├── RunnerError               the user's code could not be run to the end
    │   ├── SandboxError          the run cannot be confined as required
    │   ├── UserCodeError         train()/infer() raised; the child printed their traceback
    │   ├── LimitExceededError    the child went past a limit (time, memory, processes, disk)
    │   ├── PredictionCheckError  the predictions failed a competition check
    │   └── RunFailedError        a run on the hub ended without success
    └── PushError                 a submission could not be built or sent
"""

from __future__ import annotations

from typing import Any


class CrunchError(Exception):
    """Root of every error the user should see as one readable line.

    `hint` is the next thing to try, phrased as an instruction; `exit_code` lets a
    family of errors keep a distinct status for scripts that call `crunch`.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class WorkspaceError(CrunchError):
    """The workspace on disk is not what the command needs."""


class NotInWorkspaceError(WorkspaceError):
    """Raised when a command that needs a workspace runs outside of one."""

    def __init__(self, start: str) -> None:
        super().__init__(
            f"{start} is not inside a crunch workspace (no .crunchdao/ folder found)",
            hint="cd into the folder made by `crunch setup`, or run `crunch setup` first",
        )


class WorkspaceExistsError(WorkspaceError):
    """Raised instead of overwriting files the user made."""


class HubError(CrunchError):
    """Talking to the hub failed."""


class HubUnreachableError(HubError):
    """Raised when the hub does not answer at all."""

    def __init__(self, base_url: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the hub at {base_url}: {reason}",
            hint="check --api-base-url (or CRUNCH_API_BASE_URL) and that the hub is running",
        )
        self.base_url = base_url


class ApiError(HubError):
    """Raised when the hub answers with an error body; keeps the wire code and extras."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        extras: dict[str, Any] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.status = status
        self.extras = extras or {}


class InvalidTokenError(ApiError):
    """Raised on INVALID_PROJECT_TOKEN / UNAUTHORIZED."""


class NotFoundError(ApiError):
    """Raised on any *_NOT_FOUND code."""


class WaitTimeoutError(HubError):
    """Raised when a run is still going when the caller's --timeout passes."""

    exit_code = 2


class UntrustedInputError(HubError):
    """Raised when what a hub sends (a file name, a size, a body) would write outside its
    folder or past what was announced: nothing of it is written.
    """


class DownloadError(CrunchError):
    """Raised when a data file cannot be fetched after every retry."""


class ChecksumMismatchError(DownloadError):
    """Raised when a downloaded file does not hash to the hub's sha256 figure."""


class HubStorageError(CrunchError):
    """Raised by the hub when its blob folder cannot give or take the bytes asked for."""


class BlobIntegrityError(HubStorageError):
    """Raised when a stored blob is missing, or its bytes do not hash to the sha256 recorded
    for it (damaged or tampered with on disk): whatever read it must not use it.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(
            f"the hub's stored file {key} is unusable: {problem}",
            hint="restore the hub's blob folder from a backup, or ask the owner to push again",
        )
        self.key = key


class InsufficientStorageError(HubStorageError):
    """Raised when the disk holding the hub's files is full; nothing half-written is kept,
    so the same request succeeds once space is freed.
    """

    def __init__(self, where: str) -> None:
        super().__init__(
            f"no space left on the hub's storage ({where})",
            hint="free some space on that disk (or give the hub a bigger one), then try again",
        )


class ConversionError(CrunchError):
    """Raised when a notebook cannot be turned into a valid script."""


class RequirementsError(CrunchError):
    """Raised for requirements that cannot be parsed, merged or are not allowed."""


class RunnerError(CrunchError):
    """Raised when the user's code could not be run to the end."""


class SandboxError(RunnerError):
    """The run cannot be confined as required (no bubblewrap, or it would expose files)."""


class UserCodeError(RunnerError):
    """Raised when train()/infer() raised; the traceback was already shown to the user."""


class LimitExceededError(RunnerError):
    """Raised when the child process went past its time or memory limit."""


class PredictionCheckError(RunnerError):
    """Raised when the predictions fail one of the competition's checks."""


class PushError(CrunchError):
    """Raised when a submission cannot be built or sent."""


class RunFailedError(RunnerError):
    """Raised when a run on the hub ended without success."""


class RunTerminatedError(RunFailedError):
    """Raised when a run on the hub ended because someone terminated it; exit status 3, as
    crunch-cli 13.0.1's `run wait` says."""

    exit_code = 3


class SecretFileError(PushError):
    """Raised before anything is sent when a push would send files that look like secrets
    (by name, or a key or token in a code file); `findings` name the file and line of each,
    never the value.
    """

    def __init__(self, findings: list[str]) -> None:
        super().__init__(
            "refusing to send what looks like secrets: " + "; ".join(findings),
            hint="add them to .gitignore (model files: to a .gitignore inside the model "
            "directory), or pass --allow-secret PATH to send one anyway",
        )
        self.findings = findings
