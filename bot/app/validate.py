"""``promobot validate``: every file under environments/ checked against the formats (reference §1–§3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from bot.core import manifest as manifests
from bot.core import policy as policies
from bot.core import rejected as rejections
from bot.core.paths import ENV_DIR, POLICY_PATH, REJECTED_PATH
from bot.core.policy_model import Policy
from bot.errors import BotError, ManifestError


class Finding(NamedTuple):
    file: str
    line: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message}


class ValidationReport(NamedTuple):
    errors: list[Finding]
    warnings: list[Finding]
    checked: int

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
        }


def _finding(exc: BotError, path: str) -> Finding:
    return Finding(exc.file or path, exc.line, exc.message)


def validate(files: Mapping[str, bytes]) -> ValidationReport:
    """Check the policy, rejected.yaml and every manifest among ``files`` (path → content)."""
    errors: list[Finding] = []
    warnings: list[Finding] = []
    checked = 0
    policy: Policy | None = None
    if POLICY_PATH not in files:
        errors.append(Finding(POLICY_PATH, None, f"{POLICY_PATH} is missing — create the promotion policy"))
    else:
        checked += 1
        try:
            policy = policies.load_policy(files[POLICY_PATH], path=POLICY_PATH)
        except ManifestError as exc:
            errors.append(_finding(exc, POLICY_PATH))
    if REJECTED_PATH in files:
        checked += 1
        try:
            rejections.load_rejected(files[REJECTED_PATH], path=REJECTED_PATH)
        except ManifestError as exc:
            errors.append(_finding(exc, REJECTED_PATH))
    envs = set(policy.names) if policy else None
    for path in sorted(files):
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != ENV_DIR or not parts[2].endswith((".yaml", ".yml")):
            continue
        if envs is not None and parts[1] not in envs:
            if not parts[1].startswith(".") and parts[1] not in ("artifacts", "checks"):
                warnings.append(
                    Finding(path, None, f"{parts[1]!r} is not an environment in {POLICY_PATH}; ignored")
                )
            continue
        if parts[2].endswith(".yml"):
            errors.append(Finding(path, None, "manifests end in .yaml — rename the file"))
            continue
        checked += 1
        model = parts[2][: -len(".yaml")]
        try:
            m = manifests.load_manifest(files[path], path=path, expected_name=model)
        except ManifestError as exc:
            errors.append(_finding(exc, path))
            continue
        for key in manifests.unknown_keys(m):
            warnings.append(Finding(path, None, f"unknown top-level key {key!r} (it will be promoted)"))
    return ValidationReport(errors, warnings, checked)
