"""float16 convolution in PyTorch's order, C++ against the NumPy reference byte for byte.

On the SIMD path a stride-1 float16 convolution runs direct (no column matrix); its sums must be
the half gemm's over im2col (four interleaved chains, merged in order, plus the bias, one
rounding), which the reference computes literally. The weight gradient (any stride) reads the
input directly too, each sample's dots in the half gemm's blocks64 order (64 lanes, a tree, 8
tail lanes, the rest one by one). The shapes reach both tilings (by channel and by position),
every k % 4 tail, k < 4 (empty chains), groups, dilation, padding, stride, and position counts
below 16, below 64 and past several blocks of 64 with every kind of tail."""

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn.functional as F

# (N, C, OC, H, W, kernel, padding, dilation, groups, bias)
CASES = [
    (2, 1, 6, 28, 28, 5, 2, 1, 1, True),  # LeNet's first layer: by position
    (2, 6, 16, 14, 14, 5, 0, 1, 1, True),  # LeNet's second: by channel
    (1, 3, 20, 9, 11, 3, 1, 1, 1, False),  # two channel blocks, the second partial
    (1, 2, 5, 7, 33, (2, 3), (1, 0), (2, 1), 1, True),  # k = 12, dilated rows
    (2, 1, 4, 6, 6, 1, 0, 1, 1, True),  # k = 1: chains 1 to 3 empty
    (1, 3, 7, 5, 17, 1, 1, 1, 1, False),  # k = 3
    (1, 6, 9, 8, 8, (1, 2), "same", (1, 2), 3, True),  # groups, k = 4
    (2, 5, 17, 10, 10, 3, "same", 1, 1, True),  # k = 45: tail of 1
    (1, 4, 32, 12, 19, (3, 2), (2, 1), 1, 2, True),  # k = 12 per group
    (1, 7, 3, 16, 40, 3, 0, 2, 1, True),  # rows longer than one vector
    (3, 2, 9, 13, 11, 3, 1, (1, 2), 1, True),  # 143 positions: 2 blocks, tail lanes and rest
    (2, 3, 5, 4, 5, 2, 0, 1, 1, False),  # 12 positions: the rest only
    (2, 2, 24, 7, 9, 1, 0, 1, 2, True),  # 63 positions: tail lanes and rest, no block
]
STRIDED = [
    (2, 3, 10, 15, 17, 3, 1, 1, 1, True, (2, 2)),
    (1, 4, 6, 20, 23, (3, 2), 0, (2, 1), 2, False, (3, 1)),
]
# At 256 positions and more, the AVX-512 weight gradient holds the positions in its lanes: every
# block shape again, rows of 6 channels and their remainder, rows narrower than a vector, and
# strides across (taps gathered, not copied by row).
LANES = [
    (2, 1, 6, 16, 16, 1, 0, 1, 1, True, 1),  # 256 positions: 4 blocks exactly, k = 1
    (1, 2, 7, 19, 21, 3, 0, 1, 1, False, 1),  # 323: blocks and a rest of 3; 6 + 1 channels
    (2, 3, 13, 22, 23, (3, 2), 1, 1, 1, True, 1),  # 420: blocks, tail lanes, rest; k = 18
    (1, 2, 5, 44, 11, 3, (2, 0), (1, 2), 1, True, 1),  # rows of 7 positions
    (1, 4, 12, 36, 37, 3, 1, 1, 2, True, (1, 2)),  # stride 2 across
    (1, 1, 3, 40, 41, 2, 0, 1, 1, False, (2, 1)),  # stride 2 down: rows still copied
]


def _inputs(case, rng):
    n, c, oc, h, w, k, pad, dil, groups, bias = case
    kk = (k, k) if isinstance(k, int) else k
    scale = 2.0 ** rng.integers(-6, 6, (n, c, h, w))
    x = (rng.standard_normal((n, c, h, w)) * scale).astype(np.float16)
    wt = rng.standard_normal((oc, c // groups) + kk).astype(np.float16)
    b = rng.standard_normal(oc).astype(np.float16) if bias else None
    return x, wt, b, dict(padding=pad, dilation=dil, groups=groups)


def _run(backend, x, w, b, kw, threads=1, grad=False):
    was = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        with tg.use_backend(backend):
            xt, wt = tg.tensor(x, requires_grad=grad), tg.tensor(w, requires_grad=grad)
            bt = None if b is None else tg.tensor(b, requires_grad=grad)
            y = F.conv2d(xt, wt, bt, **kw)
            if not grad:
                return [y.numpy()]
            rng = np.random.default_rng(1)
            y.backward(tg.tensor(rng.standard_normal(y.shape).astype(np.float16)))
            out = [y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()]
            return out + ([] if bt is None else [bt.grad.numpy()])
    finally:
        tg.set_num_threads(was)


def _same(want, got, threads):
    for i, (a, b) in enumerate(zip(want, got)):
        assert b.dtype == np.float16 and b.shape == a.shape
        assert b.tobytes() == a.tobytes(), f"result {i} at {threads} thread(s)"


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_float16_conv_forward_bits_match_the_reference(case):
    x, w, b, kw = _inputs(case, np.random.default_rng(len(str(case))))
    want = _run("numpy", x, w, b, kw)
    for threads in (1, 2):
        _same(want, _run("cpp", x, w, b, kw, threads), threads)


@pytest.mark.parametrize("case", CASES + STRIDED + LANES,
                         ids=[str(i) for i in range(len(CASES + STRIDED + LANES))])  # fmt: skip
def test_float16_conv_backward_bits_match_the_reference(case):
    stride = case[10] if len(case) > 10 else 1
    x, w, b, kw = _inputs(case[:10], np.random.default_rng(len(str(case))))
    kw["stride"] = stride
    want = _run("numpy", x, w, b, kw, grad=True)
    for threads in (1, 2):
        _same(want, _run("cpp", x, w, b, kw, threads, grad=True), threads)


# Position counts of every blocks64 shape: blocks with tail lanes and a rest (100), blocks with a
# rest only (143), tail lanes and a rest without a block (63), blocks and tail lanes (784).
@pytest.mark.parametrize("hw", [(10, 10), (11, 13), (7, 9), (28, 28)])
def test_float16_weight_grad_order_is_visible(hw):
    """Random data rarely shows a float32 summation order through float16's rounding. Here two
    pixels of each plane are +-2^10 and the rest near 2^-6, and the output gradient is all ones:
    every weight's dot adds the small values around a partial sum that holds a large pixel until
    its opposite cancels it, so the order decides which small values survive."""
    rng = np.random.default_rng(hw[0])
    h, w = hw
    x = (rng.standard_normal((2, 3, h + 2, w + 2)) * 2.0**-6).astype(np.float16)
    for n in range(2):
        for c in range(3):
            a, b = rng.choice((h + 2) * (w + 2), 2, replace=False)
            x[n, c].flat[a], x[n, c].flat[b] = 2.0**10, -(2.0**10)
    wt = rng.standard_normal((4, 3, 3, 3)).astype(np.float16)
    got = {}
    for backend in ("numpy", "cpp"):
        with tg.use_backend(backend):
            xt, wv = tg.tensor(x), tg.tensor(wt, requires_grad=True)
            F.conv2d(xt, wv).sum().backward()
            got[backend] = wv.grad.numpy()
    assert got["cpp"].tobytes() == got["numpy"].tobytes()
