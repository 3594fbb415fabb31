"""trunc_normal_'s last steps as PyTorch computes them in the tensor's dtype: calc_erfinv (a
rational first guess, two Newton steps with the C library's erf and exp), then mul_, add_ and
clamp_. float16 runs in float32 and rounds after each step, as PyTorch's Half ops do."""

import ctypes
import ctypes.util

import numpy as np

_A = (0.886226899, -1.645349621, 0.914624893, -0.140543331)
_B = (-2.118377725, 1.442710462, -0.329097515, 0.012229801)
_C = (-1.970840454, -1.624906493, 3.429567803, 1.641345311)
_D = (3.543889200, 1.637067800)
_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))


def _libm(name, arr):
    fn = getattr(_LIBM, name)
    t = ctypes.c_float if arr.dtype == np.float32 else ctypes.c_double
    fn.restype, fn.argtypes = t, [t]
    return np.array([fn(float(v)) for v in arr.reshape(-1)], arr.dtype).reshape(arr.shape)


def _erfinv(y):
    T = y.dtype.type
    a, b, c, d = ([T(v) for v in k] for k in (_A, _B, _C, _D))
    ya = np.abs(y)
    with np.errstate(all="ignore"):
        z = y * y
        num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0]
        dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + T(1)
        central = (y * num) / dem
        z2 = np.sqrt(-_libm("logf" if T is np.float32 else "log", (T(1) - ya) / T(2)))
        num2 = ((c[3] * z2 + c[2]) * z2 + c[1]) * z2 + c[0]
        dem2 = (d[1] * z2 + d[0]) * z2 + T(1)
        tail = np.copysign(num2, y) / dem2
        x = np.where(ya <= T(0.7), central, tail)
        k = T(2.0) / T(np.sqrt(np.pi))
        for _ in range(2):
            erf = _libm("erff" if T is np.float32 else "erf", x)
            ex = _libm("expf" if T is np.float32 else "exp", -x * x)
            x = x - (erf - y) / (k * ex)
    x = np.where(ya == 1, np.copysign(T(np.inf), y), x)
    return np.where(ya > 1, T(np.nan), x)


def erfinv_scaled(tensor, scale, shift, lo, hi):
    """tensor.erfinv_().mul_(scale).add_(shift).clamp_(lo, hi), in place."""
    from ..tensor import tensor as _tensor

    arr = tensor.numpy()
    half = arr.dtype == np.float16
    work = arr.astype(np.float32) if half else arr.copy()
    T = work.dtype.type

    def r(v):
        return v.astype(np.float16).astype(np.float32) if half else v

    x = r(_erfinv(work))
    x = r(x * T(scale))
    x = r(x + T(shift))
    x = np.clip(x, T(lo), T(hi))
    tensor.copy_(_tensor(x.astype(arr.dtype), backend=tensor._be))
    return tensor
