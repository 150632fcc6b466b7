"""Prometheus's HTTP API (reference §15) — ``/api/v1/query_range`` and ``/api/v1/query``, nothing more.

Two endpoints do not justify a client package: each request is one standard-library POST
(form-encoded, so long queries never hit a URL length limit) with the provider's headers
(values from the environment, see :mod:`bot.core.providers`), the provider's timeout, an
explicit ``time``/``end`` taken from promobot's clock, and no hidden retries: a re-run is the
retry. Results become :class:`bot.core.promql.Series` at once.

Errors: an unreachable server, a timeout, 5xx, 401/403 or 429 raise
:class:`PrometheusUnavailable` (gates turn it into ``pending``); a query Prometheus refuses
(400/422 ``bad_data``) raises :class:`PrometheusQueryError`. No error, log line or ``repr``
contains a header value: messages name the provider and the endpoint only.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from bot.core.promql import Evidence, PrometheusGate, Series
from bot.core.providers import PrometheusProvider, resolve_headers, resolve_url
from bot.errors import BotError, OutageError

MAX_BODY = 16 * 1024 * 1024
"""Largest response read (11,000 points of a few series is far below this)."""
MAX_ERROR_TEXT = 300


class PrometheusUnavailable(OutageError):
    """Prometheus could not be reached, timed out, refused our credentials or failed (5xx)."""


class PrometheusQueryError(BotError):
    """Prometheus refused the query itself (a PromQL error): fix the query in the policy."""


class PrometheusClient:
    """A client for one provider. Header values are kept out of ``repr`` and every message."""

    def __init__(self, provider: PrometheusProvider, environ: Mapping[str, str]) -> None:
        self.name = provider.name
        self.timeout = provider.timeout
        self._base = resolve_url(provider, environ)
        self._headers = resolve_headers(provider, environ)

    def __repr__(self) -> str:
        return f"PrometheusClient({self.name!r})"

    def query_range(self, query: str, *, start: float, end: float, step: float) -> tuple[Series, ...]:
        """A range query (unix seconds); every series with its points in time order."""
        data = self._call(
            "/api/v1/query_range", {"query": query, "start": _ts(start), "end": _ts(end), "step": _ts(step)}
        )
        if data.get("resultType") != "matrix":
            raise PrometheusQueryError(
                f"prometheus provider {self.name!r}: the range query gave a {data.get('resultType')!r}",
                "write a query that returns an instant vector (it is evaluated at every step)",
            )
        return tuple(
            Series(_labels(item.get("metric")), tuple(_point(p) for p in item.get("values") or ()))
            for item in _result_list(data)
        )

    def query(self, query: str, *, at: float) -> tuple[Series, ...]:
        """An instant query at ``at`` (unix seconds); a scalar comes back as one unlabelled series."""
        data = self._call("/api/v1/query", {"query": query, "time": _ts(at)})
        kind = data.get("resultType")
        if kind == "scalar":
            return (Series((), (_point(data.get("result")),)),)
        if kind != "vector":
            raise PrometheusQueryError(
                f"prometheus provider {self.name!r}: the instant query gave a {kind!r}",
                "write a query that returns one number, e.g. sum(increase(...[2h]))",
            )
        return tuple(
            Series(_labels(item.get("metric")), (_point(item.get("value")),)) for item in _result_list(data)
        )

    def _call(self, endpoint: str, params: Mapping[str, str]) -> dict[str, Any]:
        who = f"prometheus provider {self.name!r}: {endpoint}"
        body = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is http(s), checked by providers.py
            self._base + endpoint,
            data=body,
            method="POST",
            headers={
                **self._headers,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": "promobot",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                raw = response.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            status = exc.code
            text = _error_text(exc.read(64 * 1024))
            exc.close()
            if status in (400, 422):
                raise PrometheusQueryError(
                    f"{who} refused the query (HTTP {status}: {text})", "fix the query in promotion.yaml"
                ) from None
            hint = (
                "check the variables the provider's headers_env names"
                if status in (401, 403)
                else "re-run later (/retest)"
            )
            raise PrometheusUnavailable(f"{who} answered HTTP {status} ({text})", hint) from None
        except TimeoutError:
            raise PrometheusUnavailable(
                f"{who} did not answer within {self.timeout:g} s", "re-run later (/retest)"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            reason_text = type(reason).__name__ if not isinstance(reason, str) else reason
            if isinstance(reason, OSError) and reason.strerror:
                reason_text = reason.strerror
            raise PrometheusUnavailable(
                f"{who} could not be reached ({reason_text})", "re-run later (/retest)"
            ) from None
        if len(raw) > MAX_BODY:
            raise PrometheusUnavailable(f"{who} answered more than {MAX_BODY} bytes", "narrow the query")
        try:
            doc = json.loads(raw)
        except ValueError:
            raise PrometheusUnavailable(
                f"{who} did not answer JSON (is the URL a Prometheus?)", "check url"
            ) from None
        if (
            not isinstance(doc, dict)
            or doc.get("status") != "success"
            or not isinstance(doc.get("data"), dict)
        ):
            raise PrometheusUnavailable(f"{who} answered {_error_text(raw)}", "check url") from None
        data: dict[str, Any] = doc["data"]
        return data


def collect(
    client: PrometheusClient,
    gate: PrometheusGate,
    query: str,
    traffic_query: str | None,
    *,
    start: float,
    end: float,
) -> Evidence:
    """Run one gate's queries over ``[start, end]``; an outage becomes ``Evidence.error``.

    A query Prometheus refuses is not an outage: :class:`PrometheusQueryError` propagates.
    """
    try:
        series = client.query_range(query, start=start, end=end, step=gate.step)
        traffic = client.query(traffic_query, at=end) if traffic_query is not None else None
    except PrometheusUnavailable as exc:
        return Evidence(query=query, start=start, end=end, traffic_query=traffic_query, error=exc.what)
    return Evidence(
        query=query,
        start=start,
        end=end,
        series=series,
        traffic_query=traffic_query,
        traffic=traffic,
    )


def _ts(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _result_list(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    result = data.get("result")
    if not isinstance(result, list) or not all(isinstance(item, dict) for item in result):
        raise PrometheusUnavailable("Prometheus answered a malformed result", "check the provider's url")
    return result


def _labels(metric: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(metric, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in metric.items()))


def _point(raw: Any) -> tuple[float, float]:
    """``[1700000000.5, "0.25"]`` → ``(1700000000.5, 0.25)``; "NaN" and "+Inf" stay floats."""
    try:
        ts, value = raw
        point = (float(ts), float(value))
    except (TypeError, ValueError):
        raise PrometheusUnavailable(
            "Prometheus answered a malformed point", "check the provider's url"
        ) from None
    if not math.isfinite(point[0]):
        raise PrometheusUnavailable("Prometheus answered a malformed timestamp", "check the provider's url")
    return point


def _error_text(raw: bytes) -> str:
    """Prometheus's ``error`` field (or the body's start), on one line and short."""
    text = raw.decode("utf-8", "replace")
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and isinstance(doc.get("error"), str):
            text = f"{doc.get('errorType', 'error')}: {doc['error']}"
    except ValueError:
        pass
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "…"
