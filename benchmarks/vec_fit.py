"""Fits the polynomial coefficients used by csrc/kernels/vec_avx2.cpp (exp, expm1 for tanh, log).

Each fit is a minimax fit in relative error, found by Lawson's algorithm (iteratively
reweighted least squares) on Chebyshev nodes in float64; the coefficients are then rounded to
float32 and printed in the form the C++ file uses. The errors of the finished float32 kernels
(including the rounding of these coefficients and of the evaluation) are measured by
benchmarks/vec_bench.cpp against float64 over every float32 input.

    python3 benchmarks/vec_fit.py
"""

import numpy as np


def lawson(basis, target, weight, iters=300):
    """Coefficients c minimising max |weight * (basis @ c - target)|."""
    u = np.ones(len(target)) / len(target)
    for _ in range(iters):
        s = np.sqrt(u)
        c, *_ = np.linalg.lstsq(basis * (s * weight)[:, None], target * s * weight, rcond=None)
        e = np.abs(weight * (basis @ c - target))
        u = u * e
        u /= u.sum()
    return c, np.max(np.abs(weight * (basis @ c - target)))


def cheb_nodes(a, b, n=6000):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def show(name, coeffs, err):
    text = ", ".join(f"{np.float32(v):.9e}f" for v in coeffs)
    print(f"{name}: relative error {err:.3g}\n  {text}")


def main():
    half_ln2 = np.log(2) / 2 + 1e-3  # reduction interval, with a little slack
    # exp(r) = 1 + r + r^2 (c2 + c3 r + ... + c6 r^4), |r| <= ln2/2
    r = cheb_nodes(-half_ln2, half_ln2)
    c, err = lawson(np.stack([r ** (k + 2) for k in range(5)], 1), np.expm1(r) - r, 1 / np.exp(r))
    show("exp c2..c6", c, err)
    # expm1(r) = r + r^2 (c2 + ... + c7 r^5), |r| <= ln2/2 (tanh); relative to expm1 itself
    r = r[np.abs(r) > 1e-6]
    c, err = lawson(
        np.stack([r ** (k + 2) for k in range(6)], 1), np.expm1(r) - r, 1 / np.abs(np.expm1(r))
    )
    show("expm1 c2..c7", c, err)
    # log(1+f) = f - f^2/2 + f^3 (p0 + p1 f + ... + p7 f^7), f in [sqrt(1/2)-1, sqrt(2)-1]
    f = cheb_nodes(np.sqrt(0.5) - 1, np.sqrt(2) - 1)
    f = f[np.abs(f) > 1e-4]
    c, err = lawson(
        np.stack([f**k for k in range(8)], 1),
        (np.log1p(f) - f + f * f / 2) / f**3,
        f**3 / np.abs(np.log1p(f)),
    )
    show("log p0..p7", c, err)


if __name__ == "__main__":
    main()
