"""A busy repository on the GitHub emulator: many models, many open promotion PRs.

Used by ``tests/test_scale.py`` and ``benchmarks/scale.py``. The repository has a
policy modelled on ``benchmarks/generate.py``'s (dev → staging → prod, auto-promoting,
without teams: prod needs two approvals, a 24 h soak and no freeze; no command or
artifact gates) and ``models``
models. Models ``0 … prs-1`` run a newer version in staging than in prod, so each gets a
prod promotion PR that waits for people; the last ``late`` of them reached staging
23 hours before ``NOW`` (their soak ends at ``NOW + 1 h``), the others weeks earlier.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.adapters.github import ACTIONS_LOGIN
from bot.app.promote import promote
from tests.emulator import Emulator
from tests.helpers.git import git
from tests.helpers.rig import TOKEN, Hub

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday morning in Berlin: no freeze
LATE = NOW - timedelta(hours=23)

POLICY = """\
apiVersion: promobot/v1
kind: PromotionPolicy
local_keys: [serving]
environments:
  - name: dev
  - name: staging
    from: dev
    auto_promote: true
    auto_merge: true
    approvals: {required: 1, approvers: []}
    gates:
      - metric: {name: auc, min: 0.85}
  - name: prod
    from: staging
    auto_promote: true
    approvals: {required: 2, approvers: [carol, dave, erin]}
    gates:
      - metric: {name: auc, min: 0.90}
      - compare: {metric: auc, max_drop: 0.005}
      - soak: {hours: 24}
      - freeze:
          timezone: Europe/Berlin
          windows:
            - {days: [fri], from: "15:00", to: "24:00"}
            - {days: [sat, sun]}
rollback:
  approvals: {required: 1}
  direct: false
  reject_version: true
commands:
  promote:  {permission: write}
  retest:   {permission: write}
  hold:     {permission: triage}
  unhold:   {permission: write}
  rollback: {permission: maintain}
  cancel:   {permission: write}
"""


def model_name(i: int) -> str:
    return f"model-{i:04d}"


def manifest(model: str, version: str, env: str, auc: float = 0.93) -> str:
    return (
        "apiVersion: promobot/v1\n"
        "kind: ModelDeployment\n"
        f"name: {model}\n"
        f'version: "{version}"\n'
        "artifact:\n"
        f"  uri: s3://models/{model}/{version}/model.onnx\n"
        f"  digest: sha256:{hashlib.sha256(f'{model} {version}'.encode()).hexdigest()}\n"
        "metrics:\n"
        f"  auc: {auc}\n"
        "  latency_p95_ms: 40\n"
        "serving:\n"
        f"  replicas: {1 if env == 'dev' else 3}\n"
    )


@dataclass
class Busy(Hub):
    """The rig's hub (``tests/helpers/rig.py``) on the busy repository: a fresh checkout per workflow run."""

    now: datetime = NOW
    models: int = 0
    prs: int = 0

    def push(
        self, files: dict[str, str], message: str, *, date: datetime, branch: str = "main"
    ) -> tuple[str, str]:
        """Someone pushes ``files`` to ``branch`` at ``date``; returns (before, after)."""

        def change(work: Path) -> None:
            for path, text in files.items():
                (work / path).parent.mkdir(parents=True, exist_ok=True)
                (work / path).write_text(text, encoding="utf-8")

        return self.push_change(change, message, branch=branch, date=date.strftime("%Y-%m-%dT%H:%M:%SZ"))


def seed(emu: Emulator, work: Path, *, models: int, prs: int, late: int = 0) -> Busy:
    """Users, the repository (see the module docstring) and ``prs`` open prod promotion PRs."""
    emu.add_user(ACTIONS_LOGIN, "write", type="Bot", token=TOKEN)
    for login in ("alice", "bob", "carol", "dave", "erin"):
        emu.add_user(login, "write")
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "seed"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    env_dir = repo / "environments"
    for env in ("dev", "staging", "prod"):
        (env_dir / env).mkdir(parents=True)
    (env_dir / "promotion.yaml").write_text(POLICY, encoding="utf-8")
    (env_dir / "rejected.yaml").write_text("rejected: []\n", encoding="utf-8")
    for i in range(models):
        name = model_name(i)
        newer = i < prs and i < prs - late
        for env in ("dev", "staging", "prod"):
            version = "2.0.0" if newer and env != "prod" else "1.0.0"
            (env_dir / env / f"{name}.yaml").write_text(manifest(name, version, env), encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Import the models")
    if late:
        for i in range(prs - late, prs):
            name = model_name(i)
            for env in ("dev", "staging"):
                (env_dir / env / f"{name}.yaml").write_text(manifest(name, "2.0.0", env), encoding="utf-8")
        git(repo, "commit", "-q", "-am", "Promote the late models", date=LATE.strftime("%Y-%m-%dT%H:%M:%SZ"))
    git(repo, "push", "-q", str(emu.git_dir), "main")
    shutil.rmtree(repo)
    busy = Busy(emu, work, models=models, prs=prs)
    ctx = busy.context()
    for i in range(prs):
        result = promote(ctx, model=model_name(i), to="prod")
        assert result.pr is not None and not result.ready, result
    return busy
