"""promobot's MLflow adapter against a real ``mlflow server`` (tests/servers/mlflow.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from bot.adapters.mlflow import MlflowRegistry
from bot.core.registry import alias_problem, model_problem, version_problem
from bot.errors import RegistryError, RegistryUnavailable, UsageError
from tests.servers import free_port
from tests.servers.mlflow import MlflowServer

TOKEN = "s3cr3t-token-value-1234"


@pytest.fixture
def registry(mlflow_server: MlflowServer) -> MlflowRegistry:
    return MlflowRegistry(mlflow_server.url, token=TOKEN, timeout=10)


def test_model_version_and_its_run_metrics_latest_value_per_key(
    mlflow_server: MlflowServer,
    registry: MlflowRegistry,
) -> None:
    version = mlflow_server.version("adapter-read", {"auc": [0.5, 0.931], "latency_p95_ms": 41})
    mv = registry.model_version("adapter-read", version)
    assert mv is not None and mv.status == "READY" and mv.run_id
    run = registry.run(mv.run_id)
    assert run is not None
    assert run.metrics == {"auc": 0.931, "latency_p95_ms": 41.0}


def test_missing_version_and_model_are_none(registry: MlflowRegistry, mlflow_server: MlflowServer) -> None:
    mlflow_server.registered_model("adapter-missing")
    assert registry.model_version("adapter-missing", "99") is None
    assert registry.model_version("no-such-model", "1") is None
    assert registry.aliases("no-such-model") is None


def test_alias_set_get_move_delete(mlflow_server: MlflowServer, registry: MlflowRegistry) -> None:
    v1 = mlflow_server.version("adapter-alias", {"auc": 0.9})
    v2 = mlflow_server.version("adapter-alias", {"auc": 0.91})
    assert registry.alias("adapter-alias", "prod") is None  # MLflow answers 400 INVALID_PARAMETER_VALUE
    registry.set_alias("adapter-alias", "prod", v1)
    got = registry.alias("adapter-alias", "prod")
    assert got is not None and got.version == v1
    registry.set_alias("adapter-alias", "prod", v2)
    assert registry.aliases("adapter-alias") == {"prod": v2}
    registry.delete_alias("adapter-alias", "prod")
    assert registry.alias("adapter-alias", "prod") is None
    assert mlflow_server.alias("adapter-alias", "prod") is None


def test_version_tag(mlflow_server: MlflowServer, registry: MlflowRegistry) -> None:
    v1 = mlflow_server.version("adapter-tag", {"auc": 0.9})
    registry.set_version_tag("adapter-tag", v1, "promobot.prod.commit", "a" * 40)
    assert mlflow_server.tags("adapter-tag", v1) == {"promobot.prod.commit": "a" * 40}


def test_refusal_names_endpoint_and_error_code(registry: MlflowRegistry) -> None:
    with pytest.raises(RegistryError) as info:
        registry.set_alias("no-such-model-anywhere", "prod", "1")
    assert info.value.endpoint == "registered-models/alias"
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert "POST /api/2.0/mlflow/registered-models/alias" in info.value.message
    assert TOKEN not in info.value.message


@pytest.mark.parametrize(
    ("model", "alias", "version"),
    [
        ("../../etc", "prod", "1"),
        ("ok", "latest", "1"),
        ("ok", "v3", "1"),
        ("ok", "pr od", "1"),
        ("ok", "prod", "1; rm"),
        ("ok", "prod", "0"),
        ("a?b=c", "prod", "1"),
    ],
    ids=["path-model", "latest-alias", "v-digits-alias", "space-alias", "hostile-version", "zero", "query"],
)
def test_hostile_names_are_refused_before_any_request(model: str, alias: str, version: str) -> None:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(500)
            self.end_headers()

        do_POST = do_DELETE = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        reg = MlflowRegistry(f"http://127.0.0.1:{server.server_port}", token=TOKEN, timeout=5)
        with pytest.raises(UsageError):
            reg.set_alias(model, alias, version)
        if alias_problem(alias) or model_problem(model):
            with pytest.raises(UsageError):
                reg.alias(model, alias)
        if version_problem(version) or model_problem(model):
            with pytest.raises(UsageError):
                reg.model_version(model, version)
    finally:
        server.shutdown()
        server.server_close()
    assert hits == []


@pytest.fixture
def dead_url() -> Iterator[str]:
    yield f"http://127.0.0.1:{free_port()}"


def test_server_down_is_an_outage_naming_the_endpoint_never_the_token(dead_url: str) -> None:
    reg = MlflowRegistry(dead_url, token=TOKEN, timeout=2)
    with pytest.raises(RegistryUnavailable) as info:
        reg.model_version("m", "1")
    assert info.value.exit_code == 3
    assert "GET /api/2.0/mlflow/model-versions/get" in info.value.message
    assert "re-run" in info.value.message
    assert TOKEN not in info.value.message and TOKEN not in repr(reg)


def test_server_error_is_an_outage_and_the_token_is_redacted_from_echoed_bodies() -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (
                '{"error_code": "INTERNAL_ERROR", "message": "bad header '
                + self.headers["Authorization"]
                + '"}'
            ).encode()
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reg = MlflowRegistry(f"http://127.0.0.1:{server.server_port}", token=TOKEN, timeout=5)
        with pytest.raises(RegistryUnavailable) as info:
            reg.run("abc123")
    finally:
        server.shutdown()
        server.server_close()
    assert "INTERNAL_ERROR" in info.value.message
    assert TOKEN not in info.value.message


def test_bearer_token_is_sent() -> None:
    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            body = b'{"registered_model": {"name": "m", "aliases": [{"alias": "prod", "version": "3"}]}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        reg = MlflowRegistry(f"http://127.0.0.1:{server.server_port}/", token=TOKEN, timeout=5)
        assert reg.aliases("m") == {"prod": "3"}
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [f"Bearer {TOKEN}"]


def test_credentials_in_the_uri_are_refused_without_echoing_them() -> None:
    with pytest.raises(UsageError) as info:
        MlflowRegistry("https://user:hunter2@mlflow.example.com")
    assert "hunter2" not in info.value.message
