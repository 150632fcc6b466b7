"""Measure the performance budgets: median wall time of whole `promobot` processes.

    python benchmarks/run.py [--runs 5] [--work DIR] [--quick] [--only SUBSTRING]

Builds (once, cached under --work) synthetic repositories with benchmarks/generate.py, then
measures every row below side by side: each round runs every row once, in order, and each
figure is the median of --runs rounds, so that a busy machine slows the figures and the
limits they are compared with alike. Every figure is printed beside its budget and beside the
limit it is measured against, as a ratio:

  python -c pass   interpreter start-up: the floor of --help and of every warm command
  parse floor      start-up + one PyYAML CSafeLoader parse of every manifest: the floor of a
                   cold status (the budget is a ratio to it)
  start-up + git   interpreter start-up, then exactly the git processes a cold `history` runs
                   (side by side), their output read: the floor of a cold history

Every row runs promobot as users run it: the `promobot` console script of a virtualenv
(WORK/venv) where promobot is installed from its wheel, built from this checkout once per
change of its sources. An editable install (`pip install -e`, the development setup) makes
every process import setuptools' editable finder before anything else (about 20 ms of
`pathlib`, `importlib.util` and `fnmatch` on this machine), which no user pays; `--checkout`
measures `python -m bot` with this interpreter instead. The virtualenv reuses this
interpreter's installed packages (click, PyYAML, jinja2, …) through a `.pth` line, so it
needs no network.

A row is a `Row` (what, argv, optional `before` hook, budget, limit); add one to `rows()` to
measure something new. `--only` keeps the rows whose name contains the text (the limits
they are compared with, and those limits' own limits, are always kept). Results also go to WORK/results.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
"""The interpreter of every row: this one, or WORK/venv's once `installed` has made it."""
PROMOBOT = [PY, "-m", "bot"]
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
HOT = "model-0000"
"""The model with the longest history in generated repositories (about 5 % of the commits)."""
# What a cold `promobot history model-0000` asks git (bot/adapters/git.py, GitWorkspace._log):
# one `git log --topo-order -p` over the model's three manifests; with changed-path Bloom
# filters in the commit-graph, one `git log -p` per manifest and one `git rev-list --topo-order`
# that orders them, side by side (git 2.39 consults the filters only for a single pathspec).
LOG = [
    "-c", "log.follow=false", "-c", "log.showSignature=false", "-c", "core.quotePath=false",
    "-c", "core.deltaBaseCacheLimit=8m",
    "log", "-p", "--unified=0", "--no-ext-diff", "--no-textconv", "--no-color",
    "--no-renames", "--diff-merges=first-parent", "--src-prefix=a/", "--dst-prefix=b/",
    "--format=%x00%H%x00%ct%x00%an%x00%s%x00%(trailers:only=true,unfold=true,separator=%x01)%x00",
]  # fmt: skip
HOT_PATHS = [f"environments/{env}/{HOT}.yaml" for env in ("dev", "staging", "prod")]
HISTORY_FLOOR = (
    "import json, subprocess, sys, threading\n"
    "procs = [subprocess.Popen(a, stdout=subprocess.PIPE) for a in json.loads(sys.argv[1])]\n"
    "threads = [threading.Thread(target=p.communicate) for p in procs]\n"
    "for t in threads: t.start()\n"
    "for t in threads: t.join()\n"
)
"""The floor of a cold `history`: interpreter start-up, then exactly the git processes it runs
(side by side, their output read), and nothing else: no promobot import, no parsing."""


PROPOSED_COLD_HISTORY = 0.2
"""The contract change benchmarks/README.md proposes for a cold ``history``: at most its floor
(start-up + exactly the git processes it runs) plus 0.2 s — the warm budget (0.15 s: start-up,
imports, the answer) and 0.05 s to parse and store what git printed — instead of 0.3 s / 0.5 s,
which git alone nearly or wholly takes on this 2-core machine with git 2.39."""


def history_git(path: Path, *, graph: bool) -> list[list[str]]:
    """The git processes a cold `promobot history model-0000` runs in ``path``."""
    git = ["git", "-C", str(path)]
    if not graph:
        return [[*git, *LOG, "--topo-order", "main", "--", *HOT_PATHS]]
    return [
        [*git, "rev-list", "--topo-order", "main", "--"],
        *([*git, *LOG, "main", "--", p] for p in HOT_PATHS),
    ]


@dataclass
class Row:
    what: str
    argv: list[str]
    before: Callable[[], None] | None = None
    budget: float | None = None
    """Seconds; or, with ``budget_is_ratio``, a multiple of the limit."""
    budget_is_ratio: bool = False
    limit: str | None = None
    """The ``what`` of the row this one is compared with."""
    proposed: float | None = None
    """A proposed budget, seconds over the limit, printed beside the contract's (cold
    ``history``: the absolute budgets are at or below git's own time on 2 cores; README)."""
    samples: list[float] = field(default_factory=list)

    def sample(self) -> None:
        if self.before is not None:
            self.before()
        start = time.perf_counter()
        subprocess.run(self.argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        self.samples.append(time.perf_counter() - start)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def repo(work: Path, models: int, commits: int, *, graph: bool) -> Path:
    name = f"m{models}-c{commits}{'-graph' if graph else ''}"
    path = work / name
    if not (path / ".git").exists():
        if path.exists():
            shutil.rmtree(path)
        print(f"generating {name} (once; cached in {work}) …", flush=True)
        args = [PY, str(HERE / "generate.py"), str(path), "--models", str(models), "--commits", str(commits)]
        if graph:
            args.append("--commit-graph")
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return path


def promobot(path: Path, *args: str) -> list[str]:
    return [*PROMOBOT, "--repo", str(path), "--forge", "local", *args]


def _sources_digest() -> str:
    """What the installed wheel is built from: pyproject.toml and every file under bot/."""
    digest = hashlib.sha256()
    for p in sorted([ROOT / "pyproject.toml", *(ROOT / "bot").rglob("*")]):
        if p.is_file() and "__pycache__" not in p.parts:
            digest.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def installed(work: Path) -> tuple[str, list[str]]:
    """(python, promobot command) of WORK/venv, where promobot is installed from its wheel.

    Rebuilt when the sources change (a digest of them is kept beside it). The virtualenv has
    no packages of its own but promobot: a `.pth` line adds this interpreter's site-packages
    (lines in a `.pth` file only extend `sys.path`; the `.pth` files of the directory they
    name, such as the editable install's finder hook, are not run)."""
    venv = work / "venv"
    stamp = venv / "promobot-sources.sha256"
    digest = _sources_digest()
    python, script = venv / "bin" / "python", venv / "bin" / "promobot"
    if not (stamp.exists() and stamp.read_text() == digest and script.exists()):
        print(f"installing promobot from its wheel into {venv} …", flush=True)
        if venv.exists():
            shutil.rmtree(venv)
        subprocess.run([PY, "-m", "venv", "--without-pip", str(venv)], check=True)
        out = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        )
        deps = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
        Path(out.stdout.strip(), "_promobot_benchmark_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
        subprocess.run(
            [PY, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--no-index", str(ROOT)],
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' build tree
        stamp.write_text(digest)
    return str(python), [str(script)]


def remove(*paths: Path) -> Callable[[], None]:
    def run() -> None:
        for p in paths:
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)

    return run


SET_ASIDE = "set-aside"
"""Earlier sites a cold ``site`` row moved out of its way, deleted once every round ran."""


def set_aside(out: Path, *caches: Path) -> Callable[[], None]:
    """Before a cold ``site``: no site in ``out`` (the earlier one is moved into WORK/set-aside,
    deleted after the rounds) and no caches.

    Moved, not deleted: ext4 does not reuse an inode for a minute after it is freed, and
    creating a thousand files beside a thousand just deleted makes it skip the freed ones one
    by one — 0.5–1.5 s of system time per run on this machine (benchmarks/README.md, "Cold
    `site`"). A first site (a fresh checkout) never pays that; only a benchmark that deletes
    its output seconds before writing it again does."""
    drop = remove(*caches)

    def run() -> None:
        if out.exists():
            aside = out.parent / SET_ASIDE
            aside.mkdir(exist_ok=True)
            out.rename(aside / str(time.monotonic_ns()))
        drop()

    return run


def rows(work: Path, *, quick: bool) -> list[Row]:
    """Every measured row, limits first; later rows name the limit they are compared with."""
    start = "python -c pass"
    out = [
        Row(start, [PY, "-c", "pass"]),
        Row("promobot --help", [*PROMOBOT, "--help"], budget=0.1, limit=start),
    ]
    for models in (1000,) if quick else (1000, 10000):
        path = repo(work, models, 100, graph=False)
        cache = path / ".git" / "promobot" / "cache.json"
        floor = f"parse floor, {models:,} models"
        if models == 1000:  # the cold budget is a ratio to the floor; at 10,000 models it has none
            out += [
                Row(floor, [PY, "-c", FLOOR, str(path)]),
                Row(
                    f"status cold, {models:,} models",
                    promobot(path, "status"),
                    remove(cache, cache.with_name("overview.json"), cache.with_name("status.json")),
                    1.3,
                    True,
                    floor,
                ),
            ]
        out.append(
            Row(
                f"status warm, {models:,} models",
                promobot(path, "status"),
                budget=0.15 if models == 1000 else 1.0,
                limit=start,
            )
        )
    commits = 1000 if quick else 20000
    for graph in (True, False):
        path = repo(work, 1000, commits, graph=graph)
        kind = "graph" if graph else "no graph"
        floor = f"floor: start-up + git, {kind}"
        out += [
            Row(floor, [PY, "-c", HISTORY_FLOOR, json.dumps(history_git(path, graph=graph))]),
            Row(
                f"history cold, {commits:,} commits, {kind}",
                promobot(path, "history", HOT),
                remove(path / ".git" / "promobot" / "history"),
                budget=(0.3 if graph else 0.5) if not quick else None,
                limit=floor,
                proposed=PROPOSED_COLD_HISTORY,
            ),
        ]
        if graph:
            out.append(
                Row(
                    f"history warm, {commits:,} commits",
                    promobot(path, "history", HOT),
                    budget=0.15 if not quick else None,
                    limit=start,
                )
            )
    return out + site_rows(work)


def site_rows(work: Path) -> list[Row]:
    """`promobot site` on the 1,000-model repository: within 2× `status`, cold and warm.

    Cold removes every promobot cache and sets the earlier site aside (nothing to reuse;
    ``set_aside``); warm changes nothing, so every model page is reused and only the index is
    rendered again.
    `python benchmarks/run.py --quick --only site` measures these rows and their limits.
    """
    path = repo(work, 1000, 100, graph=False)
    state = path / ".git" / "promobot"
    out = work / "site-m1000"
    site = promobot(path, "site", "--out", str(out))
    return [
        Row(
            "site cold, 1,000 models",
            site,
            set_aside(out, *(state / n for n in ("cache.json", "overview.json", "status.json", "history"))),
            2.0,
            True,
            "status cold, 1,000 models",
        ),
        Row(
            "site warm, 1,000 models",
            site,
            budget=2.0,
            budget_is_ratio=True,
            limit="status warm, 1,000 models",
        ),
    ]


def fmt_budget(row: Row, limit: Row | None) -> tuple[str, bool | None]:
    if row.budget is None:
        return "", None
    if row.budget_is_ratio:
        assert limit is not None
        ok = row.median <= row.budget * limit.median
        return f"≤ {row.budget:g}× limit", ok
    return f"≤ {row.budget:.2f} s", row.median <= row.budget


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--work", type=Path, default=HERE / ".work")
    parser.add_argument(
        "--quick", action="store_true", help="only the 1,000-model and 1,000-commit repositories"
    )
    parser.add_argument("--only", default="", help="measure only the rows whose name contains this text")
    parser.add_argument(
        "--checkout",
        action="store_true",
        help="run `python -m bot` of this checkout (an editable install) instead of the wheel",
    )
    ns = parser.parse_args()
    ns.work.mkdir(parents=True, exist_ok=True)
    global PY, PROMOBOT
    if not ns.checkout:
        PY, PROMOBOT = installed(ns.work)
    table = rows(ns.work, quick=ns.quick)
    by_name = {r.what: r for r in table}
    wanted = {r.what for r in table if ns.only in r.what}
    while True:  # a kept row's limit, that limit's own limit, …: every figure a ratio needs
        limits = {r.limit for r in table if r.what in wanted and r.limit} - wanted
        if not limits:
            break
        wanted |= limits
    table = [r for r in table if r.what in wanted]
    for r in table:  # byte-code, caches and the page cache warm; not counted
        if r.before is None:
            subprocess.run(r.argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    load_before = os.getloadavg()
    for _ in range(ns.runs):
        for r in table:
            r.sample()
    load_after = os.getloadavg()
    shutil.rmtree(ns.work / SET_ASIDE, ignore_errors=True)

    print(
        f"median of {ns.runs} rounds, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"{'this checkout (python -m bot)' if ns.checkout else 'promobot installed from its wheel'}, "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    head = (
        f"{'what':<40} {'seconds':>8}  {'budget':<15} {'limit (seconds, what)':<42} {'ratio':>7}"
        f"  {'proposed':<12}"
    )
    print(head)
    print("-" * len(head))
    results = []
    failed = 0
    for r in table:
        limit = by_name.get(r.limit) if r.limit else None
        budget, ok = fmt_budget(r, limit)
        failed += ok is False
        mark = {True: " ✓", False: " ✗", None: ""}[ok]
        limit_text = f"{limit.median:6.3f}  {limit.what}" if limit else ""
        ratio = f"{r.median / limit.median:.2f}×" if limit else ""
        proposed = ""
        if r.proposed is not None and limit is not None:
            met = r.median <= limit.median + r.proposed
            proposed = f"≤ +{r.proposed:.2f} s {'✓' if met else '✗'}"
        line = f"{r.what:<40} {r.median:8.3f}  {budget + mark:<15} {limit_text:<42} {ratio:>7}  {proposed}"
        print(line.rstrip())
        results.append(
            {
                "what": r.what,
                "seconds": round(r.median, 4),
                "samples": [round(s, 4) for s in r.samples],
                "budget": budget or None,
                "ok": ok,
                "limit": r.limit,
                "ratio": round(r.median / limit.median, 3) if limit else None,
                "proposed": f"≤ limit + {r.proposed:g} s" if r.proposed is not None else None,
            }
        )
    print(f"{'all budgets met' if not failed else f'{failed} budget(s) missed'}")
    (ns.work / "results.json").write_text(
        json.dumps({"load": [load_before, load_after], "rows": results}, indent=2)
    )


if __name__ == "__main__":
    main()
