"""A real Prometheus over deterministic data, for the live-data gates and verification tests.

``.ci/install-prometheus.sh`` installs Debian's ``prometheus`` package (``prometheus`` and
``promtool``). The ``prometheus_server`` fixture, once per test session (per xdist worker):

1. writes :data:`SERIES` as OpenMetrics text (samples ascending per series, ``# EOF`` last —
   promtool silently drops out-of-order samples) and backfills it with
   ``promtool tsdb create-blocks-from openmetrics`` into a fresh data directory;
2. starts ``prometheus`` on a free loopback port with ``--storage.tsdb.retention.time=100y``
   (retention counts from the newest block: without it old backfilled blocks are deleted at
   start) and HTTP basic auth (a web config with a fixed bcrypt hash), so every test also
   proves the provider's ``headers_env`` reach the server;
3. waits for ``/-/ready`` and, at the end, stops its whole process group.

The data lives in the four hours before the tests' clock (``tests.conftest.NOW``), one sample
a minute. Counters are ``http_requests_total{model, version, env, code}``; the scenarios:

- ``1.4.0`` healthy: 10 req/s, 0.01 req/s of them 5xx (error ratio ≈ 0.001);
- ``1.5.0`` breaching: like 1.4.0, but 2 req/s of 5xx from :data:`BREACH_START` for 10 minutes;
- ``1.6.0`` has no data at all;
- ``1.7.0`` served no traffic for the first three hours (0/0 = NaN points), then like 1.4.0;
- :data:`HOSTILE` a version label holding quotes, a backslash and ``"}``, with a bad error ratio,
  so an escaping bug would either miss it or match other versions.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.servers import free_port, unavailable

MODEL = "fraud-detector"
ENV = "staging"
NOW = "2026-11-27T10:00:00Z"
"""The tests' clock (``tests.conftest.NOW``): the data ends here."""
END = int(datetime.fromisoformat(NOW.replace("Z", "+00:00")).timestamp())
START = END - 4 * 3600
STEP = 60
BREACH_START = START + 2 * 3600
HOSTILE = 'x"} or vector(1) or {a="\\'
USER = "promobot"
PASSWORD = "promobot-test-password"
BCRYPT = "$2b$04$hy6UbTXT.fbF4epqUEqhe.yzPwaeHsoo7jlNhebBfnuvj2g1tPqCi"
"""bcrypt of PASSWORD (cost 4): Prometheus's web config stores only the hash."""
AUTH_HEADER = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
START_TIMEOUT = 60.0

Rate = Callable[[int], float]
"""Requests per second at unix time t."""


def _steady(rate: float) -> Rate:
    return lambda t: rate


def _breach(t: int) -> float:
    return 2.0 if BREACH_START <= t < BREACH_START + 600 else 0.01


def _late(rate: float) -> Rate:
    return lambda t: rate if t >= START + 3 * 3600 else 0.0


SCENARIOS: dict[str, tuple[Rate, Rate]] = {
    # version: (2xx rate, 5xx rate)
    "1.4.0": (_steady(10.0), _steady(0.01)),
    "1.5.0": (_steady(10.0), _breach),
    "1.7.0": (_late(10.0), _late(0.01)),
    HOSTILE: (_steady(1.0), _steady(1.0)),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def openmetrics() -> str:
    """The whole data set as OpenMetrics text, samples ascending per series, ``# EOF`` last."""
    lines = ["# TYPE http_requests counter"]
    for version, (ok_rate, err_rate) in SCENARIOS.items():
        for code, rate in (("200", ok_rate), ("500", err_rate)):
            labels = f'code="{code}",env="{ENV}",model="{MODEL}",version="{_escape(version)}"'
            total = 0.0
            for t in range(START, END + 1, STEP):
                lines.append(f"http_requests_total{{{labels}}} {total:.3f} {t}")
                total += rate(t) * STEP
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@dataclass
class PrometheusServer:
    url: str
    headers: dict[str, str]
    log: Path
    startup_seconds: float


def _ready(url: str) -> bool:
    request = urllib.request.Request(f"{url}/-/ready", headers={"Authorization": AUTH_HEADER})
    try:
        with urllib.request.urlopen(request, timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group: TERM, then KILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class PrometheusStartError(RuntimeError):
    """Prometheus could not be started (the message says why, with the end of its log)."""


@contextlib.contextmanager
def running_prometheus(base: Path) -> Iterator[PrometheusServer]:
    """A real Prometheus serving :func:`openmetrics` behind basic auth from ``base``, stopped at the end.

    Outside pytest too (``benchmarks/faults.py``); ``PrometheusStartError`` when it cannot start.
    """
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    if prometheus is None or promtool is None:
        raise FileNotFoundError("prometheus/promtool not installed — run .ci/install-prometheus.sh")
    started = time.monotonic()
    source = base / "data.om"
    source.write_text(openmetrics())
    backfill = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(base / "data")],
        capture_output=True,
        text=True,
        check=False,
    )
    if backfill.returncode != 0:
        raise PrometheusStartError(
            f"promtool backfill failed:\n{backfill.stdout[-2000:]}\n{backfill.stderr[-2000:]}"
        )
    (base / "web.yml").write_text(f"basic_auth_users:\n  {USER}: {BCRYPT}\n")
    (base / "prometheus.yml").write_text("global: {}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                prometheus,
                f"--config.file={base / 'prometheus.yml'}",
                f"--web.config.file={base / 'web.yml'}",
                f"--storage.tsdb.path={base / 'data'}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=base,
            start_new_session=True,  # its own process group, so _stop reaches every child
        )
    try:
        while not _ready(url):
            if proc.poll() is not None:
                raise PrometheusStartError(
                    f"prometheus exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
                )
            if time.monotonic() - started > START_TIMEOUT:
                raise PrometheusStartError(
                    f"prometheus not ready after {START_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}"
                )
            time.sleep(0.05)  # polling a real server's start-up, not waiting on the test's clock
        yield PrometheusServer(
            url=url,
            headers={"Authorization": AUTH_HEADER},
            log=log,
            startup_seconds=time.monotonic() - started,
        )
    finally:
        with contextlib.suppress(Exception):
            _stop(proc)


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus serving :func:`openmetrics` behind basic auth, stopped at the end."""
    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        unavailable("prometheus/promtool not installed — run .ci/install-prometheus.sh")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    try:
        with running_prometheus(tmp_path_factory.mktemp("prometheus")) as server:
            yield server
    except PrometheusStartError as exc:
        pytest.fail(str(exc))
