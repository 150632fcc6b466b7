"""MLflow follows git, end to end on the local forge against a real ``mlflow server``.

promote → merge moves the environment's alias and tags the version with the merge commit; a
rollback moves it back; the registry gate blocks a manifest whose metrics differ from the run's;
``status`` shows drift and ``sync`` fixes it; an outage never blocks a merge for good and a re-run
converges; the token never reaches any output.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.helpers.git import commit_all, git, init_repo
from tests.servers import free_port
from tests.servers.mlflow import MlflowServer

TOKEN = "mlflow-token-Zq8x-never-printed"
DIGEST = "sha256:" + "ab" * 32

POLICY = """apiVersion: promobot/v1
kind: PromotionPolicy
providers:
  mlflow:
    registry:
      tracking_uri_env: PROMOBOT_TEST_MLFLOW_URI
      token_env: PROMOBOT_TEST_MLFLOW_TOKEN
environments:
  - name: dev
  - name: prod
    registry_alias: champion
    approvals: {required: 0}
    gates:
      - metric: {name: auc, min: 0.85}
rollback:
  approvals: {required: 1}
  direct: true
commands:
  promote: {permission: write}
  rollback: {permission: write}
"""


def manifest(name: str, version: str, registered: str, reg_version: str, auc: float) -> str:
    return f"""apiVersion: promobot/v1
kind: ModelDeployment
name: {name}
version: "{version}"
artifact: {{uri: "s3://models/{name}/{version}", digest: "{DIGEST}"}}
metrics: {{auc: {auc}}}
registry:
  mlflow: {{model: {registered}, version: "{reg_version}"}}
"""


@dataclass
class Rig:
    cli: Cli
    repo: Path
    server: MlflowServer
    registered: str
    versions: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str, expect: int | None = 0, output: str | None = None) -> str:
        result = self.cli(*args, output=output, expect=expect)
        self.outputs += [result.stdout, result.stderr]
        return result.stdout

    def json(self, *args: str, expect: int | None = 0) -> Any:
        """The command's JSON document (shape per command: reference §9), like ``Cli.json``."""
        return json.loads(self.run(*args, expect=expect, output="json"))

    def write(self, env: str, version: str, reg_version: str, auc: float, message: str) -> str:
        path = self.repo / "environments" / env / "fraud-detector.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(manifest("fraud-detector", version, self.registered, reg_version, auc))
        return commit_all(self.repo, message)


def _registered(request: pytest.FixtureRequest) -> str:
    """A registered model of its own per test (the server lives for the whole session)."""
    return "reg-" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:16]


@pytest.fixture
def rig(
    tmp_path: Path,
    mlflow_server: MlflowServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Rig:
    """dev runs 2.0.0 (registered version 2, auc 0.93); prod ran 1.0.0 (version 1, auc 0.9)."""
    monkeypatch.setenv("PROMOBOT_TEST_MLFLOW_URI", mlflow_server.url)
    monkeypatch.setenv("PROMOBOT_TEST_MLFLOW_TOKEN", TOKEN)
    registered = _registered(request)
    v1 = mlflow_server.version(registered, {"auc": 0.9})
    v2 = mlflow_server.version(registered, {"auc": [0.5, 0.93]})
    repo = init_repo(tmp_path / "gitops")
    (repo / "environments").mkdir()
    (repo / "environments" / "promotion.yaml").write_text(POLICY)
    rig = Rig(Cli(repo), repo, mlflow_server, registered, {"1": v1, "2": v2})
    rig.write("dev", "1.0.0", v1, 0.9, "dev: 1.0.0")
    rig.write("prod", "1.0.0", v1, 0.9, "prod: 1.0.0")
    rig.write("dev", "2.0.0", v2, 0.93, "dev: 2.0.0")
    return rig


def test_promote_merge_moves_the_alias_and_rollback_moves_it_back(rig: Rig) -> None:
    srv, name = rig.server, rig.registered
    assert rig.json("sync")["moved"] == [
        {
            "model": "fraud-detector",
            "env": "dev",
            "alias": "dev",
            "registered_model": name,
            "from": None,
            "to": "2",
        },
        {
            "model": "fraud-detector",
            "env": "prod",
            "alias": "champion",
            "registered_model": name,
            "from": None,
            "to": "1",
        },
    ]
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    registry_row = [g for g in promoted["gates"] if g["kind"] == "registry"]
    assert registry_row and registry_row[0]["result"] == "success", promoted["gates"]
    merged = rig.json("merge", str(promoted["pr"]))
    assert merged["merged"] is True
    assert srv.alias(name, "champion") == "2"
    assert srv.tags(name, "2")["promobot.prod.commit"] == merged["sha"]
    assert merged["registry"]["moved"]["to"] == "2"
    assert rig.json("sync") == {"moved": [], "unchanged": 2, "dry_run": False}  # idempotent

    back = rig.json("rollback", "fraud-detector", "--env", "prod", "--direct")
    assert back["version"] == "1.0.0" and back["sha"]
    assert srv.alias(name, "champion") == "1"
    assert srv.tags(name, "1")["promobot.prod.commit"] == back["sha"]
    assert all(TOKEN not in out for out in rig.outputs)


def test_a_rollback_pr_merged_moves_the_alias_back(rig: Rig) -> None:
    srv, name = rig.server, rig.registered
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    rig.json("merge", str(promoted["pr"]))
    assert srv.alias(name, "champion") == "2"
    back = rig.json("rollback", "fraud-detector", "--env", "prod")
    assert back["pr"] is not None and srv.alias(name, "champion") == "2"  # not merged yet
    rig.cli("pr", "review", str(back["pr"]), "--approve", actor="carol")
    text = rig.run("merge", str(back["pr"]))
    assert f"MLflow: alias champion of {name} moved 2 → 1." in text
    merged = rig.json("merge", str(back["pr"]))  # a re-run: already merged, alias already right
    assert merged["merged"] is True and merged["registry"] == {"moved": None, "error": None}
    assert srv.alias(name, "champion") == "1"
    assert srv.tags(name, "1")["promobot.prod.commit"] == merged["sha"]


def test_a_manifest_whose_metrics_differ_from_the_run_is_blocked_by_the_registry_gate(rig: Rig) -> None:
    rig.write("dev", "2.0.1", rig.versions["2"], 0.95, "dev: 2.0.1 claims auc 0.95")
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    row = next(g for g in promoted["gates"] if g["kind"] == "registry")
    assert row["result"] == "failure"
    assert "0.95" in row["reason"] and "0.93" in row["reason"]
    out = rig.run("merge", str(promoted["pr"]), expect=1)
    assert rig.server.alias(rig.registered, "champion") is None, out


def test_registry_gate_fails_for_a_missing_or_a_deleted_version(rig: Rig) -> None:
    srv, name = rig.server, rig.registered
    rig.write("dev", "2.0.2", "99", 0.93, "dev: names a version that does not exist")
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    row = next(g for g in promoted["gates"] if g["kind"] == "registry")
    assert row["result"] == "failure" and "does not exist" in row["reason"]

    v3 = srv.version(name, {"auc": 0.93})
    srv.call("DELETE", "model-versions/delete", {"name": name, "version": v3})
    rig.write("dev", "2.0.3", v3, 0.93, "dev: names a deleted version")
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    row = next(g for g in promoted["gates"] if g["kind"] == "registry")
    assert row["result"] == "failure" and "does not exist" in row["reason"]


def test_metric_gate_with_source_mlflow_reads_the_run(rig: Rig) -> None:
    policy = rig.repo / "environments" / "promotion.yaml"
    policy.write_text(POLICY.replace("{name: auc, min: 0.85}", "{name: auc, min: 0.95, source: mlflow}"))
    commit_all(rig.repo, "prod: auc from the MLflow run")
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    row = next(g for g in promoted["gates"] if g["kind"] == "metric")
    assert row["result"] == "failure" and "0.93" in row["reason"]


def test_status_shows_drift_and_sync_fixes_it(rig: Rig) -> None:
    srv, name = rig.server, rig.registered
    rig.json("sync")
    srv.call("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    status = rig.json("status")
    assert status["registry"]["fraud-detector"]["prod"] == {
        "alias": "champion",
        "registered_model": name,
        "version": "2",
        "expected": "1",
        "drift": True,
    }
    assert status["registry"]["fraud-detector"]["dev"]["drift"] is False
    assert "alias champion" in rig.run("status")
    dry = rig.json("sync", "--env", "prod", "--dry-run")
    assert [(m["alias"], m["from"], m["to"]) for m in dry["moved"]] == [("champion", "2", "1")]
    assert srv.alias(name, "champion") == "2"  # a dry run changes nothing
    assert rig.json("sync", "--env", "prod")["moved"][0]["to"] == "1"
    assert srv.alias(name, "champion") == "1"
    assert rig.json("status")["registry"]["fraud-detector"]["prod"]["drift"] is False


def test_missing_alias_is_drift(rig: Rig) -> None:
    status = rig.json("status")
    assert status["registry"]["fraud-detector"]["prod"]["version"] is None
    assert status["registry"]["fraud-detector"]["prod"]["drift"] is True


def test_server_down_gate_pending_sync_exit_3_status_still_works(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOBOT_TEST_MLFLOW_URI", f"http://127.0.0.1:{free_port()}")
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    row = next(g for g in promoted["gates"] if g["kind"] == "registry")
    assert row["result"] == "pending" and "re-run" in row["reason"]
    assert promoted["ready"] is False
    result = rig.cli("sync", expect=3)
    assert "re-run" in result.stderr and "error:" in result.stderr
    rig.outputs += [result.stdout, result.stderr]
    status = rig.json("status")
    assert status["registry_error"] and "could not be reached" in status["registry_error"]
    assert all(TOKEN not in out for out in rig.outputs)


def test_token_never_printed_even_when_the_server_refuses(rig: Rig) -> None:
    rig.write("dev", "2.0.4", rig.versions["2"], 0.93, "dev: 2.0.4")
    for args in (("status",), ("sync", "--dry-run"), ("promote", "fraud-detector", "--to", "prod")):
        rig.run(*args)
        rig.run(*args, output="json")
    assert all(TOKEN not in out for out in rig.outputs)


def test_hostile_registry_names_are_refused_before_any_request(rig: Rig) -> None:
    path = rig.repo / "environments" / "dev" / "fraud-detector.yaml"
    path.write_text(path.read_text().replace(f"model: {rig.registered}", 'model: "../../api/2.0/x?y=1"'))
    commit_all(rig.repo, "dev: hostile registered model name")
    out = rig.json("validate", expect=1)
    assert any("registered model name" in e["message"] for e in out["errors"])


# --------------------------------------------------------------------------- faults


class FaultProxy:
    """Forwards to the real server; answers 503 to the requests whose 1-based index is in ``fail``."""

    def __init__(self, upstream: str, fail: set[int]) -> None:
        self.upstream, self.fail, self.count, self.seen = upstream, fail, 0, []  # type: ignore[var-annotated]
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _forward(self) -> None:
                proxy.count += 1
                proxy.seen.append(f"{self.command} {self.path.split('?')[0]}")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if proxy.count in proxy.fail:
                    self._send(503, b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected"}')
                    return
                req = urllib.request.Request(
                    proxy.upstream + self.path,
                    data=body,
                    method=self.command,
                    headers={"Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        self._send(resp.status, resp.read())
                except urllib.error.HTTPError as exc:
                    self._send(exc.code, exc.read())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy_factory(mlflow_server: MlflowServer) -> Iterator[list[FaultProxy]]:
    made: list[FaultProxy] = []
    yield made
    for p in made:
        p.close()


MERGE_CALLS = 5
"""A merge with the registry gate: model-version get, run get (gate); alias get, set, set-tag (move)."""


@pytest.mark.parametrize("failing", range(1, MERGE_CALLS + 1))
def test_an_outage_at_any_call_of_merge_and_move_converges_on_re_run(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, proxy_factory: list[FaultProxy], failing: int
) -> None:
    srv, name = rig.server, rig.registered
    promoted = rig.json("promote", "fraud-detector", "--to", "prod")
    proxy = FaultProxy(srv.url, {failing})
    proxy_factory.append(proxy)
    monkeypatch.setenv("PROMOBOT_TEST_MLFLOW_URI", proxy.url)
    first = rig.cli("merge", str(promoted["pr"]), output="json", expect=None)
    assert first.exit_code in (0, 1), first.stderr
    assert proxy.count >= failing, proxy.seen
    # Re-run the same merge: it finishes what the first began, the alias included.
    again = rig.json("merge", str(promoted["pr"]))
    assert again["merged"] is True
    tip = git(rig.repo, "rev-parse", "main")
    assert again["sha"] == tip
    assert srv.alias(name, "champion") == "2"
    assert srv.tags(name, "2")["promobot.prod.commit"] == tip
    assert [m for m in rig.json("sync")["moved"] if m["env"] == "prod"] == []  # nothing left for sync


def test_the_scheduled_run_moves_aliases_a_failed_run_left_behind(rig: Rig, tmp_path: Path) -> None:
    srv, name = rig.server, rig.registered
    rig.json("sync")
    srv.call("POST", "registered-models/alias", {"name": name, "alias": "champion", "version": "2"})
    payload = tmp_path / "schedule.json"
    payload.write_text(json.dumps({"schedule": "*/30 * * * *"}))
    out = rig.json("handle-event", "--name", "schedule", "--payload", str(payload))
    assert "MLflow sync: moved champion" in out["summary"]
    assert srv.alias(name, "champion") == "1"


# --------------------------------------------------------------------------- no provider: inert


def test_without_a_provider_registry_mlflow_is_inert_and_the_example_needs_no_server(cli: Cli) -> None:
    """The README tour: the example names a registry version but lists no provider."""
    promoted = cli.json("promote", "churn-predictor", "--to", "staging")
    assert "registry" not in [g["kind"] for g in promoted["gates"]]
    staged = git(
        cli.repo, "show", "promobot/staging/churn-predictor:environments/staging/churn-predictor.yaml"
    )
    assert 'mlflow: {model: churn-predictor, version: "3"}' in staged  # a promoted key
    assert "registry" not in cli.json("status")
    assert cli.json("sync") == {"moved": [], "unchanged": 0, "dry_run": False}
