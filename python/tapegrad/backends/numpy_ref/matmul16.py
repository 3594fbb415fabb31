"""float16 matrix products in PyTorch's summation order: the reference for the C++ core's
kernels/gemm16.* (which explains where each order comes from).

A product of two float16 values is exact in float32, so only the order of the float32 additions
decides the bits. Each of PyTorch's CPU kernels for half sums one dot product as a few "chains"
(sequential float32 sums over a subset of k, starting from zero) merged by a fixed tree:

  interleave4  gemm_notrans_: four chains k = r, r+4, ... (the k % 4 tail joins chain 0),
               merged ((p0 + p1) + p2) + p3
  sequential   gemm_transb_: one chain over every k, optionally starting from C
  blocks64     ATen's float16 dot kernel (gemm_transa_ and the matrix @ vector path): 64 chains
               over blocks of 64, folded as 8 registers of 8 lanes; then 8 chains over blocks of
               16; then the remaining k one by one

Operands are float32 arrays of float16 values, `a` of shape (..., M, K) and `b` (..., K, N);
every chain runs over all output elements at once (NumPy float32 adds round each step).
"""

import numpy as np

_F32 = np.float32


def _simd():
    """The C++ core's path decides the 8-lane reduction (its answer, else the AVX2 order)."""
    try:
        from tapegrad import _core
    except ImportError:
        return True
    return _core.simd_enabled()


def _chain(a, b, ks, start=None):
    """sum over k in ks (in order) of a[..., :, k] * b[..., k, :], from `start` or zero."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    acc = np.zeros(shape, _F32) if start is None else np.array(start, _F32, copy=True)
    for k in ks:
        acc += a[..., :, k, None] * b[..., None, k, :]
    return acc


def _reduce8(lanes, simd):
    """ATen's vec_reduce_all over 8 lanes: halves, then pairs, then neighbours on AVX2; one
    after another in the scalar build."""
    if not simd:
        s = lanes[0]
        for lane in lanes[1:]:
            s = s + lane
        return s
    h0, h1 = lanes[0] + lanes[4], lanes[1] + lanes[5]
    h2, h3 = lanes[2] + lanes[6], lanes[3] + lanes[7]
    return (h0 + h2) + (h1 + h3)


def product(a, b, order, start=None):
    """a @ b (float32 result) in `order`; `start` (sequential only) is the sum's first term."""
    K = a.shape[-1]
    if order == "sequential":
        return _chain(a, b, range(K), start)
    if order == "interleave4":
        k4 = K & ~3
        out = _chain(a, b, list(range(0, k4, 4)) + list(range(k4, K)))
        for r in range(1, 4):
            out = out + _chain(a, b, range(r, k4, 4))
        return out
    la, lv = K & ~63, K & ~15
    lanes = [_chain(a, b, range(o, la, 64)) for o in range(64)]
    regs = [lanes[c] + lanes[c + 32] for c in range(32)]  # the upper half joins as it finishes
    for half in (2, 1):
        for r in range(half):
            for t in range(8):
                regs[r * 8 + t] = regs[r * 8 + t] + regs[(r + half) * 8 + t]
    simd = _simd()
    out = _reduce8(regs[:8], simd)
    out = out + _reduce8([_chain(a, b, range(la + t, lv, 8)) for t in range(8)], simd)
    return _chain(a, b, range(lv, K), out)
