"""The import rules of reference §12: bot/core is pure, click stops at bot/cli.py, heavy imports are lazy."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

LAYERS = ("bot", "bot.errors", "bot.core", "bot.ports", "bot.adapters", "bot.app", "bot.cli")
"""docs/ARCHITECTURE.md's layers, lowest first: a module imports only from its own layer or below
(``bot`` is the package itself, for ``__version__``; ``bot.__main__`` sits with the CLI)."""

OUTSIDE_WORLD = ("github", "git", "click", "requests", "subprocess", "urllib", "http", "socket")
"""What bot/core may not import: it is pure (no git, HTTP, clock or environment)."""

MAX_LINES = 600
LAZY_IMPORTS_ALLOWED = ("bot.cli", "bot.adapters")
"""The only places a ``bot.*`` import may sit inside a function (keeping ``--help`` fast)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}


def layer(module: str) -> int:
    if module == "bot.__main__":
        return LAYERS.index("bot.cli")
    best = max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len)
    return LAYERS.index(best)


class Found(NamedTuple):
    line: int
    module: str
    local: bool
    """Inside a function (not at module level nor under ``if TYPE_CHECKING:``)."""
    typing_only: bool


def imports(path: Path) -> list[Found]:
    """Every import of ``path`` with the absolute module it names (``from bot import x`` → ``bot.x``
    when ``x`` is a module), wherever it sits."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: list[Found] = []

    def visit(node: ast.AST, local: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, typing_only)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, local, True)
            elif isinstance(child, ast.Import):
                found.extend(Found(child.lineno, a.name, local, typing_only) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0] if child.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in child.names:
                    full = f"{base}.{alias.name}"
                    found.append(Found(child.lineno, full if full in MODULES else base, local, typing_only))
            else:
                visit(child, local, typing_only)

    visit(tree, False, False)
    return found


def ours(module: str) -> str | None:
    """The promobot module ``module`` names (its longest known prefix), or None when it is not ours."""
    while module:
        if module in MODULES:
            return module
        module = module.rpartition(".")[0]
    return None


def forbidden(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


def test_the_layers_cover_every_module() -> None:
    assert {layer(m) for m in MODULES} == set(range(len(LAYERS)))
    assert MODULES.keys() >= {"bot.app", "bot.app.context", "bot.core.paths", "bot.ports", "bot.cli"}


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_imports_go_down_the_layers_only(module: str) -> None:
    """Every ``bot.*`` import, wherever it sits (lazy and typing-only ones too), names a module of the
    same layer or a lower one: core knows no port, adapters know no use case, nothing knows the CLI."""
    mine = layer(module)
    upward = [
        f"{module}:{f.line} imports {target} ({LAYERS[layer(target)]} is above {LAYERS[mine]})"
        for f in imports(MODULES[module])
        if (target := ours(f.module)) is not None and layer(target) > mine
    ]
    assert upward == []


def test_no_import_cycle_among_promobot_modules() -> None:
    """The import graph of ``bot`` (lazy imports included, typing-only ones left out) is acyclic."""
    graph = {
        m: {t for f in imports(p) if not f.typing_only and (t := ours(f.module)) not in (None, m)}
        for m, p in MODULES.items()
    }
    graph = {
        m: {t for t in targets if not m.startswith(t + ".") and t != "bot"} for m, targets in graph.items()
    }
    order: list[str] = []
    state: dict[str, int] = {}

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2
        order.append(node)

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    assert len(order) == len(graph)


APP_MACHINERY = frozenset(
    f"bot.app.{name}"
    for name in (
        "context", "records", "authority", "facts", "evidence", "blockers", "assess", "apply",
        "evaluate", "restore", "sync", "deployments",
    )
)  # fmt: skip
"""The shared machinery of bot/app/ (docs/ARCHITECTURE.md): every verb may build on it."""


@pytest.mark.parametrize("module", sorted(APP_MACHINERY), ids=str)
def test_the_shared_machinery_of_the_use_cases_imports_no_verb(module: str) -> None:
    verbs = [
        f"{module}:{f.line} imports {target}"
        for f in imports(MODULES[module])
        if (target := ours(f.module)) is not None
        and target.startswith("bot.app.")
        and target not in APP_MACHINERY
    ]
    assert verbs == []


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if not forbidden(m, LAZY_IMPORTS_ALLOWED)), ids=str
)
def test_no_function_local_import_of_promobot_modules(module: str) -> None:
    """A lazy ``bot.*`` import hides a dependency (it once hid a cycle); only the CLI and the
    adapters keep them, to keep ``--help`` and light commands fast."""
    lazy = [f"{module}:{f.line} {f.module}" for f in imports(MODULES[module]) if f.local and ours(f.module)]
    assert lazy == []


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if not forbidden(m, ("bot.cli", "bot.adapters"))), ids=str
)
def test_no_module_outside_the_adapters_and_the_cli_is_over_600_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module}: {lines} lines — cut it by concern (docs/ARCHITECTURE.md)"


@pytest.mark.parametrize("path", sorted((BOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_imports_nothing_from_the_outside_world(path: Path) -> None:
    bad = [
        f"{path.name}:{f.line} imports {f.module}"
        for f in imports(path)
        if forbidden(f.module, OUTSIDE_WORLD) and not f.typing_only
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
    assert all(not forbidden(f.module, ("click",)) for f in imports(path)), path.name


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
    [BOT / "app" / "site.py", *sorted((BOT / "core").glob("site*.py"))],
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


TESTS = BOT.parent / "tests"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bot.app.")), ids=str)
def test_every_use_case_module_has_its_mirrored_test_file(module: str) -> None:
    """``bot/app/x.py`` is tested in ``tests/app/test_x.py`` (CONTRIBUTING.md): a use case's tests
    are one hop away."""
    expected = TESTS / "app" / f"test_{module.rsplit('.', 1)[1]}.py"
    assert expected.is_file(), f"{module} has no {expected.relative_to(BOT.parent)}"
