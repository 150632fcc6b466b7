"""Measure the DESIGN §14 budgets: median wall time of whole `promobot` processes.

    python benchmarks/run.py [--runs 5] [--work DIR] [--quick]

Builds (once, cached under --work) synthetic repositories with benchmarks/generate.py and
prints, side by side in one run:
  floor          python start-up + one PyYAML CSafeLoader parse of every manifest (the floor)
  status cold    `promobot status` with its cache removed before every run
  status warm    `promobot status` again, nothing changed
  history        `promobot history model-0000 --env prod` with and without a commit-graph
  --help         `promobot --help`
Every figure is the median of --runs runs (default 5).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
# Measure what users get: byte-code caches on (a PYTHONDONTWRITEBYTECODE=1 shell would
# recompile every module on every run and measure the compiler instead).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
FLOOR = (
    "import sys, yaml, pathlib\n"
    "L = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)\n"
    "n = 0\n"
    "for p in pathlib.Path(sys.argv[1], 'environments').glob('*/*.yaml'):\n"
    "    yaml.load(p.read_bytes(), Loader=L); n += 1\n"
    "print(n)\n"
)


def timed(argv: list[str], *, cwd: Path | None = None, before: object = None, runs: int) -> float:
    samples = []
    for _ in range(runs):
        if callable(before):
            before()
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def repo(work: Path, models: int, commits: int, *, graph: bool) -> Path:
    name = f"m{models}-c{commits}{'-graph' if graph else ''}"
    path = work / name
    if not (path / ".git").exists():
        if path.exists():
            shutil.rmtree(path)
        args = [PY, str(HERE / "generate.py"), str(path), "--models", str(models), "--commits", str(commits)]
        if graph:
            args.append("--commit-graph")
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return path


def promobot(path: Path, *args: str) -> list[str]:
    return [PY, "-m", "bot", "--repo", str(path), "--forge", "local", *args]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument(
        "--quick", action="store_true", help="skip the 10,000-model and 20,000-commit repositories"
    )
    parser.add_argument("--site-only", action="store_true", help="only `promobot site` beside `status`")
    ns = parser.parse_args()
    ns.work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []

    def row(what: str, seconds: float, budget: str = "") -> None:
        rows.append({"what": what, "seconds": round(seconds, 3), "budget": budget})
        print(f"{what:<48} {seconds:8.3f} s   {budget}", flush=True)

    print(f"median of {ns.runs} runs, python {sys.version.split()[0]}")
    if ns.site_only:
        site_vs_status(ns.work, ns.runs, row)
        return
    subprocess.run([PY, "-m", "bot", "--help"], check=True, stdout=subprocess.DEVNULL, env=ENV)  # warm .pyc
    row("promobot --help", timed([PY, "-m", "bot", "--help"], runs=ns.runs), "≤ 0.25 s")
    sizes = [100, 1000] if ns.quick else [100, 1000, 10000]
    for models in sizes:
        path = repo(ns.work, models, 100, graph=False)
        cache = path / ".git" / "promobot" / "cache.pickle"
        floor = timed([PY, "-c", FLOOR, str(path)], runs=ns.runs)
        row(f"floor: parse {models * 3} manifests", floor)
        cold = timed(promobot(path, "status"), before=lambda c=cache: c.unlink(missing_ok=True), runs=ns.runs)
        row(f"status cold, {models} models", cold, f"{cold / floor:.2f}× floor (≤ 1.3× at 1,000)")
        subprocess.run(promobot(path, "status"), check=True, stdout=subprocess.DEVNULL)
        warm = timed(promobot(path, "status"), runs=ns.runs)
        budget = {1000: "≤ 0.2 s", 10000: "≤ 1 s"}.get(models, "")
        row(f"status warm, {models} models", warm, budget)
    path = repo(ns.work, 1000, 100, graph=False)

    def fresh_forge(path: Path = path) -> None:
        (path / ".git" / "promobot" / "forge.json").unlink(missing_ok=True)
        subprocess.run(
            ["git", "-C", str(path), "branch", "-D", "promobot/staging/model-0022"],
            capture_output=True,
            check=False,
        )

    t = timed(promobot(path, "promote", "model-0022", "--to", "staging"), before=fresh_forge, runs=ns.runs)
    row("promote (opens the PR), 1000 models", t, "≤ 1 s + command/artifact gates")
    t = timed(promobot(path, "promote", "model-0022", "--to", "staging"), runs=ns.runs)
    row("promote again (nothing new), 1000 models", t)
    site_vs_status(ns.work, ns.runs, row)
    for commits in [1000] if ns.quick else [1000, 20000]:
        for graph in (False, True):
            path = repo(ns.work, 1000, commits, graph=graph)
            t = timed(promobot(path, "history", "model-0000", "--env", "prod"), runs=ns.runs)
            budget = ("≤ 0.1 s" if graph else "≤ 0.5 s") if commits == 20000 else ""
            row(f"history, {commits} commits, {'with' if graph else 'without'} commit-graph", t, budget)
            t = timed(promobot(path, "history", "model-0000"), runs=ns.runs)
            row(f"history (3 envs), {commits} commits, {'with' if graph else 'without'} graph", t)
    (ns.work / "results.json").write_text(json.dumps(rows, indent=2))


def site_vs_status(work: Path, runs: int, row: Callable[[str, float, str], None]) -> None:
    """`promobot site` on the 1,000-model repository, side by side with `promobot status`.

    Budget (README: the dashboard): site ≤ 2× status, cold (every promobot cache and the earlier
    site removed before each run) and warm (nothing changed: unchanged model pages are reused).
    The repository's forge holds the open PR that the promote rows opened.
        python benchmarks/run.py --site-only   # this pair alone
    """
    path = repo(work, 1000, 100, graph=False)
    out = work / "site-m1000"

    def cold(path: Path = path) -> None:
        shutil.rmtree(out, ignore_errors=True)  # no earlier site whose pages could be reused
        state = path / ".git" / "promobot"
        for item in state.iterdir() if state.is_dir() else []:
            if item.name == "forge.json":
                continue
            if item.is_dir():
                shutil.rmtree(item)
            else:
                item.unlink()

    for label, before in (("cold", cold), ("warm", None)):
        if before is None:
            subprocess.run(promobot(path, "site", "--out", str(out)), check=True, stdout=subprocess.DEVNULL)
        status = timed(promobot(path, "status"), before=before, runs=runs)
        site = timed(promobot(path, "site", "--out", str(out)), before=before, runs=runs)
        row(f"status {label}, 1000 models (site's yardstick)", status, "")
        row(f"site {label}, 1000 models, {sum(1 for _ in (out / 'models').iterdir())} pages", site,
            f"{site / status:.2f}× status (≤ 2×)")  # fmt: skip


if __name__ == "__main__":
    main()
