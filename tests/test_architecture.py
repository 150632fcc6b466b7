"""The import rules of reference §12: bot/core is pure, click stops at bot/cli.py, heavy imports are lazy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
CORE_FORBIDDEN = (
    "github",
    "git",
    "click",
    "requests",
    "subprocess",
    "urllib",
    "http",
    "socket",
    "bot.adapters",
    "bot.app",
    "bot.cli",
    "bot.promotion",
    "bot.commands",
    "bot.router",
    "bot.rollback",
)


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def forbidden(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


@pytest.mark.parametrize("path", sorted((BOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_imports_nothing_from_the_outside_world(path: Path) -> None:
    bad = [
        f"{path.name}:{line} imports {mod}" for line, mod in imports(path) if forbidden(mod, CORE_FORBIDDEN)
    ]
    assert bad == []


@pytest.mark.parametrize("path", sorted((BOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_reads_no_environment_and_no_clock(path: Path) -> None:
    text = path.read_text()
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert not (node.attr == "environ" and getattr(node.value, "id", "") == "os"), (
                f"{path.name}: os.environ"
            )
            assert node.attr not in ("getenv",), f"{path.name}: os.getenv"
            if node.attr in ("now", "utcnow", "today") and getattr(node.value, "id", "") in (
                "datetime",
                "date",
            ):
                raise AssertionError(f"{path.name}:{node.lineno}: {node.attr}() — pass `now` in")
            if node.attr == "time" and getattr(node.value, "id", "") == "time":
                raise AssertionError(f"{path.name}:{node.lineno}: time.time() — pass `now` in")


@pytest.mark.parametrize(
    "path", sorted(p for p in BOT.rglob("*.py") if p.name != "cli.py"), ids=lambda p: p.name
)
def test_click_stops_at_cli(path: Path) -> None:
    assert all(not forbidden(mod, ("click",)) for _, mod in imports(path)), path.name


@pytest.mark.parametrize("path", sorted((BOT / "adapters").glob("*.py")), ids=lambda p: p.name)
def test_adapters_do_not_import_use_cases(path: Path) -> None:
    banned = ("bot.app", "bot.cli", "bot.promotion", "bot.commands", "bot.router", "bot.rollback")
    assert [m for _, m in imports(path) if forbidden(m, banned)] == []


def test_help_does_not_import_pygithub_gitpython_or_jinja2() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom bot.cli import cli\n"
        "r = CliRunner().invoke(cli, ['--help'])\nassert r.exit_code == 0, r.output\n"
        "print(','.join(sorted(m for m in ('github', 'git', 'jinja2', 'ruamel.yaml') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


_HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*[\s>/]")


@pytest.mark.parametrize(
    "path",
    [BOT / "site.py", *sorted((BOT / "core").glob("site*.py"))],
    ids=lambda p: str(p.relative_to(BOT)),
)
def test_the_site_builds_no_html_in_python(path: Path) -> None:
    """`promobot site`: the use case and view-model hold data; only templates/site/ writes HTML."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    tags = [
        f"{path.name}:{node.lineno}: {node.value[:60]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _HTML_TAG.search(node.value)
    ]
    assert tags == []
    assert (BOT / "templates" / "site" / "index.html.j2").is_file()
    assert (BOT / "templates" / "site" / "model.html.j2").is_file()
