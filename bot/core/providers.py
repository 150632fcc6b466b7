"""Data providers named in the policy's ``providers:`` section (reference §15, §16).

```yaml
providers:
  prometheus:
    staging-metrics:
      url: https://prometheus.staging.acme.internal    # or url_env: PROMOBOT_PROM_STAGING_URL
      headers_env: {Authorization: PROMOBOT_PROM_STAGING_AUTH}
      timeout: 10                                      # seconds per request, default 10, max 60
  mlflow:
    registry:
      tracking_uri: https://mlflow.acme.internal       # or tracking_uri_env: MLFLOW_TRACKING_URI
      token_env: MLFLOW_TRACKING_TOKEN
```

Secrets are only ever *named* here, by environment variable; the values come from the
environment at run time (``resolve_*`` take the environment as a plain mapping, so this
module stays pure). No error raised here ever quotes a value that might be a secret: an
invalid ``headers_env``/``token_env`` entry is reported by its key and position only, and a
URL with ``user:password@`` in it is refused without echoing it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

from bot.errors import BotError

PROVIDER_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")
PROVIDER_KINDS = ("prometheus", "mlflow")
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0

Path = tuple[str | int, ...]


class ProviderConfigError(BotError):
    """A provider's settings cannot be resolved from the environment (exit 1).

    Raised at run time, never with a secret in it: it names the variable to set, not its value.
    """


@dataclass(frozen=True, slots=True)
class PrometheusProvider:
    """A Prometheus HTTP API: where it is, which headers to send (by env var), how long to wait."""

    name: str
    url: str | None = None
    url_env: str | None = None
    headers_env: tuple[tuple[str, str], ...] = ()
    """(header name, environment variable holding its value) pairs, in policy order."""
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True, slots=True)
class MlflowProvider:
    """An MLflow tracking server: its URI (or the env var holding it) and the env var of its token."""

    name: str
    tracking_uri: str | None = None
    tracking_uri_env: str | None = None
    token_env: str | None = None


@dataclass(frozen=True, slots=True)
class Providers:
    prometheus: Mapping[str, PrometheusProvider] = field(default_factory=dict)
    mlflow: Mapping[str, MlflowProvider] = field(default_factory=dict)


# --------------------------------------------------------------------------- run-time resolution


def resolve_url(provider: PrometheusProvider, environ: Mapping[str, str]) -> str:
    """The provider's base URL (without a trailing slash), from the policy or the environment."""
    return _resolve(provider.url, provider.url_env, environ, f"prometheus provider {provider.name!r}")


def resolve_headers(provider: PrometheusProvider, environ: Mapping[str, str]) -> dict[str, str]:
    """The request headers, each value read from its environment variable."""
    headers: dict[str, str] = {}
    for header, var in provider.headers_env:
        value = environ.get(var)
        if not value:
            raise ProviderConfigError(
                f"prometheus provider {provider.name!r}: environment variable {var} (header {header}) "
                "is not set",
                f"set {var} (in GitHub Actions: `env: {var}: ${{{{ secrets.… }}}}`)",
            )
        if "\r" in value or "\n" in value:
            raise ProviderConfigError(
                f"prometheus provider {provider.name!r}: environment variable {var} holds a line break",
                f"set {var} to a single-line header value",
            )
        headers[header] = value
    return headers


def resolve_tracking_uri(provider: MlflowProvider, environ: Mapping[str, str]) -> str:
    """The MLflow tracking URI (without a trailing slash), from the policy or the environment."""
    return _resolve(
        provider.tracking_uri, provider.tracking_uri_env, environ, f"mlflow provider {provider.name!r}"
    )


def resolve_token(provider: MlflowProvider, environ: Mapping[str, str]) -> str | None:
    """The bearer token from ``token_env`` (None when the provider names no token)."""
    if provider.token_env is None:
        return None
    value = environ.get(provider.token_env)
    if not value:
        raise ProviderConfigError(
            f"mlflow provider {provider.name!r}: environment variable {provider.token_env} is not set",
            f"set {provider.token_env} to the tracking server's token",
        )
    return value


def _resolve(direct: str | None, var: str | None, environ: Mapping[str, str], who: str) -> str:
    if direct is not None:
        return direct.rstrip("/")
    assert var is not None  # the parser guarantees exactly one of the two
    value = environ.get(var, "").strip()
    if not value:
        raise ProviderConfigError(
            f"{who}: environment variable {var} is not set", f"set {var} to the server's http(s) URL"
        )
    if _url_problem(value) is not None:
        # The value may be a secret (a URL with credentials): never repeat it.
        raise ProviderConfigError(
            f"{who}: environment variable {var} is not a usable URL ({_url_problem(value)})",
            f"set {var} to an http(s) URL without user:password@",
        )
    return value.rstrip("/")


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a provider URL, or None. The reason never contains the URL."""
    match = _URL_RE.fullmatch(url)
    if match is None:
        return "it must start with http:// or https://"
    authority = match.group("authority")
    if "@" in authority:
        return "it carries credentials (user:password@); secrets never belong in the policy"
    if any(c.isspace() or ord(c) < 32 for c in url) or "#" in url:
        return "it has a #fragment, whitespace or control characters"
    if _HOST_RE.fullmatch(authority) is None:
        return "it has no host, or its host[:port] is malformed" if authority else "it has no host"
    return None


_URL_RE = re.compile(r"(?i)https?://(?P<authority>[^/?#]*)(?P<rest>[/?#].*)?", re.DOTALL)
_HOST_RE = re.compile(r"(?:[A-Za-z0-9._~%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


# --------------------------------------------------------------------------- parsing


class Fail(Protocol):
    """The policy loader's located error: ``fail(path, what, hint, key=...)`` never returns."""

    def __call__(self, path: Path, what: str, hint: str, *, key: bool = False) -> NoReturn: ...


def parse_providers(raw: Any, fail: Fail) -> Providers:
    """Validate the ``providers:`` mapping of the policy (``raw`` as parsed, None when absent)."""
    if raw is None:
        return Providers()
    top = _mapping(raw, ("providers",), PROVIDER_KINDS, "providers", fail)
    prometheus: dict[str, PrometheusProvider] = {}
    mlflow: dict[str, MlflowProvider] = {}
    for kind, body in top.items():
        where: Path = ("providers", kind)
        if body is None:
            continue
        if not isinstance(body, dict):
            fail(
                where, f"providers.{kind} must be a mapping of names", f"write `{kind}: {{<name>: {{...}}}}`"
            )
        for name, settings in body.items():
            if PROVIDER_NAME_RE.fullmatch(name) is None:
                fail(
                    (*where, name),
                    f"provider name {name!r} is not valid",
                    "use lowercase letters, digits, '_' and '-', starting with a letter or digit",
                    key=True,
                )
            if kind == "prometheus":
                prometheus[name] = _prometheus(name, settings, (*where, name), fail)
            else:
                mlflow[name] = _mlflow(name, settings, (*where, name), fail)
    return Providers(prometheus=prometheus, mlflow=mlflow)


def _prometheus(name: str, raw: Any, path: Path, fail: Fail) -> PrometheusProvider:
    what = f"prometheus provider {name!r}"
    data = _mapping(raw, path, ("url", "url_env", "headers_env", "timeout"), what, fail)
    url, url_env = _one_of(data, path, "url", "url_env", what, fail)
    headers: list[tuple[str, str]] = []
    if "headers_env" in data:
        hpath: Path = (*path, "headers_env")
        raw_headers = data["headers_env"]
        if raw_headers is None:
            raw_headers = {}
        if not isinstance(raw_headers, dict):
            fail(
                hpath,
                "headers_env must be a mapping of header name to environment variable",
                "write e.g. headers_env: {Authorization: PROMOBOT_PROM_AUTH}",
            )
        seen: set[str] = set()
        for header, var in raw_headers.items():
            if HEADER_RE.fullmatch(header) is None:
                fail(
                    (*hpath, header), f"{header!r} is not an HTTP header name", "e.g. Authorization", key=True
                )
            if header.lower() in seen:
                fail((*hpath, header), f"header {header!r} is listed twice", "keep one", key=True)
            seen.add(header.lower())
            headers.append((header, _env_var(var, (*hpath, header), f"headers_env.{header}", fail)))
    timeout = DEFAULT_TIMEOUT
    if "timeout" in data:
        value = data["timeout"]
        tpath: Path = (*path, "timeout")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not math.isfinite(value))  # an int of 400 digits is fine here
        ):
            fail(tpath, "timeout must be a number of seconds", "write e.g. timeout: 10")
        if not 0 < value <= MAX_TIMEOUT:
            shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}…"
            fail(
                tpath,
                f"timeout is {shown}, must be above 0 and at most {MAX_TIMEOUT:g} seconds",
                "a check that waits longer blocks the whole run; write e.g. timeout: 10",
            )
        timeout = float(value)
    return PrometheusProvider(
        name=name, url=url, url_env=url_env, headers_env=tuple(headers), timeout=timeout
    )


def _mlflow(name: str, raw: Any, path: Path, fail: Fail) -> MlflowProvider:
    what = f"mlflow provider {name!r}"
    data = _mapping(raw, path, ("tracking_uri", "tracking_uri_env", "token_env"), what, fail)
    uri, uri_env = _one_of(data, path, "tracking_uri", "tracking_uri_env", what, fail)
    token_env = (
        _env_var(data["token_env"], (*path, "token_env"), "token_env", fail) if "token_env" in data else None
    )
    return MlflowProvider(name=name, tracking_uri=uri, tracking_uri_env=uri_env, token_env=token_env)


def _one_of(
    data: Mapping[str, Any], path: Path, direct: str, env: str, what: str, fail: Fail
) -> tuple[str | None, str | None]:
    if (direct in data) == (env in data):
        fail(
            path,
            f"{what} needs exactly one of {direct} and {env}",
            f"write {direct}: https://… or {env}: <ENVIRONMENT_VARIABLE>",
        )
    if env in data:
        return None, _env_var(data[env], (*path, env), env, fail)
    value = data[direct]
    if not isinstance(value, str) or not value:
        fail((*path, direct), f"{direct} must be a non-empty string", f"write {direct}: https://…")
    problem = _url_problem(value)
    if problem is not None:
        fail(
            (*path, direct),
            f"{direct} is not a usable URL: {problem}",
            f"write {direct}: https://host[:port]",
        )
    return value.rstrip("/"), None


def _env_var(value: Any, path: Path, what: str, fail: Fail) -> str:
    # Never echo `value`: someone may have pasted the secret itself here.
    if not isinstance(value, str) or ENV_VAR_RE.fullmatch(value) is None:
        fail(
            path,
            f"{what} must name an environment variable (the value is read from it at run time)",
            "write a variable name such as PROMOBOT_PROM_AUTH — never the secret itself",
        )
    return value


def _mapping(raw: Any, path: Path, allowed: tuple[str, ...], what: str, fail: Fail) -> dict[str, Any]:
    if not isinstance(raw, dict):
        fail(path, f"{what} must be a mapping", "write it as `key: value` pairs")
    for key in raw:
        if key not in allowed:
            hint = f"the keys allowed here are {', '.join(allowed)} (check the spelling)"
            if key in ("headers", "token", "password"):
                hint += "; secrets are named by environment variable, e.g. headers_env / token_env"
            fail((*path, key), f"unknown key {key!r} in {what}", hint, key=True)
    return raw
