"""The built-in gates (reference §3) every promotion PR carries, whatever the policy says.

``schema`` (the manifest on the PR loads), ``order`` (the candidate is what ``from`` runs now),
``integrity`` (promoted keys equal ``from``'s), ``not-rejected`` and ``verified`` (the candidate's
post-deploy verification in ``from``). ``registry`` is built in too but judged with the metrics
in ``gate_metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from bot.core.gate_inputs import GateInputs, VerifiedInput, not_checked, rerun
from bot.core.model import GateResult


def schema(inputs: GateInputs) -> GateResult:
    """Built-in ``schema``: the manifest on the PR loads (else its first error line)."""
    if inputs.candidate is None:
        error = inputs.candidate_error or "the manifest could not be read"
        first_line = error.strip().splitlines()[0] if error.strip() else error
        return GateResult("schema", "schema", "failure", first_line, details=error)
    return GateResult("schema", "schema", "success", "the manifest is valid")


def order(inputs: GateInputs) -> GateResult:
    """Built-in ``order``: the candidate is the version ``from`` runs now."""
    cand, source = inputs.candidate, inputs.source
    if cand is None:
        return not_checked("order", "order")
    if source is None:
        return GateResult(
            "order",
            "order",
            "failure",
            f"{inputs.model} is not in {inputs.from_env} — "
            + (
                f"commit environments/{inputs.from_env}/{inputs.model}.yaml first"
                if inputs.from_is_first
                else f"run `promobot promote {inputs.model} --to {inputs.from_env}` first"
            ),
        )
    if cand.version != source.version:
        return GateResult(
            "order",
            "order",
            "failure",
            f"{inputs.from_env} runs {source.version} now, this PR promotes {cand.version}"
            f" — {rerun(inputs)} to refresh it",
        )
    return GateResult("order", "order", "success", f"{cand.version} is what {inputs.from_env} runs now")


def integrity(inputs: GateInputs) -> GateResult:
    """Built-in ``integrity``: the promoted keys equal ``from``'s (local keys and ``serving`` excepted)."""
    cand, source = inputs.candidate, inputs.source
    if cand is None:
        return not_checked("integrity", "integrity")
    if source is None:
        return GateResult(
            "integrity",
            "integrity",
            "failure",
            f"nothing to compare with: {inputs.model} is not in {inputs.from_env}",
        )
    local = (*inputs.local_keys, "serving")
    ours, theirs = cand.promoted(local), source.promoted(local)
    differing = [k for k in _ordered_keys(theirs, ours) if theirs.get(k, _MISSING) != ours.get(k, _MISSING)]
    if not differing:
        return GateResult("integrity", "integrity", "success", f"promoted keys equal {inputs.from_env}'s")
    verb = "differs" if len(differing) == 1 else "differ"
    moved = source.version != cand.version and "version" in differing
    why = (
        f"{inputs.from_env} runs {source.version} now: it moved on since this PR was built, or someone"
        f" edited the version by hand; {rerun(inputs)}"
        if moved
        else f"someone edited the promoted keys by hand; {rerun(inputs)}"
    )
    lines = [f"Differences from `{inputs.from_env}` at the PR's base commit:", ""]
    for path, src_value, pr_value in _leaf_differences(theirs, ours):
        lines.append(f"- `{path}`: {inputs.from_env} has {_show(src_value)}, this PR has {_show(pr_value)}")
    return GateResult(
        "integrity",
        "integrity",
        "failure",
        f"{', '.join(differing)} {verb} from {inputs.from_env} — {why}",
        details="\n".join(lines),
    )


def not_rejected(inputs: GateInputs) -> GateResult:
    """Built-in ``not-rejected``: the candidate version is not in rejected.yaml."""
    cand = inputs.candidate
    if cand is None:
        return not_checked("not-rejected", "not-rejected")
    for rej in inputs.rejections:
        if rej.model == inputs.model and rej.version == cand.version:
            by = rej.by if rej.by else "someone"
            return GateResult(
                "not-rejected",
                "not-rejected",
                "failure",
                f"{cand.version} was rejected by {by} at {rej.at}: {' '.join(rej.reason.split())}"
                " — promote a newer version (or `promobot unreject` it)",
            )
    return GateResult("not-rejected", "not-rejected", "success", f"{cand.version} is not rejected")


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING: Any = _Missing()


def _ordered_keys(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    keys = list(first)
    keys.extend(k for k in second if k not in first)
    return keys


def _leaf_differences(src: Any, pr: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Dotted paths where two documents differ, descending into mappings present on both sides."""
    if isinstance(src, Mapping) and isinstance(pr, Mapping):
        out: list[tuple[str, Any, Any]] = []
        for key in _ordered_keys(src, pr):
            a, b = src.get(key, _MISSING), pr.get(key, _MISSING)
            if a != b:
                out.extend(_leaf_differences(a, b, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return [(prefix, src, pr)]


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = repr(value) if not isinstance(value, str) else value
    text = text.replace("`", "'").replace("\n", " ")
    if len(text) > 80:
        text = text[:79] + "…"
    return f"`{text}`"


def verified(inputs: GateInputs, found: VerifiedInput) -> GateResult:
    """Built-in ``verified``: the candidate's post-deploy verification in ``from`` succeeded."""
    where = f"in {inputs.from_env}"
    if inputs.candidate is None:
        return not_checked("verified", "verified")
    version = inputs.candidate.version
    if found.state == "success":
        return GateResult("verified", "verified", "success", f"{version} verified {where}: {found.reason}")
    if found.state == "failure":
        return GateResult(
            "verified", "verified", "failure", f"{version} failed verification {where}: {found.reason}"
        )
    if found.state is None:
        return GateResult(
            "verified",
            "verified",
            "pending",
            f"{version} has no verification {where}: {found.reason}",
        )
    until = found.until
    when = f" (until {until.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" if until is not None else ""
    return GateResult(
        "verified",
        "verified",
        "pending",
        f"{version} is being verified {where}{when}: {found.reason}",
        until=until,
    )
