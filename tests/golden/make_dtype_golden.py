"""Write tests/golden/torch_dtypes.json: PyTorch's answers for dtypes, type promotion, casts,
comparisons, reductions and indexing.

Needs PyTorch (CPU); run once, commit the JSON. tests/test_dtypes.py, tests/test_compare.py and
tests/test_advanced_index.py replay every case on tapegrad without PyTorch.

    python tests/golden/make_dtype_golden.py    # in an environment with PyTorch 2.13

Layout of the JSON:
  inputs  name -> {"dtype", "shape", "hex"}: an array's raw (little-endian) bytes
  cases   group -> list of cases. A case is {"expr"} (a Python expression) or {"code"}
          (statements that set `out`), run with `T` bound to the library module and each var
          of "in" {var: input name} bound to a tensor made from that input; then the answer:
          "out" (see encode) or "error" {"type", "msg"}. With "grad": var, that input requires
          grad, `out.backward(w)` runs with w = 1, 2, 3, ... in out's shape and dtype, and
          "grad_fn" and "input_grad" (the var's .grad) are recorded too. A case's test id is
          its code and input names (case_id; unique).
  "ub" marks a float -> integer cast of a value the integer type cannot hold (NaN, inf, out of
  range): C++ leaves it undefined; the recorded bits are what x86-64 PyTorch gives.
Outputs of more than FULL elements are stored as a SHA-256 of the bytes plus the first and
last four elements.
"""

import hashlib
import json
import math
import os
import platform
import re
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_dtypes.json")

DTYPES = ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")
FLOATS = ("float32", "float16", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
FULL = 32  # arrays up to this many elements are stored whole


def encode_array(arr):
    """dtype, shape and the raw bytes; past FULL elements a hash and the first and last ones."""
    arr = np.array(arr, order="C")  # a copy; 0-dim stays 0-dim (ascontiguousarray makes it 1-d)
    rec = {"dtype": arr.dtype.name, "shape": list(arr.shape)}
    if arr.size <= FULL:
        rec["hex"] = arr.tobytes().hex()
    else:
        flat = arr.reshape(-1)
        rec["sha256"] = hashlib.sha256(arr.tobytes()).hexdigest()
        rec["head_hex"] = flat[:4].tobytes().hex()
        rec["tail_hex"] = flat[-4:].tobytes().hex()
    return rec


def encode(x):
    """A tensor as dtype, shape and raw bytes; tuples element-wise; Python numbers exactly."""
    if isinstance(x, torch.Tensor):
        return encode_array(x.detach().numpy())
    if isinstance(x, (tuple, list)):
        return {"tuple": [encode(e) for e in x]}
    if isinstance(x, bool):
        return {"py": "bool", "value": x}
    if isinstance(x, int):
        return {"py": "int", "value": x}
    if isinstance(x, float):
        return {"py": "float", "value": x.hex()}
    if isinstance(x, str):
        return {"py": "str", "value": x}
    if isinstance(x, torch.dtype):
        return {"py": "dtype", "value": str(x).replace("torch.", "")}
    raise TypeError(f"cannot encode {type(x).__name__}")


def array(values, dtype):
    """A NumPy array of `values` in `dtype`, converted as PyTorch converts them."""
    return torch.tensor(values, dtype=getattr(torch, dtype)).numpy()


# ------------------------------------------------------------------ inputs


def make_inputs():
    inp = {}
    for d in DTYPES:
        if d in FLOATS:
            a, b, s = [-7.5, -1.0, 0.25, 100.0], [2.0, -3.0, 0.5, 100.0], 2.5
        elif d == "uint8":  # 250 + 10 and 100 * 100 wrap around
            a, b, s = [250, 1, 0, 100], [10, 3, 1, 100], 3
        elif d == "bool":
            a, b, s = [True, False, True, False], [True, True, False, False], True
        else:  # int8: 100 + 100 wraps
            a, b, s = [-7, -1, 0, 100], [2, -3, 1, 100], -3
        inp[f"a.{d}"] = array(a, d)
        inp[f"b.{d}"] = array(b, d)
        inp[f"s.{d}"] = array(s, d)  # 0-dim
        grid = np.arange(6).reshape(2, 3)
        scale = 25 if d == "int8" else 50  # uint8: the sum 750 needs int64
        inp[f"m.{d}"] = array((grid % 2 if d == "bool" else grid * scale).tolist(), d)
    # cast sources: in range for every integer type / negative / beyond any narrow integer
    big = [-129, -1, 0, 1, 2, 127, 255, 300, 70000, 2**40 + 3, -(2**63)]
    for d in DTYPES:
        if d in FLOATS:
            f64 = {
                "safe": [2.5, 0.5, 100.7, 0.0, -0.0, 1e-8, 127.9],
                "neg": [-1.5, -0.5, -100.7, -128.9],
                "wild": [300.0, -129.0, math.nan, math.inf, -math.inf, 1e10, 70000.5, 3e9]
                + [16777217.0],  # int32 holds it, narrower types do not; float32 rounds it
            }
            for kind, vals in f64.items():
                inp[f"c{kind}.{d}"] = np.array(vals, np.float64).astype(d)
        elif d == "bool":
            inp["csafe.bool"] = np.array([True, False, True])
        else:
            inp[f"csafe.{d}"] = np.array(big, np.int64).astype(d)  # wraps, as PyTorch does
    inp["cond"] = np.array([True, False, False, True])
    inp["cond23"] = np.array([[True, False, True], [False, False, True]])
    inp["fnan"] = np.array([1.0, math.nan, math.inf, -math.inf, -0.0, 2.0], np.float32)
    inp["x"] = np.arange(120, dtype=np.float32).reshape(4, 5, 6)
    inp["xl"] = np.arange(120, dtype=np.int64).reshape(4, 5, 6)
    inp["v1"] = np.array(-1.0, np.float32)
    inp["v6"] = -np.arange(1, 7, dtype=np.float32)
    inp["v56"] = -np.arange(1, 31, dtype=np.float32).reshape(5, 6)
    inp["i1"] = np.array([2, 0, -1, 2], np.int64)
    inp["i2"] = np.array([[0, 1], [3, 3]], np.int64)
    inp["i0"] = np.array(1, np.int64)
    inp["i32"] = np.array([1, 3], np.int32)
    inp["mask4"] = np.array([True, False, True, True])
    inp["mask45"] = (np.arange(20).reshape(4, 5) % 3) == 0
    inp["mask0"] = np.array(True)
    rng = np.random.default_rng(0)  # makemore: C (27, 2) embedding rows picked by X (32, 3)
    inp["C"] = rng.standard_normal((27, 2)).astype(np.float32)
    inp["X"] = rng.integers(0, 27, (32, 3)).astype(np.int64)
    return inp


# ------------------------------------------------------------------ cases


def binary_cases():
    cases = []
    forms = (("dd", "a.{A}", "b.{B}"), ("d0", "a.{A}", "s.{B}"), ("0d", "s.{A}", "b.{B}"))
    ops = {"add": "a + b", "sub": "a - b", "mul": "a * b", "div": "a / b", "lt": "a < b"}
    ops["where"] = "T.where(c, a, b)"
    for A in DTYPES:
        for B in DTYPES:
            for form, na, nb in forms:
                ins = {"a": na.format(A=A), "b": nb.format(B=B), "c": "cond"}
                for op, expr in ops.items():
                    if form != "dd" and op not in ("add", "div", "lt"):
                        continue  # the promotion table with 0-dim operands: add, div and lt
                    cases.append((f"{op}/{A}-{B}/{form}", "promote", f"out = {expr}", ins))
                if form == "dd":  # in place: the result must cast back to a's dtype
                    cases.append((f"iadd/{A}-{B}/{form}", "promote", "a += b\nout = a", ins))
    return cases


def scalar_cases():
    cases = []
    exprs = ("a + s", "s + a", "a - s", "s - a", "a * s", "a / s", "s / a")
    exprs += ("a < s", "a == s")
    for d in DTYPES:
        for s in ("True", "2", "2.5", "-1"):
            for e in exprs:
                code = f"out = {e.replace('s', s)}"
                cases.append((f"{e}/{d}/{s}", "scalar", code, {"a": f"a.{d}"}))
        for s in ("1.5", "1", "True"):  # in place: casting the result back can fail
            for op in ("+=", "*=", "/="):
                code = f"a {op} {s}\nout = a"
                cases.append((f"a {op} {s}/{d}", "scalar", code, {"a": f"a.{d}"}))
    return cases


def floordiv_cases():
    cases = []
    pairs = [(d, d) for d in ("float32", "float64", "int64", "int32", "int8", "uint8")]
    pairs += [("int64", "float32"), ("int8", "uint8"), ("int32", "int64")]
    for A, B in pairs:
        for e in ("a // b", "a % b", "T.floor_divide(a, b)", "T.remainder(a, b)"):
            cases.append((f"{e}/{A}-{B}", "floordiv", f"out = {e}", {"a": f"a.{A}", "b": f"b.{B}"}))
    for A in ("float32", "float64", "int64", "int32", "int8", "uint8"):
        for s in ("2", "-3", "2.5"):
            for e in ("a // s", "a % s", "s // a", "s % a"):
                e = e.replace("s", s)
                cases.append((f"{e}/{A}", "floordiv", f"out = {e}", {"a": f"a.{A}"}))
    return cases


def cast_cases():
    cases = []
    for src in DTYPES:
        kinds = ("safe", "neg", "wild") if src in FLOATS else ("safe",)
        for kind in kinds:
            for dst in DTYPES:
                out_of_range = kind == "wild" or (dst == "uint8" and kind == "neg")
                ub = src in FLOATS and dst in INTS and out_of_range
                name = f"c{kind}.{src}"
                code = f"out = a.to(T.{dst})"
                cases.append((f"to/{src}.{kind}->{dst}", "cast", code, {"a": name}, ub))
    methods = ("long", "int", "double", "bool", "float", "half", "short", "char", "byte")
    for m in methods:
        for src in ("float64", "int64", "bool"):
            name = "cneg.float64" if src == "float64" else f"csafe.{src}"
            code = f"out = a.{m}()"
            cases.append((f"{m}()/{src}", "cast", code, {"a": name}, False))
    for src in DTYPES:
        cases.append((f"type()/{src}", "cast", "out = a.type()", {"a": f"a.{src}"}, False))
        cases.append((f"dtype/{src}", "cast", "out = a.dtype", {"a": f"a.{src}"}, False))
    extra = (
        ("type(float64)", "out = a.type(T.float64)", "a.int8"),
        ("type('torch.LongTensor')", "out = a.type('torch.LongTensor')", "a.float32"),
        ("to(other)", "out = a.to(b)", "a.float32"),
        ("to(dtype=)", "out = a.to(dtype=T.int16)", "a.float32"),
        ("to(float32) same", "out = a.to(T.float32) is a", "a.float32"),
        ("float() same", "out = a.float() is a", "a.float32"),
        ("long() copy", "out = a.long() is a", "a.float32"),
        ("is_floating_point", "out = (a.is_floating_point(), b.is_floating_point())", "a.int8"),
        ("element_size", "out = (a.element_size(), b.element_size())", "a.int16"),
    )
    for cid, code, a in extra:
        cases.append((cid, "cast", code, {"a": a, "b": "b.float64"}, False))
    return cases


def reduce_cases():
    cases = []
    exprs = ("m.sum()", "m.sum(0)", "m.sum(1, keepdim=True)", "T.sum(m)", "m.mean()")
    exprs += ("m.mean(1)", "m.any()", "m.all()", "m.any(0)", "m.all(1)", "T.any(m)")
    for d in DTYPES:
        for e in exprs:
            cases.append((f"{e}/{d}", "reduce", f"out = {e}", {"m": f"m.{d}"}))
    return cases


def compare_cases():
    """Comparisons, logic and masks: each a line of code on bool/float inputs."""
    ins = {"a": "a.float32", "b": "b.float32", "c": "cond", "m": "cond23", "f": "fnan"}
    ins |= {"k": "a.int64", "u": "a.uint8"}
    lines = (
        "out = a.eq(b)", "out = a.ne(2.0)", "out = a.lt(b)", "out = a.le(b)", "out = a.gt(0)",
        "out = a.ge(b)", "out = T.eq(a, b)", "out = T.lt(a, 0.25)", "out = a > k",
        "out = T.equal(a, a)", "out = T.equal(a, b)", "out = T.equal(a, k)",
        "out = T.equal(a, a[:2])",
        "out = T.allclose(a, a + 1e-9)", "out = T.allclose(a, b)",
        "out = T.allclose(f, f)", "out = T.allclose(f, f, equal_nan=True)",
        "out = T.isclose(a, a + 1e-6)", "out = T.isclose(f, f)",
        "out = T.isclose(f, f, equal_nan=True)", "out = T.isclose(a, b, rtol=0, atol=3)",
        "out = T.where(c, a, 0.0)", "out = T.where(c, 1, 0)",
        "out = T.where(c, k, 0.5)", "out = T.where(c, 1.0, k)", "out = T.where(c, u, -1)",
        "out = T.where(c)", "out = T.where(m)", "out = T.where(a > 0, a, -a)",
        "out = T.logical_and(c, a > 0)", "out = T.logical_or(c, a > 0)",
        "out = T.logical_not(c)", "out = T.logical_xor(c, a > 0)", "out = T.logical_not(a)",
        "out = T.logical_and(a, k)", "out = ~c", "out = c & (a > 0)", "out = c | (a > 0)",
        "out = c ^ (a > 0)", "out = ~k", "out = ~a",
        "out = c.any()", "out = c.all()", "out = m.any(0)", "out = m.all(1)",
        "out = m.any(dim=1, keepdim=True)", "out = (a > 1000).any()", "out = a.all()",
        "out = T.isnan(f)", "out = T.isinf(f)", "out = T.isfinite(f)", "out = f.isnan()",
        "out = T.isnan(k)", "out = T.isfinite(k)",
        "out = a.masked_fill(c, 0.5)", "out = a.masked_fill(c, T.tensor(-2.0))",
        "out = k.masked_fill(c, 1.7)", "out = k.masked_fill(c, -1)", "out = u.masked_fill(c, -1)",
        "out = a.masked_fill(m, 0.0)", "out = c.masked_fill(c, False)",
        "out = T.nonzero(m)", "out = m.nonzero()", "out = T.nonzero(m, as_tuple=True)",
        "out = k.nonzero()", "out = f.nonzero()",
        "out = bool(c[0])", "out = bool(c[1])", "out = bool(a[:1])", "out = bool(c)",
        "out = bool(a[3])", "out = bool(f[1])",
        "out = (c == (a > 0)).float().mean()", "out = (c == (a > 0)).sum()",
        "out = c.sum()", "out = c.sum().dtype", "out = (a > 0).sum(0)",
        "out = c.float()", "out = c.long() * 3",
    )  # fmt: skip
    cases = [(line[6:], "compare", line, ins) for line in lines]
    return cases


def index_cases():
    """Index expressions on x = arange(120).reshape(4, 5, 6) (float32, and int64 as xl)."""
    ins = {"x": "x", "xl": "xl", "i1": "i1", "i2": "i2", "i0": "i0", "i32": "i32"}
    ins |= {"mk": "mask4", "mk2": "mask45", "m0": "mask0", "v1": "v1", "v6": "v6", "v56": "v56"}
    gets = (
        "x[1]", "x[-1, 2]", "x[1:3]", "x[:, 1:4:2]", "x[None, 0]", "x[..., 2]", "x[0, ..., None]",
        "x[[0, 2]]", "x[[-1, 0]]", "x[:, [1, 0]]", "x[..., [5, 0, 5]]", "x[i1]", "x[i2]",
        "x[:, i2]", "x[i0]", "x[i32]", "x[[0, 1], [1, 2]]", "x[[0, 1], [1, 2], [3, 4]]",
        "x[0, :, [1, 2]]", "x[[0, 1], :, [1, 2]]", "x[:, [0, 1], [1, 2]]", "x[1:, [0, 1], 2]",
        "x[[0, 1], 2, [1, 3]]", "x[[0, 1], 2:4, [1, 3]]", "x[:, None, [1, 2]]",
        "x[i2, :, i2]", "x[:, [[0], [1]], [2, 3]]", "x[mk]", "x[mk2]", "x[:, [True, False, True, "
        "False, True]]", "x[mk, 1]", "x[1, mk2[0]]", "x[m0]", "x[x > 100]", "x[x[:, 0, 0] > 50]",
        "x[[0, 0, 1]]", "x[[1, 1], [2, 2]]", "x[i1, :, 0]", "x[True]", "x[False]", "x[None]",
        "x[[]]", "x[[0, 1, 2, 3], ...]", "x[(0, 1)]", "x[[0, 1], ...][:, 0]",
    )  # fmt: skip
    cases = []
    for e in gets:
        cases.append((e, "getitem", f"out = {e}", ins, "x"))
    for e in ("xl[i1]", "xl[mk2]", "xl[:, 0, [1, 1]]"):
        cases.append((e, "getitem", f"out = {e}", ins, None))
    errors = (
        "x[4]", "x[0, 5]", "x[[0, 4]]", "x[[0, -5]]", "x[:, [5]]", "x[i1 * 3]", "x[mk[:3]]",
        "x[mk2[:3]]", "x[[0, 1], [0, 1, 2]]", "x[0, 0, 0, 0]", "x[0.5]", "x[x]",
    )  # fmt: skip
    for e in errors:
        cases.append((e, "getitem", f"out = {e}", ins, None))
    sets = (
        "x[0] = 7.0", "x[:, 1] = v6", "x[[0, 2]] = -1.0", "x[[0, 0]] = v56", "x[i1] = v1",
        "x[x > 100] = 0", "x[mk] = v56", "x[mk2] = v6", "x[0, :, [1, 2]] = 9.5",
        "x[[0, 1], [1, 2]] = v6", "x[..., [0, -1]] = 3", "x[i2] = 2.0", "x[1:3, mk2[0]] = -2",
        "x[[3, 3, 3], 0, 0] = v1", "xl[xl % 7 == 0] = -1", "xl[0, 0] = 2.9", "xl[[1, 2]] = 1.9",
        "x[mk2] = v6[:2]", "x[[0, 4]] = 1.0",
    )  # fmt: skip
    for s in sets:
        var = s.split("[")[0]
        cases.append((s, "setitem", f"{s}\nout = {var}", ins, None))
    grads = (  # setitem on a non-leaf records the write
        ("y = x * 1\ny[mk2] = 0.0\nout = y", "x"),
        ("y = x * 1\ny[x > 100] = v1\nout = y", "x"),
        ("y = x * 1\ny[[0, 0]] = v56\nout = y", "v56"),
        ("y = x * 1\ny[i1] = v1\nout = y", "v1"),
        ("y = x * 1\ny[mk] = v56 * 2\nout = y", "v56"),
        ("y = x * 1\ny[0, :, [1, 2]] = v6[:2]\nout = y", "v6"),
        ("x[0] = 1.0\nout = x", "x"),  # in place on a leaf that requires grad
    )
    for code, g in grads:
        line = code.split("\n")[1 if code.startswith("y") else 0]
        cases.append((f"{line} (grad {g})", "setitem", code, ins, g))
    makemore = ("C[X]", "C[X].view(32, 6)", "C[X[:, 0]]", "C[5]", "C[T.tensor(5)]")
    for e in makemore:
        cases.append((e, "getitem", f"out = {e}", {"C": "C", "X": "X"}, "C"))
    return cases


# ------------------------------------------------------------------ running


def run_case(code, inputs, grad):
    ns = {"T": torch}
    for var, arr in inputs.items():
        t = torch.from_numpy(arr.copy())
        ns[var] = t.requires_grad_(True) if var == grad else t
    exec(code, ns)
    rec = {"out": encode(ns["out"])}
    if grad is not None:
        out = ns["out"]
        w = (
            np.arange(1, out.numel() + 1)
            .reshape(tuple(out.shape))
            .astype(out.detach().numpy().dtype)
        )
        rec["grad_fn"] = out.grad_fn.name() if out.grad_fn is not None else None
        out.backward(torch.from_numpy(w))
        rec["input_grad"] = encode(ns[grad].grad)
    return rec


def case_id(case):
    """The test id (tests/test_dtypes.py makes the same): the code and its inputs."""
    code = case.get("expr") or case["code"].replace("\n", "; ")
    grad = f" grad {case['grad']}" if "grad" in case else ""
    return f"{code} [{' '.join(case['in'].values())}]{grad}"


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    pool = make_inputs()
    groups = (
        [c + (None, False) for c in binary_cases()]
        + [c + (None, False) for c in scalar_cases()]
        + [c + (None, False) for c in floordiv_cases()]
        + [c[:4] + (None, c[4]) for c in cast_cases()]
        + [c + (None, False) for c in reduce_cases()]
        + [c + (None, False) for c in compare_cases()]
        + [c + (False,) for c in index_cases()]
    )
    cases, used, seen = {}, set(), set()
    for _label, group, code, ins, grad, ub in groups:  # the label only helps reading the lists
        names = set(re.findall(r"[A-Za-z_]\w*", code))
        code_vars = {v: n for v, n in ins.items() if v in names}
        if code.startswith("out = ") and "\n" not in code:
            case = {"expr": code[6:], "in": code_vars}
        else:
            case = {"code": code, "in": code_vars}
        if grad is not None:
            case["grad"] = grad
        if ub:
            case["ub"] = True
        try:
            case |= run_case(code, {v: pool[n] for v, n in code_vars.items()}, grad)
        except Exception as e:  # PyTorch's error: the type and message
            case["error"] = {"type": type(e).__name__, "msg": str(e).split("\n")[0]}
        used.update(code_vars.values())
        cid = case_id(case)
        assert cid not in seen, cid
        seen.add(cid)
        cases.setdefault(group, []).append(case)
    inputs = {}
    for name in sorted(used):
        arr = np.array(pool[name], order="C")
        inputs[name] = {
            "dtype": arr.dtype.name,
            "shape": list(arr.shape),
            "hex": arr.tobytes().hex(),
        }
    data = {
        "torch_version": torch.__version__,
        "machine": platform.machine(),
        "default_dtype": str(torch.get_default_dtype()),
        "inputs": inputs,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    n = sum(len(v) for v in cases.values())
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {n} cases) "
          f"with torch {torch.__version__}")  # fmt: skip


if __name__ == "__main__":
    main()
