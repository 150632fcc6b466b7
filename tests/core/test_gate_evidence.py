"""Tests for bot.core.gate_evidence: the artifact check and command outcomes as gates."""

from __future__ import annotations

import pytest

from bot.core.gate_inputs import ArtifactCheck, CommandOutcome
from bot.core.policy_model import ArtifactGate, CommandGate
from tests.core.gate_setup import (
    DIGEST_A,
    DIGEST_B,
    inputs,
    one,
)

# --------------------------------------------------------------------------- artifact


@pytest.mark.parametrize(
    ("check", "result", "reason_part"),
    [
        (ArtifactCheck("ok", "", DIGEST_A, 18_311_020), "success", "sha256 matches (18.3 MB)"),
        (ArtifactCheck("mismatch", "", DIGEST_B, 10), "failure", "the artifact is sha256:cd34cd34…"),
        (ArtifactCheck("missing", "file:m.onnx: no such file"), "failure", "file:m.onnx: no such file"),
        (ArtifactCheck("too-large", "bigger than 10 B"), "failure", "bigger than 10 B"),
        (ArtifactCheck("unreachable", "HTTP 404"), "failure", "HTTP 404"),
        (ArtifactCheck("timeout", "no answer in 0.3s"), "failure", "no answer in 0.3s"),
        (ArtifactCheck("escapes-repo", "file:../x is outside"), "failure", "outside"),
        (
            ArtifactCheck("unsupported", "cannot verify scheme s3; use a command gate"),
            "failure",
            "cannot verify scheme s3; use a command gate",
        ),
        (None, "failure", "artifact not checked"),
    ],
    ids=[
        "ok",
        "mismatch",
        "missing",
        "too-large",
        "unreachable",
        "timeout",
        "escapes",
        "unsupported",
        "none",
    ],
)
def test_artifact_gate_reports_the_check(check: ArtifactCheck | None, result: str, reason_part: str) -> None:
    got = one(ArtifactGate(), inputs(artifact=check))
    assert (got.name, got.kind, got.result) == ("artifact", "artifact", result)
    assert reason_part in got.reason


def test_artifact_mismatch_details_carry_both_full_digests() -> None:
    got = one(ArtifactGate(), inputs(artifact=ArtifactCheck("mismatch", "", DIGEST_B, 10)))
    assert DIGEST_A in got.details and DIGEST_B in got.details


# --------------------------------------------------------------------------- command


SMOKE = CommandGate(name="smoke", run=("python", "checks/smoke.py"), timeout=300)


@pytest.mark.parametrize(
    ("outcome", "result", "reason"),
    [
        (CommandOutcome(0, False, "all good\n", 1.23), "success", "smoke exited 0"),
        (CommandOutcome(1, False, "boom\n", 0.5), "failure", "smoke exited 1"),
        (CommandOutcome(None, True, "still going\n", 300.0), "failure", "smoke timed out after 300s"),
        (CommandOutcome(-9, False, "", 0.5), "failure", "smoke was killed by signal 9"),
        (
            CommandOutcome(None, False, "", 0.0, error="python: not found"),
            "failure",
            "smoke could not start: python: not found",
        ),
        (None, "failure", "smoke did not run"),
    ],
    ids=["exit-0", "exit-1", "timeout", "signal", "not-found", "not-run"],
)
def test_command_gate_reports_the_outcome(outcome: CommandOutcome | None, result: str, reason: str) -> None:
    commands = {} if outcome is None else {"smoke": outcome}
    got = one(SMOKE, inputs(commands=commands))
    assert (got.name, got.kind, got.result, got.reason) == ("command smoke", "command", result, reason)
    if outcome is not None and outcome.output_tail:
        assert got.details == f"```\n{outcome.output_tail}```"


def test_command_output_with_backtick_fences_cannot_close_the_details_block() -> None:
    tail = "```\ninjected\n```"
    got = one(SMOKE, inputs(commands={"smoke": CommandOutcome(1, False, tail, 0.1)}))
    assert got.details == f"````\n{tail}\n````"
