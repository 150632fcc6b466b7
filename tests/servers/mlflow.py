"""A real MLflow tracking server for the registry tests, and helpers that seed it over REST.

``.ci/install-mlflow.sh`` installs the pinned ``mlflow`` into ``.venv-mlflow-server/`` (its own
virtual environment: promobot never imports mlflow). The ``mlflow_server`` fixture starts one
server per test session — per xdist worker under ``pytest -n 2``, each on its own free loopback
port, SQLite backend and artifact folder — and stops its whole process group at the end (the
server's children outlive the leader). Seeding uses the same REST API promobot uses
(``registered-models/create``, ``runs/create`` + ``runs/log-metric``, ``model-versions/create``
with ``source: runs:/<run_id>/model``): a registered version needs no model file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers import free_port, unavailable

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-mlflow-server"
MLFLOW_BIN = VENV / "bin" / "mlflow"
START_TIMEOUT = 180.0  # seconds: 8–12 s on an idle 2-core machine, ~45 s on a loaded one


@dataclass
class MlflowServer:
    """A running server: its base URL, and REST helpers that seed it (no auth needed)."""

    url: str
    log: Path
    startup_seconds: float

    def call(self, method: str, endpoint: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """One REST call to ``/api/2.0/mlflow/<endpoint>``; raises on an HTTP error."""
        url = f"{self.url}/api/2.0/mlflow/{endpoint}"
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body)
        elif body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else {}

    def registered_model(self, name: str) -> None:
        """Create registered model ``name`` unless it exists."""
        try:
            self.call("POST", "registered-models/create", {"name": name})
        except urllib.error.HTTPError as exc:
            if b"RESOURCE_ALREADY_EXISTS" not in exc.read():
                raise

    def run(self, metrics: Mapping[str, float | list[float]]) -> str:
        """A finished run that logged ``metrics`` (a list logs several values in order); its id."""
        exp = self.call("GET", "experiments/get-by-name", {"experiment_name": "Default"})
        run = self.call(
            "POST",
            "runs/create",
            {"experiment_id": exp["experiment"]["experiment_id"], "start_time": 1_700_000_000_000},
        )
        run_id: str = run["run"]["info"]["run_id"]
        for key, values in metrics.items():
            seq = values if isinstance(values, list) else [values]
            for step, value in enumerate(seq):
                self.call(
                    "POST",
                    "runs/log-metric",
                    {
                        "run_id": run_id,
                        "key": key,
                        "value": value,
                        "timestamp": 1_700_000_000_000 + step,
                        "step": step,
                    },
                )
        return run_id

    def version(self, model: str, metrics: Mapping[str, float | list[float]]) -> str:
        """Register a new version of ``model`` whose source run logged ``metrics``; its number."""
        self.registered_model(model)
        run_id = self.run(metrics)
        mv = self.call(
            "POST",
            "model-versions/create",
            {"name": model, "source": f"runs:/{run_id}/model", "run_id": run_id},
        )
        version: str = mv["model_version"]["version"]
        return version

    def alias(self, model: str, alias: str) -> str | None:
        """The version ``alias`` points at, or None."""
        try:
            got = self.call("GET", "registered-models/alias", {"name": model, "alias": alias})
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 404):
                return None
            raise
        version: str = got["model_version"]["version"]
        return version

    def tags(self, model: str, version: str) -> dict[str, str]:
        """The tags of one model version."""
        got = self.call("GET", "model-versions/get", {"name": model, "version": version})
        return {t["key"]: t["value"] for t in got["model_version"].get("tags", [])}


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: TERM, then KILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; its children may not be: one more signal to the group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    """A real ``mlflow server`` for this session (per xdist worker), stopped at the end."""
    if not MLFLOW_BIN.exists():
        unavailable(f"MLflow server not installed at {VENV.name}/ — run .ci/install-mlflow.sh")
    base = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "server.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",  # else ~9 extra processes and ~2 GiB
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(MLFLOW_BIN),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--backend-store-uri",
                f"sqlite:///{base / 'mlflow.db'}",
                "--default-artifact-root",
                str(base / "artifacts"),
                "--workers",
                "1",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=base,
            start_new_session=True,  # its own process group, so _stop reaches every child
        )
    try:
        while not _healthy(url):
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() - started > START_TIMEOUT:
                pytest.fail(
                    f"mlflow server not healthy after {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.2)  # polling a real server's start-up, not waiting on the test's clock
        yield MlflowServer(url=url, log=log, startup_seconds=time.monotonic() - started)
    finally:
        _stop(proc)
