"""The promobot error tree: every message says what happened and what to do next.

``BotError`` and its subclasses are *expected* failures (exit 1 on the CLI, a reply
on a pull request).  ``OutageError`` marks a failure outside promobot's control
(a forge that keeps answering 5xx, a git remote that cannot be reached): exit 3.
Anything else that escapes is a bug (exit 3 with a traceback hint).
"""

from __future__ import annotations

from datetime import datetime


class BotError(Exception):
    """An expected failure with a message written for the person who reads it."""

    exit_code: int = 1

    def __init__(
        self,
        what: str,
        hint: str | None = None,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.what = what
        self.hint = hint
        self.file = file
        self.line = line
        self.column = column
        super().__init__(self.message)

    @property
    def location(self) -> str | None:
        """``file:line:column`` (as much of it as is known), or None."""
        if self.file is None:
            return None
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    @property
    def message(self) -> str:
        text = self.what if self.hint is None else f"{self.what} — {self.hint}"
        loc = self.location
        return text if loc is None else f"{loc}: {text}"


class UsageError(BotError):
    """Bad arguments: an unknown model or environment, a malformed command."""


class NotApplicable(BotError):
    """The request does not apply here: not a promobot pull request, nothing to promote or roll
    back, already done. Handlers of many items skip these (a ``UsageError`` there is a failure)."""


class ManifestError(BotError):
    """A manifest, the policy or rejected.yaml is invalid (always carries a location)."""


class PolicyError(ManifestError):
    """The promotion policy is invalid."""


class NotAuthorized(BotError):
    """The actor may not do this."""


class Blocked(BotError):
    """The action is not allowed now (gates, approvals, hold, nothing to do)."""

    def __init__(self, what: str, hint: str | None = None, *, blockers: list[str] | None = None) -> None:
        super().__init__(what, hint)
        self.blockers: list[str] = list(blockers or [])


class ConflictError(BotError):
    """Someone else moved something first (a branch tip, a PR head): re-run to retry."""


class WorkspaceError(BotError):
    """A git operation failed."""


class ForgeError(BotError):
    """The forge refused a request for a reason the user can fix (permissions, settings)."""


class OutageError(BotError):
    """The forge or git remote failed in a way promobot cannot fix; re-run the same event."""

    exit_code = 3


class RateLimited(OutageError):
    """The forge's request budget for this token is used up until ``reset`` (GitHub's primary
    rate limit): nothing more can be done in this run; the next run picks up the rest."""

    def __init__(self, what: str, hint: str | None = None, *, reset: datetime | None = None) -> None:
        super().__init__(what, hint)
        self.reset = reset


# ---------------------------------------------------------------- model registry (MLflow)


class RegistryError(BotError):
    """The model registry refused a request; names the endpoint and the registry's error code."""

    def __init__(self, what: str, hint: str | None = None, *, endpoint: str, error_code: str | None) -> None:
        super().__init__(what, hint)
        self.endpoint = endpoint
        self.error_code = error_code


class RegistryUnavailable(OutageError):
    """The model registry could not be reached, timed out or failed (5xx): re-run later."""
