"""Deployments that follow post-deploy verifications, decided purely (reference §15.3).

On GitHub every verification of (environment, model, version, commit) is also a Deployment
of that commit to that environment, so that GitHub's Environments page shows what runs
where; the local forge keeps the same records in its state file. One environment holds
many models, so each model is its own line of deployments: the deployment's ``task`` is
``deploy:<model>``. The deployment's statuses follow the verification:

=============  ====================
verification   deployment status
=============  ====================
pending        ``in_progress``
success        ``success``
failure        ``failure``
(replaced)     ``inactive``
=============  ====================

The ``promobot/verify`` check keeps a record ``deployment <id> <state>`` of what promobot last
set, so a scheduled run in which nothing changed reads no deployment at all. A final state is
first recorded with `` refresh`` appended — the downstream promotion PRs are still owed a
re-evaluation — and the suffix goes once they all had it, so a run that stopped in between
(an outage) finishes the job next time instead of leaving a prod PR's ``verified`` gate stale.
"""

from __future__ import annotations

import re

from bot.core.model import DeploymentState

TASK_PREFIX = "deploy:"
DESCRIPTION_MAX = 140
"""GitHub's limit for a deployment status description."""

_RECORD_RE = re.compile(r"^deployment ([0-9]{1,18}) (in_progress|success|failure|inactive)(?: refresh)?$")
REFRESH = " refresh"
_STATES: dict[str, DeploymentState] = {
    "pending": "in_progress",
    "success": "success",
    "failure": "failure",
    "inactive": "inactive",
}


def task(model: str) -> str:
    return f"{TASK_PREFIX}{model}"


def state_for(verification_state: str) -> DeploymentState:
    """The deployment status that shows a verification in this state."""
    return _STATES[verification_state]


def record(deployment_id: int, state: DeploymentState) -> str:
    return f"deployment {deployment_id} {state}"


def parse_record(text: str) -> tuple[int, DeploymentState] | None:
    """``(deployment id, state promobot set last)`` from a check's record, or None."""
    match = _RECORD_RE.match(text)
    if match is None:
        return None
    return int(match.group(1)), _state(match.group(2))


def owing_refresh(text: str) -> str:
    """``text`` (a record) marked: the downstream PRs are still owed a re-evaluation."""
    return text if text.endswith(REFRESH) else text + REFRESH


def settled(text: str) -> str:
    return text.removesuffix(REFRESH)


def owes_refresh(text: str) -> bool:
    return _RECORD_RE.match(text) is not None and text.endswith(REFRESH)


def _state(text: str) -> DeploymentState:
    for value in _STATES.values():
        if value == text:
            return value
    raise ValueError(text)


def description(model: str, version: str, state: DeploymentState, reason: str) -> str:
    """One line for the status, at most 140 characters."""
    words = {
        "in_progress": "verifying",
        "success": "verified",
        "failure": "verification failed",
        "inactive": "replaced",
    }[state]
    text = f"{model} {version}: {words}" + (f" — {reason}" if reason else "")
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 1] + "…"
