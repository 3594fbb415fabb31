"""Factories and random streams against PyTorch's recorded answers (tests/golden/
torch_factories.json, made by tests/golden/make_factories_golden.py from the parity cases in
tests/parity/cases_factories.py); no PyTorch needed. Both backends, each with its own engine
(C++ generator on the cpp backend, NumPy engine on the numpy backend), must give the same bits."""

import hashlib
import importlib.util
import json
import os

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _random
from tapegrad._fma import simd

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_cases():
    path = os.path.join(HERE, "parity", "cases_factories.py")
    spec = importlib.util.spec_from_file_location("cases_factories", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.cases())


CASES = _load_cases()
with open(os.path.join(HERE, "golden", "torch_factories.json")) as _f:
    GOLD = json.load(_f)


def _group(name):
    parts = name.split("/")
    return "/".join(parts[:2]) if parts[0] == "random" else parts[0]


GROUPS = sorted({_group(n) for n in CASES})


def _differs(got, rec):
    if hasattr(got, "detach"):
        got = got.detach().numpy()
    arr = np.ascontiguousarray(got)
    if arr.dtype.name != rec["dtype"] or list(arr.shape) != rec["shape"]:
        return f"dtype/shape {arr.dtype}{list(arr.shape)} != {rec['dtype']}{rec['shape']}"
    raw = arr.tobytes()
    if "hex" in rec:
        return None if raw.hex() == rec["hex"] else "values differ"
    flat = arr.reshape(-1)
    same = (
        flat[:8].tobytes().hex() == rec["head_hex"]
        and flat[-8:].tobytes().hex() == rec["tail_hex"]
        and hashlib.sha256(raw).hexdigest() == rec["sha256"]
    )
    return None if same else "values differ (hash)"


def test_golden_covers_the_cases():
    assert GOLD["torch_version"].split(".")[0] == "2" and GOLD["cpu_capability"] == "AVX2"
    assert set(GOLD["cases"]) == set(CASES)


@pytest.mark.skipif(not simd(), reason="PyTorch's AVX2 numbers (the portable path follows its "
                    "default kernels: tests/parity/run.py compares those)")  # fmt: skip
@pytest.mark.parametrize("backend", ["cpp", "numpy"])
@pytest.mark.parametrize("group", GROUPS)
def test_matches_pytorch_bit_for_bit(group, backend, monkeypatch):
    monkeypatch.setattr(_random, "_default", tg.Generator(_impl=backend))
    bad = []
    with tg.use_backend(backend):
        for name, fn in CASES.items():
            if _group(name) != group:
                continue
            want = GOLD["cases"][name]
            if isinstance(want, dict):  # PyTorch refused: so must tapegrad
                with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal will do
                    fn(tg)
                continue
            got = fn(tg)
            items = got if isinstance(got, (list, tuple)) else [got]
            assert len(items) == len(want), name
            bad += [f"{name}[{i}]: {d}" for i, (g, w) in enumerate(zip(items, want))
                    if (d := _differs(g, w))]  # fmt: skip
    assert not bad, f"{len(bad)} differ from PyTorch:\n" + "\n".join(bad[:20])


def test_zero_dim_stays_zero_dim(backend):
    """np.ascontiguousarray turns 0-d arrays into 1-d ones; no factory may pass that on."""
    with tg.use_backend(backend):
        s = tg.tensor(3.0)
        for f in (tg.empty_like, tg.zeros_like, tg.rand_like, tg.randn_like):
            assert f(s).shape == ()
        assert tg.randint_like(tg.tensor(3), 5).shape == ()
        assert tg.empty(()).shape == () and tg.rand(()).shape == ()
        assert (s + np.array(2.0)).shape == ()
