"""`promobot site`: the static dashboard, and its pages in a real headless Chromium.

The view-model's own tests are tests/core/test_site*.py.

The browser tests read the rendered DOM of the example repository after the README tour (its
command lines, run as written: a promotion merged, one open, one rollback), type in the filter,
feed hostile strings through a manifest, a commit message and a PR title, and write screenshots
at 360 and 1440 px under the test's temporary folder. ``PROMOBOT_REFRESH_SCREENSHOT=1`` also
copies the 1440 px index and model page of the README tour into ``docs/`` (the README's pictures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from bot.core import site_safe
from tests.conftest import USERS, Cli
from tests.helpers.git import commit_all, git
from tests.servers.chromium import Tab

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PWN = "window.__pwned = (window.__pwned || 0) + 1"
HOSTILE = f'<img src=x onerror="{PWN}"></script><script>{PWN}</script>'


def readme_tour(cli: Cli) -> None:
    """The command lines of the README's "A tour on the local forge", as written (the same list
    tests/test_readme.py runs): #1 promotes to staging and merges, #2 (→ prod) opens, and #3
    rolls staging back (a rollback PR, open)."""
    from tests.test_readme import tour_commands

    commands = tour_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert ["rollback", "fraud-detector", "--env", "staging", "--as", "sam"] in commands
    for argv in commands:
        cli(*argv)


def tour(cli: Cli) -> None:
    """A longer tour: promote, approve (staging merges, the prod PR opens), roll staging back and
    merge the rollback (1.5.0 is rejected, the prod PR follows staging to 1.4.2)."""
    cli("promote", "fraud-detector", "--to", "staging", expect=None)
    cli("pr", "review", "1", "--approve", actor="carol")
    for login, (permission, teams) in USERS.items():
        cli(
            "pr",
            "users",
            "set",
            login,
            "--permission",
            permission,
            *[a for t in teams for a in ("--team", t)],
        )
    cli(
        "rollback",
        "fraud-detector",
        "--env",
        "staging",
        "--reason",
        "auc dropped in shadow traffic",
        actor="sam",
    )
    cli("pr", "review", "3", "--approve", actor="carol", now="2026-11-27T11:00:00Z")
    cli("merge", "3", now="2026-11-27T11:00:00Z", expect=None)


@pytest.fixture
def toured(cli: Cli, tmp_path: Path) -> Path:
    tour(cli)
    out = tmp_path / "site"
    cli("site", "--out", str(out), now="2026-11-27T12:00:00Z")
    return out


def url(path: Path) -> str:
    return path.resolve().as_uri()


# --------------------------------------------------------------------------- files and CLI


def test_site_writes_one_page_per_model_with_a_strict_csp(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "site"
    data = cli.json("site", "--out", str(out))
    models = cli.json("status")["models"]
    assert data["models"] == len(models) and data["pages"] == len(models) + 1
    assert sorted(p.name for p in (out / "models").iterdir()) == sorted(f"{m}.html" for m in models)
    index = (out / "index.html").read_text()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', index)
    assert csp is not None
    policy = csp.group(1).replace("&#39;", "'")
    script = re.search(r"<script>(.*?)</script>", index, re.S)
    style = re.search(r"<style>(.*?)</style>", index, re.S)
    assert script is not None and style is not None
    assert index.count("<script") == 1  # one inline script, no src
    assert f"script-src {site_safe.csp_hash(script.group(1))};" in policy
    assert f"style-src {site_safe.csp_hash(style.group(1))};" in policy
    assert policy.startswith("default-src 'none';")
    page = (out / "models" / "fraud-detector.html").read_text()
    assert "<script" not in page and "script-src &#39;none&#39;" in page
    for html in (index, page):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html.replace('href="data:,"', "")), (
            "a page loads or links something outside itself"
        )
    assert (
        '<time datetime="2026-11-27T10:00:00Z">2026-11-27 10:00 UTC</time>' in index
    )  # --now, not the wall clock
    assert git(cli.repo, "rev-parse", "HEAD")[:12] in index


def test_site_replaces_its_own_folder_and_refuses_anyone_elses(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "site"
    cli("site", "--out", str(out))
    (out / "models" / "gone.html").write_text("stale")
    cli("site", "--out", str(out))
    assert not (out / "models" / "gone.html").exists()  # replaced whole, nothing stale left
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    result = cli("site", "--out", str(other), expect=1)
    assert "error:" in result.stderr and "not written by promobot site" in result.stderr
    assert (other / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".promobot-site")] == []


def test_site_links_marks_to_github_when_the_forge_is_github(cli: Cli, tmp_path: Path) -> None:
    tour(cli)
    out = tmp_path / "site"
    cli("site", "--out", str(out), "--web-url", "https://github.com/acme/models")
    page = (out / "models" / "fraud-detector.html").read_text()
    assert 'href="https://github.com/acme/models/pull/1"' in page  # the merged promotion
    assert 'href="https://github.com/acme/models/pull/3"' in page  # the rollback
    assert 'href="https://github.com/acme/models/pull/2"' in page  # the open PR
    sha = git(cli.repo, "rev-list", "--max-parents=0", "HEAD")
    assert f'href="https://github.com/acme/models/commit/{sha}"' in page  # a commit without a PR
    plain = tmp_path / "plain"
    cli("site", "--out", str(plain), "--web-url", "javascript:alert(1)//x/y")
    assert "javascript:" not in (plain / "models" / "fraud-detector.html").read_text()


# --------------------------------------------------------------------------- the manifest details


def test_a_model_page_reads_owner_card_and_artifact_from_the_parse_status_uses() -> None:
    from bot.app.site import parse_manifest
    from bot.app.status import summarize

    good = (
        b'apiVersion: promobot/v1\nkind: ModelDeployment\nname: fraud\nversion: "1.0.0"\n'
        b"owner: '@acme/fraud-ml'\nartifact:\n  uri: s3://models/fraud/1.0.0\n"
        b"  digest: sha256:" + b"ab" * 32 + b"\nmetrics:\n  auc: 0.9\n"
    )
    job = ("environments/prod/fraud.yaml", "fraud", good)
    assert parse_manifest(job)[:2] == summarize(job) == ("1.0.0", None)
    keep = parse_manifest(job)[2]
    assert keep is not None and keep["owner"] == "@acme/fraud-ml"
    assert keep["artifact"] == {"uri": "s3://models/fraud/1.0.0"} and "model_card" not in keep
    merged = good.replace(b"owner: ", b"base: &b {model_card: docs/card.md}\n<<: [*b]\nowner: ")
    assert parse_manifest(("environments/prod/fraud.yaml", "fraud", merged))[2] == {
        **keep,
        "model_card": "docs/card.md",  # << as a full load reads it
    }
    for bad in (b"- a list\n", b"a: [", b"", good.replace(b"'@acme/fraud-ml'", b"010")):
        version, error, details = parse_manifest(("environments/prod/fraud.yaml", "fraud", bad))
        assert (version, details) == (None, None) and error == summarize(
            ("environments/prod/fraud.yaml", "fraud", bad)
        )[1]


def test_the_site_lists_history_in_graph_order_under_clock_skew(cli: Cli, tmp_path: Path) -> None:
    """Same order as `promobot history` (tests/test_cli_read.py): the last commit is the newest,
    whatever its date says; cold, then through the history cache."""

    def _edit(path: Path, old: str, new: str) -> None:
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))

    _edit(cli.repo / "environments/dev/fraud-detector.yaml", "version: 1.5.0", "version: 1.5.1")
    commit_all(cli.repo, "dev bump", date="2026-11-20T09:00:00Z")
    _edit(cli.repo / "environments/prod/fraud-detector.yaml", "version: 1.4.1", "version: 1.4.9")
    commit_all(cli.repo, "prod hand edit", date="2026-11-10T09:00:00Z")  # committed later, clock behind
    history = [(e["env"], e["version"]) for e in cli.json("history", "fraud-detector")]
    assert history[:2] == [("prod", "1.4.9"), ("dev", "1.5.1")]
    for run in ("cold", "cached"):
        out = tmp_path / run
        cli("site", "--out", str(out))
        page = (out / "models" / "fraud-detector.html").read_text()
        rows = re.findall(
            r'<td data-label="env">([^<]*)</td>.*?<td data-label="version">[^<]*?→ ([^<\s]*)', page
        )
        assert rows == history  # the history table: every row, in `promobot history`'s order
        mark = r'data-env="\w+" data-version="([^"]+)"><title>[^<]*</title>\n<circle cx="(\d+)"'
        marks = dict(re.findall(mark, page))
        assert int(marks["1.5.1"]) < int(marks["1.4.9"])  # the timeline: the prod edit is the newest
        assert "Last changed in commit <code>" + git(cli.repo, "rev-parse", "HEAD")[:12] in page


# --------------------------------------------------------------------------- a real browser


CONTRAST = """(() => {
  // Every piece of visible text (HTML text, ::before labels, SVG text) whose contrast with what is
  // drawn behind it is under WCAG AA: 4.5:1, or 3:1 for large text (>= 24px, or >= 18.66px bold).
  const rgb = c => { const m = c.match(/[\\d.]+/g).map(Number); return m.length > 3 ? m : [...m, 1]; };
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const behind = el => {
    for (let e = el; e; e = e.parentElement) {
      if (e.matches && e.matches('g.mark')) return rgb(getComputedStyle(e.querySelector('circle')).fill);
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) return c;
    }
    return [255, 255, 255, 1];
  };
  const low = [];
  let checked = 0;
  const check = (el, style, text) => {
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const fg = rgb(el instanceof SVGElement ? style.fill : style.color);
    const r = ratio(fg, behind(el.matches('g.mark text.ver') ? el.closest('svg') : el));
    checked += 1;
    if (r < need) low.push(`${text.trim().slice(0, 40)}: ${r.toFixed(2)} < ${need}`);
  };
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length) continue;
    const own = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim())
      .map(n => n.textContent);
    if (own.length) check(el, getComputedStyle(el), own.join(' '));
    const before = getComputedStyle(el, '::before');
    if (before.content && !['none', 'normal'].includes(before.content)) check(el, before, before.content);
  }
  return {checked, low};
})()"""


def _contrast(tab: Tab) -> list[str]:
    """The texts on the open page below WCAG AA contrast (and how many were measured)."""
    result = tab.js(CONTRAST)
    assert result["checked"] > 20, result  # it measured the page, not nothing
    low: list[str] = result["low"]
    return low


def _versions(tab: Tab) -> dict[str, dict[str, str]]:
    versions: dict[str, dict[str, str]] = tab.js(
        "Object.fromEntries([...document.querySelectorAll('tr[data-model]')].map(r => [r.dataset.model,"
        " Object.fromEntries([...r.querySelectorAll('td[data-env]')].map(c => [c.dataset.env,"
        " c.dataset.version]))]))"
    )
    return versions


def test_the_site_after_the_readme_tour_shows_the_merged_promotion_the_open_pr_and_the_rollback(
    cli: Cli, tab: Tab, tmp_path: Path
) -> None:
    """Acceptance: the example environments/ after the README tour, in a real browser."""
    readme_tour(cli)
    out = tmp_path / "site"
    cli("site", "--out", str(out), now="2026-11-27T12:00:00Z")
    tab.open(url(out / "index.html"))
    assert tab.problems() == []
    fraud = "tr[data-model=fraud-detector]"
    assert _versions(tab)["fraud-detector"] == {"dev": "1.5.0", "staging": "1.5.0", "prod": "1.4.1"}
    staging = tab.js(f"document.querySelector('{fraud} td[data-env=staging]').innerText")
    assert "PR #3 → 1.4.2" in staging and "blocked" in staging  # the rollback, open
    prod = tab.js(f"document.querySelector('{fraud} td[data-env=prod]').innerText")
    assert "PR #2 → 1.5.0" in prod and "soak: pending" in prod and "approvals: 0 of 2" in prod
    rows = tab.js(
        "[...document.querySelectorAll('#open-prs + .scroll tbody tr')].map(r => r.innerText.split('\\t'))"
    )
    assert [r[:4] for r in rows] == [
        ["PR #2", "fraud-detector", "staging → prod", "1.5.0"],
        ["PR #3", "fraud-detector", "roll back staging", "1.4.2"],
    ]
    assert "2 open pull requests" in tab.js("document.querySelector('ul.summary').innerText")
    assert tab.js("performance.getEntriesByType('resource').length") == 0  # nothing loaded from anywhere
    assert _contrast(tab) == []
    shots = [tab.screenshot(tmp_path / f"index-{w}.png", width=w) for w in (360, 1440)]

    tab.open(url(out / "models" / "fraud-detector.html"))
    assert tab.problems() == []
    marks = tab.js(
        "[...document.querySelectorAll('svg g.mark')].map(g => [g.dataset.kind, g.dataset.env,"
        " g.dataset.version, g.querySelector('title').textContent])"
    )
    merged = [m for m in marks if m[:3] == ["promote", "staging", "1.5.0"]]
    assert len(merged) == 1 and "promoted 1.4.2 → 1.5.0" in merged[0][3] and "(#1)" in merged[0][3]
    assert tab.js("document.querySelector('section.pr[data-pr=\"2\"] h3').innerText") == (
        "PR #2: Promote fraud-detector 1.5.0 to prod"
    )
    rollback = tab.js("document.querySelector('section.pr[data-pr=\"3\"]').innerText")
    assert 'Revert "Promote fraud-detector 1.5.0 to staging (#1)"' in rollback
    assert "roll back staging" in rollback and "version 1.4.2" in rollback and "0 of 1" in rollback
    first = tab.js("document.querySelector('#history + .scroll tbody tr').innerText")
    assert "staging" in first and "1.4.2 → 1.5.0" in first and "#1" in first
    assert tab.js("performance.getEntriesByType('resource').length") == 0
    assert _contrast(tab) == []
    for page in ("index.html", "models/fraud-detector.html"):  # cards, each cell labelled (::before)
        tab.open(url(out / page), width=360)
        assert tab.js("document.documentElement.scrollWidth") <= 360, page
        assert _contrast(tab) == [], page
        assert float(tab.js("getComputedStyle(document.querySelector('td')).fontSize")[:-2]) >= 13, page
    tab.open(url(out / "models" / "fraud-detector.html"))
    shots += [tab.screenshot(tmp_path / f"fraud-detector-{w}.png", width=w) for w in (360, 1440)]
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    if os.environ.get("PROMOBOT_REFRESH_SCREENSHOT") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(tmp_path / "index-1440.png", DOCS / "site.png")
        shutil.copyfile(tmp_path / "fraud-detector-1440.png", DOCS / "site-model.png")


def test_the_site_after_a_merged_rollback_shows_the_rollback_and_the_rejection(
    toured: Path, tab: Tab, tmp_path: Path
) -> None:
    tab.open(url(toured / "index.html"))
    assert tab.problems() == []
    assert _versions(tab) == {
        "churn-predictor": {"dev": "0.3.0", "staging": "", "prod": ""},
        "fraud-detector": {"dev": "1.5.0", "staging": "1.4.2", "prod": "1.4.1"},
        "search-ranker": {"dev": "2.1.0", "staging": "2.1.0", "prod": "2.1.0"},
        "spam-filter": {"dev": "3.2.0", "staging": "3.2.0", "prod": "3.1.0"},
    }
    fraud = "tr[data-model=fraud-detector]"
    assert "✕ rejected" in tab.js(f"document.querySelector('{fraud} td[data-env=dev]').innerText")
    prod = tab.js(f"document.querySelector('{fraud} td[data-env=prod]').innerText")
    assert "PR #2" in prod and "1.4.2" in prod and "blocked" in prod and "approvals: 0 of 2" in prod
    assert "drift" in prod and "staging runs 1.4.2" in prod
    assert "Generated 2026-11-27 12:00 UTC" in tab.js("document.getElementById('generated').innerText")
    shots = [tab.screenshot(tmp_path / f"index-{w}.png", width=w) for w in (360, 1440)]

    tab.open(url(toured / "models" / "fraud-detector.html"))
    assert tab.problems() == []
    marks = tab.js(
        "[...document.querySelectorAll('svg g.mark')]"
        ".map(g => [g.dataset.kind, g.dataset.env, g.dataset.version])"
    )
    assert ["promote", "staging", "1.5.0"] in marks  # the merged promotion (#1)
    assert ["rollback", "staging", "1.4.2"] in marks  # the rollback (#3)
    assert ["rejected", "rejected", "1.5.0"] in marks  # and the version it rejected
    titles = tab.js("[...document.querySelectorAll('svg g.mark title')].map(t => t.textContent)")
    assert any("promoted 1.4.2 → 1.5.0" in t and "(#1)" in t for t in titles)
    assert any("rolled back 1.5.0 → 1.4.2" in t and "(#3)" in t for t in titles)
    open_pr = tab.js("document.querySelector('section.pr[data-pr=\"2\"]').innerText")
    assert "Promote fraud-detector 1.4.2 to prod" in open_pr and "0 of 2" in open_pr
    gates = tab.js("[...document.querySelectorAll('section.pr tr[data-gate]')].map(r => r.dataset.gate)")
    assert {"schema", "order", "soak", "freeze"} <= set(gates)
    assert "pending" in tab.js("document.querySelector('tr[data-gate=soak]').innerText")
    rejected = tab.js("document.querySelector('tr[data-rejected=\"1.5.0\"]').innerText")
    assert "auc dropped in shadow traffic" in rejected
    assert _contrast(tab) == []  # ↺ and ✕ marks, the bad and warn badges
    shots += [tab.screenshot(tmp_path / f"fraud-detector-{w}.png", width=w) for w in (360, 1440)]
    narrow = tab.js("document.documentElement.scrollWidth")
    tab.viewport(360)
    assert tab.js("document.documentElement.scrollWidth") <= 360, f"horizontal scroll at 360 px ({narrow})"
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000


def test_the_index_is_readable_at_360_px(toured: Path, tab: Tab) -> None:
    tab.open(url(toured / "index.html"), width=360)
    assert tab.js("document.documentElement.scrollWidth") <= 360
    label = tab.js("getComputedStyle(document.querySelector('td[data-env=prod]'), '::before').content")
    assert label == '"prod"'  # each cell names its environment when the matrix becomes cards


def test_filtering_by_model_name_hides_the_other_models(toured: Path, tab: Tab) -> None:
    tab.open(url(toured / "index.html"))
    visible = (
        "[...document.querySelectorAll('tr[data-model]')].filter(r => !r.hidden).map(r => r.dataset.model)"
    )
    assert len(tab.js(visible)) == 4
    tab.type_into("#filter", "fraud")
    assert tab.js(visible) == ["fraud-detector"]
    assert tab.js("document.getElementById('filter-count').textContent") == "1 of 4 models shown"
    tab.type_into("#filter", "zzz")
    assert tab.js(visible) == []
    assert tab.problems() == []


def test_hostile_strings_render_as_text_and_run_nothing(
    example_repo: Path, make_cli: type[Cli], tab: Tab, tmp_path: Path
) -> None:
    from bot.adapters.git import GitWorkspace
    from bot.adapters.localforge import LocalForge

    cli = make_cli(example_repo)
    manifest = example_repo / "environments" / "dev" / "fraud-detector.yaml"
    card = "javascript:alert(document.domain)"
    text = manifest.read_text().replace("owner:", f"model_card: '{card}'\nowner:", 1)
    manifest.write_text(text.replace('owner: "@acme/fraud-ml"', f"owner: '{HOSTILE}'"))
    commit_all(example_repo, f"tune {HOSTILE} [x](javascript:alert(1))", date="2026-11-20T09:00:00Z")
    cli("promote", "spam-filter", "--to", "prod", expect=None)
    forge = LocalForge(GitWorkspace.discover(example_repo))
    forge.update_pr(1, title=f"Promote {HOSTILE} <a href='javascript:alert(2)'>click</a>")
    reason = f'broke "quotes" {HOSTILE}'
    rejected = example_repo / "environments" / "rejected.yaml"
    entry = {
        "model": "fraud-detector",
        "version": "1.5.0",
        "reason": reason,
        "by": HOSTILE,
        "at": "2026-11-21T09:00:00Z",
    }
    rejected.write_text(rejected.read_text().replace("rejected: []", f"rejected: [{json.dumps(entry)}]"))
    commit_all(example_repo, "reject 1.5.0 by hand", date="2026-11-21T09:00:00Z")
    out = tmp_path / "site"
    cli("site", "--out", str(out))

    for page in ("index.html", "models/fraud-detector.html", "models/spam-filter.html"):
        tab.open(url(out / page))
        assert tab.js("window.__pwned === undefined"), f"{page}: a hostile string ran"
        assert tab.js("document.querySelectorAll('img, iframe, object, embed').length") == 0
        assert tab.js("document.querySelectorAll('script').length") == (1 if page == "index.html" else 0)
        hrefs = tab.js("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
        assert not [h for h in hrefs if h and h.strip().lower().startswith(("javascript:", "data:"))]
        assert tab.problems() == [], page
    tab.open(url(out / "models" / "fraud-detector.html"))
    body = tab.js("document.body.innerText")
    assert HOSTILE in body  # the owner, shown as the text it is
    assert card in body  # model_card: text, not a link
    assert "tune <img src=x" in body  # the commit message in the history table
    assert reason in body  # a rejection's reason (rejected.yaml), and who rejected it (clipped)
    by = "document.querySelector('tr[data-rejected=\"1.5.0\"] td[data-label=by]').innerText"
    assert tab.js(by) == HOSTILE[:79] + "…"
    tab.open(url(out / "index.html"))
    assert tab.js("document.querySelector('tr[data-model=fraud-detector] .badge.bad').title") == reason
    tab.open(url(out / "models" / "spam-filter.html"))
    assert "<a href='javascript:alert(2)'>click</a>" in tab.js(
        "document.querySelector('section.pr h3').innerText"
    )


def test_a_second_run_reuses_unchanged_model_pages_and_rerenders_changed_ones(
    cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    cli("site", "--out", str(out))
    before = {p.name: p.stat().st_ino for p in (out / "models").iterdir()}
    cli("site", "--out", str(out), now="2026-11-27T11:00:00Z")  # nothing changed but the clock
    assert {p.name: p.stat().st_ino for p in (out / "models").iterdir()} == before
    assert '<time datetime="2026-11-27T11:00:00Z">' in (out / "index.html").read_text()
    assert sorted(p.name for p in out.iterdir()) == [".promobot-site", "index.html", "models"]
    cli("promote", "fraud-detector", "--to", "staging", expect=None)  # an open PR: fraud-detector changes
    cli("site", "--out", str(out), now="2026-11-28T10:00:00Z")
    after = {p.name: p.stat().st_ino for p in (out / "models").iterdir()}
    assert after["search-ranker.html"] == before["search-ranker.html"]  # linked from the last run
    assert after["fraud-detector.html"] != before["fraud-detector.html"]
    assert "PR #1" in (out / "models" / "fraud-detector.html").read_text()
    assert '<time datetime="2026-11-28T10:00:00Z">' in (out / "index.html").read_text()
    spam = cli.repo / "environments" / "staging" / "spam-filter.yaml"
    spam.write_text(spam.read_text() + "# a comment: the history changes, the version does not\n")
    commit_all(cli.repo, "staging: comment spam-filter", date="2026-11-28T11:00:00Z")
    cli("site", "--out", str(out), now="2026-11-28T12:00:00Z")
    last = {p.name: p.stat().st_ino for p in (out / "models").iterdir()}
    assert last["search-ranker.html"] == before["search-ranker.html"]
    assert last["fraud-detector.html"] == after["fraud-detector.html"]
    assert last["spam-filter.html"] != after["spam-filter.html"]
    assert "staging: comment spam-filter" in (out / "models" / "spam-filter.html").read_text()


def test_a_failed_verification_shows_in_its_cell_and_on_the_timeline(cli: Cli, tmp_path: Path) -> None:
    from bot.adapters.git import GitWorkspace
    from bot.adapters.localforge import LocalForge
    from tests.verify_setup import add_verify

    add_verify(cli)
    commit_all(cli.repo, "staging verifies live data")
    cli("promote", "fraud-detector", "--to", "staging", expect=None)
    cli("pr", "review", "1", "--approve", actor="carol")
    merged = git(cli.repo, "rev-parse", "main")
    forge = LocalForge(GitWorkspace.discover(cli.repo))
    forge.set_check(
        head_sha=merged,
        name="promobot/verify",
        result="failure",
        title="error-rate 0.04 > max 0.01",
        summary="",
    )
    out = tmp_path / "site"
    cli("site", "--out", str(out))
    index = (out / "index.html").read_text()
    assert 'data-verification="failed"' in index and "⚠ verification failed" in index
    assert "error-rate 0.04 &gt; max 0.01" in index
    page = (out / "models" / "fraud-detector.html").read_text()
    assert 'data-kind="verification-failed" data-env="staging"' in page
    assert "verification of 1.5.0 failed — error-rate 0.04 &gt; max 0.01" in page
    assert "data-verification" not in (out / "models" / "spam-filter.html").read_text()


def git_commands(trace: Path) -> list[str]:
    """The git subcommands a run started (``GIT_TRACE2_EVENT``: one JSON event a line)."""
    events = [json.loads(line) for line in trace.read_text().splitlines()] if trace.exists() else []
    trace.unlink(missing_ok=True)
    return [e["argv"][1] for e in events if e.get("event") == "start" and len(e.get("argv", [])) > 1]


def test_a_run_where_only_the_clock_changed_writes_the_new_time_into_the_last_index(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tour(cli)  # open PRs, a rejection, a rollback: the index shows all of them
    out, fresh, trace = tmp_path / "site", tmp_path / "fresh", tmp_path / "trace.json"
    cli("site", "--out", str(out), now="2026-11-27T12:00:00Z")
    pages = {p.name: (p.stat().st_ino, p.read_bytes()) for p in (out / "models").iterdir()}
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    cli("site", "--out", str(out), now="2026-11-28T09:30:00Z")
    assert "ls-tree" not in git_commands(trace)  # no tree read: nothing built, nothing rendered
    cli("site", "--out", str(fresh), now="2026-11-28T09:30:00Z")
    assert "ls-tree" in git_commands(trace)  # a new folder: built and rendered in full
    index = (out / "index.html").read_bytes()
    assert index == (fresh / "index.html").read_bytes()  # byte for byte what a full render writes
    assert b'<time datetime="2026-11-28T09:30:00Z">2026-11-28 09:30 UTC</time>' in index
    assert {p.name: (p.stat().st_ino, p.read_bytes()) for p in (out / "models").iterdir()} == pages
    assert {p.name: p.read_bytes() for p in (fresh / "models").iterdir()} == {
        name: data for name, (_, data) in pages.items()
    }
    (out / "index.html").write_bytes(index.replace(b"</body>", b"<!-- hand edit --></body>"))
    cli("site", "--out", str(out), now="2026-11-28T10:00:00Z")  # not the file it wrote: rendered again
    assert "ls-tree" in git_commands(trace)
    assert b"hand edit" not in (out / "index.html").read_bytes()
    marker = json.loads((out / ".promobot-site").read_text())
    marker["index"]["parts"] = "not a list"  # a marker it cannot read: everything built again
    (out / ".promobot-site").write_text(json.dumps(marker))
    cli("site", "--out", str(out), now="2026-11-28T10:30:00Z")
    assert "ls-tree" in git_commands(trace)
    cli("site", "--out", str(fresh), now="2026-11-28T10:30:00Z")
    assert (out / "index.html").read_bytes() == (fresh / "index.html").read_bytes()


def test_a_verification_posted_after_the_last_run_shows_though_no_commit_changed(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.adapters.git import GitWorkspace
    from bot.adapters.localforge import LocalForge
    from tests.verify_setup import add_verify

    add_verify(cli)
    commit_all(cli.repo, "staging verifies live data")
    cli("promote", "fraud-detector", "--to", "staging", expect=None)
    cli("pr", "review", "1", "--approve", actor="carol")
    out, trace = tmp_path / "site", tmp_path / "trace.json"
    cli("site", "--out", str(out))
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    cli("site", "--out", str(out), now="2026-11-27T10:30:00Z")
    assert "ls-tree" not in git_commands(trace)  # the same checks: only the time is new
    assert 'data-verification="failed"' not in (out / "index.html").read_text()
    LocalForge(GitWorkspace.discover(cli.repo)).set_check(
        head_sha=git(cli.repo, "rev-parse", "main"),
        name="promobot/verify",
        result="failure",
        title="error-rate 0.04 > max 0.01",
        summary="",
    )
    cli("site", "--out", str(out), now="2026-11-27T11:00:00Z")
    assert "ls-tree" in git_commands(trace)  # a check changed: the site is built again
    assert 'data-verification="failed"' in (out / "index.html").read_text()
    assert "error-rate 0.04 &gt; max 0.01" in (out / "models" / "fraud-detector.html").read_text()


def test_the_index_rendered_for_restamping_is_the_index_rendered_directly() -> None:
    from datetime import UTC, datetime

    from bot.app import site as use_case
    from bot.core import site as views
    from bot.core import site_render

    view = views.build_site(
        status={"environments": ["dev", "prod"], "models": {"m": {"dev": "2.0", "prod": "1.0"}}},
        sources={"dev": None, "prod": "dev"},
        histories={},
        pulls=[],
        rejections=[],
        manifests={},
        now=datetime(2026, 11, 27, 10, 7, 59, tzinfo=UTC),
        commit="a" * 40,
        web_url="https://github.com/acme/models",
    )
    data, record = use_case._render_index(view, datetime(2026, 11, 27, 10, 7, 59, tzinfo=UTC), "k", {})
    assert data == site_render.render_index(view).encode("utf-8")
    assert record is not None and sorted(record.slots) == ["generated_at", "generated_iso"]
    assert record.stamps == {"generated_at": "2026-11-27 10:07 UTC", "generated_iso": "2026-11-27T10:07:59Z"}


def test_a_marker_listing_more_commits_to_check_than_a_run_would_is_not_used() -> None:
    from bot.app.site import _verified_rows

    real = [["m", "staging", "a" * 40], ["n", "staging", "b" * 40]]
    assert _verified_rows(real, ("staging",), 2)
    assert _verified_rows([], ("staging",), 2) and _verified_rows([], (), 2)
    assert not _verified_rows([*real, ["m", "staging", "c" * 40]], ("staging",), 2)  # 3 > 2 models × 1
    assert not _verified_rows(real, (), 2)  # no environment verifies: nothing to read
    assert not _verified_rows([["m", "prod", "a" * 40]], ("staging",), 2)  # prod does not verify
    assert not _verified_rows([["m", "staging"]], ("staging",), 2)
    assert not _verified_rows([["m", "staging", 7]], ("staging",), 2)
    assert not _verified_rows({"m": "a"}, ("staging",), 2)
    assert not _verified_rows(None, ("staging",), 2)
