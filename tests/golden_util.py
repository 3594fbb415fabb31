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
