"""Random numbers that match PyTorch's CPU generator bit for bit (see docs/random.md).

One engine type, two implementations with identical output: the C++ `tapegrad._core.CPUGenerator`
(csrc/kernels/rng.cpp) when the extension is present, else `_NumpyEngine` (_random_engine.py:
NumPy's MT19937 with PyTorch's seeding and transformations, vectorized). Both backends draw from
the same default generator, so `manual_seed(s)` fixes the numbers whichever backend builds the
tensors.

An engine fills float32 / float64 / int64 NumPy arrays; this module turns them into tensors and
applies the float16 rules PyTorch follows (uniform values rounded, a value that rounds up to `to`
replaced by `from`; normal values computed in float32 blocks, then rounded).
"""

import os

import numpy as np

from ._device import check as _check_device
from ._dtype import float16, float32, float64, int64, to_dtype
from ._random_engine import _U64, DEFAULT_SEED, _NumpyEngine

# Also names of this module (the tests read them here).
from ._random_engine import STATE_BYTES as STATE_BYTES
from ._random_engine import _normal_fill16 as _normal_fill16

_default = None  # the default generator, made on first use


# ---------------------------------------------------------------- engines


def _core_engine_type():
    try:
        from . import _core
    except ImportError:
        return None
    return getattr(_core, "CPUGenerator", None)


def _nondeterministic_seed():
    return int.from_bytes(os.urandom(8), "little")


def _new_engine(impl=None):
    """impl: None (C++ when available), "cpp" or "numpy"."""
    if impl not in (None, "cpp", "numpy"):
        raise ValueError(f"unknown generator implementation {impl!r}")
    if impl != "numpy":
        cls = _core_engine_type()
        if cls is not None:
            return cls(DEFAULT_SEED)
        if impl == "cpp":
            raise ImportError("tapegrad._core with CPUGenerator is not available")
    return _NumpyEngine(DEFAULT_SEED)


# ---------------------------------------------------------------- Generator


def _seed_arg(seed):
    seed = int(seed)
    if not -(1 << 63) <= seed <= _U64:
        raise ValueError("Overflow when unpacking long long")
    return seed & _U64


def _state_array(state):
    if isinstance(state, (bytes, bytearray, memoryview)):
        return np.frombuffer(bytes(state), np.uint8)
    if hasattr(state, "numpy") and not isinstance(state, np.ndarray):
        state = state.numpy()  # a torch.ByteTensor from torch.get_rng_state()
    arr = np.asarray(state)
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise TypeError(
            f"expected a 1-D uint8 array for the generator state, got {arr.dtype} of shape "
            f"{arr.shape}"
        )
    return np.ascontiguousarray(arr)


class Generator:
    """PyTorch's CPU generator: mt19937 with PyTorch's seeding and sampling algorithms.

    `Generator()` starts from PyTorch's default seed 67280421310721; `get_state()` returns a
    NumPy uint8 array in PyTorch's own layout (5056 bytes), so `set_state` also accepts
    `torch.get_rng_state()`.
    """

    def __init__(self, device="cpu", *, _impl=None):
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tapegrad runs on the CPU only; got device={device!r}")
        self._e = _new_engine(_impl)

    @property
    def device(self):
        """The generator's device: always the CPU."""
        from ._device import CPU

        return CPU

    def manual_seed(self, seed):
        """Seed the generator with an int and return it; a seed gives the numbers PyTorch draws from
        it."""
        # torch.manual_seed takes int(seed); Generator.manual_seed takes only an int
        if isinstance(seed, np.integer):
            raise TypeError("an integer is required")
        if isinstance(seed, bool) or not isinstance(seed, int):
            kind = type(seed)
            name = (
                kind.__name__
                if kind.__module__ == "builtins"
                else f"{kind.__module__}.{kind.__name__}"
            )
            raise RuntimeError(f"manual_seed expected a long, but got {name}")
        self._e.manual_seed(_seed_arg(seed))
        return self

    def seed(self):
        """Seed the generator from a non-deterministic source and return that 64-bit seed."""
        s = _nondeterministic_seed()
        self._e.manual_seed(s)
        return s

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._e.initial_seed()

    def get_state(self):
        """The generator's state: 5056 bytes in PyTorch's layout, as a 1-D NumPy uint8 array
        (PyTorch returns a uint8 tensor)."""
        return np.array(self._e.get_state(), dtype=np.uint8)

    def set_state(self, new_state):
        """Restore a state from `get_state()`: a 1-D uint8 array, bytes, or a uint8 tensor such as
        PyTorch's `torch.get_rng_state()`. Returns self."""
        try:
            self._e.set_state(_state_array(new_state))
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        return self

    def __repr__(self):
        return f"<tapegrad.Generator object at {id(self):#x}>"


def default_generator():
    """The process-wide generator behind manual_seed, rand, randn and layer init."""
    global _default
    if _default is None:
        g = Generator()
        g._e.manual_seed(_nondeterministic_seed())  # unseeded runs differ, as in PyTorch
        _default = g
    return _default


def _gen(generator):
    if generator is None:
        return default_generator()
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tapegrad.Generator, not {type(generator).__name__}")
    return generator


def manual_seed(seed):
    """Seed the default generator (all 64 bits are kept; mt19937 uses the low 32)."""
    s = _seed_arg(seed)
    g = default_generator()
    g._e.manual_seed(s)
    return g


def seed():
    """Seed the default generator with a non-deterministic 64-bit number and return it."""
    return default_generator().seed()


def initial_seed():
    """The seed the default generator was last seeded with."""
    return default_generator().initial_seed()


def get_rng_state():
    """The default generator's state, 5056 bytes in PyTorch's layout, as a NumPy uint8 array
    (PyTorch returns a uint8 tensor); `set_rng_state` takes either."""
    return default_generator().get_state()


def set_rng_state(new_state):
    """Restore the default generator's state from `get_rng_state()` (PyTorch's uint8 tensor state is
    accepted too)."""
    default_generator().set_state(new_state)


# ---------------------------------------------------------------- sampling


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


def _check_nbytes(shape, dt):
    from .tensor import _check_nbytes

    _check_nbytes(shape, dt)


def _uniform_array(g, shape, from_, to, dt):
    """uniform_(from, to) values for a tensor of dtype dt, as a NumPy array of that dtype."""
    from_, to = float(from_), float(to)
    if not from_ <= to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_num(from_)} > "
            f"to={_num(to)}"
        )
    if dt is not float64 and to - from_ > float(np.finfo(np.float32).max):
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<float>::max(), but found "
            f"to={_num(to)} and from={_num(from_)} which result in to-from to exceed the limit"
        )
    arr = np.empty(shape, np.float64 if dt is float64 else np.float32)
    g._e.uniform_(arr, from_, to)
    if dt is float16:
        h = arr.astype(np.float16)
        h[h == np.float16(to)] = np.float16(from_)  # PyTorch keeps float16 results below `to`
        return h
    return arr


def _normal_array(g, shape, mean, std, dt):
    mean, std = float(mean), float(std)
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    if dt is float64:
        arr = np.empty(shape, np.float64)
        g._e.normal_(arr, mean, std)
        return arr
    arr = np.empty(shape, np.float32)
    g._e.normal_(arr, mean, std, dt is float16)
    return arr.astype(np.float16) if dt is float16 else arr


def _num(v):
    return int(v) if float(v).is_integer() else v


def uniform_array(shape, low, high, dtype=float32, generator=None):
    """PyTorch's uniform_(low, high) values as a NumPy array (float32 or float16): layer init."""
    return _uniform_array(_gen(generator), tuple(shape), low, high, to_dtype(dtype))


def normal_array(shape, mean=0.0, std=1.0, dtype=float32, generator=None):
    """A NumPy array of normal draws (PyTorch's `normal_` numbers for the same seed) from the
    default generator or `generator`; for filling weights before a tensor exists."""
    return _normal_array(_gen(generator), tuple(shape), mean, std, to_dtype(dtype))


def _float_dtype(dtype):
    from ._dtype import get_default_dtype

    dt = get_default_dtype() if dtype is None else to_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(f"rand/randn: expected a floating point dtype, got {dt.name}")
    return dt


def _make(arr, dt, requires_grad):
    from .tensor import tensor

    return tensor(arr, dtype=dt, requires_grad=requires_grad)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Uniform draws on [0, 1) of the given shape, in the default float dtype (or `dtype`, a
    floating one): PyTorch's numbers for the same seed."""
    _check_device(device)
    _refuse_in_capture("rand()")
    dt = _float_dtype(dtype)
    shape = _shape(size)
    _check_nbytes(shape, dt)
    return _make(_uniform_array(_gen(generator), shape, 0.0, 1.0, dt), dt, requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None):
    """Standard normal draws of the given shape, in the default float dtype (or `dtype`, a floating
    one): PyTorch's numbers for the same seed."""
    _check_device(device)
    _refuse_in_capture("randn()")
    dt = _float_dtype(dtype)
    shape = _shape(size)
    _check_nbytes(shape, dt)
    return _make(_normal_array(_gen(generator), shape, 0.0, 1.0, dt), dt, requires_grad)


def _int_arg(v, name):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    v = int(v)
    if not -(1 << 63) <= v < (1 << 63):
        raise RuntimeError(f"randint(): {name}={v} is out of the int64 range")
    return v


def randint(*args, size=None, generator=None, dtype=None, requires_grad=False, device=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high).

    tapegrad stores float32 and float16 only, so the values come back as float32 by default
    (exact below 2**24); PyTorch's default would be int64.
    """
    _check_device(device)
    _refuse_in_capture("randint()")
    args = list(args)
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        size = args.pop()
    if len(args) == 1:
        low, high = 0, args[0]
    elif len(args) == 2:
        low, high = args
    else:
        raise TypeError("randint() takes (high, size) or (low, high, size)")
    low, high = _int_arg(low, "low"), _int_arg(high, "high")
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    dt = int64 if dtype is None else to_dtype(dtype)
    shape = _shape((size,) if isinstance(size, (int, np.integer)) else tuple(size))
    _check_nbytes(shape, dt)
    out = np.empty(shape, np.int64)
    _gen(generator)._e.randint_(out, low, high)
    return _make(out, dt, requires_grad)


def randperm(n, generator=None, dtype=None, requires_grad=False, device=None):
    """A random permutation of 0..n-1 (PyTorch's algorithm; int64 values)."""
    _check_device(device)
    _refuse_in_capture("randperm()")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"randperm(): argument 'n' must be int, not {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    if n >= (1 << 32) // 20:
        raise RuntimeError(f"randperm: n={n} is larger than tapegrad supports (PyTorch switches "
                           "algorithm there)")  # fmt: skip
    dt = int64 if dtype is None else to_dtype(dtype)
    _check_nbytes((n,), dt)
    out = np.empty(n, np.int64)
    _gen(generator)._e.randperm_(out)
    return _make(out, dt, requires_grad)


def dropout_noise(shape, p, dt, generator=None):
    """PyTorch's dropout noise for 0 < p < 1: bernoulli_(1 - p), one 53-bit uniform per element
    (kept where u < 1 - p), then div_(1 - p) in the dtype's arithmetic (float for float16)."""
    _refuse_in_capture("dropout()")
    q = 1.0 - float(p)
    u = np.empty(shape, np.float64)
    _gen(generator)._e.uniform_(u, 0.0, 1.0)
    scale = 1.0 / q if dt is float64 else np.float32(1) / np.float32(q)
    return np.where(u < q, scale, 0.0).astype(dt.np)


def fill_uniform_(t, from_=0.0, to=1.0, generator=None):
    """Tensor.uniform_: PyTorch's values, written in place without recording on the tape."""
    _refuse_in_capture("uniform_()")
    arr = _uniform_array(_gen(generator), tuple(t.shape), from_, to, t.dtype)
    return _write(t, arr)


def fill_normal_(t, mean=0.0, std=1.0, generator=None):
    _refuse_in_capture("normal_()")
    arr = _normal_array(_gen(generator), tuple(t.shape), mean, std, t.dtype)
    return _write(t, arr)


def _write(t, arr):
    from ._grad_mode import no_grad
    from .tensor import tensor

    with no_grad():
        t.copy_(tensor(arr, dtype=t.dtype, backend=t._be))
    return t
