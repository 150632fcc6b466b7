"""The policy's `providers:` section: parsed, validated with file:line, secrets only named by env var."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot.core.policy import load_policy
from bot.core.providers import (
    MlflowProvider,
    PrometheusProvider,
    ProviderConfigError,
    Providers,
    resolve_headers,
    resolve_token,
    resolve_tracking_uri,
    resolve_url,
)
from bot.errors import PolicyError
from tests.conftest import EXAMPLE, Cli

ROOT = Path(__file__).resolve().parents[2]
PATH = "environments/promotion.yaml"
SCHEMA = jsonschema.Draft202012Validator(
    json.loads((ROOT / "bot" / "schemas" / "policy.schema.json").read_text())
)
SECRET = "Bearer s3cr3t-t0ken-value"

HEAD = """\
apiVersion: promobot/v1
kind: PromotionPolicy
providers:
"""
TAIL = """\
environments:
  - name: dev
  - name: staging
"""
GOOD = (
    HEAD
    + """\
  prometheus:
    staging-metrics:
      url: https://prometheus.staging.acme.internal/
      headers_env: {Authorization: PROMOBOT_PROM_STAGING_AUTH, X-Scope-OrgID: PROM_TENANT}
      timeout: 5
    prod_metrics:
      url_env: PROMOBOT_PROM_PROD_URL
  mlflow:
    registry:
      tracking_uri: http://127.0.0.1:5000
      token_env: MLFLOW_TRACKING_TOKEN
"""
    + TAIL
)


def test_both_kinds_parse_into_frozen_values_with_defaults() -> None:
    policy = load_policy(GOOD, path=PATH)
    prom = policy.providers.prometheus
    assert prom["staging-metrics"] == PrometheusProvider(
        name="staging-metrics",
        url="https://prometheus.staging.acme.internal",
        headers_env=(("Authorization", "PROMOBOT_PROM_STAGING_AUTH"), ("X-Scope-OrgID", "PROM_TENANT")),
        timeout=5.0,
    )
    assert prom["prod_metrics"] == PrometheusProvider(name="prod_metrics", url_env="PROMOBOT_PROM_PROD_URL")
    assert prom["prod_metrics"].timeout == 10.0
    assert policy.providers.mlflow == {
        "registry": MlflowProvider(
            name="registry", tracking_uri="http://127.0.0.1:5000", token_env="MLFLOW_TRACKING_TOKEN"
        ),
    }
    with pytest.raises(AttributeError):
        prom["prod_metrics"].timeout = 1.0  # type: ignore[misc]


def test_a_policy_without_providers_has_none() -> None:
    policy = load_policy(HEAD.replace("providers:\n", "") + TAIL, path=PATH)
    assert policy.providers == Providers()
    assert load_policy(HEAD + "  prometheus:\n" + TAIL, path=PATH).providers == Providers()


def test_the_example_policy_still_loads() -> None:
    load_policy((EXAMPLE / "promotion.yaml").read_bytes(), path=PATH)


def _prom(body: str) -> str:
    return HEAD + "  prometheus:\n    m:\n" + body + TAIL


def _mlflow(body: str) -> str:
    return HEAD + "  mlflow:\n    r:\n" + body + TAIL


CASES = [
    ("unknown-kind", HEAD + "  grafana: {}\n" + TAIL, 4, 3, "unknown key 'grafana'"),
    (
        "bad-name",
        HEAD + "  prometheus:\n    Staging: {url: http://p}\n" + TAIL,
        5,
        5,
        "'Staging' is not valid",
    ),
    ("bad-name-dot", HEAD + "  prometheus:\n    a.b: {url: http://p}\n" + TAIL, 5, 5, "not valid"),
    ("no-url", _prom("      timeout: 5\n"), 6, 7, "exactly one of url and url_env"),
    ("both-urls", _prom("      url: http://p\n      url_env: P\n"), 6, 7, "exactly one of url and url_env"),
    ("ftp-url", _prom("      url: ftp://p\n"), 6, 12, "http:// or https://"),
    ("no-host", _prom("      url: 'http://'\n"), 6, 12, "no host"),
    (
        "url-env-bad",
        _prom("      url_env: 'not a var'\n"),
        6,
        16,
        "url_env must name an environment variable",
    ),
    ("unknown-key", _prom("      url: http://p\n      headers: {A: B}\n"), 7, 7, "headers_env / token_env"),
    ("timeout-zero", _prom("      url: http://p\n      timeout: 0\n"), 7, 16, "at most 60"),
    ("timeout-big", _prom("      url: http://p\n      timeout: 61\n"), 7, 16, "at most 60"),
    ("timeout-str", _prom("      url: http://p\n      timeout: ten\n"), 7, 16, "number of seconds"),
    ("headers-list", _prom("      url: http://p\n      headers_env: [A]\n"), 7, 20, "mapping of header"),
    (
        "header-name",
        _prom("      url: http://p\n      headers_env: {'A B': V}\n"),
        7,
        21,
        "not an HTTP header",
    ),
    (
        "header-twice",
        _prom("      url: http://p\n      headers_env: {Authorization: A, authorization: B}\n"),
        7,
        39,
        "listed twice",
    ),
    ("not-a-mapping", HEAD + "  prometheus:\n    m: http://p\n" + TAIL, 5, 8, "must be a mapping"),
    ("mlflow-none", _mlflow("      token_env: T\n"), 6, 7, "exactly one of tracking_uri"),
    ("mlflow-bad-uri", _mlflow("      tracking_uri: mlflow.acme\n"), 6, 21, "http:// or https://"),
    (
        "mlflow-unknown",
        _mlflow("      tracking_uri: http://m\n      token: T\n"),
        7,
        7,
        "unknown key 'token'",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_invalid_providers_are_refused_with_location_and_hint(
    text: str, line: int, column: int, needle: str
) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(text, path=PATH)
    err = info.value
    assert needle in err.message
    assert (err.file, err.line, err.column) == (PATH, line, column)
    assert " — " in err.message


SECRET_CASES = [
    ("header-value", _prom(f"      url: http://p\n      headers_env: {{Authorization: '{SECRET}'}}\n"), 7),
    ("token-value", _mlflow(f"      tracking_uri: http://m\n      token_env: '{SECRET}'\n"), 7),
    ("url-env-value", _prom(f"      url_env: '{SECRET}'\n"), 6),
    ("credentials-in-url", _prom("      url: 'https://bob:s3cr3t-t0ken-value@p.example'\n"), 6),
]


@pytest.mark.parametrize(("text", "line"), [c[1:] for c in SECRET_CASES], ids=[c[0] for c in SECRET_CASES])
def test_a_secret_pasted_into_the_policy_is_refused_without_being_echoed(text: str, line: int) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(text, path=PATH)
    assert "s3cr3t" not in str(info.value)
    assert info.value.line == line
    assert "environment variable" in info.value.message or "credentials" in info.value.message


def _schema_ok(text: str) -> bool:
    return bool(SCHEMA.is_valid(yaml.safe_load(text)))


def test_the_json_schema_agrees_with_the_loader() -> None:
    assert _schema_ok(GOOD)
    for name, text, *_ in CASES:
        if name in ("bad-name-dot", "not-a-mapping", "header-twice"):
            continue  # the schema cannot see these (or sees them the same way); the loader is the authority
        assert not _schema_ok(text), name
    for _, text, _ in SECRET_CASES:
        assert not _schema_ok(text)


ENV: dict[str, Any] = {
    "PROMOBOT_PROM_STAGING_AUTH": SECRET,
    "PROM_TENANT": "acme",
    "PROMOBOT_PROM_PROD_URL": "http://127.0.0.1:9090/",
    "MLFLOW_TRACKING_TOKEN": "tok",
    "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
}


def test_settings_resolve_from_the_environment() -> None:
    providers = load_policy(GOOD, path=PATH).providers
    staging, prod = providers.prometheus["staging-metrics"], providers.prometheus["prod_metrics"]
    assert resolve_url(staging, ENV) == "https://prometheus.staging.acme.internal"
    assert resolve_url(prod, ENV) == "http://127.0.0.1:9090"
    assert resolve_headers(staging, ENV) == {"Authorization": SECRET, "X-Scope-OrgID": "acme"}
    assert resolve_headers(prod, ENV) == {}
    registry = providers.mlflow["registry"]
    other = MlflowProvider(name="other", tracking_uri_env="MLFLOW_TRACKING_URI")
    assert resolve_tracking_uri(registry, ENV) == "http://127.0.0.1:5000"
    assert resolve_tracking_uri(other, ENV) == "http://127.0.0.1:5000"
    assert resolve_token(registry, ENV) == "tok"
    assert resolve_token(other, {}) is None


def test_missing_or_unusable_environment_values_name_the_variable_never_the_value() -> None:
    providers = load_policy(GOOD, path=PATH).providers
    staging, prod = providers.prometheus["staging-metrics"], providers.prometheus["prod_metrics"]
    with pytest.raises(ProviderConfigError, match=r"PROMOBOT_PROM_STAGING_AUTH.*not set"):
        resolve_headers(staging, {"PROM_TENANT": "acme"})
    with pytest.raises(ProviderConfigError, match="PROMOBOT_PROM_PROD_URL is not set — set"):
        resolve_url(prod, {})
    with pytest.raises(ProviderConfigError) as info:
        resolve_url(prod, {"PROMOBOT_PROM_PROD_URL": "https://bob:s3cr3t@p.example"})
    assert "s3cr3t" not in str(info.value) and "credentials" in str(info.value)
    with pytest.raises(ProviderConfigError) as info:
        resolve_headers(staging, {**ENV, "PROMOBOT_PROM_STAGING_AUTH": "s3cr3t\r\nX-Evil: 1"})
    assert "s3cr3t" not in str(info.value) and "line break" in str(info.value)
    with pytest.raises(ProviderConfigError, match="MLFLOW_TRACKING_TOKEN is not set"):
        resolve_token(providers.mlflow["registry"], {})


def test_validate_reports_a_provider_error_with_file_and_line(cli: Cli) -> None:
    policy = cli.repo / PATH
    text = policy.read_text()
    policy.write_text(
        text.replace(
            "environments:\n",
            "providers:\n  prometheus:\n    metrics:\n      url: http://p\n"
            f"      headers_env: {{A: '{SECRET}'}}\nenvironments:\n",
            1,
        )
    )
    line = policy.read_text().splitlines().index(f"      headers_env: {{A: '{SECRET}'}}") + 1
    result = cli("validate", expect=1)
    assert f"{PATH}:{line}:" in result.stdout + result.stderr
    assert "must name an environment variable" in result.stdout + result.stderr
    assert "s3cr3t" not in result.stdout + result.stderr
