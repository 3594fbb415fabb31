"""The vector norms give PyTorch's bits, dtypes, grad_fn names and errors: the cases of
tests/golden/norm_golden.json (recorded by tests/golden/make_norm_golden.py from
tests/parity/cases_norm.py) replayed on the cpp backend, on the path that runs here (the SIMD
path answers as PyTorch's AVX2 kernels, the portable one as its default kernels), and on the
NumPy reference; plus the calls' edges and errors on both backends."""

import hashlib
import math

import numpy as np
import pytest
import tapegrad as tg
from golden_util import golden, parity_cases
from simd_path import simd

cases_norm = parity_cases("norm")
GOLD = golden("norm_golden.json")
CASES = dict(cases_norm.cases())
NAMES = sorted(GOLD["simd"])
# the NumPy reference folds in Python: a sample of the cases keeps the suite fast
NUMPY_SAMPLE = [n for n in NAMES if "4099" not in n and "n=1000" not in n][::5]


def _flat(r):
    if isinstance(r, (list, tuple)):
        return [v for x in r for v in _flat(x)]
    return [r]


def _replay(name, backend):
    x = np.random.default_rng(12345).standard_normal(64)
    if hashlib.sha256(x.tobytes()).hexdigest() != GOLD["rng"]:
        pytest.skip("NumPy's generator draws other numbers than when the golden file was made")
    old = tg.get_backend()
    tg.set_backend(backend)
    try:
        outs = [None if t is None else t.detach().numpy() for t in _flat(CASES[name](tg))]
    finally:
        tg.set_backend(old)
    recs = GOLD["simd"][name] if simd() else GOLD["portable"].get(name, GOLD["simd"][name])
    recs = _flat(recs)
    assert len(outs) == len(recs)
    for rec, arr in zip(recs, outs):
        if rec is None:
            assert arr is None
            continue
        arr = np.ascontiguousarray(arr)
        assert arr.dtype.name == rec["dtype"]
        assert list(arr.shape) == rec["shape"]
        assert hashlib.sha256(arr.tobytes()).hexdigest() == rec["sha256"], name


@pytest.mark.parametrize("name", NAMES)
def test_norm_matches_torch_cpp(name):
    _replay(name, "cpp")


@pytest.mark.parametrize("name", NUMPY_SAMPLE)
def test_norm_matches_torch_numpy(name):
    _replay(name, "numpy")


def _bits(t):
    return None if t is None else np.ascontiguousarray(t.detach().numpy()).tobytes()


@pytest.mark.parametrize("dt", ["float32", "float16", "float64"])
@pytest.mark.parametrize("p", [2, 1, math.inf, -math.inf, 0, 3, 0.5, 1.5])
def test_cpp_matches_reference(dt, p):
    """Both backends agree to the bit, forward and backward, on dims, views and specials."""
    rng = np.random.default_rng(7)
    a = rng.standard_normal((9, 20)).astype(dt)
    a[0, :5] = 0
    a[1, 3] = np.inf
    for dim, keepdim, view in ((None, False, ""), (1, True, ""), (0, False, "t"), (1, False, "s")):
        got = []
        for be in ("cpp", "numpy"):
            x = tg.tensor(a, requires_grad=True, backend=be)
            v = x.t() if view == "t" else x[:, ::2] if view == "s" else x
            y = tg.linalg.vector_norm(v, p, dim, keepdim)
            y.sum().backward()
            got.append((_bits(y), _bits(x.grad), y.grad_fn.name()))
        assert got[0] == got[1], (dim, keepdim, view)


@pytest.mark.parametrize("p", [2, 1, 3, math.inf])
def test_norm_dtype_argument(backend, p):
    x = tg.tensor([[1.0, -2.0, 3.0]], dtype=tg.float16, requires_grad=True, backend=backend)
    y = tg.linalg.vector_norm(x, p, dtype=tg.float32)
    assert y.dtype == tg.float32 and y.grad_fn.name() == "LinalgVectorNormBackward0"
    y.backward()
    assert x.grad.dtype == tg.float16


def test_names_and_shapes(backend):
    x = tg.tensor(np.arange(12.0).reshape(3, 4) - 5, requires_grad=True, backend=backend)
    for y in (x.norm(), tg.norm(x, 1), tg.norm(x, "fro", 1), tg.linalg.norm(x), x.norm(p=3)):
        assert y.grad_fn.name() == "LinalgVectorNormBackward0"
    assert x.norm(2, 1, True).shape == (3, 1)
    assert tg.linalg.norm(x, dim=(0, 1)).shape == ()
    assert tg.linalg.vector_norm(x, 2, []).shape == ()
    assert tg.norm(x, dim=[]).shape == ()
    assert tg.linalg.vector_norm(tg.tensor(3.0, backend=backend), 2, 0).item() == 3.0
    assert tg.linalg.vector_norm(tg.tensor([0.0, 3.0, -4.0], backend=backend), 0).item() == 2.0
    assert tg.linalg.vector_norm(tg.zeros(0, 3, backend=backend), 2, 0).tolist() == [0.0] * 3
    assert tg.linalg.vector_norm(tg.zeros(0, 3, backend=backend), math.inf, 1).shape == (0,)
    y = tg.nn.functional.normalize(x)
    names, fn = [], y.grad_fn
    while fn is not None:
        names.append(fn.name())
        fn = next(
            (f for f, _ in fn.next_functions if f is not None and f.name() != "AccumulateGrad"),
            None,
        )
    assert names == ["DivBackward0", "ExpandBackward0", "ClampMinBackward0",
                     "LinalgVectorNormBackward0"]  # fmt: skip


def test_order_zero_has_no_gradient(backend):
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True, backend=backend)
    tg.linalg.vector_norm(x, 0).backward()
    assert x.grad is None


_X = lambda: tg.ones(3, 4)  # noqa: E731


@pytest.mark.parametrize(
    "call,exc,msg",
    [
        (lambda: tg.norm(tg.arange(5)), RuntimeError,
         "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
        (lambda: tg.tensor([True]).norm(), RuntimeError, "input. Got Bool"),
        (lambda: tg.linalg.vector_norm(_X(), 2, 5), IndexError,
         "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
        (lambda: tg.linalg.vector_norm(_X(), 2, (0, 0)), RuntimeError,
         "dim 0 appears multiple times in the list of dims"),
        (lambda: tg.linalg.vector_norm(_X().double(), dtype=tg.float32), RuntimeError,
         "the dtype of the input (Double) should be convertible without narrowing to the "
         "specified dtype (Float)"),
        (lambda: tg.linalg.vector_norm(_X(), dtype=tg.int64), RuntimeError,
         "dtype should be floating point or complex, but got Long"),
        (lambda: tg.linalg.vector_norm(tg.zeros(0, 3), math.inf), RuntimeError,
         "cannot compute the inf norm on an empty tensor because the operation does not have "
         "an identity"),
        (lambda: tg.linalg.vector_norm(tg.zeros(0, 3), -1, 0), RuntimeError,
         "cannot compute the -1 norm on the dimension 0because this dimension is empty"),
        (lambda: tg.linalg.vector_norm(_X(), "fro"), TypeError,
         "linalg_vector_norm(): argument 'ord' must be Number, not str"),
        (lambda: tg.linalg.vector_norm([1.0]), TypeError,
         "argument 'input' (position 1) must be Tensor, not list"),
        (lambda: tg.norm(_X(), "fro", (0, 1, 1)), RuntimeError,
         "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 1"),
        (lambda: tg.norm(_X(), "nuc"), NotImplementedError, "matrix norm"),
        (lambda: tg.linalg.norm(_X(), 2), NotImplementedError, "matrix norm"),
        (lambda: tg.linalg.norm(_X(), 2.5), RuntimeError,
         "linalg.matrix_norm: Order 2.5 not supported."),
        (lambda: tg.linalg.norm(tg.ones(2, 3, 4), 2), RuntimeError,
         "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got 3D."),
        (lambda: tg.linalg.norm(_X(), None, (0, 1, 0)), RuntimeError,
         "linalg.norm: If dim is specified, it must be of length 1 or 2. Got [0, 1, 0]"),
        (lambda: tg.linalg.norm(_X()[0], "fro"), RuntimeError,
         "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."),
        (lambda: tg.nn.functional.normalize(_X(), dim=5), IndexError, "but got 5)"),
    ],
)  # fmt: skip
def test_errors(backend, call, exc, msg):
    old = tg.get_backend()
    tg.set_backend(backend)
    try:
        with pytest.raises(exc) as e:
            call()
    finally:
        tg.set_backend(old)
    assert msg in str(e.value)
