"""Parity cases for the reductions (sum, mean, max/min, amax/amin, argmax/argmin, cumsum,
logsumexp, var/std):
PyTorch's reduction order, bit for bit.

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
    yield from select_cases()
    yield from lse_cases()
    yield from varstd_cases()
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


# ---- the selecting reductions (max/min, amax/amin, argmax/argmin) and cumsum

SEL_SHAPES = ((33, 7), (7, 33), (5, 40, 9))
INT_DTYPES = {"i64": np.int64, "i32": np.int32, "i16": np.int16, "u8": np.uint8, "bool": np.bool_}


def _tied(shape, dt, seed, nan=False):
    """Few distinct values, so that ties (and their gradient split) are common; with nan some
    NaNs. No -0.0: which zero a tie of +0.0 and -0.0 gives is left out (docs/api.md);
    cumsum's leading -0.0 is covered by the signed-zero cases."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, shape).astype(np.float64) * 0.75
    if nan:
        x[rng.random(shape) < 0.05] = np.nan
    return x.astype(DTYPES[dt])


def _ints(shape, dt, seed):
    rng = np.random.default_rng(seed)
    if dt == "bool":
        return rng.random(shape) < 0.5
    lo = 0 if dt == "u8" else -50
    return rng.integers(lo, 60, shape).astype(INT_DTYPES[dt])


def _select(call, shape, dt, seed, nan=False, view=None, grad=True):
    """call(x) -> a tensor or (values, indices); returns them and, for floats, x.grad of
    sum(y * w) with w of mixed signs (so that amax's -0.0 shows)."""

    def fn(T):
        floating = dt in DTYPES
        arr = _tied(shape, dt, seed, nan) if floating else _ints(shape, dt, seed)
        x = T.tensor(arr, requires_grad=floating and grad)
        v = x.transpose(0, len(shape) - 1) if view == "t" else x
        y = call(v)
        outs = list(y) if isinstance(y, tuple) else [y]
        if floating and grad:
            w = T.tensor(_data(tuple(outs[0].shape), dt, seed + 1))
            (outs[0] * w).sum().backward()
            outs.append(x.grad)
        return outs

    return fn


def _select_calls(nd):
    yield "max()", lambda x: x.max()
    yield "min()", lambda x: x.min()
    yield "amax()", lambda x: x.amax()
    yield "amin()", lambda x: x.amin()
    yield "argmax()", lambda x: x.argmax()
    yield "argmin()", lambda x: x.argmin()
    for d in range(-1, nd):
        yield f"max({d})", lambda x, d=d: x.max(d)
        yield f"min({d},keepdim)", lambda x, d=d: x.min(d, keepdim=True)
        yield f"amax({d})", lambda x, d=d: x.amax(d)
        yield f"amin({d},keepdim)", lambda x, d=d: x.amin(dim=d, keepdim=True)
        yield f"argmax({d})", lambda x, d=d: x.argmax(d)
        yield f"argmin({d},keepdim)", lambda x, d=d: x.argmin(d, keepdim=True)
        yield f"cumsum({d})", lambda x, d=d: x.cumsum(d)
    if nd == 3:
        yield "amax((0,2))", lambda x: x.amax((0, 2))
        yield "amin((1,2),keepdim)", lambda x: x.amin((1, 2), True)


def _cumsum_data(n, dt, seed, dtype):
    def fn(T):
        x = T.tensor(_data((n,), dt, seed), requires_grad=True)
        y = x.cumsum(0) if dtype is None else x.cumsum(0, dtype=getattr(T, dtype))
        w = T.tensor(_data((n,), "f64" if dtype == "float64" else dt, seed + 1))
        if dtype is not None:
            w = w.to(getattr(T, dtype))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def _aliases(T):
    x = T.tensor(_data((7, 5), "f32", 3))
    return [
        x.sum(axis=0),
        x.sum(axis=1, keepdims=True),
        T.mean(x, axis=0, keepdims=True),
        x.max(axis=1, keepdims=True).values,
        T.amax(x, axis=(0, 1)),
        T.argmax(x, axis=1),
        x.cumsum(axis=1),
        x.sum(0, True, dtype=T.float64),
    ]


def select_cases():
    seed = 10_000
    for dt in DTYPES:
        for n in SIZES:
            for name, call in (
                ("max()", lambda x: x.max()),
                ("amax()", lambda x: x.amax()),
                ("min(0)", lambda x: x.min(0)),
                ("argmax()", lambda x: x.argmax()),
                ("cumsum(0)", lambda x: x.cumsum(0)),
            ):
                seed += 1
                yield f"reduce/select/{name}/{dt}/n={n}", _select(call, (n,), dt, seed)
        for shape in SEL_SHAPES:
            s = "x".join(map(str, shape))
            for name, call in _select_calls(len(shape)):
                for view in (None, "t"):
                    seed += 1
                    v = view or "contig"
                    yield (
                        f"reduce/select/{name}/{dt}/{s}/{v}",
                        _select(call, shape, dt, seed, view=view),
                    )
            for name in ("max()", "amax()", "max(1)", "amax(1)", "argmin(0,keepdim)"):
                call = dict(_select_calls(len(shape)))[name]
                seed += 1
                yield f"reduce/select/{name}/{dt}/{s}/nan", _select(call, shape, dt, seed, True)
        for n in (7, 100, 4099):
            for dtype in (None, "float32", "float64"):
                seed += 1
                yield f"reduce/cumsum/{dt}/n={n}/dtype={dtype}", _cumsum_data(n, dt, seed, dtype)
    for dt in INT_DTYPES:
        for shape in ((33, 7), (5, 40, 9)):
            s = "x".join(map(str, shape))
            for name, call in _select_calls(len(shape)):
                if dt == "bool" and name.startswith("arg"):
                    continue
                seed += 1
                yield f"reduce/select/{name}/{dt}/{s}", _select(call, shape, dt, seed)
    yield "reduce/aliases", _aliases
    for dt in DTYPES:
        for vals in ([0.0, -0.0], [-0.0, 0.0], [-0.0, -0.0, 1.0], [-0.0] * 33):
            seed += 1
            arr = np.array(vals, DTYPES[dt])
            name = f"reduce/signed_zero/{dt}/{vals[:3]}/n={len(vals)}"
            yield name, _zeros(arr)


def _zeros(arr):
    def fn(T):
        x = T.tensor(arr)
        if len(arr) == 2:
            return [x.max(), x.min(), x.amax(), x.amin(), x.max(0).values, x.cumsum(0)]
        return [x.cumsum(0), x.argmax(), x.max(0).indices]

    return fn


def _lse(shape, dt, dims, keepdim, seed, view=None, inf=False):
    def fn(T):
        arr = _data(shape, dt, seed)
        if inf:
            arr.reshape(-1)[::5] = np.inf
            arr.reshape(-1)[1::7] = -np.inf
        x = T.tensor(arr, requires_grad=True)
        v = x.transpose(0, len(shape) - 1) if view == "t" else x
        y = v.logsumexp(dims, keepdim=keepdim)
        w = T.tensor(_data(tuple(y.shape), dt, seed + 1))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def lse_cases():
    seed = 20_000
    for dt in DTYPES:
        for n in SIZES:
            seed += 1
            yield f"reduce/logsumexp/{dt}/n={n}", _lse((n,), dt, 0, False, seed)
        for shape in SHAPES:
            s = "x".join(map(str, shape))
            dimsets = [(d,) for d in range(len(shape))] + [tuple(range(len(shape)))]
            for dims in dimsets:
                for keepdim in (False, True):
                    for view in (None, "t"):
                        seed += 1
                        d = ",".join(map(str, dims))
                        name = f"reduce/logsumexp/{dt}/{s}/dim={d}/keepdim={int(keepdim)}"
                        yield (
                            f"{name}/{view or 'contig'}",
                            _lse(shape, dt, dims, keepdim, seed, view),
                        )
        seed += 1
        yield f"reduce/logsumexp/{dt}/33x7/inf", _lse((33, 7), dt, 1, False, seed, inf=True)


def _varstd(op, shape, dt, dims, kw, seed, view=None):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed) + 2.0, requires_grad=True)
        v = x.transpose(0, len(shape) - 1) if view == "t" else x
        if view == "step":
            v = x[..., ::2]
        y = getattr(v, op)(**kw) if dims is None else getattr(v, op)(dims, **kw)
        w = T.tensor(_data(tuple(y.shape), dt, seed + 1))
        (y * w).sum().backward()
        return [y, x.grad]

    return fn


def varstd_cases():
    seed = 30_000
    kws = ({}, {"unbiased": False}, {"correction": 2}, {"keepdim": True})
    for dt in DTYPES:
        for op in ("var", "std"):
            for n in SIZES[1:]:
                for kw in kws[:2]:
                    seed += 1
                    k = ",".join(f"{a}={b}" for a, b in kw.items()) or "default"
                    yield f"reduce/{op}/{dt}/n={n}/{k}", _varstd(op, (n,), dt, None, kw, seed)
            for shape in SHAPES:
                s = "x".join(map(str, shape))
                dimsets = [None] + [d for d in range(len(shape))]
                if len(shape) == 3:
                    dimsets.append((0, 2))
                for dims in dimsets:
                    for kw in kws:
                        for view in (None, "t", "step"):
                            seed += 1
                            k = ",".join(f"{a}={b}" for a, b in kw.items()) or "default"
                            d = "all" if dims is None else dims
                            name = f"reduce/{op}/{dt}/{s}/dim={d}/{k}/{view or 'contig'}"
                            yield name, _varstd(op, shape, dt, dims, kw, seed, view)
