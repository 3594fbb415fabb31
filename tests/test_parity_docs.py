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
            rows[m.group(1)] = (m.group(2).strip(), float(m.group(3)), m.group(4))
    return rows


def test_every_exception_is_documented_with_its_limit():
    mod = _exceptions()
    rows = _doc_rows()
    assert set(rows) == set(mod.EXCEPTIONS), "docs/numerics.md and exceptions.py differ"
    for pattern, (limit, metric, where, why) in mod.EXCEPTIONS.items():
        paths = (where,) if isinstance(where, str) else tuple(where)
        doc_where, doc_limit, doc_metric = rows[pattern]
        assert doc_limit == limit, pattern
        assert doc_metric == ("ulp" if metric == "ulp" else "normwise ulp"), pattern
        assert doc_where == ", ".join(paths), pattern
        assert why and set(paths) <= set(mod.ALL)


def test_the_lookup_picks_the_right_entry():
    mod = _exceptions()
    for pattern, (_limit, _metric, where, _why) in mod.EXCEPTIONS.items():
        name = pattern.replace("*", "x").replace("?", "x")
        paths = (where,) if isinstance(where, str) else tuple(where)
        for path in paths:
            got = mod.allowed(name, "cpp" if path == "simd" else path)
            assert got[0] is not None, (pattern, path)
