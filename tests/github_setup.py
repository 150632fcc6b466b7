"""Scenarios on the GitHub path for the reliability tests: emulator, checkout, events, end state.

Owns ``Hub`` (one emulated ``acme/models`` repository seeded with the example
``environments/``, plus a fresh checkout per workflow run, as ``actions/checkout`` gives),
the webhook payload builders the reliability tests deliver through ``load_event`` →
``dispatch``, the ten fault-matrix ``FLOWS`` (setup + event), and ``snapshot``:
the end state of the repository with volatile fields (ids, timestamps, SHAs of
re-created commits) replaced by trees and subjects, so that two runs compare equal when
they converged. Used by ``tests/test_faults.py``, ``tests/test_races.py``,
``tests/test_redelivery.py`` and ``benchmarks/faults.py``.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.actions import load_event
from bot.adapters.github import ACTIONS_LOGIN
from bot.app.batch import Outcome
from bot.app.context import Context
from bot.app.events import dispatch
from bot.cli import github_context
from bot.errors import BotError
from tests.emulator import Emulator
from tests.emulator.server import FAULT_KINDS
from tests.helpers.git import git

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "bot" / "templates" / "init" / "example" / "environments"  # as tests/conftest.py
TOKEN = "ghs_workflowTOKEN"
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday morning in Berlin: no freeze
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
REPO = {"id": 1296269, "full_name": "acme/models", "default_branch": "main"}
_SHA_RE = re.compile(r"\b[0-9a-f]{40}\b")
_SHORT_SHA_RE = re.compile(r"\b[0-9a-f]{12}\b")
_DURATION_RE = re.compile(r"\b\d+(?:\.\d+)?\s?m?s\b")


_SEED: dict[str, Path] = {}


def seed_repo() -> Path:
    """A repository holding the example ``environments/`` in one commit: built once per process."""
    if "seed" not in _SEED or not _SEED["seed"].is_dir():
        base = Path(tempfile.mkdtemp(prefix="promobot-seed-"))
        seed = base / "seed"
        seed.mkdir()
        git(seed, "init", "-q", "-b", "main")
        shutil.copytree(EXAMPLE, seed / "environments")
        git(seed, "add", "-A")
        git(seed, "commit", "-q", "-m", "Example GitOps repository")
        _SEED["seed"] = seed
    return _SEED["seed"]


# --------------------------------------------------------------------------- the hub


@dataclass
class Hub:
    """The emulated repository, its users, and a checkout per workflow run."""

    emu: Emulator
    work: Path
    sleeps: list[float]
    _runs: Iterator[int]
    now: datetime = NOW
    """The clock of the next workflow run (promobot's ``now``)."""
    environ: dict[str, str] = field(default_factory=dict)
    """More variables for every workflow run (live-data providers' URL and headers)."""

    def checkout(self) -> Path:
        """A fresh clone of the repository, as a workflow run's checkout step makes."""
        clone = self.work / f"run-{next(self._runs)}"
        git(
            self.work,
            "clone",
            "-q",
            "-c",
            f"user.name={ACTIONS_LOGIN}",
            "-c",
            f"user.email={BOT_EMAIL}",
            str(self.emu.git_dir),
            str(clone),
        )
        return clone

    def context(self, actor: str = "alice", *, clone: Path | None = None) -> Context:
        """One workflow run's context: a fresh checkout and a fresh forge (sleeps recorded, not slept)."""
        environ = {
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_API_URL": self.emu.url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_ACTOR": actor,
            "PATH": "/usr/bin:/bin:/usr/local/bin",
            **self.environ,
        }
        return github_context(
            repo=clone or self.checkout(), actor=None, now=self.now, environ=environ, sleep=self.sleeps.append
        )

    def deliver(self, name: str, payload: dict[str, Any], *, actor: str = "alice") -> Outcome:
        """Handle one event as ``promobot handle-event`` does, in a fresh workflow run."""
        loaded = load_event(name=name, payload=payload, environ={})
        return dispatch(loaded, self.context(actor) if loaded.needs_context else None)

    def main(self) -> str:
        return self.rev("main")

    def rev(self, ref: str) -> str:
        return git(self.work, "--git-dir", str(self.emu.git_dir), "rev-parse", ref)

    def push_commit(
        self,
        path: str,
        edit: Callable[[str], str],
        message: str,
        *,
        branch: str = "main",
        date: str = "2026-11-02T09:00:00Z",
    ) -> tuple[str, str]:
        """Someone pushes a commit editing ``path`` to ``branch``; returns (before, after)."""

        def change(work: Path) -> None:
            file = work / path
            file.write_text(edit(file.read_text(encoding="utf-8")), encoding="utf-8")

        return self.push_change(change, message, branch=branch, date=date)

    def push_change(
        self, change: Callable[[Path], None], message: str, *, branch: str, date: str
    ) -> tuple[str, str]:
        """Someone checks out ``branch``, runs ``change`` on the checkout, commits everything and
        pushes; returns (before, after)."""
        work = self.work / "someone"
        if not work.exists():
            git(self.work, "clone", "-q", str(self.emu.git_dir), str(work))
        git(work, "fetch", "-q", "origin")
        git(work, "checkout", "-q", "-B", branch, f"origin/{branch}")
        before = git(work, "rev-parse", "HEAD")
        change(work)
        git(work, "add", "-A")
        git(work, "commit", "-q", "-m", message, date=date)
        git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
        return before, git(work, "rev-parse", "HEAD")


def seed_emulator(emu: Emulator) -> None:
    """The example collaborators and teams, and the example repository pushed as ``main``."""
    for login in ("alice", "bob", "carol", "dave", "erin"):
        emu.add_user(login, "write")
    emu.add_user("mallory", "read")
    emu.add_team("@acme/ml-leads", ["dave"])
    emu.add_team("@acme/sre", ["erin"])
    git(seed_repo(), "push", "-q", str(emu.git_dir), "main")


def setup_hub(emu: Emulator, work: Path) -> Hub:
    """Users, teams and the seeded default branch on a fresh emulator."""
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    seed_emulator(emu)
    work.mkdir(parents=True, exist_ok=True)
    return Hub(emu, work, [], itertools.count(1))


@contextmanager
def fresh_hub(root: Path, *, validate: bool = False) -> Iterator[Hub]:
    """A started emulator + hub under ``root`` (for scripts and loops; tests use the fixture)."""
    with Emulator(root / "github", validate=validate) as emu:
        yield setup_hub(emu, root / "work")


@contextmanager
def forked_hub(hub: Hub, root: Path) -> Iterator[Hub]:
    """A copy of ``hub``'s repository and state on a new emulator (``Emulator.fork``)."""
    emu = hub.emu.fork(root / "github")
    try:
        (root / "work").mkdir(parents=True, exist_ok=True)
        yield Hub(emu, root / "work", [], itertools.count(1), hub.now, dict(hub.environ))
    finally:
        emu.stop()


# --------------------------------------------------------------------------- payloads


def user(login: str) -> dict[str, Any]:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {"login": login, "id": abs(hash(login)) % 10**6 + 1, "type": kind}


def dispatch_payload(
    action: str, model: str, env: str, *, actor: str = "alice", version: str | None = None
) -> dict[str, Any]:
    inputs = {"action": action, "model": model, "env": env}
    if version is not None:
        inputs["version"] = version
    return {"inputs": inputs, "ref": "refs/heads/main", "repository": REPO, "sender": user(actor)}


def pr_payload(hub: Hub, action: str, number: int) -> dict[str, Any]:
    pull = hub.emu.pull_json(number)
    return {
        "action": action,
        "number": number,
        "pull_request": pull,
        "repository": REPO,
        "sender": user("alice"),
    }


def review_payload(
    hub: Hub,
    number: int,
    *,
    login: str,
    commit_id: str,
    state: str = "approved",
    pull: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "action": "submitted",
        "review": {"id": 80, "user": user(login), "state": state, "commit_id": commit_id, "body": ""},
        "pull_request": pull or hub.emu.pull_json(number),
        "repository": REPO,
        "sender": user(login),
    }


def comment_payload(
    number: int, comment_id: int, *, login: str, body: str, action: str = "created"
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {"number": number, "state": "open", "pull_request": {"url": f"/pulls/{number}"}},
        "comment": {"id": comment_id, "body": body, "user": user(login)},
        "repository": REPO,
        "sender": user(login),
    }


def push_payload(before: str, after: str, paths: list[str]) -> dict[str, Any]:
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": [{"id": after, "added": [], "modified": paths, "removed": []}],
        "repository": REPO,
        "sender": user("alice"),
    }


def rerequest_payload(hub: Hub, number: int) -> dict[str, Any]:
    pull = hub.emu.pull_json(number)
    return {
        "action": "rerequested",
        "check_run": {
            "head_sha": pull["head"]["sha"],
            "pull_requests": [{"number": number, "head": pull["head"], "base": pull["base"]}],
        },
        "repository": REPO,
        "sender": user("alice"),
    }


# --------------------------------------------------------------------------- flows


def bump_metric(text: str) -> str:
    """dev's fraud-detector with a better AUC: a change that auto-promotes to staging."""
    assert "auc: 0.936" in text
    return text.replace("auc: 0.936", "auc: 0.941", 1)


Event = Callable[[Hub], object]


@dataclass(frozen=True)
class Flow:
    """A fault-matrix flow: ``setup`` (fault-free) returns the event to run, which may be re-run."""

    name: str
    setup: Callable[[Hub], Event]


def _open_prod(hub: Hub) -> int:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    return 1


def _merge_staging(hub: Hub) -> None:
    """staging gets fraud-detector 1.5.0 through a merged promotion (prod PR #2 chained)."""
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    hub.deliver("pull_request_review", review_payload(hub, 1, login="bob", commit_id=hub.emu.head_sha(1)))
    assert hub.emu.state.pulls[1].merged, "setup: the staging promotion did not merge"


def setup_open_pr(hub: Hub) -> Event:
    payload = dispatch_payload("promote", "fraud-detector", "prod")
    return lambda h: h.deliver("workflow_dispatch", payload)


def setup_reevaluate(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    payload = pr_payload(hub, "synchronize", number)
    return lambda h: h.deliver("pull_request", payload)


def setup_rerequest(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "dave", "APPROVE")
    payload = rerequest_payload(hub, number)
    return lambda h: h.deliver("check_run", payload)


def setup_approvals(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")
    payload = review_payload(hub, number, login="dave", commit_id=hub.emu.head_sha(number))
    return lambda h: h.deliver("pull_request_review", payload)


def setup_promote_comment(hub: Hub) -> Event:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")  # the review event is not delivered: /promote merges
    comment = hub.emu.comment(1, "erin", "/promote")
    payload = comment_payload(1, comment.id, login="erin", body=comment.body)
    return lambda h: h.deliver("issue_comment", payload, actor="erin")


def setup_rollback_pr(hub: Hub) -> Event:
    _merge_staging(hub)
    payload = dispatch_payload("rollback", "fraud-detector", "staging", actor="erin")
    return lambda h: h.deliver("workflow_dispatch", payload, actor="erin")


def setup_direct_rollback(hub: Hub) -> Event:
    from bot.app.rollback import rollback

    _merge_staging(hub)

    def run(h: Hub) -> object:
        return rollback(
            h.context("erin"),
            model="fraud-detector",
            env="staging",
            direct=True,
            reason="bad AUC in staging",
            actor="erin",
        )

    return run


def setup_auto_promote(hub: Hub) -> Event:
    before, after = hub.push_commit(
        "environments/dev/fraud-detector.yaml", bump_metric, "Retrain fraud-detector"
    )
    payload = push_payload(before, after, ["environments/dev/fraud-detector.yaml"])
    return lambda h: h.deliver("push", payload)


def setup_verify_rollback(hub: Hub) -> Event:
    """A breach in staging's live data: ``verify`` fails over to a rollback PR (reference §15.3).

    fraud-detector 1.5.0 merged into staging at 06:00 (prod PR #2 chained) and was pending at
    07:00; the event is the scheduled ``verify`` at 08:30 that sees the breach: the
    ``promobot/verify`` check and the deployment fail, a rollback PR opens, PR #1 gets a comment
    and the prod PR turns red. Needs a real Prometheus (one per process).
    """
    from bot.app import verify
    from tests.verify_setup import at, enable_verify, live, merge_into_staging, run_verify, shared_prometheus

    live(hub, shared_prometheus())
    enable_verify(hub, on_failure="rollback")
    merge_into_staging(hub)
    assert run_verify(hub, at("2026-11-27T07:00:00Z"))[0]["state"] == "pending"
    hub.now = at("2026-11-27T08:30:00Z")
    return lambda h: verify.run(h.context())


def setup_schedule(hub: Hub) -> Event:
    """A PR opened by a promobot without due markers (an upgrade): the schedule evaluates it."""
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    with hub.emu.state.lock:
        pull = hub.emu.state.pulls[number]
        pull.body = re.sub(r"<!-- promobot:due .*? -->\n?", "", pull.body or "")
    return lambda h: h.deliver("schedule", {"schedule": "*/30 * * * *"})


FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        Flow("open-pr", setup_open_pr),
        Flow("reevaluate", setup_reevaluate),
        Flow("rerequest", setup_rerequest),
        Flow("approvals", setup_approvals),
        Flow("promote-merge", setup_promote_comment),
        Flow("rollback-pr", setup_rollback_pr),
        Flow("direct-rollback", setup_direct_rollback),
        Flow("auto-promote", setup_auto_promote),
        Flow("verify-rollback", setup_verify_rollback),
        Flow("schedule", setup_schedule),
    )
}


def run_event(event: Event, hub: Hub) -> str:
    """Run ``event``; returns "ok" or the error it ended with (a ``BotError`` is an allowed end)."""
    try:
        event(hub)
    except BotError as exc:
        return f"{type(exc).__name__} (exit {exc.exit_code}): {exc.message}"
    return "ok"


# --------------------------------------------------------------------------- end state


def _norm(text: str, names: dict[str, str]) -> str:
    text = _SHA_RE.sub(lambda m: names.get(m.group(0), "<sha>"), text)
    text = _SHORT_SHA_RE.sub("<short-sha>", text)
    return _DURATION_RE.sub("<duration>", text)  # a command gate's run time


def snapshot(hub: Hub) -> dict[str, Any]:
    """The repository's end state, comparable across runs (trees and subjects, not SHAs)."""
    emu, state = hub.emu, hub.emu.state
    gd = str(emu.git_dir)
    with state.lock:
        state.sync()
        log = git(hub.work, "--git-dir", gd, "log", "--format=%H %T %s", "main").splitlines()
        names = {line.split(" ", 2)[0]: f"<main~{i}>" for i, line in enumerate(log)}
        refs = git(
            hub.work, "--git-dir", gd, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"
        ).splitlines()
        branches = {}
        for line in refs:
            ref, sha = line.split(" ")
            branches[ref] = git(hub.work, "--git-dir", gd, "rev-parse", f"{sha}^{{tree}}")
            names.setdefault(sha, f"<{ref}>")

        def tree(sha: str) -> str:
            try:
                return git(hub.work, "--git-dir", gd, "rev-parse", f"{sha}^{{tree}}")
            except subprocess.CalledProcessError:
                return "<missing>"

        pulls = {
            n: {
                "state": p.state,
                "merged": p.merged,
                "head": p.head_ref,
                "head_tree": tree(state.head_sha(p)),
                "labels": sorted(p.labels),
                "title": p.title,
                "body": _norm(p.body or "", names),
            }
            for n, p in sorted(state.pulls.items())
        }
        comments = [
            (c.issue_number, c.user, _norm(c.body, names))
            for c in sorted(state.comments.values(), key=lambda c: c.id)
        ]
        runs = sorted(
            (tree(r.head_sha), r.name, r.app.slug, r.status, r.conclusion or "", r.title or "")
            for r in state.check_runs.values()
        )
        statuses = sorted((tree(s.sha), s.context, s.state, s.creator) for s in state.statuses)
        reactions = sorted((r.comment_id, r.user, r.content) for r in state.reactions)
        rejected = git(hub.work, "--git-dir", gd, "show", "main:environments/rejected.yaml")
        deployments = [
            (d.environment, d.task, tree(d.sha), tuple(x.state for x in state.statuses_of_deployment(d.id)))
            for d in sorted(state.deployments.values(), key=lambda d: d.id)
        ]
    return {
        "main": [line.split(" ", 1)[1] for line in log],
        "branches": branches,
        "pulls": pulls,
        "comments": comments,
        "check_runs": runs,
        "statuses": statuses,
        "reactions": reactions,
        "rejected": rejected,
        "deployments": deployments,
    }


def differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """One line per part of the end state that differs."""
    out = []
    for key in expected:
        if expected[key] != got[key]:
            out.append(f"{key}: expected {expected[key]!r}\n      got {got[key]!r}")
    return out


# --------------------------------------------------------------------------- the fault matrix


OUTAGE = "outage"
"""Not an emulator fault kind: requests k, k+1 and k+2 all answer 502 (retries exhausted)."""
MATRIX_KINDS = (*FAULT_KINDS, OUTAGE)


@dataclass
class Prepared:
    """A flow set up once (``hub`` is never run against: cases fork it) and its fault-free end."""

    flow: str
    hub: Hub
    event: Event
    expected: dict[str, Any]
    requests: int
    ended: str


@contextmanager
def prepare(flow: str, root: Path) -> Iterator[Prepared]:
    """Set ``flow`` up and record its fault-free end state and request count."""
    with fresh_hub(root / "setup") as hub:
        event = FLOWS[flow].setup(hub)
        with forked_hub(hub, root / "baseline") as base:
            base.emu.reset_counts()
            ended = run_event(event, base)
            requests = len(base.emu.requests)
            expected = snapshot(base)
        yield Prepared(flow, hub, event, expected, requests, ended)


@dataclass(frozen=True)
class Case:
    flow: str
    k: int
    kind: str
    first: str  # how the faulted run ended
    second: str  # how the re-run ended
    fault_hit: bool
    diffs: tuple[str, ...]

    @property
    def converged(self) -> bool:
        return not self.diffs

    @property
    def id(self) -> str:
        return f"{self.flow}/k{self.k}/{self.kind}"


def run_case(p: Prepared, k: int, kind: str, root: Path) -> Case:
    """Fail request ``k`` with ``kind``, run the event, re-run it, compare with the fault-free end."""
    with forked_hub(p.hub, root) as hub:
        hub.emu.reset_counts()
        if kind == OUTAGE:  # three 5xx in a row: the retries give up, the run ends with exit 3
            for i in range(3):
                hub.emu.fail(k + i, "5xx")
        else:
            hub.emu.fail(k, kind)  # type: ignore[arg-type]
        first = run_event(p.event, hub)
        hit = any(r.fault is not None for r in hub.emu.requests)
        second = run_event(p.event, hub)
        diffs = differences(p.expected, snapshot(hub))
        if hub.sleeps and max(hub.sleeps) > 60:
            diffs.append(f"a retry waited {max(hub.sleeps)} s (more than 60 s)")
    return Case(p.flow, k, kind, first, second, hit, tuple(diffs))


def environ_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")
