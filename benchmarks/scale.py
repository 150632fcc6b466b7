"""GitHub requests and wall time at scale, counted at the emulator (issue #18, reference §14).

    python benchmarks/scale.py [--prs 100,1000] [--models 1000] [--latency 0.3] [--validate]

For each number of open PRs N: a repository of ``--models`` models (``tests/scale_setup.py``:
dev → staging → prod; prod needs two approvals, a 24 h soak and no freeze) with N open prod
promotion PRs, a tenth of them still soaking for an hour, all set up by promobot itself on
the GitHub emulator. Then, each as one workflow run on a simulated clock:

- **idle schedule** — a scheduled run when nothing is due;
- **10 % due** — a scheduled run after the soaking tenth's soak ended;
- **push, 100 manifests** — a push that changes 100 dev manifests: staging auto-promotes, so
  promobot opens 100 staging PRs;
- **review** — a review event on a busy repository (the mean and the worst of 10).

Requests are what the emulator answered. Wall time is *computed*, never slept: PyGithub's own
pacing against api.github.com (0.25 s after each request ends, 1 s between writes — what
promobot keeps) plus ``--latency`` seconds of GitHub's answer time per request, plus the time
promobot itself spent here (git, YAML, the emulator's answers: the "local" column). The
hourly limits beside them: ``GITHUB_TOKEN`` 1,000 requests an hour per repository, a GitHub App
installation 5,000 (up to 12,500 on large organisations; 15,000 on Enterprise Cloud).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.actions import load_event
from bot.app.events import dispatch, on_review
from bot.core.events import ScheduleEvent
from tests.emulator import Emulator, RequestRecord
from tests.github_setup import push_payload
from tests.scale_setup import NOW, Busy, manifest, model_name, seed

GET_GAP = 0.25  # PyGithub's seconds_between_requests against api.github.com
WRITE_GAP = 1.0  # PyGithub's seconds_between_writes
TOKEN_PER_HOUR = 1_000
APP_PER_HOUR = 5_000
SCHEDULE_RUNS_PER_HOUR = 2  # the workflow's */30 cron


@dataclass
class Row:
    scenario: str
    prs: int
    requests: int
    writes: int
    github_s: float
    local_s: float

    @property
    def wall_s(self) -> float:
        return self.github_s + self.local_s


def github_seconds(requests: list[RequestRecord], latency: float) -> float:
    """PyGithub's pacing as it would run against api.github.com, plus ``latency`` per answer."""
    clock = 0.0
    last_end: float | None = None
    last_write_end: float | None = None
    for record in requests:
        start = clock if last_end is None else max(clock, last_end + GET_GAP)
        if record.method != "GET" and last_write_end is not None:
            start = max(start, last_write_end + WRITE_GAP)
        end = start + latency
        last_end = clock = end
        if record.method != "GET":
            last_write_end = end
    return clock


def measure(busy: Busy, scenario: str, latency: float, run: Callable[[], object]) -> Row:
    busy.emu.reset_counts()
    started = time.perf_counter()
    run()
    local = time.perf_counter() - started
    requests = list(busy.emu.requests)
    writes = sum(1 for r in requests if r.method != "GET")
    return Row(scenario, busy.prs, len(requests), writes, github_seconds(requests, latency), local)


def scenarios(root: Path, *, models: int, prs: int, latency: float, validate: bool) -> list[Row]:
    rows: list[Row] = []
    with Emulator(root / "github", validate=validate) as emu:
        started = time.perf_counter()
        busy = seed(emu, root / "work", models=models, prs=prs, late=prs // 10)
        print(
            f"  set up {prs} open PRs in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True
        )
        schedule = ScheduleEvent("*/30 * * * *")

        def scheduled(minutes: int) -> Callable[[], object]:
            return lambda: dispatch(schedule, busy.context(now=NOW + timedelta(minutes=minutes)))

        rows.append(measure(busy, "idle schedule", latency, scheduled(30)))
        rows.append(measure(busy, "10 % due", latency, scheduled(120)))
        rows.append(measure(busy, "idle schedule, after", latency, scheduled(150)))

        changed = {
            f"environments/dev/{model_name(i)}.yaml": manifest(model_name(i), "3.0.0", "dev")
            for i in range(min(100, models))
        }
        before, after = busy.push(changed, "Retrain 100 models", date=NOW + timedelta(hours=3))
        event = push_payload(before, after, sorted(changed))
        loaded = load_event(name="push", payload=event, environ={})
        rows.append(
            measure(
                busy,
                "push, 100 manifests",
                latency,
                lambda: dispatch(loaded, busy.context(now=NOW + timedelta(hours=3))),
            )
        )

        reviews: list[Row] = []
        for number in range(1, min(prs, 10) + 1):
            busy.emu.submit_review(number, "carol", "APPROVE")
            reviews.append(
                measure(
                    busy,
                    "review",
                    latency,
                    lambda n=number: on_review(busy.context(now=NOW + timedelta(hours=4)), n),  # type: ignore[misc]
                )
            )
        worst = max(reviews, key=lambda r: r.requests)
        mean = Row(
            "review (mean of 10)",
            prs,
            round(sum(r.requests for r in reviews) / len(reviews)),
            round(sum(r.writes for r in reviews) / len(reviews)),
            sum(r.github_s for r in reviews) / len(reviews),
            sum(r.local_s for r in reviews) / len(reviews),
        )
        rows += [
            mean,
            Row("review (worst of 10)", prs, worst.requests, worst.writes, worst.github_s, worst.local_s),
        ]
        if emu.openapi_errors:
            print("OpenAPI mismatches:\n  " + "\n  ".join(emu.openapi_errors), file=sys.stderr)
    return rows


def largest(per_run: Callable[[int], float], limit: int) -> int:
    """The largest N whose scheduled runs (twice an hour) use at most half of ``limit``."""
    lo, hi = 0, 1_000_000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if per_run(mid) * SCHEDULE_RUNS_PER_HOUR <= limit / 2:
            lo = mid
        else:
            hi = mid - 1
    return lo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prs", default="100,1000", help="comma-separated numbers of open PRs")
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.3, help="GitHub's answer time per request (s)")
    parser.add_argument(
        "--validate", action="store_true", help="check every request against OpenAPI (slower)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    rows: list[Row] = []
    for prs in (int(p) for p in args.prs.split(",") if p):
        print(f"N = {prs} open PRs, {args.models} models …", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix=f"scale-{prs}-") as tmp:
            rows += scenarios(
                Path(tmp), models=args.models, prs=prs, latency=args.latency, validate=args.validate
            )

    print(
        "| scenario | open PRs | requests | of which writes | "
        f"wall time (GitHub: {args.latency:.2f} s/answer + pacing; local) | idle budget ⌈N/100⌉+2 |"
    )
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        budget = ""
        if r.scenario.startswith("idle"):
            cap = math.ceil(r.prs / 100) + 2
            budget = f"≤ {cap} {'✓' if r.requests <= cap else '✗'}"
        print(
            f"| {r.scenario} | {r.prs:,} | {r.requests:,} | {r.writes:,} | "
            f"{r.wall_s:,.1f} s ({r.github_s:,.1f} + {r.local_s:,.1f}) | {budget} |"
        )
    due = [r for r in rows if r.scenario == "10 % due"]
    if due:
        per_pr = max(r.requests / max(1, r.prs // 10) for r in due)
        print()
        print(
            f"a due PR costs about {per_pr:.1f} requests; a scheduled run about ⌈N/100⌉ + due × {per_pr:.1f}"
        )
        for name, limit in (("GITHUB_TOKEN", TOKEN_PER_HOUR), ("GitHub App", APP_PER_HOUR)):
            idle = largest(lambda n: math.ceil(n / 100) + 2, limit)
            busy = largest(lambda n: math.ceil(n / 100) + 2 + n / 10 * per_pr, limit)
            print(
                f"{name} ({limit:,}/h), half of it for the schedule (2 runs an hour): "
                f"{idle:,} open PRs when nothing is due, {busy:,} when 10 % are due every run"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
