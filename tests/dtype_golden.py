"""Replays the cases of tests/golden/torch_dtypes.json (made by tests/golden/make_dtype_golden.py
with PyTorch) on tapegrad and compares: same dtype, same shape, the same bits (NaNs compare by
position only: their sign and payload are not part of what PyTorch promises), the same exception
type and PyTorch's message.

A case is Python code run with `T` bound to tapegrad and each input var to a tensor; it makes
`out`. See make_dtype_golden.py for the JSON layout.
"""

import hashlib
import json
import os
import re

import numpy as np
import pytest
import tapegrad as tg

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "torch_dtypes.json")
with open(PATH) as _f:
    GOLD = json.load(_f)

ERRORS = {"RuntimeError": RuntimeError, "IndexError": IndexError, "TypeError": TypeError}
ERRORS["ValueError"] = ValueError


def case_id(case):
    """The code and its inputs; make_dtype_golden.py makes the same ids (they are unique)."""
    code = case.get("expr") or case["code"].replace("\n", "; ")
    grad = f" grad {case['grad']}" if "grad" in case else ""
    return f"{code} [{' '.join(case['in'].values())}]{grad}"


def params(group, ub=False):
    """The group's cases as pytest params; `ub`: only the undefined casts, else only the others."""
    return [pytest.param(c, id=case_id(c)) for c in GOLD["cases"][group] if bool(c.get("ub")) == ub]


def decode(rec):
    """A whole-array record as a NumPy array."""
    return np.frombuffer(bytes.fromhex(rec["hex"]), rec["dtype"]).reshape(rec["shape"]).copy()


def make_inputs(case, backend):
    grad = case.get("grad")
    return {
        var: tg.tensor(
            decode(GOLD["inputs"][name]),
            dtype=getattr(tg, GOLD["inputs"][name]["dtype"]),
            requires_grad=var == grad,
            backend=backend,
        )
        for var, name in case["in"].items()
    }


def run(case, backend):
    """Run the case's code; return (out, namespace)."""
    ns = {"T": tg, **make_inputs(case, backend)}
    with tg.use_backend(backend):
        if "expr" in case:
            ns["out"] = eval(case["expr"], ns)
        else:
            exec(case["code"], ns)
    return ns["out"], ns


def _nan_free_bytes(arr):
    """The bytes with every NaN made the same NaN: PyTorch's 0/0 is x86's negative NaN."""
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), np.array(np.nan, arr.dtype), arr)
    return arr.tobytes()


def dtype_name(d):
    return str(d).rsplit(".", 1)[-1]  # torch.int64 -> int64


def check_tensor(got, rec, where):
    assert isinstance(got, tg.Tensor), f"{where}: got {type(got).__name__}, want a tensor"
    name = dtype_name(got.dtype)
    assert name == rec["dtype"], f"{where}: dtype {name} != {rec['dtype']}"
    assert list(got.shape) == rec["shape"], f"{where}: shape {list(got.shape)} != {rec['shape']}"
    arr = np.array(got.detach().numpy(), order="C")
    assert arr.dtype.name == rec["dtype"], where
    if "hex" in rec:
        want = decode(rec)
        np.testing.assert_array_equal(arr, want, err_msg=where)
        assert _nan_free_bytes(arr) == _nan_free_bytes(want), f"{where}: bits differ (+-0?)"
    else:  # a large result: its hash, and the ends to show on a mismatch
        flat = arr.reshape(-1)
        assert flat[:4].tobytes().hex() == rec["head_hex"], f"{where}: first values {flat[:4]}"
        assert flat[-4:].tobytes().hex() == rec["tail_hex"], f"{where}: last values {flat[-4:]}"
        assert hashlib.sha256(arr.tobytes()).hexdigest() == rec["sha256"], f"{where}: values"


def check_value(got, rec, where="out"):
    if "tuple" in rec:
        assert isinstance(got, tuple), f"{where}: got {type(got).__name__}, want a tuple"
        assert len(got) == len(rec["tuple"]), where
        for i, (g, r) in enumerate(zip(got, rec["tuple"])):
            check_value(g, r, f"{where}[{i}]")
    elif rec.get("py") == "dtype":
        assert got is getattr(tg, rec["value"]), f"{where}: {got!r} is not {rec['value']}"
    elif rec.get("py") == "float":
        assert type(got) is float and got.hex() == rec["value"], f"{where}: {got!r}"
    elif "py" in rec:  # bool, int, str: the same Python type and value
        assert type(got).__name__ == rec["py"] and got == rec["value"], f"{where}: {got!r}"
    else:
        check_tensor(got, rec, where)


def check(case, backend):
    """Run a case and compare it with PyTorch's answer."""
    if "error" in case:
        err = case["error"]
        with pytest.raises(ERRORS[err["type"]], match=re.escape(err["msg"])):
            run(case, backend)
        return
    out, ns = run(case, backend)
    check_value(out, case["out"])
    if "grad" in case:
        # tapegrad names the in-place-on-a-view node without PyTorch's C++ namespace
        want = case["grad_fn"].replace("torch::autograd::", "")
        assert (out.grad_fn.name() if out.grad_fn is not None else None) == want
        w = np.arange(1, out.numel() + 1).reshape(tuple(out.shape)).astype(dtype_name(out.dtype))
        out.backward(tg.tensor(w, dtype=out.dtype, backend=backend))
        check_value(ns[case["grad"]].grad, case["input_grad"], f"{case['grad']}.grad")
