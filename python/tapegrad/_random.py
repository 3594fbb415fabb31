"""Random tensors. One process-wide generator shared by both backends.

The streams are NumPy's (MT19937 + its normal/uniform algorithms), not yet PyTorch's bit-for-bit.
"""

import numpy as np

from ._dtype import float32, to_dtype

_default_seed = 67280421310721
_rng = None  # made on first use: seeding MT19937 costs ~10 ms, too much for import
_initial = _default_seed


def manual_seed(seed):
    global _rng, _initial
    seed = int(seed)
    _initial = seed
    _rng = np.random.Generator(np.random.MT19937(seed & 0xFFFFFFFFFFFFFFFF))
    return _rng


def seed():
    s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
    manual_seed(s)
    return s


def initial_seed():
    return _initial


def generator():
    global _rng
    if _rng is None:
        manual_seed(_initial)
    return _rng


def _refuse_in_capture(what):
    try:
        from ._core import capturing
    except ImportError:
        return
    if capturing():
        raise RuntimeError(
            f"tapegrad.compile: cannot capture {what}: a replayed step would reuse the same "
            "numbers every time. Draw them outside the compiled function and pass them in."
        )


def _shape(size):
    from .tensor import _shape_arg

    return _shape_arg(size)


def rand(*size, dtype=None, requires_grad=False, device=None):
    from .tensor import tensor

    _refuse_in_capture("rand()")
    dt = float32 if dtype is None else to_dtype(dtype)
    arr = generator().random(_shape(size), dtype=np.float32)
    return tensor(arr, dtype=dt, requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False, device=None):
    from .tensor import tensor

    _refuse_in_capture("randn()")
    dt = float32 if dtype is None else to_dtype(dtype)
    arr = generator().standard_normal(_shape(size), dtype=np.float32)
    return tensor(arr, dtype=dt, requires_grad=requires_grad)


def uniform_array(shape, low, high):
    """float32 samples in [low, high): used by layer init."""
    u = generator().random(shape, dtype=np.float32)
    return (u * np.float32(high - low) + np.float32(low)).astype(np.float32)
