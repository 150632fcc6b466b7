"""The action's install time with a cold and a warm virtualenv cache, measured like a runner would.

Runs the `run:` scripts of action.yml's own install steps (ids venv, deps, promobot) with the
runner's variables pointed at temporary folders, and stands in for actions/cache with tar:

  cold  a fresh virtualenv + `pip install --require-hashes -r requirements/action.txt` from the
        package index with no pip cache (a fresh runner), the save (tar + zstd, as actions/cache
        archives), then promobot itself;
  warm  the restore (untar of the saved virtualenv), then promobot itself.

pip's local configuration (mirrors, wheel folders) is switched off so the dependencies come
from the public index, as on a GitHub runner. Usage: python benchmarks/action_install.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def steps() -> dict[str, str]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return {s["id"]: s["run"] for s in action["runs"]["steps"] if "id" in s and "run" in s}


def run_step(script: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env, check=True)
    return time.perf_counter() - start


def checkout_action(dest: Path, work: Path) -> None:
    """The committed tree of this repository at ``dest`` (what `uses: owner/promobot@SHA` downloads)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    archive = work / "action.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), "HEAD"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")


def main() -> None:
    scripts = steps()
    work = Path(tempfile.mkdtemp(prefix="promobot-action-"))
    try:
        action_path = work / "action"  # the action's checkout, as the runner downloads it
        checkout_action(action_path, work)
        runner_temp = work / "runner-temp"
        runner_temp.mkdir()
        output = work / "github-output"
        # The machine's network settings stay (proxy, CA bundle); its pip config (mirrors) goes.
        passed = ("PATH", "PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "HTTPS_PROXY", "https_proxy")
        env = {
            **{k: os.environ[k] for k in passed if k in os.environ},
            "HOME": str(work),
            "RUNNER_TEMP": str(runner_temp),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "GITHUB_OUTPUT": str(output),
            "ACTION_PATH": str(action_path),
            "PROMOBOT_PYTHON": getattr(sys, "_base_executable", sys.executable),
            "PYTHON_VERSION": ".".join(map(str, sys.version_info[:3])),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_CACHE_DIR": "1",
        }
        venv = runner_temp / "promobot-venv"
        saved = work / "cache.tzst"

        key = run_step(scripts["venv"], env)
        deps = run_step(scripts["deps"], env)
        # actions/cache archives with GNU tar and zstd, and restores the same way.
        start = time.perf_counter()
        subprocess.run(["tar", "--zstd", "-cf", str(saved), "-C", str(runner_temp), venv.name], check=True)
        save = time.perf_counter() - start
        cold_promobot = run_step(scripts["promobot"], env)

        shutil.rmtree(venv)
        checkout_action(action_path, work)  # a new run gets a fresh checkout of the action
        start = time.perf_counter()
        subprocess.run(["tar", "--zstd", "-xf", str(saved), "-C", str(runner_temp)], check=True)
        restore = time.perf_counter() - start
        warm_promobot = run_step(scripts["promobot"], env)
        check = subprocess.run(
            [str(venv / "bin" / "promobot"), "--version"], capture_output=True, text=True, check=True
        ).stdout.strip()

        size = saved.stat().st_size / 1e6
        print(f"cache key step:                       {key:6.1f} s")
        print(f"cold: venv + locked deps from index   {deps:6.1f} s")
        print(f"cold: save the venv ({size:.1f} MB tar.zst) {save:5.1f} s")
        print(f"cold: install promobot (--no-deps)    {cold_promobot:6.1f} s")
        print(f"cold total (deps + promobot)          {deps + cold_promobot:6.1f} s  (+ save {save:.1f} s)")
        print(f"warm: restore the venv                {restore:6.1f} s")
        print(f"warm: install promobot (--no-deps)    {warm_promobot:6.1f} s")
        print(f"warm total (restore + promobot)       {restore + warm_promobot:6.1f} s")
        print(f"installed: {check}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
