"""A bounded run of the entry-point fuzzer (fuzz_entry_points.py) in a subprocess per backend.

A segfault or abort in the subprocess fails the test (with its signal) instead of killing
pytest. Deterministic: a fixed seed and count. Longer runs: `python tests/fuzz_entry_points.py
--count 200000 --seed N`.
"""

import os
import subprocess
import sys

import pytest

COUNT = 5000
SEED = 0
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_fuzz_entry_points(backend):
    env = dict(os.environ)
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__import__("tapegrad").__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pkg, env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-X", "faulthandler", os.path.join(HERE, "fuzz_entry_points.py"),
           "--count", str(COUNT), "--seed", str(SEED), "--backend", backend]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    out = r.stdout + r.stderr
    assert r.returncode >= 0, (
        f"the fuzzer was killed by signal {-r.returncode}; rerun with --verbose to see the "
        f"last call:\n{out[-4000:]}"
    )
    assert r.returncode == 0, out[-6000:]
    assert f"fuzz: {COUNT} calls" in r.stdout
