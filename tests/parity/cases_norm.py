"""Parity cases for the vector norms: norm / Tensor.norm / linalg.vector_norm / linalg.norm and
F.normalize, forward and backward, every order (2, 1, inf, -inf, 0, other p), float16, float32
and float64, whole tensors and dims, keepdim, transposed and strided inputs, zeros, inf and NaN,
dtype=, and PyTorch's errors (a case that raises in both libraries counts as matching).

Each case builds its inputs from NumPy, runs through the module T (torch or tapegrad) and
returns the result; the driver compares dtype, shape and bits.
"""

import math

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 20, 23, 31, 33, 40, 100, 1000, 4099)
SHAPES = ((33, 7), (7, 33), (100, 100), (5, 40, 9))
ORDS = (2, 1, math.inf, -math.inf, 0, 3, 0.5, 1.5, -1, 2.5)


def _data(shape, dt, seed, special=""):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    flat = x.reshape(-1)
    n = flat.size
    if special == "zeros":
        flat[rng.choice(n, max(1, n // 3), replace=False)] = 0.0
    elif special == "allzero":
        flat[:] = 0.0
    elif special == "ties":  # several elements share the largest magnitude
        flat[rng.choice(n, min(n, 3), replace=False)] = 4.0
        flat[0] = -4.0
    elif special in ("inf", "nan"):
        flat[rng.integers(n)] = np.inf if special == "inf" else np.nan
    return x.astype(DTYPES[dt])


def _view(x, view):
    if view == "t":
        return x.transpose(0, x.dim() - 1)
    if view == "step":
        return x[..., ::2]
    return x


def _call(T, x, how, p, dim, keepdim):
    if how == "vn":
        return T.linalg.vector_norm(x, p, dim, keepdim)
    if how == "ln":
        return T.linalg.norm(x, p, dim, keepdim)
    if how == "fn":
        return T.norm(x, p, dim, keepdim)
    return x.norm(p, dim, keepdim)


def _forward(shape, dt, p, dim, keepdim, view, seed, how="m", special=""):
    def fn(T):
        x = _view(T.tensor(_data(shape, dt, seed, special)), view)
        return _call(T, x, how, p, dim, keepdim)

    return fn


def _backward(shape, dt, p, dim, keepdim, view, seed, special=""):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed, special), requires_grad=True)
        y = _view(x, view).norm(p, dim, keepdim)
        w = T.tensor(_data(tuple(y.shape), dt, seed + 1))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def _dtype_arg(dt, to, p, dim):
    def fn(T):
        x = T.tensor(_data((7, 33), dt, 3), requires_grad=True)
        y = T.linalg.vector_norm(x, p, dim, dtype=getattr(T, to))
        y.sum().backward()
        return [y, x.grad]

    return fn


def _normalize(shape, dt, p, dim, seed, special=""):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed, special), requires_grad=True)
        y = T.nn.functional.normalize(x, p, dim)
        w = T.tensor(_data(shape, dt, seed + 1))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def _error(make):
    def fn(T):
        return make(T)

    return fn


def _errors():
    x = lambda T: T.tensor(np.ones((3, 4), np.float32))  # noqa: E731
    e = lambda T: T.tensor(np.ones((0, 3), np.float32))  # noqa: E731
    i = lambda T: T.tensor(np.arange(5))  # noqa: E731
    yield "int", lambda T: T.norm(i(T))
    yield "int-vn", lambda T: T.linalg.vector_norm(i(T), 1)
    yield "bool", lambda T: T.tensor(np.array([True])).norm()
    yield "dim-oob", lambda T: T.linalg.vector_norm(x(T), 2, 5)
    yield "dim-repeat", lambda T: T.linalg.vector_norm(x(T), 2, (0, 0))
    yield "narrow", lambda T: T.linalg.vector_norm(x(T).double(), dtype=T.float32)
    yield "dtype-int", lambda T: T.linalg.vector_norm(x(T), dtype=T.int64)
    yield "empty-inf", lambda T: T.linalg.vector_norm(e(T), math.inf)
    yield "empty-neg", lambda T: T.linalg.vector_norm(e(T), -1, 0)
    yield "fro-3dims", lambda T: T.norm(x(T), "fro", (0, 1, 1))
    yield "ln-3d-ord", lambda T: T.linalg.norm(T.tensor(np.ones((2, 3, 4))), 2)
    yield "ln-dims3", lambda T: T.linalg.norm(x(T), None, (0, 1, 0))
    yield "ln-order", lambda T: T.linalg.norm(x(T), 2.5)
    yield "ln-fro-1d", lambda T: T.linalg.norm(x(T)[0], "fro")
    yield "normalize-int", lambda T: T.nn.functional.normalize(i(T).view(1, 5))
    yield "normalize-dim", lambda T: T.nn.functional.normalize(x(T), dim=5)


def _empty(p, dim):
    def fn(T):
        return T.linalg.vector_norm(T.tensor(np.ones((0, 3), np.float32)), p, dim)

    return fn


def cases():
    for dt in DTYPES:
        for n in SIZES:
            yield f"norm/all/{dt}/p=2/n={n}", _forward((n,), dt, 2, None, False, "", n)
            yield f"norm/grad/all/{dt}/p=2/n={n}", _backward((n,), dt, 2, None, False, "", n)
        for p in ORDS:
            for n in (7, 33, 1000):
                yield f"norm/all/{dt}/p={p}/n={n}", _forward((n,), dt, p, None, False, "", n)
                yield (
                    f"norm/grad/all/{dt}/p={p}/n={n}",
                    _backward((n,), dt, p, None, False, "", n),
                )
            for shape in SHAPES:
                s = "x".join(map(str, shape))
                for view in ("", "t", "step"):
                    yield (
                        f"norm/all/{dt}/p={p}/{s}/{view}",
                        _forward(shape, dt, p, None, False, view, 1),
                    )
                    dims = list(range(len(shape))) + [(0, 1), -1]
                    for d in dims:
                        for k in (False, True):
                            yield (
                                f"norm/dim/{dt}/p={p}/{s}/d={d}/keep={k}/{view}",
                                _forward(shape, dt, p, d, k, view, 2),
                            )
                        yield (
                            f"norm/grad/dim/{dt}/p={p}/{s}/d={d}/{view}",
                            _backward(shape, dt, p, d, False, view, 5),
                        )
            for special in ("zeros", "allzero", "ties", "inf", "nan"):
                for d in (None, 1):
                    yield (
                        f"norm/grad/{special}/{dt}/p={p}/d={d}",
                        _backward((7, 33), dt, p, d, False, "", 9, special),
                    )
            yield f"norm/grad/0d/{dt}/p={p}", _backward((), dt, p, None, False, "", 1)
            yield f"norm/grad/size1/{dt}/p={p}", _backward((5, 1), dt, p, 1, True, "", 1)
        for how in ("vn", "ln", "fn", "m"):
            for d in (None, 1, (0, 1)):
                yield (
                    f"norm/api/{how}/{dt}/d={d}",
                    _forward((33, 7), dt, None if how == "ln" else 2, d, False, "", 4, how),
                )
        yield f"norm/api/fro/{dt}", _forward((33, 7), dt, "fro", None, False, "", 4, "fn")
        yield f"norm/api/ln-fro/{dt}", _forward((33, 7), dt, "fro", None, False, "", 4, "ln")
        yield f"norm/api/ln-1d-inf/{dt}", _forward((33,), dt, math.inf, None, False, "", 4, "ln")
        for p in (2, 1, math.inf, 3):
            for d in (1, 0, -1):
                yield f"normalize/{dt}/p={p}/d={d}", _normalize((7, 33), dt, p, d, 6)
            yield f"normalize/zeros/{dt}/p={p}", _normalize((7, 33), dt, p, 1, 6, "allzero")
    for dt, to in (("f32", "float64"), ("f16", "float32"), ("f16", "float64")):
        for p in (2, 1, 3):
            for dim in (None, 1):
                yield f"norm/dtype/{dt}->{to}/p={p}/d={dim}", _dtype_arg(dt, to, p, dim)
    for p in (2, 0, 3, -1, math.inf):
        for dim in (None, 0, 1):
            yield f"norm/empty/p={p}/d={dim}", _empty(p, dim)
    for name, make in _errors():
        yield f"norm/error/{name}", _error(make)
