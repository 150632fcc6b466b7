"""MLflow's model registry (reference §16) over its REST API (``/api/2.0/mlflow/…``), nothing more.

Eight endpoints do not justify the official client (about 40 packages and a second of import):
this adapter sends each request with the standard library, a bearer token when one is given, a
timeout, and no hidden retries — a re-run of the same event is the retry. It converts MLflow's
JSON into :mod:`bot.core.registry` values at once and MLflow's errors into promobot's:

- the server cannot be reached, times out or answers 5xx → :class:`~bot.errors.RegistryUnavailable`
  (an outage: exit 3, "re-run"); gates turn it into ``pending``, never ``success``;
- any other refusal → :class:`~bot.errors.RegistryError`, naming the endpoint and MLflow's
  ``error_code`` (``PERMISSION_DENIED``, ``INVALID_PARAMETER_VALUE`` …);
- "not there" is an answer, not an error: ``model_version`` and ``alias`` return None (a missing
  alias is HTTP 400 ``INVALID_PARAMETER_VALUE`` in MLflow, not 404).

Every name is checked against :mod:`bot.core.registry`'s patterns before a request is built, and
the token never appears in an error, a log line or a ``repr``.
"""

from __future__ import annotations

import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from bot.core.registry import (
    RUN_ID_RE,
    ModelVersion,
    Run,
    alias_problem,
    model_problem,
    version_problem,
)
from bot.errors import RegistryError, RegistryUnavailable, UsageError

logger = logging.getLogger(__name__)

API = "/api/2.0/mlflow/"
MAX_BODY = 8 * 1024 * 1024
"""Largest response read (a run with many metrics is still far below this)."""

_NOT_FOUND_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"})


class MlflowRegistry:
    """A client for one MLflow tracking server; ``token`` is sent as ``Authorization: Bearer``."""

    def __init__(self, tracking_uri: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(tracking_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"MLflow tracking URI {_redact_url(tracking_uri)!r} is not an http(s) URL",
                "set tracking_uri (or the variable tracking_uri_env names) to e.g. https://mlflow.example.com",
            )
        if parts.username or parts.password:
            raise UsageError(
                "the MLflow tracking URI carries credentials",
                "remove them from the URI and put the token in the variable token_env names",
            )
        self.base = tracking_uri.rstrip("/")
        self._token = token or None
        self.timeout = timeout

    def __repr__(self) -> str:
        return (
            f"MlflowRegistry({self.base!r}, token={'set' if self._token else 'none'}, timeout={self.timeout})"
        )

    # ------------------------------------------------------------------ reads

    def model_version(self, model: str, version: str) -> ModelVersion | None:
        """The registered model version, or None when it does not exist (or was deleted)."""
        _check_model(model)
        _check_version(version)
        got = self._call("GET", "model-versions/get", {"name": model, "version": version}, missing_ok=True)
        if got is None:
            return None
        return _model_version(got.get("model_version") or {})

    def alias(self, model: str, alias: str) -> ModelVersion | None:
        """The version ``alias`` points at, or None when the alias (or the model) does not exist."""
        _check_model(model)
        _check_alias(alias)
        got = self._call(
            "GET",
            "registered-models/alias",
            {"name": model, "alias": alias},
            missing_ok=True,
            missing_400=True,
        )
        if got is None:
            return None
        return _model_version(got.get("model_version") or {})

    def aliases(self, model: str) -> dict[str, str] | None:
        """Every alias of the registered model (alias → version), or None when the model does not exist."""
        _check_model(model)
        got = self._call("GET", "registered-models/get", {"name": model}, missing_ok=True)
        if got is None:
            return None
        out: dict[str, str] = {}
        for item in (got.get("registered_model") or {}).get("aliases") or []:
            if isinstance(item, dict) and isinstance(item.get("alias"), str):
                out[item["alias"]] = str(item.get("version"))
        return out

    def run(self, run_id: str) -> Run | None:
        """The run with the latest logged value of each metric, or None when it does not exist."""
        if RUN_ID_RE.fullmatch(run_id) is None:
            raise UsageError(
                f"run id {run_id!r} is not valid", "the model version names an unexpected run id"
            )
        got = self._call("GET", "runs/get", {"run_id": run_id}, missing_ok=True)
        if got is None:
            return None
        run = got.get("run") or {}
        info = run.get("info") or {}
        latest: dict[str, tuple[int, int, float]] = {}
        for m in (run.get("data") or {}).get("metrics") or []:
            key, value = m.get("key"), m.get("value")
            if not isinstance(key, str) or not isinstance(value, int | float | str):
                continue
            number = _number(value)
            rank = (int(m.get("step") or 0), int(m.get("timestamp") or 0))
            if key not in latest or rank >= latest[key][:2]:
                latest[key] = (*rank, number)
        return Run(
            run_id=str(info.get("run_id") or run_id),
            lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
            metrics={k: v[2] for k, v in latest.items()},
        )

    # ------------------------------------------------------------------ writes

    def set_alias(self, model: str, alias: str, version: str) -> None:
        """Point ``alias`` at ``version`` (MLflow moves it if it pointed elsewhere)."""
        _check_model(model)
        _check_alias(alias)
        _check_version(version)
        self._call("POST", "registered-models/alias", {"name": model, "alias": alias, "version": version})

    def delete_alias(self, model: str, alias: str) -> None:
        """Remove ``alias`` (MLflow takes the names in a JSON body, not a query string)."""
        _check_model(model)
        _check_alias(alias)
        self._call("DELETE", "registered-models/alias", {"name": model, "alias": alias})

    def set_version_tag(self, model: str, version: str, key: str, value: str) -> None:
        """Set tag ``key`` = ``value`` on one model version."""
        _check_model(model)
        _check_version(version)
        self._call(
            "POST", "model-versions/set-tag", {"name": model, "version": version, "key": key, "value": value}
        )

    # ------------------------------------------------------------------ transport

    def _call(
        self,
        method: str,
        endpoint: str,
        params: Mapping[str, str],
        *,
        missing_ok: bool = False,
        missing_400: bool = False,
    ) -> dict[str, Any] | None:
        url = self.base + API + endpoint
        data: bytes | None = None
        if method == "GET":
            url += "?" + urllib.parse.urlencode(params)
        else:
            data = json.dumps(dict(params)).encode()
        headers = {"Accept": "application/json", "User-Agent": "promobot"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        where = f"MLflow {method} {API}{endpoint}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
        logger.debug("%s", where)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (http(s) checked in __init__)
                body = resp.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            status = exc.code
            raw = exc.read(64 * 1024) if exc.fp is not None else b""
            code, message = _mlflow_error(raw)
            if missing_ok and (code in _NOT_FOUND_CODES or status == 404):
                return None
            if missing_400 and status == 400 and code == "INVALID_PARAMETER_VALUE":
                return None
            shown = self._redact(message)
            detail = f"{where} answered HTTP {status} {code or ''}".rstrip()
            if shown:
                detail += f": {shown}"
            if status >= 500:
                raise RegistryUnavailable(
                    detail, "the MLflow server failed; re-run once it is healthy"
                ) from None
            if status in (401, 403):
                raise RegistryError(
                    detail,
                    "check the token in the variable the provider's token_env names, and its permissions",
                    endpoint=endpoint,
                    error_code=code,
                ) from None
            raise RegistryError(
                detail, "check the model and version names", endpoint=endpoint, error_code=code
            ) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RegistryUnavailable(
                f"{where} could not be reached at {self.base}: {self._redact(str(reason))}",
                "re-run once the MLflow server is reachable",
            ) from None
        if len(body) > MAX_BODY:
            raise RegistryError(
                f"{where} answered more than {MAX_BODY} bytes",
                "check the tracking URI",
                endpoint=endpoint,
                error_code=None,
            )
        if not body.strip():
            return {}
        try:
            parsed = json.loads(body)
        except ValueError:
            raise RegistryError(
                f"{where} did not answer JSON",
                "check that the tracking URI is an MLflow server",
                endpoint=endpoint,
                error_code=None,
            ) from None
        if not isinstance(parsed, dict):
            raise RegistryError(
                f"{where} answered unexpected JSON",
                "check the tracking URI",
                endpoint=endpoint,
                error_code=None,
            )
        return parsed

    def _redact(self, text: str) -> str:
        text = text[:300]
        if self._token:
            text = text.replace(self._token, "***")
        return " ".join(text.split())


def _check_model(model: str) -> None:
    problem = model_problem(model)
    if problem is not None:
        raise UsageError(problem, "fix registry.mlflow.model in the manifest")


def _check_version(version: str) -> None:
    problem = version_problem(version)
    if problem is not None:
        raise UsageError(problem, "fix registry.mlflow.version in the manifest")


def _check_alias(alias: str) -> None:
    problem = alias_problem(alias)
    if problem is not None:
        raise UsageError(problem, "fix registry_alias in the policy")


def _mlflow_error(raw: bytes) -> tuple[str | None, str]:
    """MLflow's ``error_code`` and ``message`` from an error body (either may be missing)."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None, ""
    if not isinstance(parsed, dict):
        return None, ""
    code = parsed.get("error_code")
    message = parsed.get("message")
    return (code if isinstance(code, str) else None), (message if isinstance(message, str) else "")


def _number(value: int | float | str) -> float:
    """MLflow's JSON writes NaN and infinities as strings."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return math.nan
    return float(value)


def _model_version(mv: Mapping[str, Any]) -> ModelVersion:
    tags = {
        str(t.get("key")): str(t.get("value"))
        for t in mv.get("tags") or []
        if isinstance(t, dict) and t.get("key") is not None
    }
    run_id = mv.get("run_id")
    return ModelVersion(
        model=str(mv.get("name") or ""),
        version=str(mv.get("version") or ""),
        status=str(mv.get("status") or "READY"),
        run_id=run_id if isinstance(run_id, str) and run_id else None,
        source=str(mv.get("source") or ""),
        aliases=tuple(str(a) for a in mv.get("aliases") or []),
        tags=tags,
        stage=str(mv.get("current_stage") or "None"),
    )


def _redact_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password or parts.username:
        host = parts.hostname or ""
        return urllib.parse.urlunsplit((parts.scheme, f"***@{host}", parts.path, "", ""))
    return url
