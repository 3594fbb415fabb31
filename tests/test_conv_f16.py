"""float16 convolution in PyTorch's order, C++ against the NumPy reference byte for byte.

On the SIMD path a stride-1 float16 convolution runs direct (no column matrix); its sums must be
the half gemm's over im2col (four interleaved chains, merged in order, plus the bias, one
rounding), which the reference computes literally. The shapes reach both tilings (by channel
and by position), every k % 4 tail, k < 4 (empty chains), groups, dilation and padding."""

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
]


def _inputs(case, rng):
    n, c, oc, h, w, k, pad, dil, groups, bias = case
    kk = (k, k) if isinstance(k, int) else k
    scale = 2.0 ** rng.integers(-6, 6, (n, c, h, w))
    x = (rng.standard_normal((n, c, h, w)) * scale).astype(np.float16)
    wt = rng.standard_normal((oc, c // groups) + kk).astype(np.float16)
    b = rng.standard_normal(oc).astype(np.float16) if bias else None
    return x, wt, b, dict(padding=pad, dilation=dil, groups=groups)


def _run(backend, x, w, b, kw, threads=1):
    was = tg.get_num_threads()
    tg.set_num_threads(threads)
    try:
        with tg.use_backend(backend):
            bt = None if b is None else tg.tensor(b)
            return F.conv2d(tg.tensor(x), tg.tensor(w), bt, **kw).numpy()
    finally:
        tg.set_num_threads(was)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_float16_conv_forward_bits_match_the_reference(case):
    x, w, b, kw = _inputs(case, np.random.default_rng(len(str(case))))
    want = _run("numpy", x, w, b, kw)
    for threads in (1, 2):
        got = _run("cpp", x, w, b, kw, threads)
        assert got.dtype == np.float16 and got.shape == want.shape
        assert got.tobytes() == want.tobytes(), f"{threads} thread(s)"
