"""Parity cases for the nnloss slice: softmax and log_softmax (forward and backward, every dim
kind: the last dim, the vertical kernel with its scalar tail), nll_loss / cross_entropy (class
indices, weights, ignore_index, N-d inputs, class probabilities, label smoothing), embedding,
one_hot and the nn.init initialisers after manual_seed, bit for bit.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((3, 7), (33, 16), (4, 33, 5), (2, 10, 17), (5, 3, 40), (7, 1000))


def _data(shape, dt, seed, scale=3.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(DTYPES[dt])


def _softmax(fn_name, shape, dim, dt, seed):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed), requires_grad=True)
        y = getattr(T, fn_name)(x, dim)
        g = T.tensor(_data(shape, dt, seed + 1, 1.0))
        y.backward(g)
        return [y, x.grad]

    return fn


def _targets(n, c, seed, extra=(), ignore=None):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, c, (n,) + extra)
    if ignore is not None:
        t.reshape(-1)[::5] = ignore
    return t.astype(np.int64)


def _cross_entropy(shape, dt, seed, weight, ignore, reduction, smoothing):
    def fn(T):
        n, c = shape[0], shape[1]
        x = T.tensor(_data(shape, dt, seed), requires_grad=True)
        t = T.tensor(_targets(n, c, seed + 1, tuple(shape[2:]), ignore))
        kw = {"reduction": reduction, "label_smoothing": smoothing}
        if weight:
            kw["weight"] = T.tensor(np.linspace(0.5, 2.0, c).astype(DTYPES[dt]))
        if ignore is not None:
            kw["ignore_index"] = ignore
        loss = T.nn.functional.cross_entropy(x, t, **kw)
        loss.backward(T.ones_like(loss))
        return [loss, x.grad]

    return fn


def _prob_targets(shape, dt, seed, reduction, smoothing):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed), requires_grad=True)
        p = np.random.default_rng(seed + 1).random(shape)
        t = T.tensor((p / p.sum(1, keepdims=True)).astype(DTYPES[dt]))
        loss = T.nn.functional.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing)
        loss.backward(T.ones_like(loss))
        return [loss, x.grad]

    return fn


def _nll(shape, dt, seed, weight, reduction):
    def fn(T):
        x = T.tensor(_data(shape, dt, seed), requires_grad=True)
        t = T.tensor(_targets(shape[0] if len(shape) > 1 else 1, shape[-1] if len(shape) == 1
                              else shape[1], seed + 1, tuple(shape[2:])))  # fmt: skip
        if len(shape) == 1:
            t = t[0]
        kw = {"reduction": reduction}
        if weight:
            c = shape[1] if len(shape) > 1 else shape[0]
            kw["weight"] = T.tensor(np.linspace(0.5, 2.0, c).astype(DTYPES[dt]))
        loss = T.nn.functional.nll_loss(x, t, **kw)
        loss.backward(T.ones_like(loss))
        return [loss, x.grad]

    return fn


def _embedding(num, dim, idx_shape, dt, pad, seed):
    def fn(T):
        T.manual_seed(seed)
        emb = T.nn.Embedding(num, dim, padding_idx=pad, dtype=getattr(T, {"f32": "float32",
                             "f16": "float16", "f64": "float64"}[dt]))  # fmt: skip
        idx = T.tensor(np.random.default_rng(seed).integers(0, num, idx_shape))
        y = emb(idx)
        y.backward(T.tensor(_data(tuple(y.shape), dt, seed + 1, 1.0)))
        return [emb.weight, y, emb.weight.grad]

    return fn


def _unbatched(c, dt, seed, probs):
    def fn(T):
        x = T.tensor(_data((c,), dt, seed), requires_grad=True)
        if probs:
            p = np.random.default_rng(seed + 1).random(c)
            t = T.tensor((p / p.sum()).astype(DTYPES[dt]))
        else:
            t = T.tensor(np.int64(seed % c))
        loss = T.nn.functional.cross_entropy(x, t)
        loss.backward()
        return [loss, x.grad]

    return fn


def _embedding_i32(dt, seed):
    def fn(T):
        w = T.tensor(_data((9, 5), dt, seed), requires_grad=True)
        idx = T.tensor(np.random.default_rng(seed).integers(-9, 9, (4, 6)).astype(np.int32) % 9)
        y = T.nn.functional.embedding(idx, w, padding_idx=-2)
        y.backward(T.tensor(_data((4, 6, 5), dt, seed + 1, 1.0)))
        return [y, w.grad]

    return fn


def _init(name, shape, dt, seed, **kw):
    def fn(T):
        T.manual_seed(seed)
        w = T.zeros(shape, dtype=getattr(T, {"f32": "float32", "f16": "float16",
                                             "f64": "float64"}[dt]))  # fmt: skip
        getattr(T.nn.init, name)(w, **kw)
        return w

    return fn


def _one_hot(n, c, seed):
    def fn(T):
        return T.nn.functional.one_hot(T.tensor(_targets(n, c, seed)), c + 2)

    return fn


INITS = (
    ("uniform_", {"a": -0.5, "b": 2.0}),
    ("normal_", {"std": 0.3}),
    ("xavier_uniform_", {}),
    ("xavier_normal_", {"gain": 2.0}),
    ("kaiming_uniform_", {"a": 5**0.5}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("constant_", {"val": 0.3}),
    ("zeros_", {}),
    ("ones_", {}),
)


def cases():
    seed = 0
    for fn_name in ("softmax", "log_softmax"):
        for dt in DTYPES:
            for n in SIZES:
                seed += 1
                yield f"nnloss/{fn_name}/{dt}/last/n={n}", _softmax(fn_name, (3, n), -1, dt, seed)
            for shape in SHAPES:
                for dim in range(len(shape)):
                    seed += 1
                    name = f"nnloss/{fn_name}/{dt}/shape={'x'.join(map(str, shape))}/dim={dim}"
                    yield name, _softmax(fn_name, shape, dim, dt, seed)
    for dt in DTYPES:
        for shape in ((8, 5), (33, 10), (100, 7), (1000, 3), (4, 5, 6), (2, 3, 4, 5), (7,)):
            for reduction in ("mean", "sum", "none"):
                for weight in (False, True):
                    seed += 1
                    tag = f"{dt}/{'x'.join(map(str, shape))}/{reduction}/w={int(weight)}"
                    yield f"nnloss/nll_loss/{tag}", _nll(shape, dt, seed, weight, reduction)
                    if len(shape) > 1:
                        yield f"nnloss/cross_entropy/{tag}", _cross_entropy(
                            shape, dt, seed, weight, None, reduction, 0.0)  # fmt: skip
                        yield f"nnloss/cross_entropy/ignore/{tag}", _cross_entropy(
                            shape, dt, seed, weight, 1, reduction, 0.0)  # fmt: skip
                        yield f"nnloss/cross_entropy/smooth/{tag}", _cross_entropy(
                            shape, dt, seed, weight, -100, reduction, 0.1)  # fmt: skip
                if len(shape) > 1:
                    yield f"nnloss/cross_entropy/probs/{dt}/{'x'.join(map(str, shape))}/" \
                        f"{reduction}", _prob_targets(shape, dt, seed, reduction, 0.0)  # fmt: skip
    for dt in DTYPES:
        for num, dim, idx_shape, pad in (
            (10, 3, (4,), None),
            (50, 16, (8, 7), 0),
            (7, 33, (100,), 3),
        ):
            seed += 1
            yield f"nnloss/embedding/{dt}/{num}x{dim}/pad={pad}", _embedding(
                num, dim, idx_shape, dt, pad, seed)  # fmt: skip
        for shape in ((33, 16), (7, 3, 5), (100, 1000)):
            tag = "x".join(map(str, shape))
            for name, kw in INITS:
                seed += 1
                yield f"nnloss/init/{name}/{dt}/{tag}/{len(kw)}", _init(name, shape, dt, seed, **kw)
    for dt in DTYPES:
        for c in (1, 5, 33):
            for probs in (False, True):
                seed += 1
                yield f"nnloss/cross_entropy/unbatched/{dt}/c={c}/probs={int(probs)}", _unbatched(
                    c, dt, seed, probs)  # fmt: skip
        seed += 1
        yield f"nnloss/embedding/i32/{dt}", _embedding_i32(dt, seed)
    for n, c in ((1, 1), (7, 3), (100, 10)):
        yield f"nnloss/one_hot/n={n}", _one_hot(n, c, n)
    # trunc_normal_'s two rejection samplers (normal_ redraws; uniform_ with a log-density test)
    for dt in DTYPES:
        for shape in ((33, 16), (100, 41)):
            tag = "x".join(map(str, shape))
            for i, kw in enumerate(
                ({"std": 0.5}, {"a": 2.0, "b": 3.0}, {"mean": 1.0, "std": 2.0, "a": -0.5, "b": 0.5})
            ):
                yield f"nnloss/init/trunc_normal_/{dt}/{tag}/{i}", _trunc(shape, dt, 500 + i, kw)


def _trunc(shape, dt, seed, kw):
    def fn(T):
        w = _init("trunc_normal_", shape, dt, seed, **kw)(T)
        return w, T.rand(3)  # the generator's state afterwards

    return fn
