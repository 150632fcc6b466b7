#!/usr/bin/env bash
# Builds promobot's sdist and wheel and checks them the way a user meets them (README "Install"):
#   1. `python -m build --no-isolation` (the backend, setuptools, comes from the calling
#      environment: the dev extras in CI, requirements/release.txt in release.yml);
#   2. `twine check --strict` on both;
#   3. the wheel holds every file tracked under bot/ (templates, schemas, py.typed, data);
#   4. a fresh virtualenv gets the hash-locked dependencies exactly as action.yml installs
#      them (`--require-hashes -r requirements/action.txt`, which fails if the lock misses a
#      dependency), then the wheel alone with --no-deps, then `pip check`;
#   5. from outside the checkout: `promobot --help`, `--version` (no commit: not a checkout),
#      and the README tour (status, diff, promote, an approval that merges, history) on the
#      example repository — made by `promobot init --example` when the installed wheel has
#      `init`, else by git init + a copy of environments/ as the tests do.
# Usage: bash .ci/package-check.sh [OUTDIR]   (default: a temporary folder; the release
# workflow passes dist/ and uploads it). Exit 0 when every check passed, 1 otherwise.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dist="${1:-$work/dist}"
mkdir -p "$dist"
dist="$(cd "$dist" && pwd)"
start=$SECONDS

fail() {
    printf 'error: %s\n' "$1" >&2
    exit 1
}

echo "== build (sdist, then the wheel from the sdist) into $dist"
"$python" -m build --no-isolation --outdir "$dist" . > "$work/build.log" 2>&1 \
    || { cat "$work/build.log" >&2; fail "python -m build failed — see its output above"; }
shopt -s nullglob
wheels=("$dist"/promobot-*.whl)
sdists=("$dist"/promobot-*.tar.gz)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] && [ "${#sdists[@]}" -eq 1 ] \
    || fail "expected one wheel and one sdist in $dist, found: $(ls "$dist") — empty the folder and retry"
wheel="${wheels[0]}"
ls -l "$dist"

echo "   ($((SECONDS - start)) s)"
echo "== twine check --strict"
"$python" -m twine check --strict "$wheel" "${sdists[0]}"

echo "   ($((SECONDS - start)) s)"
echo "== the wheel holds every file tracked under bot/"
git ls-files bot > "$work/tracked"
"$python" - "$wheel" "$work/tracked" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
tracked = [line.strip() for line in open(sys.argv[2]) if line.strip()]
missing = [path for path in tracked if path not in names]
if missing:
    sys.exit("error: the wheel lacks " + ", ".join(missing)
             + " — widen [tool.setuptools.package-data] in pyproject.toml")
data = [n for n in names if n.startswith("bot/") and not n.endswith(".py")]
folders = sorted({n.rsplit("/", 1)[0] + "/" for n in data if n.count("/") > 1 and n.split("/")[1] != "templates"})
print(f"{len(tracked)} tracked files all in the wheel, {len(data)} of them data: py.typed, "
      f"{', '.join(folders)}, templates/ ({sum(n.startswith('bot/templates/') for n in data)} files)")
PY

echo "   ($((SECONDS - start)) s)"
echo "== fresh virtualenv: locked dependencies (--require-hashes), then the wheel (--no-deps)"
# The venv gets no pip of its own (ensurepip alone takes ~10 s); this pip installs into it.
venv="$work/venv"
"$python" -m venv --without-pip "$venv"
pip_in_venv=("$python" -m pip --python "$venv/bin/python" --disable-pip-version-check)
"${pip_in_venv[@]}" install --quiet --no-input --no-compile --require-hashes --only-binary=:all: -r requirements/action.txt
"${pip_in_venv[@]}" install --quiet --no-input --no-compile --no-deps "$wheel"
"${pip_in_venv[@]}" check

echo "   ($((SECONDS - start)) s)"
echo "== smoke: the installed wheel, run from outside the checkout"
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=alice GIT_AUTHOR_EMAIL=alice@example.com
export GIT_COMMITTER_NAME=alice GIT_COMMITTER_EMAIL=alice@example.com
mkdir -p "$HOME"
cd "$work"
promobot="$venv/bin/promobot"
"$promobot" --help > /dev/null
version="$("$promobot" --version)"
echo "$version"
case "$version" in
    *commit*) fail "an installed wheel must not report a commit: $version" ;;
    "promobot, version "*) ;;
    *) fail "unexpected --version output: $version" ;;
esac
demo="$work/demo"
if "$promobot" init --help > /dev/null 2>&1; then
    echo "example repository: promobot init --example $demo"
    "$promobot" init --example "$demo" > "$work/init.log" 2>&1 || { cat "$work/init.log" >&2; fail "promobot init --example failed"; }
else
    echo "example repository: git init + a copy of environments/ (this wheel has no \`init\`)"
    git init -q -b main "$demo"
    cp -R "$root/environments" "$demo/environments"
    git -C "$demo" add -A
    git -C "$demo" commit -q -m "Example GitOps repository"
fi
# The README tour on the local forge: status, diff, a promotion, carol's approval merges it
# and chains prod. At the real time: --now is for previews only (a write refuses it), and
# staging's gates (metrics, artifact) do not depend on the clock.
tour() { "$promobot" --repo "$demo" --forge local "$@"; }
tour status > /dev/null
tour diff fraud-detector --to staging > /dev/null
tour promote fraud-detector --to staging
tour pr review 1 --approve --as carol
state="$(tour --output json pr show 1 | "$python" -c 'import json, sys; print(json.load(sys.stdin)["state"])')"
[ "$state" = merged ] || fail "promotion PR #1 is $state after carol's approval, expected merged"
tour history fraud-detector
echo "package check: passed in $((SECONDS - start)) s"
