"""The full fault-injection matrix: every flow × every request index × every fault kind.

For each flow in ``tests.github_setup.FLOWS`` the scenario is set up once on the GitHub
emulator and run fault-free to record its end state and its request count N; then for
every k in 1..N and every fault kind (``5xx``, ``secondary-rate-limit``, ``drop``,
``drop-after`` — applied, answer lost —, ``rate-limit`` — GitHub's primary limit: 403 with
``X-RateLimit-Remaining: 0``, the run stops with exit 3 — and ``outage`` — three 502 in a
row, retries exhausted) the scenario is forked, request k fails, the event runs, runs again without a
fault, and the end state is compared with the fault-free one.

    python benchmarks/faults.py                      # everything, 2 worker processes
    python benchmarks/faults.py --flows open-pr,promote-merge --kinds drop-after --jobs 4

Prints one line per case that did not converge and ends with
``flows × faults: N/N converged``; exits 1 when any case did not converge.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# The scenarios live in the test helpers: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.github_setup import FLOWS, MATRIX_KINDS, Case, prepare, run_case


def run_flow(flow: str, kinds: tuple[str, ...]) -> tuple[str, int, str, list[Case], float]:
    """Every (k, kind) case of ``flow``; returns (flow, N, fault-free ending, cases, seconds)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"faults-{flow}-") as tmp, prepare(flow, Path(tmp)) as p:
        cases = [
            run_case(p, k, kind, Path(tmp) / f"case-{k}-{kind}")
            for kind in kinds
            for k in range(1, p.requests + 1)
        ]
        return flow, p.requests, p.ended, cases, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", default=",".join(FLOWS), help="comma-separated flow names")
    parser.add_argument("--kinds", default=",".join(MATRIX_KINDS), help="comma-separated fault kinds")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one flow each)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the retries' warnings are expected here
    flows = [f for f in args.flows.split(",") if f]
    kinds = tuple(k for k in args.kinds.split(",") if k)
    unknown = [f for f in flows if f not in FLOWS] + [k for k in kinds if k not in MATRIX_KINDS]
    if unknown:
        parser.error(f"unknown flow or fault kind: {', '.join(unknown)}")

    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_flow, flows, [kinds] * len(flows)))
    total = converged = 0
    failed: list[Case] = []
    print(f"{'flow':<16} {'N':>3} {'cases':>6} {'converged':>10} {'seconds':>8}")
    for flow, n, ended, cases, seconds in results:
        ok = [c for c in cases if c.converged]
        total += len(cases)
        converged += len(ok)
        failed += [c for c in cases if not c.converged]
        note = "" if ended == "ok" else f"  (fault-free run: {ended})"
        print(f"{flow:<16} {n:>3} {len(cases):>6} {len(ok):>10} {seconds:>8.1f}{note}")
    if failed:
        print("\ndid not converge:")
        for case in failed:
            parts = ", ".join(d.split(":", 1)[0] for d in case.diffs)
            print(f"  {case.id}: first run: {case.first[:160]}; re-run: {case.second[:100]}")
            print(f"    differs: {parts}")
    print(f"\nwall time: {time.monotonic() - started:.1f} s with {args.jobs} worker(s)")
    print(f"flows × faults: {converged}/{total} converged")
    return 0 if converged == total else 1


if __name__ == "__main__":
    sys.exit(main())
