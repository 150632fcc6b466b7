"""When a promotion PR's evaluation can next change with time alone: the due marker.

A scheduled run re-evaluates only what the clock (or the world outside git) can have
changed (reference §11 "Scheduled runs"). Every evaluation writes a due marker into the
PR body it renders, next to the state marker::

    <!-- promobot:due {"flags":["hold"],"head":"<sha>","inputs":"<digest>","next":"never","v":1} -->

* ``next`` — ``"never"`` when only people can move the PR on (reviews, comments, pushes
  and labels arrive as their own events); ``"always"`` when something outside git can
  change the result at any time (live-data gates, command and artifact gates that did not
  pass, a ready auto-merge PR that has not merged); otherwise the earliest ``until`` of the
  pending time gates (soak, freeze, verified).
* ``inputs`` — a digest of the git blobs the evaluation read at the default branch's tip
  (the policy, ``rejected.yaml``, the model's manifest in every environment). A scheduled
  run recomputes it locally (no request) and evaluates the PR when it differs, so a push
  whose event was lost is caught up.
* ``head`` — the PR head the evaluation judged; another head means someone pushed.
* ``flags`` — ``draft`` and ``hold`` as the evaluation saw them: turning a PR into a draft
  or removing the hold label by hand sends no event promobot handles.

The marker is a hint written only by promobot into a body anyone with write access can
edit, so it may only ever make a scheduled run do *more* work: a marker that is missing,
malformed, of another version, for another head or for other inputs means "evaluate now".
A forged ``"never"`` can at worst delay a re-evaluation until the next event — it can
never merge anything, because every merge re-evaluates the PR first (SECURITY.md).

Pure: the clock is the ``now`` argument.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.core.model import GateResult
from bot.core.paths import manifest_path

DUE_VERSION = 1
"""Bumped whenever what the marker vouches for changes: older markers are not trusted."""

HEAD_PLACEHOLDER = "0" * 40
"""Stands for the head commit a plan writes; ``bot.app.apply.apply`` puts the real SHA in."""

TIME_KINDS = frozenset({"soak", "freeze", "verified"})
"""Gates whose result changes with the clock: pending until their ``until``."""
EXTERNAL_KINDS = frozenset({"prometheus", "registry", "command", "artifact"})
"""Gates that read the world outside git: when they did not pass, every scheduled run retries."""

Next = datetime | Literal["never", "always"]
FLAGS = frozenset({"draft", "hold"})

_DUE_RE = re.compile(r"<!-- promobot:due (\{[^<>]{0,400}\}) -->")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_DIGEST_RE = re.compile(r"^[0-9a-f]{16}$")
_WHEN_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@dataclass(frozen=True, slots=True)
class Due:
    """What a due marker says."""

    next: Next
    inputs: str
    head: str | None = None
    flags: tuple[str, ...] = ()
    """What of the PR itself the evaluation saw that no routed event reports: ``draft``
    (converting to a draft has no event promobot handles) and ``hold`` (a label removed by hand)."""


def next_change(results: Sequence[GateResult], *, ready: bool, auto_merge: bool) -> Next:
    """When the evaluation that produced ``results`` can next change without any event.

    ``ready`` and ``auto_merge``: a ready PR in an auto-merge environment should have
    merged; if it is still open (the merge failed or was cut short) the next run retries.
    """
    if ready and auto_merge:
        return "always"
    earliest: datetime | None = None
    for result in results:
        if result.result == "success":
            continue
        if result.kind in EXTERNAL_KINDS:
            return "always"
        if result.kind in TIME_KINDS and result.result == "pending":
            if result.until is None:
                return "always"  # pending on the clock with no known end (open-ended freeze, …)
            until = result.until.astimezone(UTC)
            earliest = until if earliest is None or until < earliest else earliest
    return earliest if earliest is not None else "never"


def inputs_digest(blobs: Mapping[str, str | None]) -> str:
    """A short digest of ``{path: blob id or None}`` (order-free)."""
    text = "\n".join(f"{path} {blob or '-'}" for path, blob in sorted(blobs.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def model_inputs(
    blob_ids: Mapping[str, str], *, model: str, envs: Iterable[str], policy_path: str, rejected_path: str
) -> dict[str, str | None]:
    """The blobs an evaluation of ``model``'s PRs reads, from ``blob_ids`` of ``environments/``."""
    paths = [policy_path, rejected_path, *(manifest_path(env, model) for env in envs)]
    return {path: blob_ids.get(path) for path in paths}


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_due(due: Due) -> str:
    data: dict[str, object] = {
        "v": DUE_VERSION,
        "next": due.next if isinstance(due.next, str) else _when(due.next),
        "inputs": due.inputs,
    }
    if due.head is not None:
        data["head"] = due.head
    if due.flags:
        data["flags"] = sorted(due.flags)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return f"<!-- promobot:due {text} -->"


def name_head(body: str, head: str | None) -> str:
    """``body`` whose due marker was rendered with ``HEAD_PLACEHOLDER`` (before the head commit
    existed), naming ``head`` instead; unchanged when there is no such marker or no head yet."""
    placeholder = f'"head":"{HEAD_PLACEHOLDER}"'  # render_due's compact JSON
    if head is None or placeholder not in body:
        return body
    return body.replace(placeholder, f'"head":"{head}"')


def parse_due(body: str | None) -> Due | None:
    """The due marker in ``body``; None when absent, malformed or of another version (never raises)."""
    if not body:
        return None
    found = _DUE_RE.findall(body)
    if len(found) != 1:  # none, or a second one pasted in: trust neither
        return None
    try:
        data = json.loads(found[0])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != DUE_VERSION:
        return None
    nxt, inputs, head, flags = data.get("next"), data.get("inputs"), data.get("head"), data.get("flags", [])
    if not isinstance(flags, list) or not all(f in FLAGS for f in flags) or len(set(flags)) != len(flags):
        return None
    if not isinstance(inputs, str) or not _DIGEST_RE.match(inputs):
        return None
    if head is not None and (not isinstance(head, str) or not _SHA_RE.match(head)):
        return None
    when: Next
    if nxt in ("never", "always"):
        when = "always" if nxt == "always" else "never"
    elif isinstance(nxt, str) and _WHEN_RE.match(nxt):
        try:
            when = datetime.strptime(nxt, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            return None
    else:
        return None
    return Due(when, inputs, head, tuple(sorted(flags)))


def pr_flags(*, draft: bool, labels: Iterable[str], hold_label: str) -> tuple[str, ...]:
    """The ``flags`` of a PR as the forge shows it (see ``Due.flags``)."""
    return tuple(sorted((["draft"] if draft else []) + (["hold"] if hold_label in labels else [])))


def due_reason(
    due: Due | None, *, head_sha: str, inputs: str, now: datetime, flags: tuple[str, ...] = ()
) -> str | None:
    """Why a scheduled run must evaluate this PR now, or None when the marker vouches it need not."""
    if due is None:
        return "no current due marker"
    if due.head is None or due.head == HEAD_PLACEHOLDER or due.head != head_sha:
        return "the head changed since the last evaluation"
    if due.inputs != inputs:
        return "the policy, rejected.yaml or the model's manifests changed"
    if tuple(sorted(flags)) != due.flags:
        return "the draft state or the hold label changed"
    if due.next == "always":
        return "waits on something outside git"
    if due.next == "never":
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return "its time came" if due.next <= now else None
