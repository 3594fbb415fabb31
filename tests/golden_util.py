"""Loading what the golden tests replay: a parity lane case module and a golden JSON file."""

import importlib.util
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def parity_cases(area):
    """tests/parity/cases_AREA.py, loaded by path: tests/cases_AREA.py (the op cases) may have
    the same module name."""
    spec = importlib.util.spec_from_file_location(
        f"parity_cases_{area}", os.path.join(HERE, "parity", f"cases_{area}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def golden(name):
    """The parsed tests/golden/NAME."""
    with open(os.path.join(HERE, "golden", name)) as f:
        return json.load(f)


def digest(results, one_nan=False):
    """[(dtype name, shape, sha256 of the bytes)] of a case's result (a tensor or a list of
    them), as tests/golden/make_digest_golden.py records them; one_nan: every NaN hashed as one
    (its ONE_NAN areas)."""
    import hashlib

    import numpy as np

    items = results if isinstance(results, (list, tuple)) else [results]
    out = []
    for t in items:
        a = np.array(t.detach().numpy(), order="C")
        if one_nan and a.dtype.kind == "f":
            a[np.isnan(a)] = np.nan
        out.append([str(a.dtype), list(a.shape), hashlib.sha256(a.tobytes()).hexdigest()])
    return out


def _flat(r):
    if isinstance(r, (list, tuple)):
        return [v for x in r for v in _flat(x)]
    return [r]


def replay_exact(cases_module, cases, gold, case, backend):
    """Run parity case `case` (of `cases`: dict(cases_module.cases())) on tapegrad's `backend`
    and check each returned tensor's dtype, shape and bytes against what
    tests/golden/make_exact_golden.py recorded from PyTorch."""
    import hashlib

    import numpy as np
    import pytest
    import tapegrad as tg

    if cases_module.rng_fingerprint() != gold["rng"]:
        pytest.skip("NumPy's generator draws other numbers than when the golden file was made")
    old = tg.get_backend()
    tg.set_backend(backend)
    try:
        outs = [t.detach().numpy() for t in _flat(cases[case](tg))]
    finally:
        tg.set_backend(old)
    recs = gold["cases"][case]
    recs = recs if isinstance(recs, list) else [recs]
    assert len(outs) == len(recs)
    for rec, arr in zip(recs, outs):
        arr = np.ascontiguousarray(arr)
        assert arr.dtype.name == rec["dtype"]
        assert list(arr.shape) == rec["shape"]
        assert hashlib.sha256(arr.tobytes()).hexdigest() == rec["sha256"]
