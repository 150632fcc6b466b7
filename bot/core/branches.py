"""promobot's branch names and the labels of its pull requests: the one place a branch name is
made or read (``promobot/<env>/<model>``, ``promobot/rollback/<env>/<model>``,
``promobot/rejected/<model>/<version>``, ``promobot/unrejected/<model>/<version>``).

Apart from the action plan (``plan.py``): ``status`` and the git adapter read branch names on
every run and need none of the plan's actions.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from bot.core.model import LABEL_ENV_PREFIX, LABEL_PROMOTION, LABEL_ROLLBACK, is_valid_name

BRANCH_PREFIX = "promobot/"


def promotion_branch(env: str, model: str) -> str:
    return f"{BRANCH_PREFIX}{env}/{model}"


def rollback_branch(env: str, model: str) -> str:
    return f"{BRANCH_PREFIX}rollback/{env}/{model}"


REJECT_ACTIONS = ("reject", "unreject")
"""Actions of the PRs that edit ``environments/rejected.yaml``; they name no environment."""

_BRANCH_VERSION_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,127}")
"""``manifest.VERSION_RE``, minus what git refuses in a ref (``..``, a ``.lock`` ending)."""


def rejected_branch(model: str, version: str, *, remove: bool = False) -> str:
    """``promobot/rejected/<model>/<version>`` (``unrejected`` to remove)."""
    return f"{BRANCH_PREFIX}{'unrejected' if remove else 'rejected'}/{model}/{version}"


def is_branch_version(version: str) -> bool:
    return (
        _BRANCH_VERSION_RE.fullmatch(version) is not None
        and ".." not in version
        and not version.endswith(".lock")
    )


class BranchRef(NamedTuple):
    action: str
    """``promote``, ``rollback``, ``reject`` or ``unreject``."""
    env: str
    """The environment whose manifest the PR changes; ``""`` for reject / unreject."""
    model: str
    version: str | None = None
    """reject / unreject only: the version the branch adds to (removes from) rejected.yaml."""

    @property
    def is_rejection(self) -> bool:
        return self.action in REJECT_ACTIONS


def parse_branch(name: str) -> BranchRef | None:
    """``promobot/<env>/<model>``, ``promobot/rollback/<env>/<model>``,
    ``promobot/rejected/<model>/<version>`` or ``promobot/unrejected/<model>/<version>``;
    None otherwise."""
    if not name.startswith(BRANCH_PREFIX):
        return None
    parts = name[len(BRANCH_PREFIX) :].split("/")
    if len(parts) == 3 and parts[0] in ("rejected", "unrejected"):
        action = "reject" if parts[0] == "rejected" else "unreject"
        if not (is_valid_name(parts[1]) and is_branch_version(parts[2])):
            return None
        return BranchRef(action, "", parts[1], parts[2])
    if len(parts) == 3 and parts[0] == "rollback":
        action, env, model = "rollback", parts[1], parts[2]
    elif len(parts) == 2:
        action, env, model = "promote", parts[0], parts[1]
    else:
        return None
    if not (is_valid_name(env) and is_valid_name(model)):
        return None
    return BranchRef(action, env, model)


def labels_for(action: str, env: str) -> tuple[str, ...]:
    """The labels of a promobot PR; reject / unreject PRs (no environment) are ``promobot:rollback``
    only: they merge under ``rollback.approvals`` like rollbacks."""
    if action in REJECT_ACTIONS:
        return (LABEL_ROLLBACK,)
    kind = LABEL_ROLLBACK if action == "rollback" else LABEL_PROMOTION
    return (kind, f"{LABEL_ENV_PREFIX}{env}")
