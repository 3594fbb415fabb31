"""addmv, baddbmm and addbmm give PyTorch's bits, dtypes, grad_fn names and errors: the cases of
tests/golden/mm2_golden.json (recorded by tests/golden/make_exact_golden.py from the bit-exact
cases of tests/parity/cases_mm2.py: float16 and the integers) replayed on the cpp backend
(TAPEGRAD_NO_SIMD=1 runs the portable path) and on the NumPy reference, plus the calls' edges."""

import functools

import numpy as np
import pytest
import tapegrad as tg
from golden_util import golden, parity_cases, replay_exact

cases_mm2 = parity_cases("mm2")
GOLD = golden("mm2_golden.json")
CASES = dict(cases_mm2.cases())
# the NumPy reference multiplies float16 in Python: a sample of the cases keeps the suite fast
NUMPY_SAMPLE = sorted(GOLD["cases"])[::5]


def _replay(name, backend):
    replay_exact(cases_mm2, CASES, GOLD, name, backend)


def test_recorded_every_exact_case():
    assert set(GOLD["cases"]) == cases_mm2.EXACT


@pytest.mark.parametrize("name", sorted(GOLD["cases"]))
def test_mm2_matches_torch_cpp(name):
    _replay(name, "cpp")


@pytest.mark.parametrize("name", NUMPY_SAMPLE)
def test_mm2_matches_torch_numpy(name):
    _replay(name, "numpy")


def _t(backend, *shape, dtype=tg.float32, rg=False):
    x = np.random.default_rng(0).standard_normal(shape)
    return tg.tensor(x, dtype=dtype, requires_grad=rg, backend=backend)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16, tg.float64])
def test_names_dtypes_and_gradient_shapes(backend, dtype):
    m, v, i = (_t(backend, *s, dtype=dtype, rg=True) for s in ((3, 4), (4,), (1,)))
    y = tg.addmv(i, m, v, beta=0.5, alpha=2)
    assert y.grad_fn.name() == "AddmvBackward0" and y.dtype is dtype and y.shape == (3,)
    y.sum().backward()
    assert m.grad.shape == (3, 4) and v.grad.shape == (4,) and i.grad.shape == (1,)
    assert float(i.grad) == 1.5  # three elements, each grad * beta
    a, b, i = (_t(backend, *s, dtype=dtype, rg=True) for s in ((2, 3, 4), (2, 4, 5), (5,)))
    y = tg.baddbmm(i, a, b)
    assert y.grad_fn.name() == "BaddbmmBackward0" and y.shape == (2, 3, 5)
    y.sum().backward()
    assert i.grad.tolist() == [6.0] * 5
    i2 = _t(backend, 3, 5, dtype=dtype, rg=True)
    y = i2.addbmm(a, b, beta=0)
    assert y.grad_fn.name() == "AddbmmBackward0" and y.shape == (3, 5)
    y.sum().backward()
    assert (i2.grad.numpy() == 0).all()


def test_beta_zero_ignores_nan_and_integers(backend):
    i = tg.tensor([float("nan"), float("inf")], backend=backend)
    m = tg.ones(2, 3, backend=backend)
    assert tg.addmv(i, m, tg.ones(3, backend=backend), beta=0).tolist() == [3.0, 3.0]
    n = tg.tensor([[1, 2], [3, 4]], backend=backend)
    r = tg.addmv(
        tg.tensor([1, 1], backend=backend), n, tg.tensor([1, -1], backend=backend), alpha=2
    )
    assert r.dtype is tg.int64 and r.tolist() == [-1, -1]


def test_in_place_forms(backend):
    x = tg.zeros(3, backend=backend)
    assert x.addmv_(tg.ones(3, 2, backend=backend), tg.ones(2, backend=backend)) is x
    assert x.tolist() == [2.0, 2.0, 2.0]
    y = tg.zeros(2, 3, 5, backend=backend)
    y.baddbmm_(tg.ones(2, 3, 4, backend=backend), tg.ones(2, 4, 5, backend=backend), beta=2)
    assert y.sum().item() == 120.0
    z = tg.ones(3, 5, backend=backend)
    z.addbmm_(tg.ones(2, 3, 4, backend=backend), tg.ones(2, 4, 5, backend=backend), alpha=0.5)
    assert z.tolist()[0] == [5.0] * 5
    with pytest.raises(RuntimeError, match=r"Bad in-place call: input tensor size \[1\]"):
        tg.zeros(1, backend=backend).addmv_(
            tg.ones(3, 2, backend=backend), tg.ones(2, backend=backend)
        )


D, B = tg.float64, tg.bool


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda z: tg.addmv(z(3), z(3, 4), z(5)),
         RuntimeError, "size mismatch, got input (3), mat (3x4), vec (5)"),
        (lambda z: tg.addmv(z(2), z(3, 4), z(4)),
         RuntimeError, "size mismatch, got input (2), mat (3x4), vec (4)"),
        (lambda z: tg.addmv(z(3, 1), z(3, 4), z(4)),
         RuntimeError, "vector + matrix @ vector expected, got 2, 2, 1"),
        (lambda z: tg.addmv(z(3), z(3, 4), z(4, dtype=D)),
         RuntimeError, "addmv input tensors must have the same dtype, but got Float, Float, "
         "and Double"),
        (lambda z: tg.addmv(z(3, dtype=B), z(3, 4, dtype=B),
                             z(4, dtype=B)),
         NotImplementedError, "\"addmv_impl_cpu\" not implemented for 'Bool'"),
        (lambda z: tg.addmv(z(3), [1], z(4)),
         TypeError, "addmv(): argument 'mat' (position 2) must be Tensor, not list"),
        (lambda z: tg.baddbmm(z(2, 3, 6), z(2, 3, 4), z(2, 4, 5)),
         RuntimeError, "The expanded size of the tensor (5) must match the existing size (6) at "
         "non-singleton dimension 2.  Target sizes: [2, 3, 5].  Tensor sizes: [2, 3, 6]"),
        (lambda z: tg.baddbmm(z(2, 3, 5), z(2, 3, 4), z(3, 4, 5)),
         RuntimeError, "Expected size for first two dimensions of batch2 tensor to be: [2, 4] but "
         "got: [3, 4]."),
        (lambda z: tg.baddbmm(z(2, 3, 5, dtype=D), z(2, 3, 4),
                               z(2, 4, 5)),
         RuntimeError, "Input dtypes must be the same, got: input double, batch1: float, "
         "batch2: float"),
        (lambda z: tg.baddbmm(z(2, 3, 5), z(2, 3, 4),
                               z(2, 4, 5, dtype=D)),
         RuntimeError, "expected scalar type Float but found Double"),
        (lambda z: tg.addbmm(z(2, 3, 5), z(2, 3, 4), z(2, 4, 5)),
         RuntimeError, "expand(torch.FloatTensor{[2, 3, 5]}, size=[3, 5]): the number of sizes "
         "provided (2) must be greater or equal to the number of dimensions in the tensor (3)"),
        (lambda z: tg.addbmm(z(3, 5), z(2, 3, 4), z(3, 4, 5)),
         RuntimeError, "batch1 and batch2 must have same number of batches, got 2 and 3"),
        (lambda z: tg.addbmm(z(3, 5), z(2, 3, 4), z(2, 3, 5)),
         RuntimeError, "Incompatible matrix sizes for bmm (3x4 and 3x5)"),
        (lambda z: tg.addbmm(z(3, 5, dtype=D), z(2, 3, 4),
                              z(2, 4, 5)),
         RuntimeError, "self and mat2 must have the same dtype, but got Double and Float"),
        (lambda z: tg.addbmm(z(3, 5, dtype=B), z(2, 3, 4, dtype=B),
                              z(2, 4, 5, dtype=B)),
         NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    ],
)  # fmt: skip
def test_errors(backend, call, exc, msg):
    with pytest.raises(exc) as e:
        call(functools.partial(tg.zeros, backend=backend))
    assert msg in str(e.value)


def test_scatter_reduce_argument(backend):
    x = tg.tensor([[0.0, 1, 2], [3, 4, 5]], backend=backend)
    idx = tg.tensor([[0, 1, 0], [1, 0, 0]], backend=backend)
    src = tg.ones(2, 3, backend=backend) * 2
    assert x.scatter(0, idx, src, reduce="add").tolist() == [[2, 3, 6], [5, 6, 5]]
    assert x.scatter(0, idx, 3.0, reduce="multiply").tolist() == [[0, 3, 18], [9, 12, 5]]
    y = x.clone()
    assert y.scatter_(0, idx, src, reduce="multiply") is y
    assert y.tolist() == [[0, 2, 8], [6, 8, 5]]
    with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
        x.scatter(0, idx, src, reduce="mean")
    with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
        x.clone().requires_grad_().scatter(0, idx, src, reduce="add")
    with tg.no_grad():
        r = x.clone().requires_grad_().scatter(0, idx, src, reduce="add")
    assert not r.requires_grad
