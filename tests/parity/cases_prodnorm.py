"""Parity cases for prod (all elements and along a dim, keepdim, dtype=, integers and bool):
PyTorch's reduction order and its prod_backward (with and without zeros), bit for bit.

Each case builds its inputs from NumPy, runs through the module T (torch or tapegrad) and
returns the result; the driver compares dtype, shape and bits.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((33, 7), (7, 33), (100, 100), (5, 40, 9), (3, 17, 70))


def _data(shape, dt, seed, zeros=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    # Magnitudes near 1 keep long products finite; random signs and spread make the rounding
    # depend on the order.
    spread = 0.4 if n <= 200 else 0.05
    x = rng.choice([-1.0, 1.0], shape) * np.exp(rng.uniform(-spread, spread, shape))
    flat = x.reshape(-1)
    for i in rng.choice(n, zeros, replace=False) if zeros else ():
        flat[i] = 0.0
    return x.astype(DTYPES[dt])


def _view(x, view):
    if view == "t":
        return x.transpose(0, x.dim() - 1)
    if view == "step":
        return x[..., ::2]
    return x


def _forward(shape, dt, dim, keepdim, view, seed):
    def fn(T):
        x = _view(T.tensor(_data(shape, dt, seed)), view)
        return x.prod() if dim is None else x.prod(dim, keepdim=keepdim)

    return fn


def _backward(shape, dt, dim, zeros, view, seed):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed, zeros), requires_grad=True)
        y = _view(x, view)
        y = y.prod() if dim is None else T.prod(y, dim)
        w = T.tensor(_data(tuple(y.shape), dt, seed + 1))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def _integers(kind, n, dim):
    def fn(T):
        rng = np.random.default_rng(n)
        if kind == "bool":
            a = rng.uniform(size=(3, n)) < 0.9
        else:
            a = rng.integers(-5, 6, (3, n)).astype(kind)
        x = T.tensor(a)
        return x.prod() if dim is None else x.prod(dim)

    return fn


def _dtype_arg(dt, to, dim):
    def fn(T):
        x = T.tensor(_data((7, 33), dt, 3), requires_grad=True)
        y = x.prod(dtype=getattr(T, to)) if dim is None else x.prod(dim, dtype=getattr(T, to))
        y.sum().backward()
        return [y, x.grad]

    return fn


def cases():
    for dt in DTYPES:
        for n in SIZES:
            yield f"prod/all/{dt}/n={n}", _forward((n,), dt, None, False, "", n)
            yield f"prod/grad/all/{dt}/n={n}", _backward((n,), dt, None, 0, "", n)
        for shape in SHAPES:
            s = "x".join(map(str, shape))
            for view in ("", "t", "step"):
                yield f"prod/all/{dt}/{s}/{view}", _forward(shape, dt, None, False, view, 1)
                for d in range(len(shape)):
                    for k in (False, True):
                        name = f"prod/dim/{dt}/{s}/d={d}/keep={k}/{view}"
                        yield name, _forward(shape, dt, d, k, view, 2 + d)
                    yield (
                        f"prod/grad/dim/{dt}/{s}/d={d}/{view}",
                        _backward(shape, dt, d, 0, view, 5),
                    )
            for z in (1, 2, 5):
                yield f"prod/grad/all/{dt}/{s}/zeros={z}", _backward(shape, dt, None, z, "", z)
                for d in range(len(shape)):
                    yield (
                        f"prod/grad/dim/{dt}/{s}/d={d}/zeros={z}",
                        _backward(shape, dt, d, z, "", z),
                    )
        for z in (1, 2):
            yield f"prod/grad/all/{dt}/n=33/zeros={z}", _backward((33,), dt, None, z, "", 7)
        yield f"prod/grad/0d/{dt}", _backward((), dt, None, 0, "", 1)
        yield f"prod/grad/0d-dim/{dt}", _backward((), dt, 0, 0, "", 1)
    for kind in ("int64", "int32", "int16", "int8", "uint8", "bool"):
        for n in (7, 33, 100):
            yield f"prod/int/{kind}/n={n}/all", _integers(kind, n, None)
            yield f"prod/int/{kind}/n={n}/dim=1", _integers(kind, n, 1)
    for dt, to in (("f32", "float64"), ("f16", "float32"), ("f64", "float32")):
        for dim in (None, 1):
            yield f"prod/dtype/{dt}->{to}/dim={dim}", _dtype_arg(dt, to, dim)


def rng_fingerprint():
    """The draws these cases make, so that a NumPy with another generator skips the replay."""
    import hashlib

    g = np.random.default_rng(12345)
    x = np.concatenate(
        [g.uniform(-3, 3, 64), g.choice([-1.0, 1.0], 64), g.integers(-5, 6, 64).astype(float)]
    )
    return hashlib.sha256(x.tobytes()).hexdigest()
