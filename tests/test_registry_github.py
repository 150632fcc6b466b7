"""MLflow follows git on the GitHub path: the GitHub forge against the emulator, a real MLflow.

The emulated ``acme/models`` holds the example repository with an mlflow provider added and
fraud-detector's staging and prod manifests naming their registered versions. Reviews and a
``/promote`` comment merge the prod PR: the ``prod`` alias moves to the merged version, tagged
with the squash commit; a direct rollback moves it back; a manifest whose metrics differ from
its run's is blocked by the registry gate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.comment import CommentOutcome, handle_comment
from bot.app.events import on_review
from bot.app.promote import promote
from bot.app.rollback import rollback
from bot.core.manifest import load_manifest
from tests.emulator import Emulator
from tests.helpers.git import git
from tests.helpers.rig import Hub, setup_hub
from tests.servers.mlflow import MlflowServer

MLFLOW_TOKEN = "mlflow-gh-token-Xy7-never-printed"
PROVIDER = """
providers:
  mlflow:
    registry:
      tracking_uri_env: PROMOBOT_TEST_MLFLOW_URI
      token_env: PROMOBOT_TEST_MLFLOW_TOKEN
"""


@dataclass(kw_only=True)
class RegistryHub(Hub):
    """The rig's hub with a registered MLflow model whose versions the manifests name."""

    server: MlflowServer
    registered: str

    def merge_prod(self, number: int) -> CommentOutcome:
        self.emu.submit_review(number, "carol", "APPROVE")
        self.emu.submit_review(number, "dave", "APPROVE")
        on_review(self.context(), number)
        comment = self.emu.comment(number, "erin", "/promote")
        return handle_comment(
            self.context("erin"), number=number, comment_id=comment.id, author="erin", body=comment.body
        )


def _name_registry(clone: Path, env: str, registered: str, version: str, *, auc: float | None = None) -> None:
    path = clone / "environments" / env / "fraud-detector.yaml"
    text = path.read_text()
    if auc is not None:
        text = text.replace("  auc: ", f"  auc: {auc}  # was ", 1)
    text = text.replace(
        "\nserving:", f'\nregistry:\n  mlflow: {{model: {registered}, version: "{version}"}}\n\nserving:', 1
    )
    path.write_text(text)


@pytest.fixture
def reg_hub(
    github_emulator: Emulator, mlflow_server: MlflowServer, tmp_path: Path, request: pytest.FixtureRequest
) -> RegistryHub:
    emu = github_emulator
    base = setup_hub(emu, tmp_path / "work")
    clone = base.checkout()
    registered = "gh-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]
    versions = {}
    for env in ("prod", "staging"):  # prod runs 1.4.1 (registered version 1), staging 1.4.2 (2)
        raw = (clone / "environments" / env / "fraud-detector.yaml").read_bytes()
        metrics = dict(load_manifest(raw, path=env).metrics)
        versions[env] = mlflow_server.version(registered, {k: float(v) for k, v in metrics.items()})
        _name_registry(clone, env, registered, versions[env])
    policy = clone / "environments" / "promotion.yaml"
    policy.write_text(policy.read_text().replace("\nenvironments:\n", PROVIDER + "\nenvironments:\n", 1))
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "MLflow follows git")
    git(clone, "push", "-q", "origin", "main")
    environ = {"PROMOBOT_TEST_MLFLOW_URI": mlflow_server.url, "PROMOBOT_TEST_MLFLOW_TOKEN": MLFLOW_TOKEN}
    hub = RegistryHub(
        emu, base.work, environ=environ, clone=clone, server=mlflow_server, registered=registered
    )
    mlflow_server.call(
        "POST", "registered-models/alias", {"name": registered, "alias": "prod", "version": versions["prod"]}
    )
    assert versions == {"prod": "1", "staging": "2"}
    return hub


def test_github_promote_merge_moves_the_alias_and_a_direct_rollback_moves_it_back(
    reg_hub: RegistryHub,
) -> None:
    srv, name = reg_hub.server, reg_hub.registered
    result = promote(reg_hub.context(), model="fraud-detector", to="prod")
    assert result.pr is not None
    gates = {g.kind: g for g in result.results}
    assert gates["registry"].result == "success", gates["registry"].reason

    done = reg_hub.merge_prod(result.pr)
    assert done.merged, done.reply
    merge_sha = reg_hub.main()
    assert srv.alias(name, "prod") == "2"
    assert srv.tags(name, "2")["promobot.prod.commit"] == merge_sha

    back = rollback(
        reg_hub.context("erin"), model="fraud-detector", env="prod", direct=True, reason="bad", actor="erin"
    )
    assert back.sha is not None and back.version == "1.4.1"
    assert srv.alias(name, "prod") == "1"
    assert srv.tags(name, "1")["promobot.prod.commit"] == back.sha
    everything = " ".join(c.body for c in reg_hub.emu.state.comments.values())
    assert MLFLOW_TOKEN not in everything


def test_github_registry_gate_blocks_metrics_that_differ_from_the_run(reg_hub: RegistryHub) -> None:
    clone = reg_hub.clone
    assert clone is not None
    path = clone / "environments" / "staging" / "fraud-detector.yaml"
    path.write_text(path.read_text().replace("  auc: ", "  auc: 0.999  # was ", 1))
    git(clone, "commit", "-q", "-am", "staging claims a better auc than its run logged")
    git(clone, "push", "-q", "origin", "main")
    result = promote(reg_hub.context(), model="fraud-detector", to="prod")
    row = next(g for g in result.results if g.kind == "registry")
    assert row.result == "failure" and "0.999" in row.reason
    assert result.pr is not None
    done = reg_hub.merge_prod(result.pr)
    assert not done.merged
    assert reg_hub.server.alias(reg_hub.registered, "prod") == "1"
