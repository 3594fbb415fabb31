"""Every bad input answered (docs/design.md, Errors; docs/guarantees.md): one table of cases,
run on both backends.

Each case is `(id, fn, exc, match)`: `fn(backend)` runs inside `tg.use_backend(backend)`;
with `exc` set it must raise that exception type with a message matching `match`; with `exc`
None it must return normally (it asserts what it checks itself, e.g. "equals the result for a
contiguous copy", "the cpp result equals the reference"). The cases are grouped:

  types      wrong Python types at every public entry point
  dtypes     NumPy dtypes: kept as in PyTorch; big-endian, uint16/32/64, complex, object refused
  layout     strided, reversed, read-only, unaligned, ... NumPy inputs: same result as a copy
  shape      shape mismatches, both shapes (or both sizes) named
  size       negative and overflowing sizes; huge allocations -> MemoryError naming the bytes
  zero       zero-size tensors through every op, forward and backward
  special    NaN, +-Inf, -0.0, subnormals, float16 overflow: the same result as the reference
  autograd   autograd misuse, with PyTorch's messages
  optim      optimizer misuse;  state   nn.Module / state-dict misuse
  io         tg.save / tg.load of what is not a tapegrad state dict

conftest.py counts the distinct cases that passed and prints the count in the terminal summary.
"""

import copy
import io
import math
import pickle
import re
import zipfile

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn.functional as F
from tapegrad import nn, optim
from tolerances import assert_close

CASES = []


def raises(cid, fn, exc, match=None):
    CASES.append((cid, fn, exc, match))


def check(cid, fn):
    CASES.append((cid, fn, None, None))


def T(data, b=None, dtype=tg.float32, rg=False):
    return tg.tensor(data, dtype=dtype, requires_grad=rg, backend=b)


def arr(t):
    return t.detach().numpy()


def other_backend(b):
    return "numpy" if b == "cpp" else "cpp"


LEAF_INPLACE = re.escape(
    "a leaf Variable that requires grad is being used in an in-place operation."
)
SECOND_BACKWARD = "Trying to backward through the graph a second time"
SAVED_MODIFIED = (
    r"one of the variables needed for gradient computation has been modified by an inplace "
    r"operation: \[float32 \(3,\)\] is at version 1; expected version 0 instead"
)

# ================================================================== types

# Values that are no tensor, no number and no array.
NON_DATA = {
    "None": None,
    "str": "abc",
    "bytes": b"ab",
    "dict": {"a": 1.0},
    "set": {1.0},
    "object": object(),
    "complex": 1j,
    "function": len,
}
for name, v in NON_DATA.items():
    raises(f"types/tensor({name})", lambda b, v=v: tg.tensor(v), TypeError)
    raises(f"types/from_numpy({name})", lambda b, v=v: tg.from_numpy(v), TypeError, "np.ndarray")
raises("types/from_numpy(list)", lambda b: tg.from_numpy([1.0, 2.0]), TypeError, "np.ndarray")
raises("types/tensor(ragged)", lambda b: tg.tensor([[1.0, 2.0], [3.0]]), TypeError, "convert")
raises("types/tensor([1, 'a'])", lambda b: tg.tensor([1.0, "a"]), TypeError)
raises("types/tensor([None])", lambda b: tg.tensor([None, 1.0]), TypeError)
check(
    "types/tensor([tensor, tensor])",
    lambda b: np.testing.assert_array_equal(arr(tg.tensor([T([1.0]), T([2.0])])), [[1.0], [2.0]]),
)
raises("types/as_tensor(str)", lambda b: tg.as_tensor("abc"), TypeError)

# Binary operators with an operand that is no tensor, number or array: TypeError, both orders.
BINOPS = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "@": lambda x, y: x @ y,
    "**": lambda x, y: x**y,
}
BAD_OPERANDS = {k: NON_DATA[k] for k in ("None", "str", "dict", "set", "object", "complex")}
for op, f in BINOPS.items():
    for name, v in BAD_OPERANDS.items():
        raises(f"types/t {op} {name}", lambda b, f=f, v=v: f(T([1.0, 2.0]), v), TypeError)
        raises(f"types/{name} {op} t", lambda b, f=f, v=v: f(v, T([1.0, 2.0])), TypeError)
raises("types/t @ 2.0", lambda b: T([1.0, 2.0]) @ 2.0, TypeError)
raises("types/2.0 @ t", lambda b: 2.0 @ T([1.0, 2.0]), TypeError)
raises("types/t ** t(shapes)", lambda b: T([2.0, 3.0]) ** T([1.0, 2.0, 3.0]), RuntimeError, "size")


def _iop_stmt(op, v):
    def fn(b):
        t = T([1.0, 2.0])
        if op == "+=":
            t += v
        elif op == "-=":
            t -= v
        elif op == "*=":
            t *= v
        else:
            t /= v

    return fn


for op in ("+=", "-=", "*=", "/="):
    for name in ("None", "str", "object", "complex"):
        raises(f"types/t {op} {name}", _iop_stmt(op, NON_DATA[name]), TypeError)
for meth in ("add_", "sub_", "mul_", "div_", "add", "sub", "mul", "div"):
    for name in ("None", "str", "object"):
        raises(
            f"types/t.{meth}({name})",
            lambda b, m=meth, v=NON_DATA[name]: getattr(T([1.0, 2.0]), m)(v),
            TypeError,
        )
raises("types/fill_(None)", lambda b: T([1.0]).fill_(None), TypeError, "number")
raises("types/fill_(str)", lambda b: T([1.0]).fill_("1"), TypeError, "number")
raises("types/fill_(2 elems)", lambda b: T([1.0]).fill_(T([1.0, 2.0])), RuntimeError, "2 elements")
raises("types/copy_(None)", lambda b: T([1.0]).copy_(None), TypeError)
raises("types/copy_(str)", lambda b: T([1.0]).copy_("ab"), TypeError)
raises("types/full(str)", lambda b: tg.full((2,), "a"), TypeError, "fill_value")
raises("types/full(None)", lambda b: tg.full((2,), None), TypeError, "fill_value")

# Shape arguments.
SHAPE_FNS = {
    "zeros": lambda s: tg.zeros(s),
    "ones": lambda s: tg.ones(s),
    "rand": lambda s: tg.rand(s),
    "randn": lambda s: tg.randn(s),
    "view": lambda s: T(np.zeros(6)).view(s),
    "reshape": lambda s: T(np.zeros(6)).reshape(s),
}
BAD_SHAPES = {"2.5": 2.5, "'3'": "3", "None": None, "True": True, "[2, None]": [2, None]}
for fname, f in SHAPE_FNS.items():
    for sname, s in BAD_SHAPES.items():
        raises(f"types/{fname}({sname})", lambda b, f=f, s=s: f(s), TypeError, "shape")
raises("types/zeros(2, 3.0)", lambda b: tg.zeros(2, 3.0), TypeError, "shape")
raises("types/permute('a')", lambda b: tg.zeros(2, 3).permute("a", 0), TypeError)

# Dim arguments: wrong type -> TypeError, out of range -> IndexError (PyTorch's message).
DIM_FNS = {
    "sum": lambda t, d: t.sum(d),
    "mean": lambda t, d: t.mean(d),
    "size": lambda t, d: t.size(d),
    "unsqueeze": lambda t, d: t.unsqueeze(d),
    "squeeze": lambda t, d: t.squeeze(d),
    "transpose": lambda t, d: t.transpose(0, d),
}
for fname, f in DIM_FNS.items():
    raises(f"types/{fname}(dim=1.0)", lambda b, f=f: f(tg.zeros(2, 3), 1.0), TypeError, "int")
    raises(f"types/{fname}(dim='0')", lambda b, f=f: f(tg.zeros(2, 3), "0"), TypeError, "int")
    raises(
        f"types/{fname}(dim=5)",
        lambda b, f=f: f(tg.zeros(2, 3), 5),
        IndexError,
        r"Dimension out of range \(expected to be in range of \[-\d, \d\], but got 5\)",
    )
raises("types/sum(dim=(0, 0))", lambda b: tg.zeros(2, 3).sum((0, 0)), RuntimeError, "multiple")
raises("types/permute(0, 0)", lambda b: tg.zeros(2, 3).permute(0, 0), RuntimeError, "duplicate")
raises("types/permute(0, 2)", lambda b: tg.zeros(2, 3).permute(0, 2), IndexError, "range")
raises("types/permute(0)", lambda b: tg.zeros(2, 3).permute(0), RuntimeError, "dims")
raises("types/t() of 3-D", lambda b: tg.zeros(2, 3, 4).t(), RuntimeError, "<= 2 dimensions")

# dtype arguments. PyTorch takes only its dtypes (and Python's float/int/bool): a name or a NumPy
# type is "argument 'dtype' must be torch.dtype, not str"; `.to()` reads a str as a device
# ("Invalid device string") and an int as a device index.
BAD_DTYPES = {
    "'int32'": "int32",
    "np.int64": np.int64,
    "np.float64": np.float64,
    "'float64'": "float64",
    "np.complex64": np.complex64,
    "np.uint16": np.uint16,
    "5": 5,
    "object()": object(),
}
DTYPE_FNS = {
    "tensor": lambda d: tg.tensor([1.0], dtype=d),
    "zeros": lambda d: tg.zeros(2, dtype=d),
    "to": lambda d: T([1.0]).to(d),
    "Linear": lambda d: nn.Linear(2, 3, dtype=d),
}
TO_DTYPE_ERRORS = {  # PyTorch's answers of .to() where they are not TypeError "dtype"
    "'int32'": (RuntimeError, re.escape("Invalid device string: 'int32'")),
    "'float64'": (RuntimeError, re.escape("Invalid device string: 'float64'")),
    "5": (RuntimeError, "Cannot access accelerator device when none is available"),
}
for fname, f in DTYPE_FNS.items():
    for dname, d in BAD_DTYPES.items():
        exc, match = TypeError, r"argument 'dtype' must be torch\.dtype, not (str|type|int|object)"
        if fname == "to":
            exc, match = TO_DTYPE_ERRORS.get(dname, (TypeError, "invalid combination of arguments"))
        raises(f"types/{fname}(dtype={dname})", lambda b, f=f, d=d: f(d), exc, match)

# PyTorch's dtypes (and Python's types, which PyTorch maps to float64/int64/bool) are kept.
GOOD_DTYPES = {
    "float64": (tg.float64, "float64"),
    "int64": (tg.int64, "int64"),
    "int32": (tg.int32, "int32"),
    "int16": (tg.int16, "int16"),
    "int8": (tg.int8, "int8"),
    "uint8": (tg.uint8, "uint8"),
    "bool": (tg.bool, "bool"),
    "float": (float, "float64"),
    "int": (int, "int64"),
    "Python bool": (bool, "bool"),
}


def _dtype_kept(f, d, want):
    def fn(b):
        t = f(d)
        assert t.dtype is getattr(tg, want), (t.dtype, want)
        assert arr(t).dtype == np.dtype(want)

    return fn


for fname in ("tensor", "zeros", "to"):
    for dname, (d, want) in GOOD_DTYPES.items():
        check(f"types/{fname}(dtype={dname}) kept", _dtype_kept(DTYPE_FNS[fname], d, want))


def _linear_float64(b):
    m = nn.Linear(2, 3, dtype=tg.float64)
    assert m.weight.dtype is tg.float64 and m.bias.dtype is tg.float64
    assert m(tg.ones(1, 2, dtype=tg.float64)).dtype is tg.float64


check("types/Linear(dtype=float64)", _linear_float64)
for dname in ("int64", "int32", "uint8", "bool", "int"):
    raises(
        f"types/Linear(dtype={dname})",
        lambda b, d=GOOD_DTYPES[dname][0]: nn.Linear(2, 3, dtype=d),
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
    )


def _no_unsigned_wide(b):
    # PyTorch 2.13 has uint16/uint32/uint64; tapegrad has not (a documented difference): no such
    # attributes, and arrays of them are refused with a TypeError naming the type (dtypes/ below)
    for name in ("uint16", "uint32", "uint64"):
        assert not hasattr(tg, name), name


check("types/no uint16, uint32, uint64", _no_unsigned_wide)

# Indexing: PyTorch's errors.
INDEX = {
    "t[1.0]": (lambda t: t[1.0], IndexError, "valid indices"),
    "t['a']": (lambda t: t["a"], TypeError, re.escape("new(): invalid data type 'str'")),
    "t[tensor]": (
        lambda t: t[T(0.0)],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    "t[mask of 2]": (
        lambda t: t[tg.tensor([True, False])],
        IndexError,
        re.escape("The shape of the mask [2] at index 0 does not match the shape of the indexed"),
    ),
    "t[[0, 5]]": (lambda t: t[[0, 5]], IndexError, "index 5 is out of bounds for dimension 0"),
    "t[3]": (lambda t: t[3], IndexError, "out of bounds"),
    "t[-4]": (lambda t: t[-4], IndexError, "out of bounds"),
    "t[2**70]": (lambda t: t[2**70], ValueError, "Overflow when unpacking long long"),
    "t[0, 0, 0]": (lambda t: t[0, 0, 0], IndexError, "too many indices"),
    "t[::0]": (lambda t: t[::0], ValueError, "slice step cannot be zero"),
    "t[::-1]": (lambda t: t[::-1], ValueError, "step must be greater than zero"),
}
for name, (f, exc, match) in INDEX.items():
    raises(f"types/{name}", lambda b, f=f: f(tg.zeros(3, 2)), exc, match)

# Indices PyTorch 2.13 accepts (advanced indexing, bool indices, several ellipses; a list of
# floats is read as integers; a list holding one list is the legacy tuple-of-indices reading),
# on t = [[0, 1], [2, 3], [4, 5]].
INDEX_OK = {
    "t[[0, 1]]": (lambda t: t[[0, 1]], [[0.0, 1.0], [2.0, 3.0]]),
    "t[[True, False, True]]": (lambda t: t[[True, False, True]], [[0.0, 1.0], [4.0, 5.0]]),
    "t[True]": (lambda t: t[True], [[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]]),
    "t[False]": (lambda t: t[False], np.zeros((0, 3, 2), np.float32)),
    "t[True, 0]": (lambda t: t[True, 0], [[0.0, 1.0]]),
    "t[tensor(True)]": (lambda t: t[tg.tensor(True)], [[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]]),
    "t[tensor(0)]": (lambda t: t[tg.tensor(0)], [0.0, 1.0]),
    "t[..., ...]": (lambda t: t[..., ...], [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]),
    "t[[0.0, 1.0]]": (lambda t: t[[0.0, 1.0]], [[0.0, 1.0], [2.0, 3.0]]),
    "t[[[0, 1]]]": (lambda t: t[[[0, 1]]], [[0.0, 1.0], [2.0, 3.0]]),
}


def _index_ok(f, want):
    def fn(b):
        got = f(tg.arange(6.0).view(3, 2))
        assert got.dtype is tg.float32
        np.testing.assert_array_equal(arr(got), np.asarray(want, np.float32), strict=True)

    return fn


for name, (f, want) in INDEX_OK.items():
    check(f"types/{name}", _index_ok(f, want))


def _huge_slices(b):
    t = T(np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(arr(t[:: 2**70]), [[0.0, 1.0]])
    np.testing.assert_array_equal(arr(t[:, 2**70 :]).shape, (3, 0))
    np.testing.assert_array_equal(arr(t[-(2**70) : 2**70 : 2]), [[0, 1], [4, 5]])
    np.testing.assert_array_equal(arr(t[np.int64(1)]), [2, 3])


check("types/huge slice bounds and steps", _huge_slices)
raises("types/len(0-d)", lambda b: len(T(1.0)), TypeError, "0-d")
raises("types/iter(0-d)", lambda b: iter(T(1.0)), TypeError, "0-d")
raises("types/bool(2 elems)", lambda b: bool(T([1.0, 2.0])), RuntimeError, "ambiguous")
raises("types/float(2 elems)", lambda b: float(T([1.0, 2.0])), RuntimeError, "2 elements")
raises("types/item(2 elems)", lambda b: T([1.0, 2.0]).item(), RuntimeError, "2 elements")
raises("types/index(t)", lambda b: [1, 2][T(1.0)], TypeError, "index")
raises("types/deepcopy(non-leaf)", lambda b: copy.deepcopy(T([1.0], rg=True) * 2),
       RuntimeError, "graph leaves")  # fmt: skip
raises("types/Tensor()", lambda b: tg.tensor([1.0])._be.Tensor(), TypeError)
raises("types/backend='cuda'", lambda b: tg.tensor([1.0], backend="cuda"), ValueError, "backend")
raises("types/set_backend('x')", lambda b: tg.set_backend("x"), ValueError, "backend")
raises("types/use_backend('x')", lambda b: tg.use_backend("x").__enter__(), ValueError, "backend")
raises("types/set_num_threads(0)", lambda b: tg.set_num_threads(0), ValueError, "positive")
raises("types/set_num_threads('2')", lambda b: tg.set_num_threads("2"), ValueError, "positive")
raises("types/manual_seed('a')", lambda b: tg.manual_seed("a"), ValueError)
raises("types/no_grad(1)", lambda b: tg.no_grad(1), TypeError)

# nn.functional and modules with non-tensors.
FUNCTIONAL = {
    "relu(None)": lambda x: F.relu(None),
    "tanh(list)": lambda x: F.tanh([1.0]),
    "sigmoid(ndarray)": lambda x: F.sigmoid(np.ones(2)),
    "linear(x, None)": lambda x: F.linear(x, None),
    "linear(None, w)": lambda x: F.linear(None, x),
    "linear(x, w, 'b')": lambda x: F.linear(x, tg.ones(2, 2), "b"),
    "mse_loss(x, list)": lambda x: F.mse_loss(x, [1.0, 2.0]),
    "l1_loss(ndarray, x)": lambda x: F.l1_loss(np.ones((2, 2)), x),
    "Linear()(None)": lambda x: nn.Linear(2, 2)(None),
    "Linear()(ndarray)": lambda x: nn.Linear(2, 2)(np.ones((1, 2), np.float32)),
    "MSELoss()(x, 1.0)": lambda x: nn.MSELoss()(x, 1.0),
    "Sequential(str)": lambda x: nn.Sequential(nn.ReLU(), "relu"),
    "Parameter(ndarray)": lambda x: nn.Parameter(np.ones(2)),
    "Parameter()": lambda x: nn.Parameter(),
}
for name, f in FUNCTIONAL.items():
    raises(f"types/{name}", lambda b, f=f: f(tg.ones(2, 2)), TypeError)
raises(
    "types/mse_loss(reduction='avg')",
    lambda b: F.mse_loss(tg.ones(2), tg.ones(2), reduction="avg"),
    ValueError,
    "avg is not a valid value for reduction",
)
raises(
    "types/l1_loss(reduction=None)",
    lambda b: F.l1_loss(tg.ones(2), tg.ones(2), reduction=None),
    ValueError,
    "valid value for reduction",
)
raises("types/Linear('3', 2)", lambda b: nn.Linear("3", 2), ValueError, "positive integer")
raises("types/Linear(2.5, 2)", lambda b: nn.Linear(2.5, 2), ValueError, "positive integer")
raises("types/Linear(True, 2)", lambda b: nn.Linear(True, 2), ValueError, "positive integer")
raises("types/Linear(device=cuda)", lambda b: nn.Linear(2, 2, device="cuda"), AssertionError,
       "not compiled with CUDA")  # fmt: skip
raises("types/Module.to('cuda')", lambda b: nn.Linear(2, 2).to("cuda"), AssertionError,
       "not compiled with CUDA")  # fmt: skip
raises("types/Module.train('yes')", lambda b: nn.ReLU().train("yes"), ValueError, "boolean")


def _module_double(b):
    relu = nn.ReLU()
    assert relu.double() is relu
    m = nn.Linear(2, 2)
    assert m.double() is m and m.weight.dtype is tg.float64 and m.bias.dtype is tg.float64


check("types/Module.double()", _module_double)
raises("types/compile(non-callable)", lambda b: tg.compile(5)(), TypeError)

# ================================================================== dtypes

# PyTorch 2.13's answers. tensor() and from_numpy() keep the array's dtype and values (bit for
# bit); `tensor + array` is computed by NumPy (NumPy's promotion: float32 + int32 -> float64).
# PyTorch refuses arrays not in the native byte order (ValueError). tapegrad has no
# uint16/32/64 and no complex dtypes, so tensor()/from_numpy() of them are a TypeError (PyTorch
# makes a tensor of that dtype); in `t + a` NumPy makes float tensors of the unsigned ones.
BYTE_ORDER = re.escape(
    "given numpy array has byte order different from the native byte order. Conversion between "
    "byte orders is currently not supported."
)
CONVERTED = {  # name: (array, dtype of `float32 tensor + array`)
    "float64": (np.array([1.5, -2.25, 3e38 * 10], np.float64), "float64"),
    "float32": (np.array([1.5, -2.25, 3.0], np.float32), "float32"),
    "int8": (np.array([1, -2, 127], np.int8), "float32"),
    "int16": (np.array([1, -2, 30000], np.int16), "float32"),
    "int32": (np.array([1, -2, 2**31 - 1], np.int32), "float64"),
    "int64": (np.array([1, -2, 2**53 + 1], np.int64), "float64"),
    "uint8": (np.array([0, 1, 255], np.uint8), "float32"),
    "uint16": (np.array([0, 1, 2**16 - 1], np.uint16), "float32"),
    "uint32": (np.array([0, 1, 2**32 - 1], np.uint32), "float64"),
    "uint64": (np.array([0, 1, 2**64 - 1], np.uint64), "float64"),
    "bool": (np.array([True, False, True]), "float32"),
    ">f4 (big-endian)": (np.array([1.5, -2.25, 3.0], ">f4"), "float32"),
    ">f8 (big-endian)": (np.array([1.5, -2.25, 1e-3], ">f8"), "float64"),
    ">i4 (big-endian)": (np.array([1, -2, 3], ">i4"), "float64"),
    ">f2 (big-endian)": (np.array([1.5, -2.25, 3.0], ">f2"), "float32"),
    "float16": (np.array([1.5, -2.25, 65504.0], np.float16), "float32"),
}
UNSUPPORTED = r"can't convert np\.ndarray of type numpy\.{}\. The only supported types are"
NO_LOOP = "ufunc 'add' did not contain a loop with signature matching types"
NO_OPERANDS = "ufunc 'add' cannot use operands with types"
REFUSED = {}  # name: {entry: (exception, message)}; an entry not named converts as above
for name in ("uint16", "uint32", "uint64"):
    REFUSED[name] = {e: (TypeError, UNSUPPORTED.format(name)) for e in ("tensor", "from_numpy")}
for name in CONVERTED:
    if name.startswith(">"):
        REFUSED[name] = {e: (ValueError, BYTE_ORDER) for e in ("tensor", "from_numpy")}
NOT_REAL = {  # name: (array, message of `t + a`); tensor()/from_numpy() name the NumPy type
    "complex64": (np.array([1 + 2j], np.complex64), None),
    "complex128": (np.array([1j, 2.0]), None),
    "object": (np.array([1.0, None], dtype=object), "unsupported operand type"),
    "object (numbers)": (np.array([1.0, 2.0], dtype=object), UNSUPPORTED.format("object_")),
    "str": (np.array(["1.0"]), NO_LOOP),
    "bytes": (np.array([b"1"]), NO_LOOP),
    "datetime64": (np.array(["2020-01-01"], "M8[D]"), NO_OPERANDS),
    "timedelta64": (np.array([1], "m8[s]"), NO_OPERANDS),
    "structured": (np.zeros(2, dtype=[("a", "f4"), ("b", "f4")]), NO_LOOP),
}
NUMPY_TYPE = {
    "object": "object_",
    "object (numbers)": "object_",
    "str": "str_",
    "bytes": "bytes_",
    "datetime64": "datetime64",
    "timedelta64": "timedelta64",
    "structured": "void",
}
DTYPE_ENTRY = {
    "tensor": lambda a: tg.tensor(a),
    "from_numpy": lambda a: tg.from_numpy(a),
    "t + a": lambda a: tg.zeros(a.shape) + a,
    # PyTorch's copy_ takes tensors only (TypeError for an ndarray); tapegrad also takes an
    # array and converts it as copy_ from a tensor of its dtype would
    "t.copy_(a)": lambda a: tg.zeros(a.shape).copy_(a),
}


def _converted(entry, a, sum_dtype):
    def fn(b):
        got = DTYPE_ENTRY[entry](a.copy())
        if entry == "t.copy_(a)":
            with np.errstate(over="ignore"):
                want = a.astype(np.float32)
        elif entry == "t + a":
            want = a.astype(sum_dtype)
        else:
            want = a
        assert got.dtype is getattr(tg, want.dtype.name), (got.dtype, want.dtype)
        np.testing.assert_array_equal(arr(got), want, strict=True)
        assert (
            arr(got).tobytes() == np.ascontiguousarray(want, want.dtype.newbyteorder("=")).tobytes()
        )

    return fn


for entry in DTYPE_ENTRY:
    for dname, (a, sum_dtype) in CONVERTED.items():
        refused = REFUSED.get(dname, {}).get(entry)
        if refused is None:
            check(f"dtypes/{entry}: {dname} converts like PyTorch", _converted(entry, a, sum_dtype))
        else:
            raises(f"dtypes/{entry}: {dname} refused", lambda b, e=entry, a=a: DTYPE_ENTRY[e](a),
                   *refused)  # fmt: skip
    for dname, (a, add_msg) in NOT_REAL.items():
        if entry in ("tensor", "from_numpy"):
            kind = NUMPY_TYPE.get(dname)
            match = UNSUPPORTED.format(kind) if kind else "only real numbers|complex"
        elif entry == "t + a":
            match = add_msg or "only real numbers|complex"
        else:
            match = None
        raises(
            f"dtypes/{entry}: {dname} refused",
            lambda b, e=entry, a=a: DTYPE_ENTRY[e](a),
            TypeError,
            match,
        )
# PyTorch makes complex64 tensors of these; tapegrad has no complex dtypes
raises("dtypes/tensor(1j)", lambda b: tg.tensor(1j), TypeError, "only real numbers")
raises("dtypes/tensor([1, 2j])", lambda b: tg.tensor([1, 2j]), TypeError, "only real numbers")


def _python_numbers(b):
    # PyTorch: Python bool -> bool, int -> int64, float -> the default dtype (float32); a NumPy
    # scalar keeps its dtype
    for data, dtype, want in [
        (True, tg.bool, True),
        (3, tg.int64, 3),
        (2**62, tg.int64, 2**62),
        (-(2**63), tg.int64, -(2**63)),
        (1.5, tg.float32, 1.5),
        ([True, 2], tg.int64, [1, 2]),
        ([1, 2.5], tg.float32, [1.0, 2.5]),
        (np.int64(5), tg.int64, 5),
        (np.int32(7), tg.int32, 7),
        (np.uint8(200), tg.uint8, 200),
        (np.bool_(True), tg.bool, True),
        (np.float16(1.5), tg.float16, 1.5),
        (np.float32(1.5), tg.float32, 1.5),
        (np.float64(1.5), tg.float64, 1.5),
        ([np.float64(1.5)], tg.float64, [1.5]),
        (np.array(2.5), tg.float64, 2.5),
    ]:
        t = tg.tensor(data)
        assert t.dtype is dtype, (data, t.dtype)
        assert t.tolist() == want and type(t.tolist()) is type(want), (data, t.tolist())


check("dtypes/python and numpy scalars", _python_numbers)
# Integers beyond int64 overflow (PyTorch's ValueError), also where they would fit a float
for name, data in {
    "2**70": 2**70,
    "2**63": 2**63,
    "-2**63 - 1": -(2**63) - 1,
    "[2**64]": [2**64],
}.items():
    raises(f"dtypes/tensor({name})", lambda b, d=data: tg.tensor(d), ValueError,
           "Overflow when unpacking long long")  # fmt: skip
raises("dtypes/tensor(np.uint64(5))", lambda b: tg.tensor(np.uint64(5)), TypeError)


def _big_int_in_float_list(b):
    # a float in the list makes the dtype float32; 2**70 is then just a float
    t = tg.tensor([1.0, 2**70])
    assert t.dtype is tg.float32
    np.testing.assert_array_equal(arr(t), np.array([1.0, 2.0**70], np.float32))
    assert tg.tensor(2**70, dtype=tg.float32).item() == 2.0**70


check("dtypes/tensor([1.0, 2**70])", _big_int_in_float_list)

# ================================================================== layout


def _base():
    return np.arange(24, dtype=np.float32).reshape(4, 6) * 0.5 - 3.0


def _readonly():
    a = _base()
    a.flags.writeable = False
    return a


def _unaligned():
    raw = np.zeros(24 * 4 + 1, np.uint8)
    a = raw[1:].view(np.float32).reshape(4, 6)
    a[...] = _base()
    assert not a.flags.aligned
    return a


def _offset():
    big = np.zeros((10, 20), np.float32)
    big[3:7, 5:11] = _base()
    return big[3:7, 5:11]


def _frombuffer():
    return np.frombuffer(_base().tobytes(), np.float32).reshape(4, 6)


# Each layout gives an array equal to _base() (4x6 float32 values) but not C-contiguous, not
# writeable, not aligned, ... `ascontiguousarray` of it is the reference input.
LAYOUTS = {
    "strided": lambda: np.repeat(_base(), 2, axis=1)[:, ::2],
    "reversed": lambda: _base()[::-1, ::-1].copy()[::-1, ::-1],
    "transposed": lambda: np.ascontiguousarray(_base().T).T,
    "fortran": lambda: np.asfortranarray(_base()),
    "read-only": _readonly,
    "read-only frombuffer": _frombuffer,
    "unaligned": _unaligned,
    "offset view": _offset,
    "broadcast (stride 0)": lambda: np.broadcast_to(_base()[:1], (4, 6)) * 0 + _base(),
    "big-endian": lambda: _base().astype(">f4"),
    "float64 strided": lambda: _base().astype(np.float64)[:, ::-1][:, ::-1],
}
# what each entry point computes from an input array `a` (4x6); returns an ndarray. PyTorch takes
# no ndarray in `a * t` (TypeError in PyTorch 2.13 with NumPy 2), add_, copy_, backward and
# load_state_dict (TypeError/RuntimeError): those rows test tapegrad's own acceptance of arrays.
LAYOUT_ENTRY = {
    "tensor": lambda a: arr(tg.tensor(a)),
    "from_numpy": lambda a: arr(tg.from_numpy(a)),
    "t + a": lambda a: arr(tg.ones(4, 6) + a),
    "a * t": lambda a: arr(a * tg.full((4, 6), 2.0)),
    "t @ a.T": lambda a: arr(tg.ones(2, 6) @ tg.tensor(a).T),
    "t.add_(a)": lambda a: arr(tg.ones(4, 6).add_(a)),
    "t.copy_(a)": lambda a: arr(tg.zeros(4, 6).copy_(a)),
    "backward(gradient=a)": lambda a: _grad_of(a),
    "load_state_dict(a)": lambda a: _loaded(a),
    "half(a)": lambda a: arr(tg.tensor(a, dtype=tg.float16)),
}


def _grad_of(a):
    x = tg.ones(4, 6, requires_grad=True)
    (x * 3.0).backward(gradient=a)
    return x.grad.numpy()


def _loaded(a):
    m = nn.Linear(6, 4)
    m.load_state_dict({"weight": a, "bias": np.zeros(4, np.float32)})
    return arr(m.weight)


def _same_as_contiguous(entry, layout):
    def fn(b):
        a = LAYOUTS[layout]()
        before = np.array(a, copy=True)
        got = LAYOUT_ENTRY[entry](a)
        want = LAYOUT_ENTRY[entry](np.ascontiguousarray(a))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(a, before)  # the user's array is never written

    return fn


NEGATIVE_STRIDES = re.escape(
    "At least one stride in the given numpy array is negative, and tensors with negative strides "
    "are not currently supported."
)
# What PyTorch refuses: an array with negative strides or not in the native byte order, wherever
# it goes through tensor()/from_numpy() (`t + a` is NumPy's and takes both); a float32 @ float64.
LAYOUT_REFUSED = {
    ("tensor", "reversed"): (ValueError, NEGATIVE_STRIDES),
    ("from_numpy", "reversed"): (ValueError, NEGATIVE_STRIDES),
    ("t @ a.T", "reversed"): (ValueError, NEGATIVE_STRIDES),
    ("half(a)", "reversed"): (ValueError, NEGATIVE_STRIDES),
    ("tensor", "big-endian"): (ValueError, BYTE_ORDER),
    ("from_numpy", "big-endian"): (ValueError, BYTE_ORDER),
    ("t @ a.T", "big-endian"): (ValueError, BYTE_ORDER),
    ("half(a)", "big-endian"): (ValueError, BYTE_ORDER),
    ("t @ a.T", "float64 strided"): (
        RuntimeError,
        re.escape("expected m1 and m2 to have the same dtype, but got: float != double"),
    ),
}
for entry in LAYOUT_ENTRY:
    for layout in LAYOUTS:
        if (entry, layout) in LAYOUT_REFUSED:
            raises(
                f"layout/{entry}: {layout} refused",
                lambda b, e=entry, lay=layout: LAYOUT_ENTRY[e](LAYOUTS[lay]()),
                *LAYOUT_REFUSED[entry, layout],
            )
        else:
            check(
                f"layout/{entry}: {layout} == contiguous copy", _same_as_contiguous(entry, layout)
            )


def _in_place(t):
    t.add_(1.0)
    t.mul_(T(2.0))


def _tensor_copies(b):
    # tensor() copies its input: in-place ops write the tensor's own buffer, never the user's
    # (read-only) array
    ro = _readonly()
    t = tg.tensor(ro)
    _in_place(t)
    t.copy_(T(np.zeros((4, 6))))
    t.fill_(7.0)
    t.zero_()
    assert arr(t).sum() == 0
    np.testing.assert_array_equal(ro, _base())
    assert not ro.flags.writeable


def _shares(make):
    # from_numpy() and as_tensor() of an array of a PyTorch dtype share its memory, as in PyTorch:
    # in-place ops write through, even to an array flagged read-only (PyTorch only warns)
    def fn(b):
        for a in (_base(), _readonly()):
            t = make(a)
            _in_place(t)
            np.testing.assert_array_equal(a, (_base() + np.float32(1.0)) * np.float32(2.0))
            np.testing.assert_array_equal(arr(t), a)

    return fn


check("layout/tensor() copies: in-place ops never write the source", _tensor_copies)
check("layout/from_numpy() shares memory, read-only or not", _shares(tg.from_numpy))
check("layout/as_tensor() shares memory, read-only or not", _shares(tg.as_tensor))


def _numpy_view_semantics(b):
    # .numpy() shares memory with the tensor (as in PyTorch); a read-only copy of it stays so
    t = T([1.0, 2.0])
    v = t.numpy()
    v[0] = 5.0
    assert t[0].item() == 5.0
    frozen = np.array(v)
    frozen.flags.writeable = False
    t.add_(1.0)
    np.testing.assert_array_equal(frozen, [5.0, 2.0])
    with pytest.raises(ValueError, match="read-only"):
        np.add(frozen, 1.0, out=frozen)


check("layout/.numpy() shares memory; read-only copies are refused by NumPy", _numpy_view_semantics)


def _zero_d_and_scalars(b):
    for a in (
        np.float32(2.5),
        np.array(2.5, np.float32),
        np.array(2.5)[()],
        np.array([[2.5]])[0, 0],
    ):
        t = tg.tensor(a)
        assert t.shape == () and t.item() == 2.5


check("layout/0-d arrays and NumPy scalars", _zero_d_and_scalars)

# ================================================================== shape

BROADCAST_BAD = [((3,), (4,)), ((2, 3), (3, 2)), ((2, 3, 4), (3, 3, 4)), ((5, 1), (2, 4, 3))]
BIN = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
       "div": lambda x, y: x / y}  # fmt: skip


def _bcast_msg(sa, sb):
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + sa
    pb = (1,) * (n - len(sb)) + sb
    for i in range(n):
        if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
            return re.escape(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) "
                f"at non-singleton dimension {i}"
            )
    raise AssertionError("shapes broadcast")


for name, f in BIN.items():
    for sa, sb in BROADCAST_BAD:
        raises(
            f"shape/{name}{sa}x{sb}",
            lambda b, f=f, sa=sa, sb=sb: f(tg.ones(sa), tg.ones(sb)),
            RuntimeError,
            _bcast_msg(sa, sb),
        )
MATMUL_BAD = {
    ((2, 3), (4, 5)): r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)",
    ((2, 3), (4,)): r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x1\)",
    ((3,), (4,)): r"shapes cannot be multiplied \(1x3 and 4x1\)",
    ((3,), (4, 2)): r"shapes cannot be multiplied \(1x3 and 4x2\)",
    ((2, 2, 3), (2, 4, 5)): re.escape(
        "matmul: shapes (2, 2, 3) and (2, 4, 5) cannot be multiplied"
    ),
    ((2, 3, 4), (3, 4, 5)): re.escape("tensor a (2) must match the size of tensor b (3)"),
}
for (sa, sb), match in MATMUL_BAD.items():
    raises(
        f"shape/matmul{sa}x{sb}",
        lambda b, sa=sa, sb=sb: tg.ones(sa) @ tg.ones(sb),
        RuntimeError,
        match,
    )
raises("shape/matmul 0-d", lambda b: T(1.0) @ tg.ones(2), RuntimeError, "at least 1D")
raises(
    "shape/linear weight",
    lambda b: F.linear(tg.ones(2, 3), tg.ones(4, 5)),
    RuntimeError,
    r"\(2x3 and 5x4\)",
)
raises(
    "shape/linear bias",
    lambda b: F.linear(tg.ones(2, 3), tg.ones(4, 3), tg.ones(5)),
    RuntimeError,
    r"\(5,\).*4",
)
raises("shape/linear 1-D weight", lambda b: F.linear(tg.ones(3), tg.ones(3)), RuntimeError, "2D")
raises(
    "shape/Linear(3, 2)(x of 4)",
    lambda b: nn.Linear(3, 2)(tg.ones(5, 4)),
    RuntimeError,
    r"\(5x4 and 3x2\)",
)
for loss in ("mse_loss", "l1_loss"):
    for sa, sb in [((3,), (4,)), ((3, 1), (3,)), ((2, 3), (3, 2))]:
        raises(
            f"shape/{loss}{sa}x{sb}",
            lambda b, loss=loss, sa=sa, sb=sb: getattr(F, loss)(tg.ones(sa), tg.ones(sb)),
            RuntimeError,
            re.escape(f"{loss}: input shape {sa} and target shape {sb} must match"),
        )
INTO_BAD = [((3,), (2, 3)), ((3,), (4,)), ((2, 3), (3, 2))]
for name in ("add_", "sub_", "mul_", "div_", "copy_"):
    for sa, sb in INTO_BAD:
        raises(
            f"shape/{name}{sa} <- {sb}",
            lambda b, name=name, sa=sa, sb=sb: getattr(tg.ones(sa), name)(tg.ones(sb)),
            RuntimeError,
            rf"{sa[-1]}|{sb[-1]}",
        )
raises(
    "shape/add_ into smaller (both shapes)",
    lambda b: tg.ones(3).add_(tg.ones(2, 3)),
    RuntimeError,
    r"output with shape \[?\(?3,?\)?\]? doesn't match the broadcast shape \[?\(?2, 3\)?\]?",
)
raises(
    "shape/view(4) of 6",
    lambda b: tg.ones(2, 3).view(4),
    RuntimeError,
    re.escape("shape '[4]' is invalid for input of size 6"),
)
raises("shape/view(-1, 4) of 6", lambda b: tg.ones(6).view(-1, 4), RuntimeError, "size 6")
raises("shape/view(-1, -1)", lambda b: tg.ones(6).view(-1, -1), RuntimeError, "inferred")
raises("shape/view(0, -1) of 6", lambda b: tg.ones(6).view(0, -1), RuntimeError, "invalid")
raises(
    "shape/backward gradient",
    lambda b: (tg.ones(2, requires_grad=True) * 2.0).backward(tg.ones(3)),
    RuntimeError,
    re.escape(
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has "
        "a shape of torch.Size([2])."
    ),
)
raises(
    "shape/grad setter",
    lambda b: setattr(tg.ones(2, requires_grad=True), "grad", tg.ones(3)),
    RuntimeError,
    "different size",
)
raises(
    "shape/rank 9",
    lambda b: tg.zeros((1,) * 9),
    ValueError,
    "at most 8 dimensions",
)
raises("shape/view to rank 9", lambda b: tg.zeros(2).view((1,) * 8 + (2,)), ValueError, "at most 8")
raises(
    "shape/unsqueeze to rank 9",
    lambda b: tg.zeros((1,) * 8).unsqueeze(0),
    ValueError,
    "at most 8",
)

# ================================================================== size

NEGATIVE = {
    "zeros(-1)": lambda: tg.zeros(-1),
    "ones(3, -1)": lambda: tg.ones(3, -1),
    "full((-2,), 1)": lambda: tg.full((-2,), 1.0),
    "rand(-1)": lambda: tg.rand(-1),
    "randn(2, -5)": lambda: tg.randn(2, -5),
    "zeros(-2**63)": lambda: tg.zeros(-(2**63)),
}
for name, f in NEGATIVE.items():
    raises(f"size/{name}", lambda b, f=f: f(), RuntimeError, "negative dimension")
raises("size/view(-2, 3)", lambda b: tg.ones(6).view(-2, -3), RuntimeError, "invalid shape")
raises("size/linspace(0, 1, -1)", lambda b: tg.linspace(0, 1, -1), RuntimeError, "non-negative")
raises("size/arange(0, 10, 0)", lambda b: tg.arange(0, 10, 0), RuntimeError, "step must be nonzero")
raises("size/arange(0, inf)", lambda b: tg.arange(0, math.inf), RuntimeError, "unsupported range")
raises("size/arange(nan)", lambda b: tg.arange(math.nan), RuntimeError, "unsupported range")
raises("size/arange(5, 0)", lambda b: tg.arange(5, 0), RuntimeError, "inconsistent with step")

# Absurd sizes: a MemoryError that names the bytes, before anything is allocated (a real attempt
# at 16 TiB would be refused by the kernel only by luck of its overcommit policy).
HUGE_FACTORIES = {
    "zeros(10**7, 10**7)": (lambda: tg.zeros(10**7, 10**7), 400000000000000),
    "ones(2**40, 2**10)": (lambda: tg.ones(2**40, 2**10), 2**52),
    "full((2**41,), 1)": (lambda: tg.full((2**41,), 1.0), 2**43),
    "zeros(2**63)": (lambda: tg.zeros(2**63), 2**65),
    "zeros(2**64)": (lambda: tg.zeros(2**64), 2**66),
    "zeros(2**31,2**31,2**31)": (lambda: tg.zeros(2**31, 2**31, 2**31), 2**95),
    "zeros(2**40, f16)": (lambda: tg.zeros(2**40, dtype=tg.float16), 2**41),
    "rand(2**40, 2)": (lambda: tg.rand(2**40, 2), 2**43),
    "randn(2**41)": (lambda: tg.randn(2**41), 2**43),
    "arange(1e13)": (lambda: tg.arange(1e13), 4 * 10**13),
    "linspace(0, 1, 2**50)": (lambda: tg.linspace(0, 1, 2**50), 2**52),
    "Linear(2**21, 2**21)": (lambda: nn.Linear(2**21, 2**21), 2**44),
}
for name, (f, nbytes) in HUGE_FACTORIES.items():
    raises(f"size/{name}", lambda b, f=f: f(), MemoryError, rf"\b{nbytes} bytes")

# Ops whose output alone would be 16 TiB, from inputs of 8 MiB.
N = 2**21
HUGE_OPS = {
    "add (N,1)+(1,N)": lambda: tg.ones(N, 1) + tg.ones(1, N),
    "sub (N,1)-(1,N)": lambda: tg.ones(N, 1) - tg.ones(1, N),
    "mul (N,1)*(1,N)": lambda: tg.ones(N, 1) * tg.ones(1, N),
    "div (N,1)/(1,N)": lambda: tg.ones(N, 1) / tg.ones(1, N),
    "matmul (N,1)@(1,N)": lambda: tg.ones(N, 1) @ tg.ones(1, N),
    "linear(x (N,1), w (N,1))": lambda: F.linear(tg.ones(N, 1), tg.ones(N, 1)),
    "bmm broadcast": lambda: tg.ones(N, 1, 1, 1) @ tg.ones(1, N, 1, 1),
}
for name, f in HUGE_OPS.items():
    raises(f"size/{name}", lambda b, f=f: f(), MemoryError, rf"\b{4 * N * N} bytes")

# ================================================================== zero-size tensors


def _zero_case(fn, shapes, out_shape, grads=True):
    def run(b):
        for dt in (tg.float32, tg.float16):
            xs = [tg.zeros(s, dtype=dt, requires_grad=True) for s in shapes]
            y = fn(*xs)
            assert tuple(y.shape) == out_shape, (tuple(y.shape), out_shape)
            assert arr(y).shape == out_shape
            if grads:
                y.sum().backward()
                for x, s in zip(xs, shapes):
                    assert tuple(x.grad.shape) == s and x.grad.dtype is dt

    return run


ZERO = {
    "add (0,3)+(3,)": (lambda x, y: x + y, [(0, 3), (3,)], (0, 3)),
    "sub (2,0)-(2,1)": (lambda x, y: x - y, [(2, 0), (2, 1)], (2, 0)),
    "mul (0,)*()": (lambda x, y: x * y, [(0,), ()], (0,)),
    "div (1,0)/(0,)": (lambda x, y: x / y, [(1, 0), (0,)], (1, 0)),
    "x+1": (lambda x: x + 1.0, [(0, 2)], (0, 2)),
    "x*2": (lambda x: x * 2.0, [(0, 2)], (0, 2)),
    "x/2": (lambda x: x / 2.0, [(0, 2)], (0, 2)),
    "1-x": (lambda x: 1.0 - x, [(0, 2)], (0, 2)),
    "1/x": (lambda x: 1.0 / x, [(0, 2)], (0, 2)),
    "x**3": (lambda x: x**3, [(0, 2)], (0, 2)),
    "2**x": (lambda x: 2.0**x, [(0, 2)], (0, 2)),
    "neg": (lambda x: -x, [(3, 0)], (3, 0)),
    "abs": (lambda x: x.abs(), [(3, 0)], (3, 0)),
    "exp": (lambda x: x.exp(), [(3, 0)], (3, 0)),
    "log": (lambda x: x.log(), [(3, 0)], (3, 0)),
    "tanh": (lambda x: x.tanh(), [(3, 0)], (3, 0)),
    "relu": (lambda x: x.relu(), [(3, 0)], (3, 0)),
    "sigmoid": (lambda x: x.sigmoid(), [(3, 0)], (3, 0)),
    "sqrt": (lambda x: x.sqrt(), [(3, 0)], (3, 0)),
    "matmul (0,3)@(3,2)": (lambda x, y: x @ y, [(0, 3), (3, 2)], (0, 2)),
    "matmul (2,0)@(0,3)": (lambda x, y: x @ y, [(2, 0), (0, 3)], (2, 3)),
    "matmul (0,)@(0,)": (lambda x, y: x @ y, [(0,), (0,)], ()),
    "bmm (0,2,3)@(3,4)": (lambda x, y: x @ y, [(0, 2, 3), (3, 4)], (0, 2, 4)),
    "linear x(0,3)": (lambda x, w, c: F.linear(x, w, c), [(0, 3), (4, 3), (4,)], (0, 4)),
    "linear in=0": (lambda x, w, c: F.linear(x, w, c), [(2, 0), (4, 0), (4,)], (2, 4)),
    "linear out=0": (lambda x, w: F.linear(x, w), [(2, 3), (0, 3)], (2, 0)),
    "sum()": (lambda x: x.sum(), [(0, 3)], ()),
    "sum(0)": (lambda x: x.sum(0), [(0, 3)], (3,)),
    "sum(1, keepdim)": (lambda x: x.sum(1, keepdim=True), [(0, 3)], (0, 1)),
    "mean(1)": (lambda x: x.mean(1), [(0, 3)], (0,)),
    "view(-1)": (lambda x: x.view(-1), [(0, 3)], (0,)),
    "view(3, 0)": (lambda x: x.view(3, 0), [(0, 3)], (3, 0)),
    "permute": (lambda x: x.permute(2, 0, 1), [(2, 0, 3)], (3, 2, 0)),
    "T": (lambda x: x.T, [(0, 3)], (3, 0)),
    "slice": (lambda x: x[1:, ::2], [(0, 3)], (0, 2)),
    "index int": (lambda x: x[:, 1], [(0, 3)], (0,)),
    "unsqueeze": (lambda x: x.unsqueeze(0), [(0,)], (1, 0)),
    "cast": (lambda x: x.half() if x.dtype is tg.float32 else x.float(), [(0, 2)], (0, 2)),
    "clone": (lambda x: x.clone(), [(0, 2)], (0, 2)),
    "mse_loss none": (lambda x, y: F.mse_loss(x, y, reduction="none"), [(0, 2)] * 2, (0, 2)),
    "mse_loss sum": (lambda x, y: F.mse_loss(x, y, reduction="sum"), [(0, 2)] * 2, ()),
    "l1_loss sum": (lambda x, y: F.l1_loss(x, y, reduction="sum"), [(0, 2)] * 2, ()),
    "l1_loss none": (lambda x, y: F.l1_loss(x, y, reduction="none"), [(0, 2)] * 2, (0, 2)),
}
for name, (f, shapes, out) in ZERO.items():
    check(f"zero/{name}", _zero_case(f, shapes, out))


def _zero_mean(b):
    for dt in (tg.float32, tg.float16):
        x = tg.zeros(0, 3, dtype=dt, requires_grad=True)
        m = x.mean()
        assert np.isnan(arr(m)) and m.dtype is dt
        loss = F.mse_loss(x, tg.zeros(0, 3, dtype=dt))
        assert np.isnan(arr(loss))
        (m + loss).backward()
        assert tuple(x.grad.shape) == (0, 3)


check("zero/mean and mean losses are nan", _zero_mean)


def _zero_inplace(b):
    x = tg.zeros(0, 3)
    for f in (
        lambda: x.add_(1.0),
        lambda: x.mul_(tg.ones(3)),
        lambda: x.sub_(tg.ones(0, 3)),
        lambda: x.div_(2.0),
        lambda: x.fill_(3.0),
        lambda: x.zero_(),
        lambda: x.copy_(tg.ones(1, 3)),
    ):
        assert f() is x and tuple(x.shape) == (0, 3)


check("zero/in-place ops", _zero_inplace)


def _zero_misc(b):
    x = tg.zeros(0, 2)
    assert x.tolist() == [] and x.numel() == 0 and len(x) == 0 and list(x) == []
    assert "tensor([]" in repr(x)
    with pytest.raises(RuntimeError, match="0 elements"):
        x.item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert tg.tensor([]).shape == (0,)
    assert tg.tensor(np.zeros((2, 0, 3))).shape == (2, 0, 3)


check("zero/tolist, repr, item, bool", _zero_misc)


def _zero_optim(b):
    for make in (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1, amsgrad=True),
        lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.9, centered=True),
        lambda ps: optim.Adagrad(ps, lr=0.1, weight_decay=0.1),
    ):
        p = nn.Parameter(tg.zeros(0, 3))
        q = nn.Parameter(tg.ones(2))
        opt = make([p, q])
        for _ in range(2):
            opt.zero_grad()
            ((p * 2.0).sum() + (q * q).sum()).backward()
            opt.step()
        assert tuple(p.shape) == (0, 3) and arr(q).shape == (2,)


check("zero/optimizer steps", _zero_optim)


def _zero_save_load(b):
    buf = io.BytesIO()
    tg.save({"w": tg.zeros(0, 3), "b": tg.zeros(0, dtype=tg.float16)}, buf)
    sd = tg.load(io.BytesIO(buf.getvalue()))
    assert tuple(sd["w"].shape) == (0, 3) and sd["b"].dtype is tg.float16


check("zero/save and load", _zero_save_load)

# ================================================================== special values

F32_SPECIAL = np.array(
    [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-40, 1.4e-45, 1.17e-38, -3.0, 0.5, 88.0, 3e38],
    np.float32,
)
F16_SPECIAL = np.array(
    [np.nan, np.inf, -np.inf, 0.0, -0.0, 6e-8, -6e-8, 3e-5, 6.1e-5, -3.0, 0.5, 11.0, 65504.0],
    np.float16,
)
SPECIAL_OPS = {
    "neg": lambda x: -x,
    "abs": lambda x: x.abs(),
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "x*0.5 (subnormal results)": lambda x: x * 0.5,
    "x*2 (overflow)": lambda x: x * 2.0,
    "x+x": lambda x: x + x,
    "x-x": lambda x: x - x,
    "x*x": lambda x: x * x,
    "x/x": lambda x: x / x,
    "1/x": lambda x: 1.0 / x,
    "x/0": lambda x: x / 0.0,
    "x**2": lambda x: x**2,
    "x**0.5": lambda x: x**0.5,
    "x**-1": lambda x: x**-1.0,
    "2**x": lambda x: 2.0**x,
    "sum": lambda x: x.sum(),
    "sum finite": lambda x: x[3:].sum(),
    "mean": lambda x: x.mean(),
    "matmul outer": lambda x: x.view(-1, 1) @ x.view(1, -1),
    "dot": lambda x: x @ x,
    "linear": lambda x: F.linear(x.view(1, -1), x.view(1, -1), x[:1]),
    "mse none": lambda x: F.mse_loss(x, x * 0.0, reduction="none"),
    "l1 none": lambda x: F.l1_loss(x, -x, reduction="none"),
    "mse sum": lambda x: F.mse_loss(x[3:], x[3:] * 0.0, reduction="sum"),
    "cast": lambda x: x.half() if x.dtype is tg.float32 else x.float(),
    "f32 -> f16 overflow": lambda x: (x.float() * 1e4).half(),
}
SUMS = ("sum", "sum finite", "mean", "matmul outer", "dot", "linear", "mse sum")
TRANSCENDENTAL = ("exp", "log", "tanh", "sigmoid", "x**0.5", "2**x", "x**-1")


def _same_as_reference(got, ref, dtype, op):
    """Bitwise equality with the reference where it is exact; NaN, Inf and the sign of zero
    always exactly; finite values of transcendental ops within the f32/f16 tolerance."""
    g = got.astype(np.float64)
    r = ref.astype(np.float64)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=f"{op}: NaN positions")
    fin = np.isfinite(r)
    np.testing.assert_array_equal(g[~fin & ~np.isnan(r)], r[~fin & ~np.isnan(r)], err_msg=op)
    if op.split(" grad")[0] not in SUMS:  # the sign of a zero sum is the kernel's business
        zero = r == 0
        np.testing.assert_array_equal(
            np.signbit(g[zero]), np.signbit(r[zero]), err_msg=f"{op}: -0.0"
        )
    if any(op.startswith(t) for t in TRANSCENDENTAL) or op in ("sum", "mean", "sum finite"):
        assert_close(g[fin], r[fin], dtype, k=len(F32_SPECIAL), what=op)
    else:
        np.testing.assert_array_equal(g[fin], r[fin], err_msg=op)


def _special(op, f, dt):
    data = F32_SPECIAL if dt is tg.float32 else F16_SPECIAL

    def run(b):
        outs = {}
        for be in ("numpy", b):
            with tg.use_backend(be), np.errstate(all="ignore"):
                x = tg.tensor(data, dtype=dt, requires_grad=True)
                y = f(x)
                (y.sum() if y.numel() != 1 else y).backward()
                outs[be] = (arr(y), x.grad.numpy())
        (ry, rg), (gy, gg) = outs["numpy"], outs[b]
        _same_as_reference(gy, ry, dt, op)
        _same_as_reference(gg, rg, dt, op + " grad")

    return run


for op, f in SPECIAL_OPS.items():
    for dt in (tg.float32, tg.float16):
        check(f"special/{op} [{dt.name}] == reference", _special(op, f, dt))


def _subnormals_survive(b):
    # no flush-to-zero anywhere: the smallest subnormals go in and come out
    x = T(np.array([1.4e-45, -1e-40], np.float32))
    np.testing.assert_array_equal(arr(x * 1.0), np.array([1.4e-45, -1e-40], np.float32))
    xs = np.array([1.4e-45, -1e-40], np.float32)
    np.testing.assert_array_equal(arr(x + x), xs + xs)
    np.testing.assert_array_equal(arr(x * 0.5), xs * np.float32(0.5))
    h = T(np.array([6e-8, -6e-8], np.float16), dtype=tg.float16)
    np.testing.assert_array_equal(arr(h * 1.0), np.array([6e-8, -6e-8], np.float16))
    assert arr(T(np.array([1e-30], np.float32)).half())[0] == 0  # underflow to 0, not NaN
    np.testing.assert_array_equal(arr(T([1e-45]) @ T([1.0])), np.float32(1e-45))


check("special/subnormals are not flushed", _subnormals_survive)


def _f16_overflow(b):
    big = T([65504.0], dtype=tg.float16)
    assert np.isinf(arr(big + 32.0))[0] and not np.isinf(arr(big + 15.0))[0]
    assert arr(T([70000.0]).half())[0] == np.inf
    assert arr(T([-70000.0], dtype=tg.float16))[0] == -np.inf
    s = T(np.full(4, 60000.0, np.float16), dtype=tg.float16).sum()
    assert arr(s) == np.inf  # the f32 sum rounds to inf in f16
    m = T(np.full(4, 60000.0, np.float16), dtype=tg.float16).mean()
    assert arr(m) == np.float16(60000.0)  # accumulated in f32: no overflow on the way


check("special/float16 overflow", _f16_overflow)

# ================================================================== autograd


def _leaf():
    return tg.ones(3, requires_grad=True)


def _floor_divide_grad(x):
    return tg.autograd.grad((x // 2.0).sum(), x, create_graph=True)


LEAF_INPLACE_OPS = {
    "add_": lambda x: x.add_(1.0),
    "sub_": lambda x: x.sub_(tg.ones(3)),
    "mul_": lambda x: x.mul_(2.0),
    "div_": lambda x: x.div_(2.0),
    "fill_": lambda x: x.fill_(0.0),
    "zero_": lambda x: x.zero_(),
    "copy_": lambda x: x.copy_(tg.ones(3)),
    "+=": lambda x: x.__iadd__(1.0),
    "*= tensor": lambda x: x.__imul__(tg.ones(3)),
}
for name, f in LEAF_INPLACE_OPS.items():
    raises(f"autograd/leaf {name}", lambda b, f=f: f(_leaf()), RuntimeError, LEAF_INPLACE)


def _saved_modified(make):
    def fn(b):
        x = _leaf()
        y, loss = make(x)
        y.add_(1.0)
        loss.backward()

    return fn


SAVED = {
    "exp output": lambda x: (lambda e: (e, e.sum()))(x.exp()),
    "mul input": lambda x: (lambda h: (h, (h * h).sum()))(x * 1.0),
    "tanh output": lambda x: (lambda t: (t, t.sum()))(x.tanh()),
    "matmul input": lambda x: (lambda h: (h, (h @ h)))(x * 1.0),
    "pow input": lambda x: (lambda h: (h, (h**2).sum()))(x * 1.0),
}
for name, make in SAVED.items():
    raises(f"autograd/saved {name} modified", _saved_modified(make), RuntimeError, SAVED_MODIFIED)


def _twice(b):
    x = _leaf()
    y = (x.exp() * x).sum()
    y.backward()
    y.backward()


raises("autograd/second backward", _twice, RuntimeError, SECOND_BACKWARD)
raises(
    "autograd/backward without grad",
    lambda b: tg.ones(3).sum().backward(),
    RuntimeError,
    "element 0 of tensors does not require grad and does not have a grad_fn",
)
raises(
    "autograd/non-scalar backward",
    lambda b: (_leaf() * 2.0).backward(),
    RuntimeError,
    "grad can be implicitly created only for scalar outputs",
)
raises(
    "autograd/numpy() of requires_grad",
    lambda b: _leaf().numpy(),
    RuntimeError,
    re.escape("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy()"),
)
raises(
    "autograd/requires_grad of non-leaf",
    lambda b: setattr(_leaf() * 2.0, "requires_grad", False),
    RuntimeError,
    "you can only change requires_grad flags of leaf variables",
)
raises(
    "autograd/requires_grad_('yes')",
    lambda b: tg.ones(2).requires_grad_("yes"),
    TypeError,
    "must be bool",
)
raises(
    "autograd/gradgradcheck without an input that requires grad",
    lambda b: tg.autograd.gradgradcheck(lambda x: x * 2, tg.ones(3, backend=b)),
    ValueError,
    "at least one input tensor to require gradient",
)
raises(
    "autograd/create_graph with a floor_divide (no derivative)",
    lambda b: _floor_divide_grad(tg.ones(3, requires_grad=True, backend=b)),
    RuntimeError,
    "not implemented",
)
raises(
    "autograd/gradient of other backend",
    lambda b: (_leaf() * 2.0).backward(tg.ones(3, backend=other_backend(b))),
    RuntimeError,
    "same backend",
)
raises(
    "autograd/gradient str",
    lambda b: (_leaf() * 2.0).backward("abc"),
    TypeError,
    "convert",
)
raises(
    "autograd/grad setter ndarray",
    lambda b: setattr(_leaf(), "grad", np.ones(3, np.float32)),
    TypeError,
    "expected to be a Tensor or None",
)
raises(
    "autograd/grad setter dtype",
    lambda b: setattr(_leaf(), "grad", tg.ones(3, dtype=tg.float16)),
    RuntimeError,
    "different type",
)
raises(
    "autograd/grad setter other backend",
    lambda b: setattr(_leaf(), "grad", tg.ones(3, backend=other_backend(b))),
    (RuntimeError, TypeError),
    "backend|Tensor",
)
raises("autograd/data = 5", lambda b: setattr(tg.ones(2), "data", 5), TypeError, "tensor|Tensor")
raises("autograd/detach_()", lambda b: _leaf().detach_(), RuntimeError, "detach")
raises(
    "autograd/retain_grad() without grad",
    lambda b: tg.ones(2).retain_grad(),
    RuntimeError,
    "can't retain_grad on Tensor that has requires_grad=False",
)
raises(
    "autograd/grad input of other backend",
    lambda b: tg.autograd.grad(_leaf().sum(), tg.ones(2, backend=other_backend(b))),
    RuntimeError,
    "same backend",
)
raises("autograd/grad input 5", lambda b: tg.autograd.grad(_leaf().sum(), 5), TypeError, "inputs")
raises(
    "autograd/register_hook without grad",
    lambda b: tg.ones(2).register_hook(lambda g: g),
    RuntimeError,
    "doesn't require gradient",
)
raises(
    "autograd/mixing backends",
    lambda b: tg.ones(2) + tg.ones(2, backend=other_backend(b)),
    RuntimeError,
    "expected all tensors to be on the same backend",
)
raises(
    "autograd/mixing backends in linear",
    lambda b: F.linear(tg.ones(2, 2), tg.ones(2, 2, backend=other_backend(b))),
    RuntimeError,
    "same backend",
)


def _no_grad_inplace_ok(b):
    x = _leaf()
    with tg.no_grad():
        x.add_(1.0)
        x.fill_(2.0)
    np.testing.assert_array_equal(arr(x), [2.0, 2.0, 2.0])
    assert x.requires_grad and x.is_leaf


check("autograd/in-place on a leaf under no_grad is allowed", _no_grad_inplace_ok)


def _retain_then_free(b):
    x = _leaf()
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 4.0, 4.0])
    with pytest.raises(RuntimeError, match=SECOND_BACKWARD):
        y.backward()


check("autograd/retain_graph then a third backward", _retain_then_free)

# ================================================================== optim


def _p(shape=(3,), b=None):
    return nn.Parameter(tg.ones(shape, backend=b))


OPTIM_CTOR = {
    "SGD(tensor)": (lambda: optim.SGD(_p(), lr=0.1), TypeError, "iterable of Tensors"),
    "SGD(dict)": (lambda: optim.SGD({"params": [_p()]}, lr=0.1), TypeError, "got dict"),
    "SGD([])": (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
    "SGD(['a'])": (lambda: optim.SGD(["a"], lr=0.1), TypeError, "only optimize Tensors"),
    "SGD([non-leaf])": (lambda: optim.SGD([_p() * 2], lr=0.1), ValueError, "non-leaf"),
    "SGD([p, p])": (lambda: (lambda p: optim.SGD([p, p], lr=0.1))(_p()), ValueError, "duplicate"),
    "SGD(lr=-1)": (lambda: optim.SGD([_p()], lr=-1), ValueError, "Invalid learning rate: -1"),
    "SGD(lr=None)": (lambda: optim.SGD([_p()], lr=None), ValueError, "Invalid learning rate"),
    "SGD(lr='a')": (lambda: optim.SGD([_p()], lr="a"), TypeError, None),
    "SGD(momentum=-1)": (
        lambda: optim.SGD([_p()], lr=0.1, momentum=-1),
        ValueError,
        "Invalid momentum value: -1",
    ),
    "SGD(weight_decay=-1)": (
        lambda: optim.SGD([_p()], lr=0.1, weight_decay=-1),
        ValueError,
        "Invalid weight_decay value: -1",
    ),
    "SGD(nesterov, no momentum)": (
        lambda: optim.SGD([_p()], lr=0.1, nesterov=True),
        ValueError,
        "Nesterov momentum requires a momentum and zero dampening",
    ),
    "SGD(nesterov, dampening)": (
        lambda: optim.SGD([_p()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        ValueError,
        "Nesterov",
    ),
    "Adam(lr=-1)": (lambda: optim.Adam([_p()], lr=-1), ValueError, "Invalid learning rate"),
    "Adam(eps=-1)": (lambda: optim.Adam([_p()], eps=-1), ValueError, "Invalid epsilon value"),
    "Adam(betas=(1.0, 0.9))": (
        lambda: optim.Adam([_p()], betas=(1.0, 0.9)),
        ValueError,
        "Invalid beta parameter at index 0: 1.0",
    ),
    "Adam(betas=(0.9, -0.1))": (
        lambda: optim.Adam([_p()], betas=(0.9, -0.1)),
        ValueError,
        "Invalid beta parameter at index 1",
    ),
    "Adam(weight_decay=-1)": (
        lambda: optim.Adam([_p()], weight_decay=-1),
        ValueError,
        "Invalid weight_decay value",
    ),
    "Adam(fused=True)": (
        lambda: optim.Adam([_p()], fused=True),
        NotImplementedError,
        "fused",
    ),
    "Adam(betas=(1, 0.5))": (
        lambda: optim.Adam([_p()], betas=(0, 0.5)),
        ValueError,
        "betas must be either both floats or both Tensors",
    ),
    "AdamW(lr=-1)": (lambda: optim.AdamW([_p()], lr=-1), ValueError, "Invalid learning rate: -1"),
    "AdamW(weight_decay=-1)": (
        lambda: optim.AdamW([_p()], weight_decay=-1),
        ValueError,
        "Invalid weight_decay value: -1",
    ),
    "RMSprop(lr=-1)": (lambda: optim.RMSprop([_p()], lr=-1), ValueError, "Invalid learning rate"),
    "RMSprop(eps=-1)": (lambda: optim.RMSprop([_p()], eps=-1), ValueError, "Invalid epsilon"),
    "RMSprop(momentum=-1)": (
        lambda: optim.RMSprop([_p()], momentum=-1),
        ValueError,
        "Invalid momentum value: -1",
    ),
    "RMSprop(alpha=-1)": (
        lambda: optim.RMSprop([_p()], alpha=-1),
        ValueError,
        "Invalid alpha value: -1",
    ),
    "RMSprop(capturable=True)": (
        lambda: optim.RMSprop([_p()], capturable=True),
        NotImplementedError,
        "capturable",
    ),
    "Adagrad(lr=-1)": (lambda: optim.Adagrad([_p()], lr=-1), ValueError, "Invalid learning rate"),
    "Adagrad(lr_decay=-1)": (
        lambda: optim.Adagrad([_p()], lr_decay=-1),
        ValueError,
        "Invalid lr_decay value: -1",
    ),
    "Adagrad(initial_accumulator_value=-1)": (
        lambda: optim.Adagrad([_p()], initial_accumulator_value=-1),
        ValueError,
        "Invalid initial_accumulator_value value: -1",
    ),
    "Adagrad(eps=-1)": (lambda: optim.Adagrad([_p()], eps=-1), ValueError, "Invalid epsilon"),
    "add_param_group('x')": (
        lambda: optim.SGD([_p()], lr=0.1).add_param_group("x"),
        TypeError,
        "param_group must be a dict",
    ),
    "add_param_group(set)": (
        lambda: optim.SGD([_p()], lr=0.1).add_param_group({"params": {_p()}}),
        TypeError,
        "ordered collections",
    ),
    "add_param_group(overlap)": (
        lambda: (lambda p: optim.SGD([p], lr=0.1).add_param_group({"params": [p]}))(_p()),
        ValueError,
        "more than one parameter group",
    ),
}
for name, (f, exc, match) in OPTIM_CTOR.items():
    raises(f"optim/{name}", lambda b, f=f: f(), exc, match)


def _reshaped_param(make, state_name):
    def fn(b):
        p = _p()
        opt = make([p])
        (p * p).sum().backward()
        opt.step()
        with tg.no_grad():
            p.data = tg.ones(5)  # the parameter changes shape; its state does not
        p.grad = None
        (p * p).sum().backward()
        with pytest.raises(RuntimeError, match=rf"{state_name}.*\(3,\).*\(5,\)"):
            opt.step()

    return fn


check(
    "optim/SGD state of another shape (both shapes named)",
    _reshaped_param(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), "momentum.buffer"),
)
check(
    "optim/Adam state of another shape (both shapes named)",
    _reshaped_param(lambda ps: optim.Adam(ps, lr=0.1), "exp_avg"),
)
check(
    "optim/RMSprop state of another shape (both shapes named)",
    _reshaped_param(lambda ps: optim.RMSprop(ps, lr=0.1), "square_avg"),
)
check(
    "optim/Adagrad state of another shape (both shapes named)",
    _reshaped_param(lambda ps: optim.Adagrad(ps, lr=0.1), "sum"),
)


def _opt_load(groups_of, match, exc=ValueError):
    def fn(b):
        p, q = _p(), _p()
        src = optim.SGD([p, q], lr=0.1)
        dst = optim.SGD(groups_of(p, q), lr=0.1)
        with pytest.raises(exc, match=match):
            dst.load_state_dict(src.state_dict())

    return fn


check(
    "optim/load_state_dict: group count",
    _opt_load(lambda p, q: [{"params": [p]}, {"params": [q]}], "number of parameter groups"),
)
check(
    "optim/load_state_dict: group size",
    _opt_load(lambda p, q: [p], "doesn't match the size"),
)
raises(
    "optim/load_state_dict(missing keys)",
    lambda b: optim.SGD([_p()], lr=0.1).load_state_dict({"state": {}}),
    KeyError,
)


def _opt_state_wrong_shape(b):
    p = _p()
    src = optim.Adam([_p((4,))], lr=0.1)
    src.param_groups[0]["params"][0].grad = tg.ones(4)
    src.step()
    dst = optim.Adam([p], lr=0.1)
    dst.load_state_dict(src.state_dict())
    p.grad = tg.ones(3)
    with pytest.raises(RuntimeError, match=r"\(4,\).*\(3,\)"):
        dst.step()


check("optim/loaded state of another shape refused at step", _opt_state_wrong_shape)


def _opt_nan_grad(b):
    # NaN/Inf gradients are not errors (as in PyTorch): they propagate into the parameter
    p = _p()
    opt = optim.SGD([p], lr=0.1)
    p.grad = T([np.nan, np.inf, 1.0])
    opt.step()
    got = arr(p)
    assert np.isnan(got[0]) and got[1] == -np.inf and got[2] == np.float32(0.9)


check("optim/NaN and Inf gradients propagate", _opt_nan_grad)


def _opt_mixed_backends(b):
    # each parameter is updated on its own backend
    p, q = _p(b=b), _p(b=other_backend(b))
    opt = optim.Adam([p, q], lr=0.1)
    p.grad, q.grad = tg.ones(3, backend=b), tg.ones(3, backend=other_backend(b))
    opt.step()
    np.testing.assert_allclose(arr(p), arr(q), rtol=0, atol=0)


check("optim/parameters of two backends", _opt_mixed_backends)

# ================================================================== state dicts (nn.Module)


def _load(sd, strict=True):
    m = nn.Linear(2, 3)
    return m.load_state_dict(sd, strict=strict)


def _good():
    return {"weight": np.zeros((3, 2), np.float32), "bias": np.zeros(3, np.float32)}


STATE = {
    "not a dict": (lambda: _load("abc"), TypeError, "dict-like"),
    "list": (lambda: _load([1, 2]), TypeError, "dict-like"),
    "missing key": (
        lambda: _load({"weight": _good()["weight"]}),
        RuntimeError,
        'Missing key\\(s\\) in state_dict: "bias"',
    ),
    "unexpected key": (
        lambda: _load({**_good(), "extra": np.zeros(1)}),
        RuntimeError,
        'Unexpected key\\(s\\) in state_dict: "extra"',
    ),
    "size mismatch": (
        lambda: _load({**_good(), "weight": np.zeros((2, 3), np.float32)}),
        RuntimeError,
        re.escape(
            "size mismatch for weight: copying a param with shape torch.Size([2, 3]) from "
            "checkpoint, the shape in current model is torch.Size([3, 2])."
        ),
    ),
    "size mismatch, strict=False": (
        lambda: _load({"bias": np.zeros(4, np.float32)}, strict=False),
        RuntimeError,
        "size mismatch for bias",
    ),
    "value is a list": (
        lambda: _load({**_good(), "bias": [0.0, 0.0, 0.0]}),
        RuntimeError,
        "expected a tensor or ndarray",
    ),
    "value is None": (lambda: _load({**_good(), "bias": None}), RuntimeError, "received NoneType"),
    "complex value": (
        lambda: _load({**_good(), "bias": np.zeros(3, np.complex64)}),
        RuntimeError,
        "real-valued",
    ),
    "object value": (
        lambda: _load({**_good(), "bias": np.array([None] * 3)}),
        RuntimeError,
        "bias",
    ),
    "str value": (lambda: _load({**_good(), "bias": np.array(["a"] * 3)}), RuntimeError, "bias"),
    "register_parameter('a.b')": (
        lambda: nn.Linear(2, 2).register_parameter("a.b", None),
        KeyError,
        "contain",
    ),
    "register_buffer(5)": (
        lambda: nn.Linear(2, 2).register_buffer("buf", 5),
        TypeError,
        "cannot assign 'int'",
    ),
    "weight = 5": (
        lambda: setattr(nn.Linear(2, 2), "weight", 5),
        TypeError,
        "cannot assign 'int' as parameter 'weight'",
    ),
    "add_module(5)": (lambda: nn.Sequential().add_module("m", 5), TypeError, "not a Module"),
}
for name, (f, exc, match) in STATE.items():
    raises(f"state/{name}", lambda b, f=f: f(), exc, match)


def _state_other_backend_and_dtype(b):
    src = nn.Linear(2, 3)
    with tg.use_backend(other_backend(b)):
        dst = nn.Linear(2, 3).half()
    dst.load_state_dict(src.state_dict())
    assert dst.weight.backend == other_backend(b) and dst.weight.dtype is tg.float16
    np.testing.assert_array_equal(arr(dst.weight), arr(src.weight).astype(np.float16))


check("state/load across backends and dtypes", _state_other_backend_and_dtype)

# ================================================================== io (tg.save / tg.load)


def _npz_bytes(sd=None):
    buf = io.BytesIO()
    tg.save(sd if sd is not None else {"w": tg.ones(2, 3), "b": tg.zeros(3)}, buf, format="npz")
    return buf.getvalue()


def _load_bytes(data):
    return tg.load(io.BytesIO(data))


def _zip_with(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(a, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def _corrupt_crc():
    data = bytearray(_npz_bytes())
    i = data.index(b"\x93NUMPY")
    header_len = int.from_bytes(data[i + 8 : i + 10], "little")
    data[i + 10 + header_len] ^= 0xFF  # the first byte of the first array's data
    return bytes(data)


LOAD_BAD = {
    "pickle of a dict": (lambda: pickle.dumps({"w": np.ones(2)}), "is a Python pickle"),
    "pickle protocol 2": (lambda: pickle.dumps({"w": 1}, protocol=2), "is a Python pickle"),
    "torch.save-like zip": (
        lambda: _zip_with({"archive/data.pkl": pickle.dumps(print), "archive/version": b"3"}),
        "PyTorch checkpoint.*not admitted",
    ),
    "empty file": (lambda: b"", "not an .npz archive"),
    "text file": (lambda: b"weight,bias\n1,2\n", "not an .npz archive"),
    "a bare .npy": (lambda: _npy(np.ones(3, np.float32)), "not an .npz archive"),
    "truncated at 10 bytes": (lambda: _npz_bytes()[:10], "truncated or corrupt"),
    "truncated at half": (lambda: (lambda d: d[: len(d) // 2])(_npz_bytes()), "truncated"),
    "truncated by 1 byte": (lambda: _npz_bytes()[:-1], "truncated or corrupt"),
    "truncated by 30 bytes": (lambda: _npz_bytes()[:-30], "truncated or corrupt"),
    "CRC mismatch": (_corrupt_crc, "corrupt"),
    "object array (pickled inside)": (
        lambda: _zip_with({"w.npy": _npy(np.array([{}], dtype=object), allow_pickle=True)}),
        "object array|pickle",
    ),
    "complex array": (
        lambda: _zip_with({"w.npy": _npy(np.ones(2, np.complex64))}),
        "unsupported array",
    ),
    "garbage .npy member": (lambda: _zip_with({"w.npy": b"\x93NUMPY garbage"}), "corrupt"),
    "non-.npy member": (lambda: _zip_with({"w.txt": b"1.0"}), "not .npy arrays"),
    "ELF binary": (lambda: b"\x7fELF" + b"\x00" * 60, "not an .npz archive"),
}
for name, (make, match) in LOAD_BAD.items():
    raises(f"io/load {name}", lambda b, make=make: _load_bytes(make()), ValueError, match)
raises(
    "io/load text-mode file",
    lambda b: tg.load(io.StringIO("abc")),
    TypeError,
    "binary mode",
)
raises("io/load map_location=cuda", lambda b: tg.load(io.BytesIO(), "cuda"), RuntimeError, "CPU")
SAVE_BAD = {
    "a tensor": (lambda: tg.ones(2), TypeError, "flat dict"),
    "a module": (lambda: nn.Linear(2, 2), TypeError, "flat dict"),
    "int key": (lambda: {1: tg.ones(2)}, TypeError, "keys must be str"),
    "empty key": (lambda: {"": tg.ones(2)}, ValueError, "invalid state dict key"),
    "an object in a nested dict": (lambda: {"a": {"b": object()}}, TypeError, "pickle"),
    "a set value": (lambda: {"a": {1.0}}, TypeError, "pickle"),
    "complex array": (lambda: {"a": np.ones(2, np.complex64)}, TypeError, "dtype complex64"),
    "object array": (lambda: {"a": np.array([None])}, TypeError, "dtype object"),
}
for name, (make, exc, match) in SAVE_BAD.items():
    raises(
        f"io/save {name}",
        lambda b, make=make: tg.save(make(), io.BytesIO(), format="npz"),
        exc,
        match,
    )


def _roundtrip_odd(b):
    sd = {
        "f16": tg.tensor([1.0, -0.0, np.inf], dtype=tg.float16),
        "nan": tg.tensor([np.nan]),
        "be": np.array([1.5, 2.5], ">f4"),
        "i64": np.arange(3),
        "0d": tg.tensor(3.0),
    }
    out = _load_bytes(_npz_bytes(sd))
    assert list(out) == list(sd)
    assert out["f16"].dtype is tg.float16 and np.signbit(arr(out["f16"])[1])
    assert np.isnan(arr(out["nan"])[0])
    np.testing.assert_array_equal(arr(out["be"]), [1.5, 2.5])
    assert out["i64"].dtype is tg.int64 and out["0d"].shape == ()  # int64 loads as a tensor


check("io/round trip of odd but valid entries", _roundtrip_odd)

# ================================================================== backend protocol
# docs/backends.md: the backend modules validate what they must to stay memory-safe.


def _be(b):
    return tg._backend.load(b)


def _from_numpy_byteswapped_f16(b):
    a = np.array([1.0, 2.0], ">f2")
    try:
        t = _be(b).from_numpy(a, False)
    except (TypeError, ValueError):
        return  # refusing is fine; reinterpreting the bytes is not
    np.testing.assert_array_equal(arr(t), [1.0, 2.0])


def _from_numpy_noncanonical_f32(b):
    a = np.array([1.5, 2.5], np.float32).astype(np.dtype(">f4").newbyteorder("="))
    assert a.dtype == np.float32
    np.testing.assert_array_equal(arr(_be(b).from_numpy(a, False)), [1.5, 2.5])


def _backward_wrong_gradient(b):
    x = tg.ones(3, requires_grad=True)
    _be(b).backward(x * 2.0, tg.ones(1), False)


check("protocol/from_numpy of a byte-swapped float16 array", _from_numpy_byteswapped_f16)
check("protocol/from_numpy of a non-canonical float32 dtype", _from_numpy_noncanonical_f32)
raises("protocol/backward with a gradient of another shape", _backward_wrong_gradient, RuntimeError)


def _from_numpy_dtypes(b):
    # the backends store float64, the integer dtypes and bool (docs/backends.md)
    for a in (np.ones(2), np.arange(3), np.arange(3, dtype=np.int8), np.array([True, False])):
        t = _be(b).from_numpy(a, False)
        assert arr(t).dtype == a.dtype
        np.testing.assert_array_equal(arr(t), a, strict=True)


check("protocol/from_numpy(float64, int, bool)", _from_numpy_dtypes)
for name, a in {"uint16": np.ones(2, np.uint16), "complex64": np.ones(2, np.complex64),
                "object": np.ones(2, object)}.items():  # fmt: skip
    raises(
        f"protocol/from_numpy({name})",
        lambda b, a=a: _be(b).from_numpy(a, False),
        TypeError,
        "can't convert np.ndarray of type",
    )


def _before_backend_loaded(b):
    import subprocess
    import sys

    mod = "tapegrad._core" if b == "cpp" else "tapegrad.backends.numpy_ref"
    code = (
        f"import numpy as np, importlib; m = importlib.import_module({mod!r}); "
        "m.from_numpy(np.ones(2, np.float32), False)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), f"killed by signal {-r.returncode}: {r.stderr[-500:]}"


check("protocol/the module used before `import tapegrad` set it up", _before_backend_loaded)

# ================================================================== the test


def _ids():
    ids = [c[0] for c in CASES]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate case ids: {sorted(dup)}"
    return ids


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_bad_input(backend, case, record_property):
    cid, fn, exc, match = case
    with tg.use_backend(backend):
        if exc is None:
            fn(backend)
        else:
            with pytest.raises(exc) as info:
                fn(backend)
            if match is not None:
                assert re.search(match, str(info.value)), (
                    f"{cid}: message {str(info.value)!r} does not match {match!r}"
                )
    record_property("bad_input_case", (cid, backend))


def test_case_count():
    assert len(CASES) >= 200, len(CASES)
