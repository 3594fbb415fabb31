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
