"""matmul reads a transposed operand (w.t(), k.transpose(-2, -1)) through its strides instead of
copying it. float32: the result and the gradients keep the bits of the dense copy's product.
float16: as in PyTorch, the layout picks the summation order (the ATen kernel it reaches); the
core matches the NumPy reference, which the parity lane checks against PyTorch."""

import numpy as np
import pytest
import tapegrad as tg


def _t(rng, shape, dtype="float32"):
    return tg.tensor(rng.standard_normal(shape).astype(dtype))


def _bits(t):
    a = t.detach().numpy()
    return a.view(np.uint16 if a.dtype == np.float16 else np.uint32 if a.itemsize == 4 else a.dtype)


CASES = [
    # (a's shape, b's stored shape, transpose a, transpose b)
    ((7, 5), (3, 5), False, True),  # tiny: the direct path
    ((64, 96), (80, 96), False, True),
    ((96, 64), (96, 80), True, False),
    ((96, 70), (33, 96), True, True),
    ((256, 300), (520, 300), False, True),  # packed, split across threads
    ((4, 33, 40), (4, 50, 40), False, True),  # batched, as q @ k.transpose(-2, -1)
    ((2, 3, 40, 33), (3, 40, 50), True, False),  # broadcast batch
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("sa,sb,ta,tb", CASES)
def test_transposed_operand_same_bits_as_dense_copy(sa, sb, ta, tb, threads):
    tg.set_num_threads(threads)
    try:
        rng = np.random.default_rng(0)
        a0, b0 = _t(rng, sa), _t(rng, sb)
        a_leaf, b_leaf = a0.clone().requires_grad_(), b0.clone().requires_grad_()
        a_view = a_leaf.transpose(-2, -1) if ta else a_leaf
        b_view = b_leaf.transpose(-2, -1) if tb else b_leaf
        got = a_view @ b_view
        want = a_view.contiguous() @ b_view.contiguous()
        assert np.array_equal(_bits(got), _bits(want))
        g = _t(rng, tuple(got.shape))
        got.backward(g)
        ga, gb = a_leaf.grad.clone(), b_leaf.grad.clone()
        a_leaf.grad = b_leaf.grad = None
        want.backward(g)
        assert np.array_equal(_bits(ga), _bits(a_leaf.grad))
        assert np.array_equal(_bits(gb), _bits(b_leaf.grad))
    finally:
        tg.set_num_threads(1)


def test_values_against_numpy_and_strided_views():
    rng = np.random.default_rng(1)
    w = _t(rng, (40, 96))
    x = _t(rng, (32, 96))
    ref = x.numpy().astype(np.float64) @ w.numpy().astype(np.float64).T
    assert np.allclose((x @ w.t()).numpy(), ref, rtol=1e-5, atol=1e-4)
    # an offset view and a view with gaps: the first is read in place, the second copied
    for v in (w[3:].t(), w[:, ::2].t()):
        xx = x[:, : v.shape[0]] if v.shape[0] != 96 else x
        xx = xx.contiguous()
        assert np.array_equal(_bits(xx @ v), _bits(xx @ v.contiguous()))


def test_float64_unchanged():
    rng = np.random.default_rng(2)
    x, w = _t(rng, (48, 64), "float64"), _t(rng, (40, 64), "float64")
    assert np.array_equal(_bits(x @ w.t()), _bits(x @ w.t().contiguous()))


# float16: the C++ core against the NumPy reference (the spec the parity lane checks against
# PyTorch), forward and both gradients, for operands passed transposed: matrices, stacks of one
# batch shape (bmm's naive loop below 400 multiply-adds, its GEMM above), a broadcast stack, and
# a stack @ a matrix and a matrix @ a stack, on each of PyTorch's routes.
F16_CASES = [((33, 100), (100, 7)), ((64, 64), (64, 64)), ((1, 64), (64, 40)),
             ((2, 20, 30), (2, 30, 20)), ((4, 33, 40), (4, 40, 50)), ((3, 5, 7), (3, 7, 9)),
             ((2, 3, 5, 8), (3, 8, 10)), ((3, 33, 40), (40, 50)),
             ((1, 40, 50), (50, 30)), ((33, 40), (3, 40, 50)),
             ((33, 40), (1, 40, 50))]  # fmt: skip


def _f16_run(backend, sa, sb, ta, tb, requires=(True, True)):
    rng = np.random.default_rng(7)
    swap = lambda s, t: s[:-2] + (s[-1], s[-2]) if t else s  # noqa: E731
    a = (rng.standard_normal(swap(sa, ta)) * 4.0 ** rng.integers(-2, 3, swap(sa, ta))).astype(
        np.float16
    )
    b = rng.standard_normal(swap(sb, tb)).astype(np.float16)
    with tg.use_backend(backend):
        x, w = tg.tensor(a, requires_grad=requires[0]), tg.tensor(b, requires_grad=requires[1])
        y = (x.transpose(-2, -1) if ta else x) @ (w.transpose(-2, -1) if tb else w)
        y.backward(tg.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float16)))
        return [None if t is None else _bits(t) for t in (y, x.grad, w.grad)]


@pytest.mark.parametrize("ta,tb", [(True, False), (False, True), (True, True), (False, False)])
@pytest.mark.parametrize("sa,sb", F16_CASES)
@pytest.mark.parametrize("requires", [(True, True), (True, False), (False, True)])
def test_float16_transposed_operands_match_the_reference(sa, sb, ta, tb, requires):
    # which operand requires grad picks PyTorch's route for a stack @ a matrix or a matrix @ a
    # stack, and with it the kernels
    got = _f16_run("cpp", sa, sb, ta, tb, requires)
    want = _f16_run("numpy", sa, sb, ta, tb, requires)
    for g, w in zip(got, want):
        assert (g is None and w is None) or np.array_equal(g, w)
