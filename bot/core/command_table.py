"""The slash-command table (reference §7): every command promobot answers, in ``/help`` order.

The one owner of what a command is: its usage and summary, whether it changes state, its
arguments and aliases, whether anyone with read permission may run it by default, the PR
states it runs on and the states ``/help`` offers it on. ``bot.core.slash`` parses comments
against it, ``bot.core.authz`` takes its order and read-only defaults from it, and the
comment handler asks it where a command runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.errors import UsageError

ArgKind = Literal["none", "version", "reason"]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What one slash-command looks like and does (one row of the table in reference §7)."""

    name: str
    usage: str
    summary: str
    state_changing: bool
    max_args: int
    arg_kind: ArgKind
    aliases: tuple[str, ...] = ()
    read_only: bool = False
    """Anyone with read permission may run it when the policy has no rule for it (reference §8)."""
    runs_on: frozenset[str] = frozenset({"open"})
    """The PR states it runs on; on another state the comment gets a one-line refusal."""
    offered_on: frozenset[str] = frozenset({"open"})
    """Where ``/help`` offers it: PR states, and ``merged-promotion`` for a merged promotion PR."""

    @property
    def help_line(self) -> str:
        """``"`/promote` — merge this promotion PR if ready; …"`` for ``/help`` replies."""
        alias = "".join(f" (alias `/{a}`)" for a in self.aliases)
        return f"`{self.usage}`{alias} — {self.summary}"


_SPECS = (
    CommandSpec(
        "promote",
        "/promote",
        "merge this promotion PR if ready; otherwise reply with exactly what blocks it",
        state_changing=True,
        max_args=0,
        arg_kind="none",
        runs_on=frozenset({"open", "merged"}),
        offered_on=frozenset({"open", "merged-promotion"}),
    ),
    CommandSpec(
        "retest",
        "/retest",
        "re-evaluate gates and approvals, update the checks",
        state_changing=False,
        max_args=0,
        arg_kind="none",
        aliases=("gates",),
    ),
    CommandSpec(
        "hold",
        "/hold [reason…]",
        "block merging until `/unhold`",
        state_changing=True,
        max_args=1,
        arg_kind="reason",
    ),
    CommandSpec(
        "unhold",
        "/unhold",
        "lift a hold",
        state_changing=True,
        max_args=0,
        arg_kind="none",
    ),
    CommandSpec(
        "rollback",
        "/rollback [VERSION]",
        "on a merged promotion PR: start a rollback of that model in that environment "
        "(to VERSION, or to the version before)",
        state_changing=True,
        max_args=1,
        arg_kind="version",
        runs_on=frozenset(
            {"open", "merged", "closed"}
        ),  # a closed or open PR gets the reason it cannot be rolled back
        offered_on=frozenset({"merged-promotion"}),
    ),
    CommandSpec(
        "cancel",
        "/cancel",
        "close this promotion PR and delete its branch",
        state_changing=True,
        max_args=0,
        arg_kind="none",
    ),
    CommandSpec(
        "status",
        "/status",
        "reply with the model's version in every environment and this PR's readiness",
        state_changing=False,
        max_args=0,
        arg_kind="none",
        read_only=True,
        runs_on=frozenset({"open", "merged", "closed"}),
        offered_on=frozenset({"open", "merged", "merged-promotion", "closed"}),
    ),
    CommandSpec(
        "help",
        "/help",
        "reply with the commands you may run here",
        state_changing=False,
        max_args=0,
        arg_kind="none",
        read_only=True,
        runs_on=frozenset({"open", "merged", "closed"}),
        offered_on=frozenset({"open", "merged", "merged-promotion", "closed"}),
    ),
)

NAMES: tuple[str, ...] = tuple(s.name for s in _SPECS)
"""Canonical command names, in the order ``/help`` lists them."""

READ_ONLY: tuple[str, ...] = tuple(s.name for s in _SPECS if s.read_only)
"""Commands anyone with read permission may run unless the policy says otherwise."""

COMMANDS: dict[str, CommandSpec] = {
    **{s.name: s for s in _SPECS},
    **{alias: s for s in _SPECS for alias in s.aliases},
}
"""Every name a comment may use (aliases included) → its spec (whose ``name`` is canonical)."""


def usage_for(name: str) -> str:
    """The usage line of a command (aliases accepted): ``usage_for("rollback") == "/rollback [VERSION]"``."""
    spec = COMMANDS.get(name.lower().lstrip("/"))
    if spec is None:
        raise UsageError(f"/{name} is not a promobot command", "send /help for the list")
    return spec.usage


def help_lines(allowed: Iterable[str]) -> list[str]:
    """One markdown line per command in ``allowed`` (names or aliases), in the canonical order."""
    wanted = {COMMANDS[n.lower()].name for n in allowed if n.lower() in COMMANDS}
    return [s.help_line for s in _SPECS if s.name in wanted]


def offered_on(pr_state: str, *, promotion: bool) -> list[str]:
    """The commands ``/help`` offers on a PR in ``pr_state`` (``promotion``: a promotion PR), in order."""
    where = "merged-promotion" if pr_state == "merged" and promotion else pr_state
    return [s.name for s in _SPECS if where in s.offered_on]


def runs_on(name: str, pr_state: str) -> bool:
    """Whether command ``name`` (or an alias) runs on a PR in ``pr_state``."""
    spec = COMMANDS.get(name)
    return spec is not None and pr_state in spec.runs_on


def pr_commands(action: str) -> list[str]:
    """The commands section of a promobot PR body (``action``: promote, rollback, reject, unreject)."""
    lines = [
        "`/promote` — merge when every check is green",
        "`/retest` — re-evaluate gates and approvals",
        "`/hold [reason]` / `/unhold` — block or allow merging",
        "`/cancel` — close this pull request",
        "`/status` — versions everywhere and what blocks this PR",
    ]
    if action == "promote":
        lines.append("`/rollback [VERSION]` — after merging: roll this environment back")
    return lines
