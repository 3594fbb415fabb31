#!/usr/bin/env bash
# The newest Python that pyproject.toml's requires-python admits, in a venv of its own: the
# README's install and test command, as on 3.11 (the oldest, .ci/run's own venv). It fails when
# that interpreter is missing: a version that CI cannot run must not stay in requires-python.
set -euo pipefail
cd "$(dirname "$0")/.."
newest=3.13
py=""
if command -v "python$newest" >/dev/null && "python$newest" -c pass 2>/dev/null; then
  py=$(command -v "python$newest")
elif command -v pyenv >/dev/null; then
  for v in $(pyenv versions --bare | grep -E "^$newest\.[0-9]+$" | sort -V -r); do
    py="$(pyenv root)/versions/$v/bin/python$newest"
    break
  done
fi
if [ -z "$py" ] || ! "$py" -c pass; then
  echo "Python $newest (the newest version in requires-python) is not on this machine" >&2
  exit 1
fi
python - "$newest" <<'PY'
import sys, tomllib

spec = tomllib.load(open("pyproject.toml", "rb"))["project"]["requires-python"]
newest = tuple(int(x) for x in sys.argv[1].split("."))
upper = [s for s in spec.split(",") if s.strip().startswith("<")]
assert upper and upper[0].strip() == f"<{newest[0]}.{newest[1] + 1}", (spec, newest)
PY
venv=.venv-ci-newest
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" --version
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install ".[test]"
"$venv/bin/python" -m pytest -q -p no:cacheprovider
