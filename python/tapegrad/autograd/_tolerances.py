"""The one table of tolerances: how far a backend's result may be from a float64 evaluation of the
NumPy reference on the same rounded inputs (docs/design.md, Numerics).

The test suite (tests/tolerances.py) and the lockstep tool (_lockstep.py) both read it. Any
widening beyond the base table lives here, with the reason next to it.
"""

import math

# dtype name -> (rtol, atol). The check is |actual - expected| <= atol + rtol * |expected|.
# f32: rtol 1.3e-6 is ~11 ulp (half an ulp is 6e-8), so one rounding plus a few-ulp kernel error
#      (the AVX2 tanh is within 2.5 ulp, exp within 1: csrc/kernels/vec.h) fits without widening.
# f16: half an ulp is <= 2**-11 = 4.9e-4 relative, so rtol 1e-3 admits two roundings: the final
#      one every op does, plus one for a rounded intermediate the oracle does not model.
TOLERANCES = {
    "float32": (1.3e-6, 1e-5),
    "float16": (1e-3, 1e-5),
}

# Extra factors for f32 transcendental elementwise ops (exp, log, tanh, sigmoid, pow, rpow).
# Both backends currently meet the base f32 tolerance, so the factor is 1; if a vectorised kernel
# needs more, raise it here (and only here), with the measured max error in this comment.
TRANSCENDENTAL = frozenset({"exp", "log", "tanh", "sigmoid", "pow_scalar", "rpow_scalar"})
TRANSCENDENTAL_F32_FACTOR = 1.0

# Per-op extra factors for f16, forward and backward. The base f16 rtol covers two roundings (see
# above); the fused losses and several backward formulas round more often, because both backends
# round exactly where PyTorch's CPU kernels round (docs/backends.md; the reference kernels,
# backends/numpy_ref/kernels_*.py, spell out each chain). Each factor is (number of half-ulp
# roundings in the chain) / 2.
F16_EXTRA_FORWARD = {
    # round(round(a - b) ** 2): squaring doubles d's rounding (2) + the final one (1) = 3
    "mse_loss": 1.5,
    # PyTorch's composition round(round(log(round(sum(round(exp(round(x - m)))))) + m): the sum,
    # log and add round again on top of exp's own (1 + 1 + 1 + 1): 4
    "logsumexp": 2.0,
    # losses, in Half arithmetic: BCE round(round(round(y - 1) * l1) - round(y * l0)) on the
    # rounded logs, times the weight: 5; with logits the log_sigmoid, the pos_weight factor,
    # (1 - y) * x and the difference: 5; smooth_l1 round(z), 0.5 * z, * z, / beta: 4
    "binary_cross_entropy": 2.5,
    # (1 - y) * x - ls cancels where the loss is small: measured up to 8.4x the base: 32
    "binary_cross_entropy_with_logits": 16.0,
    "smooth_l1_loss": 2.0,
}
F16_EXTRA_BACKWARD = {
    # BCE: round(round(g * round(x - y)) / max(round(round(1 - x) * x), eps)) and the target's
    # -round(log(round(x / round(1 - x)))) * g, times the weight, / numel; with logits
    # ((pos_weight * y + 1 - y) * sigmoid(x) - pos_weight * y) * g. Six roundings, and x - y,
    # sigmoid(x) - y and the log near x = 1/2 cancel: the error is relative to the cancelled
    # terms, measured up to 22x the base on tests/cases_losses.py: 64
    "binary_cross_entropy": 32.0,
    "binary_cross_entropy_with_logits": 32.0,
    # huber in Half arithmetic: round(x - y), norm * clamped, * g: 3
    "huber_loss": 1.5,
    # grad_b = -round(g * round(round(a / b) / b)), then summed over broadcast dims: 4
    "div": 2.0,
    # round(round(g * s) * -round(rec * rec)), rec = round(1 / a) squared (2): 1 + 2 + 1 + 1 = 5
    "rdiv_scalar": 2.5,
    # round(round(norm * round(a - b)) * g), norm = round(2 / n): 4
    "mse_loss": 2.0,
    # PyTorch's round(g * round(e * round(x ** (e - 1)))): the power (1, and up to 1 more for its
    # own float32 error amplified by e - 1), the product (1), the final one (1): 4
    "pow_scalar": 2.0,
    # PyTorch's round(round(g * round(1 - y)) * y): three roundings on top of y's own, which
    # 1 - y amplifies where y is near 1: 4 and more
    "sigmoid": 2.0,
    # ewise. tan: round(g * round(1 + round(y ** 2))), y's own rounding doubled by y ** 2: 5
    "tan": 2.5,
    # rsqrt: round(round(-0.5 * g) * round(y ** 3)), y's rounding tripled by the cube: 6
    "rsqrt": 3.0,
    # sqrt: round(g / round(2 * y)) on y's rounding: 3; reciprocal: round(-g * round(y * y)): 4
    "sqrt": 1.5,
    "reciprocal": 2.0,
    # pow with a tensor exponent: as pow_scalar, plus e - 1 rounded (amplified by log x): 5
    "pow": 2.5,
    # round(g * round(exp(round(x - r)))) with r the rounded result: r's own error (up to 4
    # half-ulps of |r|) enters exp's argument, so it counts relative to the gradient: 8
    "logsumexp": 4.0,
    # PyTorch's round(round(g * s) * round(x - round(mean))): the rounded mean's error is relative
    # to |x|, not to the (cancelling) difference x - mean; measured up to 5x the base: 8
    "var": 8.0,
    "std_dev": 8.0,
    "var_mean": 8.0,  # var_mean / std_mean: their var and std parts are var's and std's
    # softmax: y * (g - sum(g * y)) and log_softmax: g - exp(y) * sum(g), from the float16 output
    # y (rounded: 1) and g; the difference cancels, which amplifies y's rounding through the
    # sum (measured up to 3.4 on tests/cases_nnloss.py, 4.8 on test_threads' draws): 16
    "softmax": 8.0,
    "log_softmax": 8.0,
}


def tolerance(dtype_name, k=1, op=None, backward=False):
    """(rtol, atol) for results stored as `dtype_name`; a reduction over `k` terms widens both by
    sqrt(k), and the per-op factors above apply."""
    rtol, atol = TOLERANCES[dtype_name]
    widen = math.sqrt(max(k, 1))
    if op in TRANSCENDENTAL and dtype_name == "float32":
        widen *= TRANSCENDENTAL_F32_FACTOR
    if dtype_name == "float16":
        widen *= (F16_EXTRA_BACKWARD if backward else F16_EXTRA_FORWARD).get(op, 1.0)
    return rtol * widen, atol * widen


# gradgradcheck (_gradgradcheck.py): second derivatives from create_graph=True in the inputs'
# dtype against central differences of float64 first-order gradients. dtype -> (rtol, atol),
# atol scaled by max(1, the largest |second derivative| of that input). The float32 and float16
# chains are a first-order backward followed by its formula's backward, every step rounded:
# a few roundings on top of what gradcheck's FLOAT64_REFERENCE table allows for one backward.
GRADGRAD = {
    "float64": (1e-6, 1e-7),
    "float32": (1e-3, 1e-4),
    "float16": (5e-2, 1e-2),
}
GRADGRAD_EPS = 1e-6  # the float64 step: truncation ~1e-12, rounding ~1e-10 relative
