"""Optional coverage-guided fuzz target (atheris) for the slash parser and the YAML loaders.

Not collected by pytest (the file name does not start with ``test_``) and not run in CI.
Run it by hand for as long as you like (see tests/fuzz/README.md)::

    pip install atheris
    python tests/fuzz/atheris_slash.py -max_total_time=600            # the slash parser
    PROMOBOT_ATHERIS_TARGET=manifest python tests/fuzz/atheris_slash.py -runs=200000

Without atheris installed it says so and exits 0, so scripts that call it never break.
A crash is any exception other than promobot's own ``BotError`` from a loader, or a
parse result that breaks the grammar's contract; libFuzzer saves the input as ``crash-*``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from bot.core import command_table, slash
from bot.core.manifest import load_manifest
from bot.core.policy import load_policy
from bot.core.rejected import load_rejected
from bot.errors import BotError


def check_slash(data: bytes) -> None:
    body = data.decode("utf-8", "replace")
    result = slash.parse(body)
    if result is None or isinstance(result, slash.Refusal):
        return
    assert isinstance(result, list) and result, "a command list is never empty"
    assert sum(c.state_changing for c in result) <= 1, "at most one state-changing command"
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for command in result:
        assert command.name in command_table.NAMES
        assert lines[command.line - 1].lstrip(" ").startswith("/"), "a command starts its line"


def _loader(load: Callable[[bytes], object]) -> Callable[[bytes], None]:
    def check(data: bytes) -> None:
        with contextlib.suppress(BotError):
            load(data)

    return check


TARGETS: dict[str, Callable[[bytes], None]] = {
    "slash": check_slash,
    "manifest": _loader(lambda d: load_manifest(d, path="m.yaml", expected_name="m")),
    "policy": _loader(lambda d: load_policy(d, path="promotion.yaml")),
    "rejected": _loader(lambda d: load_rejected(d, path="rejected.yaml")),
}


def main() -> int:
    try:
        atheris: Any = importlib.import_module("atheris")
    except ImportError:
        print("atheris is not installed: `pip install atheris` to run this fuzz target (skipped)")
        return 0
    name = os.environ.get("PROMOBOT_ATHERIS_TARGET", "slash")
    if name not in TARGETS:
        print(f"unknown PROMOBOT_ATHERIS_TARGET {name!r}; choose one of {', '.join(TARGETS)}")
        return 2
    atheris.Setup(sys.argv, TARGETS[name])
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
