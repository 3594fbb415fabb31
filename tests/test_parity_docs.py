"""docs/numerics.md and tests/parity/exceptions.py (the parity lane's list of documented
differences from PyTorch) name the same case patterns, with the same limits. Needs no torch."""

import importlib.util
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _exceptions():
    path = os.path.join(ROOT, "tests", "parity", "exceptions.py")
    spec = importlib.util.spec_from_file_location("parity_exceptions", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _doc_rows():
    """The exceptions table: rows `| `pattern` | where | limit metric | ... |`."""
    with open(os.path.join(ROOT, "docs", "numerics.md")) as f:
        text = f.read()
    section = text.split("## Documented exceptions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|\s*([^|]+)\|\s*([\d.]+) (ulp|normwise ulp)\s*\|", line)
        if m:
            rows[(m.group(1), m.group(2).strip())] = (float(m.group(3)), m.group(4))
    return rows


def test_every_exception_is_documented_with_its_limit():
    mod = _exceptions()
    rows = _doc_rows()
    want = {}
    for pattern, limit, metric, where, why in mod.EXCEPTIONS:
        assert why and set(mod.paths(where)) <= set(mod.ALL), pattern
        want[(pattern, ", ".join(mod.paths(where)))] = (
            float(limit),
            "ulp" if metric == "ulp" else "normwise ulp",
        )
    assert len(want) == len(mod.EXCEPTIONS), "a pattern is listed twice for the same paths"
    assert rows == want


def test_the_lookup_picks_each_row():
    mod = _exceptions()
    for pattern, _limit, _metric, where, _why in mod.EXCEPTIONS:
        name = pattern.replace("*", "x").replace("?", "x")
        for path in mod.paths(where):
            row, _, _ = mod.allowed(name, "cpp" if path == "simd" else path)
            assert row is not None and mod.EXCEPTIONS[row][0] == pattern, (pattern, path)
