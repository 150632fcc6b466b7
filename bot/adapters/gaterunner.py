"""Runs the two gates that reach outside: artifact checks and command gates.

Command gates run in a fresh export of the *base* commit (``git archive``), never in
the working tree and never with the PR's files: a PR cannot change what judges it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the gate machinery (urllib, subprocess) loads only when a gate runs
    from bot.adapters.git import GitWorkspace
    from bot.core.gates import ArtifactCheck, CommandOutcome
    from bot.core.model import CommandGate


class LocalGateRunner:
    def __init__(self, ws: GitWorkspace, *, environ: Mapping[str, str]) -> None:
        self.ws = ws
        self.environ = dict(environ)

    def verify_artifact(self, uri: str, digest: str, *, max_bytes: int, timeout: float) -> ArtifactCheck:
        from bot.adapters.artifacts import verify_artifact

        return verify_artifact(uri, digest, repo_root=self.ws.root, max_bytes=max_bytes, timeout=timeout)

    def run_command(
        self,
        gate: CommandGate,
        *,
        base_sha: str,
        manifest: Mapping[str, Any],
        model: str,
        from_env: str,
        to_env: str,
    ) -> CommandOutcome:
        from bot.adapters.commands import run_command_gate

        with tempfile.TemporaryDirectory(prefix="promobot-base-") as tmp:
            checkout = Path(tmp)
            self.ws.export(base_sha, checkout)
            return run_command_gate(
                gate,
                cwd=checkout,
                manifest=manifest,
                model=model,
                from_env=from_env,
                to_env=to_env,
                base_env=self.environ,
            )
