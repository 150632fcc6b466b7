"""Post-deploy verification, judged purely (reference §15; README "Verify with live data").

A verification is one (environment, model, version, commit that brought the version to the
default branch — a promotion's or rollback's squash commit). It starts at that commit's time.
Each evaluation queries ``start + delay`` to ``min(now, start + delay + duration)``, so a late
run judges the whole window at once and the same data always gives the same verdict:

- ``failure`` at the first breach of any check (or, once the window is over, too little
  evidence: "no evidence"; or provider outages in ``max_errors`` consecutive time slots);
- ``failure`` with ``broken`` set when a check itself cannot be judged: its query cannot be
  built (``{{ previous_version }}`` with no previous version), Prometheus refuses it (400
  ``bad_data``), or its command cannot start. That says nothing about the model, so
  ``on_failure`` is never applied to it: notify only (reference §15). With other checks that
  can be judged, it waits for the window's end (``pending``, saying so): a breach of one of
  them is still a failure that acts;
- ``success`` once the window is over and every check held;
- ``pending`` otherwise, with the time the window ends.

The state lives in a ``promobot/verify`` check run on the commit; its summary carries a marker
with the count of consecutive outages and the time slot of the last one counted, so the count
survives between scheduled runs. An outage counts at most once per slot (:func:`outage_slot`):
runs repeated during one short outage never reach ``max_errors`` sooner than
``(max_errors - 1) × step`` after the first (reference §15).

The ``verify:`` section of the policy is read here too (:func:`parse_verify`), with the
``command`` form its checks share with command gates (:func:`parse_command`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.core import promql
from bot.core.policy_model import CommandGate
from bot.core.promql import (
    Evidence,
    PrometheusGate,
    Verdict,
    duration_text,
    parse_prometheus_gate,
    read_duration,
)
from bot.core.yamlsafe import MAX_SECONDS, Path, Reader

if TYPE_CHECKING:  # bot.core.model imports this module: no cycle at run time
    from bot.core.gate_inputs import CommandOutcome


EXIT_NO_EVIDENCE = 75
"""A command check's exit code for "not enough evidence yet" (EX_TEMPFAIL): pending, and at
the end of the window a failure "no evidence", like a prometheus check with too few points."""
ON_FAILURE = ("rollback", "hold", "notify")
TRAILER_VERIFICATION = "Promobot-Verification"
REASON_PREFIX = "post-deploy verification failed: "
"""The reason of a rollback promobot starts itself; its commit gets ``Promobot-Verification``."""


def verification_trailer(reason: str | None) -> tuple[str, str] | None:
    """``(Promobot-Verification, failed <check>)`` for the reason of a verification rollback."""
    if reason is None or not reason.startswith(REASON_PREFIX):
        return None
    words = reason[len(REASON_PREFIX) :].split()
    return (TRAILER_VERIFICATION, f"failed {words[0] if words else 'verify'}")


_ERRORS_RE = re.compile(r"<!-- promobot:verify errors=([0-9]{1,6})(?: slot=([0-9]{1,12}))? -->")
DEFAULT_SLOT = 60.0
"""The outage slot, in seconds, of a verification with no prometheus check (the gate's default step)."""

State = Literal["pending", "success", "failure", "inactive"]


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """``verify:`` on an environment."""

    checks: tuple[PrometheusGate | CommandGate, ...]
    """Prometheus queries judged over the window, or commands run at each evaluation."""
    delay: float = 600.0
    duration: float = 7200.0
    on_failure: Literal["rollback", "hold", "notify"] = "notify"
    max_errors: int = 6

    def window(self, started: datetime) -> tuple[datetime, datetime]:
        """(first moment judged, end of the window) of a version deployed at ``started``."""
        begin = started + timedelta(seconds=self.delay)
        return begin, begin + timedelta(seconds=self.duration)


@dataclass(frozen=True, slots=True)
class Verification:
    """One verification and its state after an evaluation."""

    env: str
    model: str
    version: str
    commit: str
    started: datetime
    state: State
    reason: str
    until: datetime
    """When the window ends (``start + delay + duration``)."""
    details: str = ""
    errors: int = 0
    """Consecutive provider outages so far (at most one per time slot)."""
    failed_check: str | None = None
    broken: bool = False
    """The failure is a broken check (not evidence about the model): ``on_failure`` is not applied."""
    error_slot: int | None = None
    """The time slot (:func:`outage_slot`) of the last outage counted in ``errors``."""
    rollback: Mapping[str, object] | None = None
    """The rollback this evaluation started (``{"pr", "sha"}``) after a failure, or None."""


BROKEN = "the check itself is broken"


def slot_seconds(policy: VerifyPolicy) -> float:
    """The length of an outage slot: the smallest ``step`` of the prometheus checks, else 1m."""
    steps = [c.step for c in policy.checks if isinstance(c, PrometheusGate)]
    return min(steps) if steps else DEFAULT_SLOT


def outage_slot(policy: VerifyPolicy, started: datetime, now: datetime) -> int:
    """``floor((now - window start) / slot)``: outages in one slot count once toward ``max_errors``."""
    begin, _ = policy.window(started)
    return max(0, int((now - begin).total_seconds() // slot_seconds(policy)))


def previous_errors(summary: str) -> tuple[int, int | None]:
    """(outage count, slot of the last one counted) an earlier run wrote into the check summary.

    (0, None) when none; a marker from before slots were recorded has slot None (the next
    outage counts).
    """
    match = _ERRORS_RE.search(summary)
    if match is None:
        return 0, None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) is not None else None)


def marker(errors: int, slot: int | None = None) -> str:
    if errors == 0 or slot is None:
        return f"<!-- promobot:verify errors={errors} -->"
    return f"<!-- promobot:verify errors={errors} slot={slot} -->"


def decide(
    policy: VerifyPolicy,
    *,
    env: str,
    model: str,
    version: str,
    commit: str,
    started: datetime,
    now: datetime,
    evidence: Mapping[PrometheusGate | CommandGate, Evidence | CommandOutcome | str],
    errors_before: int,
    error_slot_before: int | None = None,
) -> Verification:
    """Judge every check's evidence over the window at ``now`` (see the module docstring).

    ``evidence`` maps a check to what the adapter gathered, or to the reason its query could
    not be built (a failure). Checks with no entry were not queried: the window has not begun.
    ``errors_before`` outages were counted so far, the last in slot ``error_slot_before``: an
    outage in that same slot is not counted again (reference §15).
    """
    begin, end = policy.window(started)

    def made(
        state: State, reason: str, details: str = "", errors: int = 0, failed: str | None = None
    ) -> Verification:
        return Verification(env, model, version, commit, started, state, reason, end, details, errors, failed)

    def broken(check: PrometheusGate | CommandGate, why: str, details: str) -> Verification:
        return Verification(
            env,
            model,
            version,
            commit,
            started,
            "failure",
            f"{check.name}: {BROKEN} ({why}) — fix the check in promotion.yaml; "
            "no automatic action (a broken check says nothing about the model)",
            end,
            details,
            0,
            check.name,
            broken=True,
        )

    if now < begin:
        return made("pending", f"warming up until {_when(begin)}")
    final = now >= end
    lines: list[str] = []
    outage = False
    pending_reasons: list[str] = []
    # A broken check fails the verification (without on_failure), but not before the other
    # checks had their say: a real breach elsewhere is evidence about the model and
    # on_failure applies to it. So with other checks left it waits for the window's end.
    first_broken: tuple[PrometheusGate | CommandGate, str] | None = None
    broken_count = 0
    for check in policy.checks:
        got = evidence.get(check)
        if got is None:
            pending_reasons.append(f"{check.name}: not queried")
            continue
        why: str | None = None
        if isinstance(got, str):  # the query cannot be built, or Prometheus refused it
            why, shown = got, got
        elif not isinstance(got, Evidence) and check.kind == "command" and got.error is not None:
            why = f"the command could not run: {got.error}"
            shown = f"$ {' '.join(check.run)}\n{got.error}"
        elif isinstance(got, Evidence) != (check.kind == "prometheus"):
            why = shown = "evidence of the wrong kind"  # an adapter mixed up the kinds: never a pass
        if why is not None:
            lines.append(f"## {check.name}: broken\n{shown}")
            first_broken = first_broken or (check, why)
            broken_count += 1
            continue
        if isinstance(got, Evidence) and check.kind == "prometheus":
            verdict, down = promql.judge(check, got, final=final), got.error is not None
        else:
            assert not isinstance(got, Evidence | str) and check.kind == "command"
            verdict, down = judge_command(check, got, final=final)
        lines.append(f"## {check.name}: {verdict.result}\n{verdict.reason}\n{verdict.details}")
        if verdict.result == "failure":
            return made("failure", f"{check.name}: {verdict.reason}", "\n\n".join(lines), 0, check.name)
        if down:
            outage = True
        if verdict.result == "pending" or not final:
            pending_reasons.append(f"{check.name}: {verdict.reason}")
    details = "\n\n".join(lines)
    note = ""
    if first_broken is not None:
        if final or broken_count == len(policy.checks):
            return broken(first_broken[0], first_broken[1], details)
        note = f"{first_broken[0].name}: {BROKEN} ({first_broken[1]}); the other checks go on — "
    if outage:
        slot = outage_slot(policy, started, now)
        counted = errors_before > 0 and error_slot_before == slot
        errors = errors_before if counted else errors_before + 1
        every = duration_text(slot_seconds(policy))
        if errors >= policy.max_errors:
            return replace(
                made(
                    "failure",
                    f"providers did not answer {errors} times in a row, once per {every} at most "
                    f"(max_errors {policy.max_errors})",
                    details,
                    errors,
                    next((c.name for c in policy.checks if evidence.get(c) is not None), None),
                ),
                error_slot=slot,
            )
        again = f" (already counted for this {every} slot)" if counted else ""
        return replace(
            made(
                "pending",
                note
                + f"provider outage {errors} of {policy.max_errors}{again}: "
                + "; ".join(pending_reasons),
                details,
                errors,
            ),
            error_slot=slot,
        )
    if final and not pending_reasons:
        return made("success", f"every check held from {_when(begin)} to {_when(end)}", details)
    return made("pending", f"{note}verifying until {_when(end)}", details)


def judge_command(check: CommandGate, outcome: CommandOutcome, *, final: bool) -> tuple[Verdict, bool]:
    """A command check's run at one evaluation: (verdict, whether it counts as an outage).

    Exit 0: the check held (so far; at the window's end, it held). Exit 75 (EX_TEMPFAIL): not
    enough evidence yet — pending, and at the window's end a failure "no evidence". A timeout
    is an outage (pending; ``max_errors`` in a row fail). Any other exit, a signal, or a
    command that cannot start is a failure. The output's tail is the details.
    """
    tail = outcome.output_tail.rstrip()
    details = f"$ {' '.join(check.run)}\n{tail}" if tail else f"$ {' '.join(check.run)}"
    if outcome.error is not None:
        return Verdict("failure", f"the command could not run: {outcome.error}", details), False
    if outcome.timed_out or outcome.exit_code is None:
        return Verdict(
            "pending", f"timed out after {check.timeout:g}s (re-run promobot verify)", details
        ), True
    code = outcome.exit_code
    if code == 0:
        return Verdict("success", "exited 0", details), False
    if code == EXIT_NO_EVIDENCE:
        if final:
            return Verdict(
                "failure", "no evidence: exited 75 at the end of the window", details, no_evidence=True
            ), False
        return Verdict("pending", "not enough evidence yet (exited 75)", details, no_evidence=True), False
    if code < 0:
        return Verdict("failure", f"was killed by signal {-code}", details), False
    return Verdict("failure", f"exited {code}", details), False


def when(moment: datetime) -> str:
    """``2026-11-27T10:00:00Z``."""
    return _when(moment)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_values(model: str, version: str, env: str, previous: str | None) -> dict[str, str | None]:
    return {"model": model, "version": version, "env": env, "previous_version": previous}


# --------------------------------------------------------------------------- the policy's form


def parse_verify(r: Reader, raw: Any, path: Path, *, providers: Collection[str]) -> VerifyPolicy:
    """``verify:`` on an environment (reference §15.3): checks judged over a window after each merge
    into it. ``providers``: the names under ``providers.prometheus``."""
    data = r.mapping(raw, path, ("delay", "duration", "checks", "on_failure", "max_errors"), "verify")
    zero = data.get("delay") in (0, "0s", "0m", "0h")
    delay = 0.0 if zero else read_duration(r, data, path, "delay", "10m")
    duration = read_duration(r, data, path, "duration", "2h")
    raw_checks = data.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        r.fail(
            (*path, "checks") if "checks" in data else path,
            "verify needs a non-empty checks list",
            "e.g. checks: [{prometheus: {name: ..., ...}}] or [{command: {name: ..., run: [...]}}]",
        )
    checks: list[PrometheusGate | CommandGate] = []
    for j, item in enumerate(raw_checks):
        where: Path = (*path, "checks", j)
        if not isinstance(item, dict) or len(item) != 1 or not set(item) <= {"prometheus", "command"}:
            r.fail(
                where,
                "each verify check is `- prometheus: {...}` or `- command: {...}`",
                "write the check as a prometheus entry (a query judged over the window) or a command "
                "entry (name, run as an argv list, timeout)",
            )
        ((kind, body),) = item.items()
        check: PrometheusGate | CommandGate
        if kind == "prometheus":
            check = parse_prometheus_gate(r, body, (*where, kind), providers=providers, window=True)
        else:
            check = parse_command(r, body, (*where, kind), what="command check")
        if any(c.name == check.name for c in checks):
            r.fail(
                (*where, kind, "name"),
                f"check {check.name!r} is listed twice",
                "give each a unique name",
            )
        if isinstance(check, PrometheusGate) and check.step > duration:
            r.fail((*where, kind, "step"), "step is longer than verify.duration", "use a smaller step")
        if isinstance(check, PrometheusGate) and duration / check.step > promql.MAX_POINTS:
            # The window is the query's range: Prometheus would refuse it (like a gate's over/step).
            r.fail(
                (*where, kind, "step"),
                f"verify.duration / step is {duration / check.step:.0f} points, "
                f"Prometheus answers at most {promql.MAX_POINTS}",
                "use a larger step or a shorter duration",
            )
        checks.append(check)
    on_failure = data.get("on_failure", "notify")
    if on_failure not in ON_FAILURE:
        r.fail(
            (*path, "on_failure"), f"unknown on_failure {on_failure!r}", f"use one of {', '.join(ON_FAILURE)}"
        )
    max_errors = (
        r.integer(data["max_errors"], (*path, "max_errors"), "max_errors", minimum=1)
        if "max_errors" in data
        else 6
    )
    return VerifyPolicy(
        checks=tuple(checks), delay=delay, duration=duration, on_failure=on_failure, max_errors=max_errors
    )


def parse_command(r: Reader, body: Any, where: Path, *, what: str = "command gate") -> CommandGate:
    """A ``command`` gate (reference §3), or (``what="command check"``) a verification check: an argv
    run with no shell. Both are a :class:`~bot.core.policy_model.CommandGate`."""
    data = r.mapping(body, where, ("name", "run", "timeout"), what)
    name = r.identifier(data.get("name"), (*where, "name"), f"{what} name", "e.g. name: smoke")
    run = data.get("run")
    if isinstance(run, str):
        r.fail(
            (*where, "run"),
            "run is a string; it must be an argv list, no shell",
            f"write run as a list, e.g. run: [{', '.join(run.split()) or 'python3, checks/smoke.py'}]",
        )
    argv = r.strings(run, (*where, "run"), "run", "an argv list, e.g. [python3, checks/smoke.py]")
    if not argv:
        r.fail((*where, "run"), "run is empty", "an argv list, e.g. [python3, checks/smoke.py]")
    timeout = r.number(
        data.get("timeout", 300), (*where, "timeout"), "timeout", minimum=0, above=True, maximum=MAX_SECONDS
    )
    return CommandGate(name=name, run=argv, timeout=float(timeout))
