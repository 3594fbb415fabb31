"""The printing cases shared by make_print_golden.py (run with PyTorch) and tests/test_print.py
(run with tapegrad): one definition, so both sides print exactly the same tensors.

`cases(T)` maps a case name to (options, fn): `T.set_printoptions(**options)` runs first (the
default profile is restored after), then `fn()` returns a string or a list of strings: a
tensor's repr, str or format. Inputs come from NumPy by exact arithmetic only (raw PCG64 words,
integer operations, products with constants), so every machine builds the same bits.
"""

import numpy as np

FLOATS = ("float32", "float16", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
DTYPES = FLOATS + INTS + ("bool",)
SIZES = (0, 1, 2, 7, 16, 33, 100, 999, 1000, 1001, 4099, 5000)
SHAPES = ((2, 3), (7, 5), (33, 33), (40, 30), (3, 4, 5), (10, 10, 11), (2, 3, 4, 5), (8, 8, 8, 8))
EMPTY = ((0, 3), (3, 0), (2, 0, 4), (0, 0))
SPECIAL = (float("inf"), float("-inf"), float("nan"), -0.0, 0.0)


def _raw(n, seed):
    return np.random.PCG64(seed).random_raw(n) if n else np.zeros(0, np.uint64)


def _unit(n, seed):
    """n values in [0, 1): 53 random bits each, exact."""
    return (_raw(n, seed) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def values(kind, shape, dtype, seed=0):
    """A NumPy array of `kind` values: 'normal' (a sum of four uniforms, centred), 'wide'
    (normal times 10^-6 .. 10^9), 'tiny', 'huge', 'integral' (whole floats), 'int' (signed
    integers that fit the dtype), 'special' (normal with inf, nan, -0 mixed in)."""
    n = int(np.prod(shape))
    if dtype == "bool":
        return (_raw(n, seed) & np.uint64(1)).astype(bool).reshape(shape)
    if kind == "int" or dtype in INTS:
        info = np.iinfo(dtype) if dtype in INTS else np.iinfo(np.int16)
        span = min(int(info.max) - int(info.min) + 1, 2**20)
        lo = max(int(info.min), -(span // 2))
        v = (_raw(n, seed) % np.uint64(span)).astype(np.int64) + lo
        return v.astype(dtype).reshape(shape)
    u = sum(_unit(n, seed + k) for k in range(4)) - 2.0
    if kind == "wide":
        scales = np.array([1e-6, 1e-3, 1.0, 1e3, 1e6, 1e9])
        u = u * scales[(_raw(n, seed + 9) % np.uint64(6)).astype(np.int64)]
    elif kind == "tiny":
        u = u * 1e-5
    elif kind == "huge":
        u = u * 3e8
    elif kind == "integral":
        u = np.floor(u * 50.0)
    elif kind == "special":
        sp = np.array(SPECIAL)
        pick = (_raw(n, seed + 7) % np.uint64(8)).astype(np.int64)
        u = np.where(pick < 5, sp[np.minimum(pick, 4)], u)
    with np.errstate(over="ignore"):  # float16 turns the widest values into inf, on purpose
        return u.astype(dtype).reshape(shape)


def _r(T, arr, **kw):
    return repr(T.tensor(arr, **kw))


def _repr_of(T, arr):
    return lambda: _r(T, arr)


def _fmt(T, arr, spec):
    return format(T.tensor(arr), spec)


def _size_cases(T, c):
    for dt in DTYPES:
        kinds = ("normal", "wide", "integral", "special") if dt in FLOATS else ("int",)
        for kind in kinds:
            for n in SIZES:
                c[f"1d/{dt}/{kind}/n={n}"] = ({}, _repr_of(T, values(kind, (n,), dt, n)))
            for sh in SHAPES:
                name = "x".join(map(str, sh))
                c[f"nd/{dt}/{kind}/{name}"] = ({}, _repr_of(T, values(kind, sh, dt, 3)))
        for sh in EMPTY:
            c[f"empty/{dt}/{sh}"] = ({}, lambda sh=sh, dt=dt: _r(T, np.zeros(sh, dt)))
        a = values("normal", (), dt, 5)
        c[f"0d/{dt}"] = ({}, lambda a=a: [_r(T, a), str(T.tensor(a))])


def _value_cases(T, c):
    one = {
        "zeros": [0.0, 0.0, -0.0],
        "negzero": [-0.0, 1.0, 2.5],
        "nan_only": [float("nan")],
        "inf_int": [1.0, float("inf"), -3.0, float("nan")],
        "big_int": [1e8, 2.0, -3.0],
        "bigger_int": [123456789.0, 1.0],
        "ratio": [0.001, 1.5],
        "ratio_just": [0.002, 1.9],
        "small": [1e-4, 0.5],
        "smaller": [9.9e-5, 0.5],
        "round_up": [9.99996, 1.5],
        "neg_sci": [-1e-7, 2.0, -3e10],
        "max_f16": [65504.0, -65504.0, 0.5],
        "sub_f16": [6e-8, 1.0],
        "e300": [1e300, -1e-300, 1.0],
        "mixed": [1.0, -2.25, 1000.5, float("-inf")],
    }
    for name, vals in one.items():
        for dt in FLOATS:
            with np.errstate(over="ignore"):
                arr = np.array(vals).astype(dt)
            c[f"values/{name}/{dt}"] = ({}, lambda a=arr: _r(T, a))
            c[f"values/{name}/{dt}/0d"] = ({}, lambda a=arr[-1]: _r(T, a))
    for dt in INTS:
        info = np.iinfo(dt)
        c[f"values/extremes/{dt}"] = ({}, _repr_of(T, np.array([info.min, 0, info.max], dt)))
    c["values/bool/0d"] = ({}, lambda: [_r(T, np.array(True)), _r(T, np.array(False))])


OPTIONS = (
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"threshold": 5},
    {"threshold": 0},
    {"threshold": float("inf")},
    {"edgeitems": 1},
    {"edgeitems": 0},
    {"edgeitems": 5},
    {"linewidth": 40},
    {"linewidth": 120},
    {"linewidth": 10},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "default"},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short", "precision": 6, "sci_mode": True},
    {"threshold": 20, "edgeitems": 2, "linewidth": 50},
    {"threshold": 0, "edgeitems": 0},
    {"precision": 10},
    {"precision": -1},
    {"precision": 2.0},
    {"linewidth": 1},
    {"linewidth": 0},
    {"threshold": -1},
    {"threshold": 2.5},
    {"sci_mode": 1},
    {"profile": "nope"},
)


def _option_cases(T, c):
    inputs = {
        "f32_33": values("normal", (33,), "float32", 1),
        "f32_wide_100": values("wide", (100,), "float32", 2),
        "f64_7x5": values("normal", (7, 5), "float64", 3),
        "f32_40x30": values("wide", (40, 30), "float32", 4),
        "f16_int_3x4x5": values("integral", (3, 4, 5), "float16", 5),
        "i64_2000": values("int", (2000,), "int64", 6),
        "bool_50": values("normal", (50,), "bool", 7),
        "f32_0d": values("normal", (), "float32", 8),
        "f32_zeros_12": np.zeros(12, np.float32),
        "f32_special_40": values("special", (40,), "float32", 9),
        "f16_4": values("normal", (4,), "float16", 10),
        "i8_0d": values("int", (), "int8", 11),
        "f64_empty_2x0": np.zeros((2, 0)),
    }
    for opts in OPTIONS:
        oname = ",".join(f"{k}={v}" for k, v in opts.items())
        for iname, arr in inputs.items():
            c[f"options/{oname}/{iname}"] = (opts, lambda a=arr: _r(T, a))


def _suffix_cases(T, c):
    a = values("normal", (3, 4), "float32", 11)
    h = values("normal", (3, 4), "float16", 12)
    long = values("normal", (10,), "float32", 13)
    wide = values("wide", (40, 30), "float32", 14)

    def leaf(arr, **kw):
        return T.tensor(arr, requires_grad=True, **kw)

    c["suffix/requires_grad"] = ({}, lambda: repr(leaf(a)))
    c["suffix/requires_grad/f16"] = ({}, lambda: repr(leaf(h)))
    c["suffix/requires_grad/f64/0d"] = ({}, lambda: repr(leaf(a[0, 0].astype("float64"))))
    c["suffix/grad_fn/add"] = ({}, lambda: repr(leaf(a) + leaf(a)))
    c["suffix/grad_fn/mul_f16"] = ({}, lambda: repr(leaf(h) * leaf(h)))
    c["suffix/grad_fn/sum"] = ({}, lambda: repr(leaf(a).sum()))
    c["suffix/grad_fn/mean_f16"] = ({}, lambda: repr(leaf(h).mean()))
    c["suffix/grad_fn/mm"] = ({}, lambda: repr(leaf(a) @ leaf(a).t()))
    c["suffix/grad_fn/relu"] = ({}, lambda: repr(leaf(a).relu()))
    c["suffix/grad_fn/view"] = ({}, lambda: repr(leaf(a).reshape(4, 3)))
    c["suffix/grad_fn/select"] = ({}, lambda: repr(leaf(a)[1]))
    c["suffix/grad_fn/t_wide"] = ({}, lambda: repr(leaf(wide).t()))
    c["suffix/no_grad"] = ({}, lambda: _no_grad(T, lambda: repr(leaf(a) * 2)))
    c["suffix/detach"] = ({}, lambda: repr((leaf(a) * 2).detach()))
    for lw in (30, 40, 45, 50, 60, 70):
        c[f"suffix/wrap/lw={lw}/grad_fn"] = (
            {"linewidth": lw},
            lambda: repr(leaf(long, dtype=T.float16) * leaf(long, dtype=T.float16)),
        )
        c[f"suffix/wrap/lw={lw}/leaf"] = ({"linewidth": lw}, lambda: repr(leaf(long)))
        c[f"suffix/wrap/lw={lw}/empty"] = (
            {"linewidth": lw},
            lambda: _r(T, np.zeros((0, 4), "int8")),
        )
        c[f"suffix/wrap/lw={lw}/edge0"] = (
            {"linewidth": lw, "edgeitems": 0},
            lambda: repr(leaf(wide, dtype=T.float64)),
        )


def _no_grad(T, fn):
    with T.no_grad():
        return fn()


def _default_dtype_cases(T, c):
    arrs = {
        "f32": values("normal", (5,), "float32", 21),
        "f64": values("normal", (5,), "float64", 22),
        "f16": values("normal", (5,), "float16", 23),
        "i64": values("int", (5,), "int64", 24),
        "bool": values("normal", (5,), "bool", 25),
        "f32_empty": np.zeros((0,), "float32"),
        "f64_empty": np.zeros((0,), "float64"),
        "i64_empty": np.zeros((0, 2), "int64"),
        "bool_empty": np.zeros((0,), "bool"),
    }
    for d in ("float64", "float16"):
        for name, arr in arrs.items():
            c[f"default_dtype/{d}/{name}"] = ({}, lambda a=arr, d=d: _with(T, d, lambda: _r(T, a)))
        c[f"default_dtype/{d}/requires_grad"] = (
            {},
            lambda d=d: _with(T, d, lambda: repr(T.tensor(arrs["f32"], requires_grad=True).relu())),
        )


def _with(T, default, fn):
    old = T.get_default_dtype()
    T.set_default_dtype(getattr(T, default))
    try:
        return fn()
    finally:
        T.set_default_dtype(old)


def _layout_cases(T, c):
    a = values("normal", (6, 8), "float32", 31)
    big = values("wide", (50, 40), "float32", 32)
    cube = values("normal", (4, 5, 6), "float64", 33)
    c["layout/t"] = ({}, lambda: repr(T.tensor(a).t()))
    c["layout/t_big"] = ({}, lambda: repr(T.tensor(big).t()))
    c["layout/slice_step"] = ({}, lambda: repr(T.tensor(a)[::2, 1::3]))
    c["layout/slice_big"] = ({}, lambda: repr(T.tensor(big)[5:45, ::2]))
    c["layout/select"] = ({}, lambda: repr(T.tensor(cube)[2]))
    c["layout/select_col"] = ({}, lambda: repr(T.tensor(a)[:, 3]))
    c["layout/permute"] = ({}, lambda: repr(T.tensor(cube).permute(2, 0, 1)))
    c["layout/transpose"] = ({}, lambda: repr(T.tensor(cube).transpose(0, 2)))
    c["layout/expand"] = ({}, lambda: repr(T.tensor(a[0]).expand(3, 8)))
    c["layout/expand_big"] = ({}, lambda: repr(T.tensor(a[:, :1]).expand(6, 500)))
    c["layout/unsqueeze"] = ({}, lambda: repr(T.tensor(a).unsqueeze(1)))
    c["layout/view"] = ({}, lambda: repr(T.tensor(big).view(2000)))
    c["layout/str"] = ({}, lambda: str(T.tensor(big)))


def _parameter_cases(T, c):
    w = values("normal", (4, 3), "float32", 41)
    w16 = values("normal", (4, 3), "float16", 42)
    big = values("normal", (64, 32), "float32", 43)
    P = T.nn.Parameter
    c["param/repr"] = ({}, lambda: repr(P(T.tensor(w))))
    c["param/str"] = ({}, lambda: str(P(T.tensor(w))))
    c["param/f16"] = ({}, lambda: repr(P(T.tensor(w16))))
    c["param/big"] = ({}, lambda: repr(P(T.tensor(big))))
    c["param/no_grad"] = ({}, lambda: repr(P(T.tensor(w), requires_grad=False)))
    c["param/0d"] = ({}, lambda: repr(P(T.tensor(w[0, 0]))))
    c["param/format_empty_spec"] = ({}, lambda: format(P(T.tensor(w[0, 0])), ""))
    c["param/format_spec"] = ({}, lambda: format(P(T.tensor(w[0, 0])), ".3f"))
    c["param/detach"] = ({}, lambda: repr(P(T.tensor(w)).detach()))
    c["param/mul"] = ({}, lambda: repr(P(T.tensor(w)) * P(T.tensor(w))))


def _format_cases(T, c):
    f32 = values("normal", (), "float32", 51)
    f16 = values("normal", (), "float16", 52)
    i64 = values("int", (), "int64", 53)
    for spec in ("", ".3f", ".2e", "10.4f", "<12", "+.1f", "g", "%"):
        c[f"format/f32/{spec!r}"] = ({}, lambda s=spec: _fmt(T, f32, s))
        c[f"format/f16/{spec!r}"] = ({}, lambda s=spec: _fmt(T, f16, s))
    for spec in ("", "d", "5d", "x", ".2f", ",", "08d"):
        c[f"format/i64/{spec!r}"] = ({}, lambda s=spec: _fmt(T, i64, s))
    c["format/bool"] = ({}, lambda: [_fmt(T, np.array(True), ""), _fmt(T, np.array(False), "d")])
    c["format/requires_grad"] = ({}, lambda: format(T.tensor(f32, requires_grad=True) * 2, ".4f"))
    c["format/fstring"] = ({}, lambda: f"loss {T.tensor(f32):.3f} step {T.tensor(i64)}")
    c["format/1d/empty_spec"] = ({}, lambda: _fmt(T, values("normal", (4,), "float32", 54), ""))
    c["format/1d/spec"] = ({}, lambda: _fmt(T, values("normal", (1,), "float32", 55), ".3f"))
    c["format/2d/spec"] = ({}, lambda: _fmt(T, values("normal", (2, 2), "float32", 56), ">5"))
    c["format/bad_spec_0d"] = ({}, lambda: _fmt(T, f32, "d"))


def cases(T):
    c = {}
    _size_cases(T, c)
    _value_cases(T, c)
    _option_cases(T, c)
    _suffix_cases(T, c)
    _default_dtype_cases(T, c)
    _layout_cases(T, c)
    _parameter_cases(T, c)
    _format_cases(T, c)
    return c
