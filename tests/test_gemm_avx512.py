"""The AVX-512 GEMM kernels give the AVX2 kernels' bits: every output element sees the same
fused multiply-adds in the same order, whichever kernel computed its tile. Products are run with
both kernels (tapegrad._core.set_avx512) and compared byte for byte, at shapes that reach the
edges of the 6 x 32 tile (last rows, a lone 16-column panel, a partial panel), K past one packed
block, transposed and strided operands, and the addmm / linear paths that add into C."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _core


def _available():
    """Whether the AVX-512 kernels can run here, leaving the setting as it was (a lane that runs
    with TAPEGRAD_NO_AVX512=1 keeps the AVX2 kernels for its other tests)."""
    was = _core.avx512_enabled()
    try:
        return _core.simd_enabled() and _core.set_avx512(True)
    finally:
        _core.set_avx512(was)


pytestmark = pytest.mark.skipif(
    not _available(), reason="this CPU (or TAPEGRAD_NO_SIMD) has no AVX-512 kernels to compare"
)

# The last three are computed transposed (C's columns strided): few rows against many columns.
SHAPES = [(1, 1, 1), (6, 32, 7), (7, 33, 5), (13, 48, 300), (64, 256, 784), (100, 200, 1030),
          (257, 95, 513), (31, 17, 2000), (192, 64, 16), (32, 256, 256), (256, 10, 100),
          (5, 300, 40)]  # fmt: skip


def both(fn):
    out, was = [], _core.avx512_enabled()
    for wide in (True, False):
        _core.set_avx512(wide)
        try:
            out.append(np.array(fn().detach().numpy(), order="C"))
        finally:
            _core.set_avx512(was)
    return out


def assert_same_bits(pair):
    a, b = pair
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_matmul_bits(m, n, k, threads):
    rng = np.random.default_rng(m * 7919 + n * 31 + k)
    a = tg.tensor(rng.standard_normal((m, k)).astype(np.float32))
    b = tg.tensor(rng.standard_normal((k, n)).astype(np.float32))
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        assert_same_bits(both(lambda: a @ b))
        assert_same_bits(both(lambda: b.t() @ a.t()))  # transposed operands, column-major C
        assert_same_bits(both(lambda: a[:, ::2] @ b[::2]))  # strided
    finally:
        tg.set_num_threads(old)


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_addmm_linear_and_backward_bits(m, n, k):
    rng = np.random.default_rng(k * 131 + m)
    x = tg.tensor(rng.standard_normal((m, k)).astype(np.float32), requires_grad=True)
    w = tg.tensor(rng.standard_normal((n, k)).astype(np.float32), requires_grad=True)
    bias = tg.tensor(rng.standard_normal(n).astype(np.float32))
    c = tg.tensor(rng.standard_normal((m, n)).astype(np.float32))
    assert_same_bits(both(lambda: tg.addmm(c, x, w.t(), beta=0.5, alpha=2.0)))
    assert_same_bits(both(lambda: tg.nn.functional.linear(x, w, bias)))

    def grads():
        x.grad = w.grad = None
        (tg.nn.functional.linear(x, w, bias) ** 2).sum().backward()
        return tg.cat([x.grad.flatten(), w.grad.flatten()])

    assert_same_bits(both(grads))


def test_the_switch_reads_back():
    was = _core.avx512_enabled()
    try:
        assert _core.set_avx512(False) is False
        assert _core.avx512_enabled() is False
        assert _core.set_avx512(True) is True
        assert _core.avx512_enabled() is True
    finally:
        _core.set_avx512(was)


@pytest.mark.parametrize("m,n,k", SHAPES)
def test_float16_products_bits(m, n, k):
    """float16 products run two B panels at once with AVX-512 (every summation order: linear's
    forward, matmul, and linear's two backward products); each output keeps its AVX2 sums."""
    rng = np.random.default_rng(k * 17 + n)
    scale = 2.0 ** rng.integers(-5, 4, (m, k))  # spread binades: an order change shows
    x = tg.tensor((rng.standard_normal((m, k)) * scale).astype(np.float16), requires_grad=True)
    w = tg.tensor(rng.standard_normal((n, k)).astype(np.float16), requires_grad=True)
    assert_same_bits(both(lambda: tg.nn.functional.linear(x, w)))
    assert_same_bits(both(lambda: x @ w.t()))

    def grads():
        x.grad = w.grad = None
        tg.nn.functional.linear(x, w).float().sum().backward()
        return tg.cat([x.grad.flatten(), w.grad.flatten()])

    assert_same_bits(both(grads))


# (batch, in, out channels, height, width, kernel, padding, dilation, groups, bias): 64 and 48
# output channels (32-channel tiles, a lone 16), 17 and 33 (partial vectors), rows narrower and
# wider than one tile of positions, 300 input channels (partial sums between channel chunks).
CONVS = [(2, 64, 64, 20, 20, 3, 1, 1, 1, True), (1, 3, 48, 17, 29, 3, 1, 1, 1, True),
         (2, 6, 16, 12, 12, 5, 0, 1, 1, True), (1, 5, 33, 9, 13, 3, 2, 2, 1, True),
         (2, 8, 40, 11, 37, 3, 1, 1, 2, True), (1, 300, 17, 7, 7, 3, 1, 1, 1, True),
         (1, 4, 20, 5, 70, 1, 0, 1, 1, False),
         (3, 16, 64, 9, 9, (3, 5), (1, 2), 1, 1, True)]  # fmt: skip


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n,ci,co,h,w,k,pad,dil,groups,bias", CONVS)
def test_conv_bits(n, ci, co, h, w, k, pad, dil, groups, bias, threads):
    """float32 convolutions with stride 1 run the direct kernel with zmm tiles of 32 channels;
    each output keeps the AVX2 tile's sums, in the forward and in the input gradient."""
    rng = np.random.default_rng(ci * 101 + co)
    kk = (k, k) if isinstance(k, int) else k
    x = tg.tensor(rng.standard_normal((n, ci, h, w)).astype(np.float32), requires_grad=True)
    wt = tg.tensor(
        rng.standard_normal((co, ci // groups, *kk)).astype(np.float32), requires_grad=True
    )
    b = tg.tensor(rng.standard_normal(co).astype(np.float32)) if bias else None
    F = tg.nn.functional
    old = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        assert_same_bits(both(lambda: F.conv2d(x, wt, b, padding=pad, dilation=dil, groups=groups)))

        def grads():
            x.grad = wt.grad = None
            y = F.conv2d(x, wt, b, padding=pad, dilation=dil, groups=groups)
            (y * y.detach().cos()).sum().backward()
            return tg.cat([x.grad.flatten(), wt.grad.flatten()])

        assert_same_bits(both(grads))
    finally:
        tg.set_num_threads(old)
