"""PyTorch's tensor text, replayed from tests/golden/torch_print.json on both backends: every
case of tests/golden/print_cases.py prints character for character what PyTorch 2.13 printed
(make_print_golden.py), dtype names included.
"""

import hashlib
import importlib.util
import json
import os

import pytest
import tapegrad as tg

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")


def _load_cases():
    spec = importlib.util.spec_from_file_location(
        "print_cases", os.path.join(GOLDEN, "print_cases.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


with open(os.path.join(GOLDEN, "torch_print.json")) as f:
    EXPECTED = json.load(f)["cases"]
CASES = _load_cases()
NAMES = sorted(EXPECTED)


def _matches(got, want):
    """`want` is PyTorch's text, or for a long one its SHA-256, length and both ends."""
    if isinstance(want, str):
        return got == want
    digest = hashlib.sha256(got.encode()).hexdigest()
    return got.startswith(want["head"]) and got.endswith(want["tail"]) and digest == want["sha256"]


@pytest.fixture(scope="module")
def built():
    return {be: CASES.cases(tg) for be in ("cpp", "numpy")}


def test_case_list_matches_golden(built):
    assert sorted(built["cpp"]) == NAMES, "regenerate with tests/golden/make_print_golden.py"


@pytest.mark.parametrize("backend", ("cpp", "numpy"))
@pytest.mark.parametrize("name", NAMES)
def test_print_golden(backend, name, built):
    opts, fn = built[backend][name]
    want = EXPECTED[name]
    with tg.use_backend(backend):
        tg.set_printoptions(**opts)
        try:
            if "error" in want:
                err = want["error"]
                with pytest.raises(Exception) as info:
                    fn()
                assert type(info.value).__name__ == err["type"] and str(info.value) == err["msg"]
                return
            res = fn()
        finally:
            tg.set_printoptions(profile="default")
    got = res if isinstance(res, list) else [res]
    assert len(got) == len(want["out"])
    for g, w in zip(got, want["out"]):
        assert _matches(g, w), f"\n--- tapegrad\n{g}\n--- torch\n{w}"
