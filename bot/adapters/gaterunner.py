"""Runs the gates that reach outside: artifact checks, command gates and Prometheus queries.

Prometheus evidence (reference §15) comes from :mod:`bot.adapters.prometheus` with the
provider's headers read from this runner's environment mapping; an unset variable or an
unreachable server becomes evidence with an error (the gate is pending), a query Prometheus
refuses becomes the failure's reason.

Command gates run in a fresh export of the *base* commit (``git archive``), never in
the working tree and never with the PR's files: a PR cannot change what judges it.
``file:`` artifacts are read from the same commit (the caller's ``ref``), for the same reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:  # the gate machinery (urllib, subprocess) loads only when a gate runs
    from bot.adapters.git import GitWorkspace
    from bot.core.gate_inputs import ArtifactCheck, CommandOutcome
    from bot.core.policy_model import CommandGate
    from bot.core.promql import Evidence, PrometheusGate
    from bot.core.providers import PrometheusProvider


class _Committed:
    """The files of commit ``ref`` (``bot.adapters.artifacts.CommittedFiles``)."""

    def __init__(self, ws: GitWorkspace, ref: str) -> None:
        self.ws, self.ref = ws, ref

    @property
    def where(self) -> str:
        return f"commit {self.ref[:12]}"

    def stat(self, path: str) -> tuple[str, int] | None:
        return self.ws.file_at(self.ref, path)

    def open(self, path: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.ws.open_file(self.ref, path)


class LocalGateRunner:
    def __init__(self, ws: GitWorkspace, *, environ: Mapping[str, str]) -> None:
        self.ws = ws
        self.environ = dict(environ)

    def verify_artifact(
        self, uri: str, digest: str, *, max_bytes: int, timeout: float, ref: str | None = None
    ) -> ArtifactCheck:
        """Verify the artifact; a relative ``file:`` artifact is read at commit ``ref`` when given."""
        from bot.adapters.artifacts import verify_artifact

        committed = _Committed(self.ws, ref) if ref is not None else None
        return verify_artifact(
            uri, digest, repo_root=self.ws.root, max_bytes=max_bytes, timeout=timeout, committed=committed
        )

    def run_command(
        self,
        gate: CommandGate,
        *,
        base_sha: str,
        manifest: Mapping[str, Any],
        model: str,
        from_env: str,
        to_env: str,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandOutcome:
        import tempfile  # on a write only: a warm read never pays for it

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
                extra_env=extra_env,
            )

    def prometheus(
        self,
        provider: PrometheusProvider,
        gate: PrometheusGate,
        query: str,
        traffic_query: str | None,
        *,
        start: float,
        end: float,
    ) -> Evidence | str:
        """Query the provider (headers from this runner's environment); see ``GateRunner``."""
        from bot.adapters.prometheus import PrometheusClient, PrometheusQueryError, collect
        from bot.core.promql import Evidence
        from bot.core.providers import ProviderConfigError

        try:
            client = PrometheusClient(provider, self.environ)
        except ProviderConfigError as exc:
            return Evidence(query=query, start=start, end=end, traffic_query=traffic_query, error=exc.message)
        try:
            return collect(client, gate, query, traffic_query, start=start, end=end)
        except PrometheusQueryError as exc:
            return exc.message
