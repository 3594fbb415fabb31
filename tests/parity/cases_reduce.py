"""Parity cases for sum and mean: PyTorch's reduction order, bit for bit.

Each case builds its inputs from NumPy, runs through the module T (torch or tapegrad) and
returns the result; the driver compares dtype, shape and bits.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((33, 7), (7, 33), (100, 100), (5, 40, 9), (3, 17, 20))


def _data(shape, dt, seed):
    rng = np.random.default_rng(seed)
    # Mixed magnitudes make the rounding depend on the order.
    x = rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, shape))
    return x.astype(DTYPES[dt])


def _reduce(op, shape, dt, dims, keepdim, view, seed):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed))
        if view == "t":
            x = x.transpose(0, len(shape) - 1)
        elif view == "step":
            x = x[..., ::2]
        f = getattr(x, op)
        return f() if dims is None else f(dims, keepdim=keepdim)

    return fn


def _broadcast_grad(kind, xshape, bshape, dt, seed):
    def fn(T):
        x = T.tensor(_data(xshape, dt, seed), requires_grad=True)
        b = T.tensor(_data(bshape, dt, seed + 1), requires_grad=True)
        y = x + b if kind == "add" else x * b
        w = T.tensor(_data(xshape, dt, seed + 2))
        (y * w).sum().backward()
        return [x.grad, b.grad]

    return fn


def _expanded_grad(xshape, bshape, dt, seed, dims):
    """sum's gradient is a view repeating its input (stride 0): the broadcast reduction of the
    add below sums that view, in its own order."""

    def fn(T):
        x = T.tensor(_data(xshape, dt, seed), requires_grad=True)
        b = T.tensor(_data(bshape, dt, seed + 1), requires_grad=True)
        y = (x + b).sum(dims) if dims is not None else (x + b).sum()
        w = T.tensor(_data(tuple(y.shape), dt, seed + 2))
        (y * w).sum().backward()
        return [x.grad, b.grad]

    return fn


def _loss(name, reduction, n, dt, seed):
    def fn(T):
        a = T.tensor(_data((n,), dt, seed))
        b = T.tensor(_data((n,), dt, seed + 1))
        return getattr(T.nn.functional, name)(a, b, reduction=reduction)

    return fn


def cases():
    seed = 0
    for dt in DTYPES:
        for n in SIZES:
            for op in ("sum", "mean"):
                seed += 1
                yield f"reduce/{op}/{dt}/n={n}", _reduce(op, (n,), dt, None, False, None, seed)
        for shape in SHAPES:
            s = "x".join(map(str, shape))
            nd = len(shape)
            dimsets = [None] + [(d,) for d in range(nd)]
            if nd == 3:
                dimsets += [(0, 2), (1, 2), (0, 1)]
            for op in ("sum", "mean"):
                for dims in dimsets:
                    for keepdim in (False, True) if dims else (False,):
                        for view in (None, "t", "step"):
                            seed += 1
                            d = "all" if dims is None else ",".join(map(str, dims))
                            name = f"reduce/{op}/{dt}/{s}/dim={d}/keepdim={int(keepdim)}"
                            name += f"/{view or 'contig'}"
                            yield name, _reduce(op, shape, dt, dims, keepdim, view, seed)
        for kind in ("add", "mul"):
            for xs, bs in (
                ((33, 7), (1, 7)),
                ((33, 7), (7,)),
                ((100, 40), (40,)),
                ((7, 33), (7, 1)),
            ):
                for_b = "x".join(map(str, bs))
                seed += 1
                name = f"reduce/grad_{kind}/{dt}/{'x'.join(map(str, xs))}+{for_b}"
                yield name, _broadcast_grad(kind, xs, bs, dt, seed)
        for xs, bs, dims in (((33, 7), (7,), 0), ((33, 7), (1, 7), None), ((7, 33), (7, 1), 1)):
            seed += 1
            d = "all" if dims is None else dims
            name = f"reduce/grad_expanded/{dt}/{'x'.join(map(str, xs))}+{'x'.join(map(str, bs))}"
            yield f"{name}/sum_dim={d}", _expanded_grad(xs, bs, dt, seed, dims)
        for name in ("mse_loss", "l1_loss"):
            for red in ("mean", "sum"):
                for n in (7, 100, 4099):
                    seed += 1
                    yield f"reduce/{name}/{red}/{dt}/n={n}", _loss(name, red, n, dt, seed)
