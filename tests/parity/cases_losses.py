"""Parity cases for the losses slice: binary_cross_entropy (values near 0 and 1, the -100
clamp, weights), binary_cross_entropy_with_logits (weight, pos_weight broadcast over rows or
columns, large logits), smooth_l1_loss and huber_loss (several beta/delta, broadcasting), every
reduction, forward and the input's and target's gradients, bit for bit.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((3, 7), (33, 16), (4, 33, 5))
REDUCTIONS = ("mean", "sum", "none")


def _shapes():
    return [(n,) for n in SIZES] + list(SHAPES)


def _tag(shape):
    return "x".join(str(s) for s in shape)


def _probs(shape, dt, seed, edges=False):
    """Values in [0, 1]; with edges, exact 0s and 1s and values a few ulp from them."""
    rng = np.random.default_rng(seed)
    p = rng.random(shape)
    if edges:
        flat = p.reshape(-1)
        eps = float(np.finfo(DTYPES[dt]).eps)
        special = np.array([0.0, 1.0, eps, 1 - eps, 1e-30, 1e-8, 1 - 1e-4, 0.5, 1e-45])
        flat[: min(flat.size, special.size)] = special[: flat.size]
    return p.astype(DTYPES[dt])


def _normal(shape, dt, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(DTYPES[dt])


def _run_loss(T, call, x, y, reduction, target_grad):
    xt = T.tensor(x, requires_grad=True)
    yt = T.tensor(y, requires_grad=target_grad)
    loss = call(T, xt, yt)
    if reduction == "none":
        loss.backward(T.tensor(_normal(tuple(loss.shape), _dt(x), 99, 1.0)))
    else:
        loss.backward(T.ones_like(loss))
    out = [loss, xt.grad]
    if target_grad:
        out.append(yt.grad)
    return out


def _dt(x):
    return {np.float32: "f32", np.float16: "f16", np.float64: "f64"}[x.dtype.type]


def _bce(shape, dt, seed, reduction, weight, edges, target_grad):
    def fn(T):
        x = _probs(shape, dt, seed, edges)
        y = _probs(shape, dt, seed + 1, edges)
        if edges:
            y = np.where(np.arange(y.size).reshape(shape) % 2 == 0, 1.0, y).astype(x.dtype)

        def call(T, xt, yt):
            kw = {"reduction": reduction}
            if weight:
                kw["weight"] = T.tensor(np.linspace(0.5, 2.0, shape[-1]).astype(x.dtype))
            return T.nn.functional.binary_cross_entropy(xt, yt, **kw)

        return _run_loss(T, call, x, y, reduction, target_grad)

    return fn


def _bce_logits(shape, dt, seed, reduction, weight, pos_weight, target_grad):
    def fn(T):
        x = _normal(shape, dt, seed, 4.0)
        x.reshape(-1)[:3] = np.array([40.0, -40.0, 0.0])[: x.size][:3]
        y = _probs(shape, dt, seed + 1)

        def call(T, xt, yt):
            kw = {"reduction": reduction}
            if weight:
                kw["weight"] = T.tensor(np.linspace(0.5, 2.0, shape[-1]).astype(x.dtype))
            if pos_weight == "cols":
                kw["pos_weight"] = T.tensor(np.linspace(0.25, 3.0, shape[-1]).astype(x.dtype))
            elif pos_weight == "rows" and len(shape) > 1:
                pw = np.linspace(0.25, 3.0, shape[-2]).astype(x.dtype).reshape(-1, 1)
                kw["pos_weight"] = T.tensor(pw)
            return T.nn.functional.binary_cross_entropy_with_logits(xt, yt, **kw)

        return _run_loss(T, call, x, y, reduction, target_grad)

    return fn


def _pointwise(name, shape, dt, seed, reduction, param, target_shape=None):
    def fn(T):
        x = _normal(shape, dt, seed, 2.0)
        y = _normal(target_shape or shape, dt, seed + 1, 2.0)
        if target_shape is None:
            x.reshape(-1)[:2] = y.reshape(-1)[:2]  # z = 0
            if x.size > 3:
                x.reshape(-1)[2] = y.reshape(-1)[2] + np.asarray(param, x.dtype)  # z = param

        def call(T, xt, yt):
            kw = {"reduction": reduction, ("beta" if name == "smooth_l1_loss" else "delta"): param}
            return getattr(T.nn.functional, name)(xt, yt, **kw)

        return _run_loss(T, call, x, y, reduction, target_shape is None)

    return fn


def cases():
    for dt in DTYPES:
        for shape in _shapes():
            for r in REDUCTIONS:
                s = _tag(shape)
                for w in (False, True):
                    tag = f"w={int(w)}"
                    yield (
                        f"losses/bce/{tag}/{r}/{dt}/{s}",
                        _bce(shape, dt, 1, r, w, False, w),
                    )
                    yield (
                        f"losses/bce/edges/{tag}/{r}/{dt}/{s}",
                        _bce(shape, dt, 2, r, w, True, False),
                    )
                    for pw in ("none", "cols", "rows"):
                        if pw == "rows" and len(shape) == 1:
                            continue
                        yield (
                            f"losses/bce_logits/{tag}/pw={pw}/{r}/{dt}/{s}",
                            _bce_logits(shape, dt, 3, r, w, None if pw == "none" else pw, True),
                        )
                for name in ("smooth_l1_loss", "huber_loss"):
                    for p in (1.0, 0.5, 2.5):
                        yield (
                            f"losses/{name}/p={p}/{r}/{dt}/{s}",
                            _pointwise(name, shape, dt, 4, r, p),
                        )
        for r in REDUCTIONS:
            for name in ("smooth_l1_loss", "huber_loss"):
                yield (
                    f"losses/{name}/broadcast/{r}/{dt}",
                    _pointwise(name, (5, 7), dt, 5, r, 1.0, (7,)),
                )
