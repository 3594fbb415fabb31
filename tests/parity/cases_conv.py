"""Parity cases for the CNN slice: conv1d/conv2d (stride, int/tuple/'same'/'valid' padding,
dilation, groups, bias or not, at channel counts and image sizes that reach the vector paths),
nn.Conv2d's initialisation, max_pool2d (with indices), avg_pool2d, adaptive_avg_pool2d,
batch_norm (train with running statistics over three steps, eval), layer_norm, dropout2d and a
LeNet-5 training step; forward values and the gradients of input, weight and bias.
"""

import warnings

import numpy as np

DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64}
TORCH_DT = {"f16": "float16", "f32": "float32", "f64": "float64"}


def _data(shape, dt, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(DTYPES[dt])


def _leaf(T, shape, dt, seed, scale=1.0):
    return T.tensor(_data(shape, dt, seed, scale), requires_grad=True)


def _tag(shape):
    return "x".join(map(str, shape))


# ---------------------------------------------------------------- convolution


def _conv(dims, n, c, size, oc, k, dt, seed, bias, **kw):
    groups = kw.get("groups", 1)

    def fn(T):
        x = _leaf(T, (n, c) + size, dt, seed)
        w = _leaf(T, (oc, c // groups) + k, dt, seed + 1, (c // groups * np.prod(k)) ** -0.5)
        b = _leaf(T, (oc,), dt, seed + 2) if bias else None
        conv = T.nn.functional.conv2d if dims == 2 else T.nn.functional.conv1d
        with warnings.catch_warnings():  # padding='same' with an even kernel warns in PyTorch
            warnings.simplefilter("ignore")
            y = conv(x, w, b, **kw)
        y.backward(T.tensor(_data(tuple(y.shape), dt, seed + 3)))
        return [y, x.grad, w.grad] + ([b.grad] if bias else [])

    return fn


CONV2D = (
    # (n, c, (h, w), oc, (kh, kw), kwargs)
    (2, 3, (9, 11), 4, (3, 3), {}),
    (2, 4, (10, 10), 6, (3, 3), {"stride": 2, "padding": 1}),
    (2, 4, (10, 12), 6, (3, 2), {"stride": (2, 1), "padding": (1, 2)}),
    (1, 4, (12, 12), 4, (3, 3), {"dilation": 2, "padding": 2}),
    (2, 6, (9, 9), 6, (3, 3), {"groups": 3, "padding": 1}),
    (2, 8, (8, 8), 8, (3, 3), {"groups": 8, "padding": 1}),  # depthwise
    (2, 4, (9, 9), 5, (4, 4), {"padding": "same"}),
    (2, 4, (9, 10), 5, (2, 3), {"padding": "same", "dilation": (2, 1)}),
    (2, 4, (9, 9), 5, (3, 3), {"padding": "valid"}),
    (3, 5, (7, 7), 3, (1, 1), {}),
    (8, 16, (28, 28), 32, (3, 3), {"padding": 1}),
    (4, 32, (28, 28), 16, (5, 5), {"stride": 2, "padding": 2}),
    (2, 64, (56, 56), 64, (3, 3), {"padding": 1}),
    (2, 32, (56, 56), 64, (1, 1), {"stride": 2}),
)

CONV1D = (
    (2, 3, (20,), 4, (3,), {}),
    (3, 4, (33,), 6, (5,), {"stride": 2, "padding": 2}),
    (2, 4, (40,), 4, (3,), {"dilation": 3, "padding": "same"}),
    (2, 6, (17,), 6, (4,), {"groups": 2, "padding": "same"}),
    (4, 16, (100,), 32, (7,), {"padding": 3}),
)


def _conv_module(dt, seed, **kw):
    def fn(T):
        T.manual_seed(seed)
        m = T.nn.Conv2d(16, 32, 3, dtype=getattr(T, TORCH_DT[dt]), **kw)
        x = T.tensor(_data((4, 16, 28, 28), dt, seed))
        y = m(x)
        y.sum().backward()
        out = [m.weight, m.weight.grad]
        if m.bias is not None:
            out += [m.bias, m.bias.grad]
        return out + [y]

    return fn


# ---------------------------------------------------------------- pooling


def _max_pool(shape, dt, seed, **kw):
    def fn(T):
        x = _leaf(T, shape, dt, seed)
        y, idx = T.nn.functional.max_pool2d(x, return_indices=True, **kw)
        y.backward(T.tensor(_data(tuple(y.shape), dt, seed + 1)))
        return [y, idx, x.grad]

    return fn


def _max_pool_ties(dt, seed):
    """Rounded inputs tie often; NaNs win their window."""

    def fn(T):
        a = np.round(_data((2, 3, 12, 12), "f64", seed) * 2).astype(DTYPES[dt])
        a[0, 0, 2, 3] = a[1, 2, 7, 7] = np.nan
        x = T.tensor(a, requires_grad=True)
        y, idx = T.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)
        y.backward(T.ones_like(y))
        return [y, idx, x.grad]

    return fn


def _max_pool_specials(dt, seed, **kw):
    """Ties, NaNs, -0 and -inf in the windows; -0 and NaN in the gradient (an input's single
    add to zero turns -0 into +0)."""

    def fn(T):
        a = np.round(_data((3, 5, 28, 30), "f64", seed) * 2)
        u = np.random.default_rng(seed).random(a.shape)
        a[u < 0.02] = np.nan
        a[(u >= 0.02) & (u < 0.05)] = -0.0
        a[(u >= 0.05) & (u < 0.06)] = -np.inf
        x = T.tensor(a.astype(DTYPES[dt]), requires_grad=True)
        y, idx = T.nn.functional.max_pool2d(x, return_indices=True, **kw)
        g = np.round(_data(tuple(y.shape), "f64", seed + 1) * 2)
        g.ravel()[::5] = -0.0
        g.ravel()[3::11] = np.nan
        y.backward(T.tensor(g.astype(DTYPES[dt])))
        return [y, idx, x.grad]

    return fn


def _avg_pool(shape, dt, seed, **kw):
    def fn(T):
        x = _leaf(T, shape, dt, seed)
        y = T.nn.functional.avg_pool2d(x, **kw)
        y.backward(T.tensor(_data(tuple(y.shape), dt, seed + 1)))
        return [y, x.grad]

    return fn


def _adaptive(shape, out, dt, seed):
    def fn(T):
        x = _leaf(T, shape, dt, seed)
        y = T.nn.functional.adaptive_avg_pool2d(x, out)
        y.backward(T.tensor(_data(tuple(y.shape), dt, seed + 1)))
        return [y, x.grad]

    return fn


MAX_POOL = (
    ((2, 4, 28, 28), {"kernel_size": 2}),
    ((2, 4, 28, 28), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 3, 13, 15), {"kernel_size": (3, 2), "stride": (2, 3), "ceil_mode": True}),
    ((2, 3, 13, 13), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 3, 14, 14), {"kernel_size": 3, "dilation": 2, "padding": 1}),
    ((3, 12, 12), {"kernel_size": 2, "stride": 1}),  # unbatched
    ((8, 64, 56, 56), {"kernel_size": 3, "stride": 2, "padding": 1}),
)

AVG_POOL = (
    ((2, 4, 28, 28), {"kernel_size": 2}),
    ((2, 4, 13, 13), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((2, 4, 13, 13), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ((2, 3, 13, 15), {"kernel_size": (3, 2), "stride": (2, 3), "ceil_mode": True}),
    (
        (2, 3, 14, 14),
        {
            "kernel_size": 3,
            "stride": 2,
            "padding": 1,
            "ceil_mode": True,
            "count_include_pad": False,
        },
    ),  # fmt: skip
    ((2, 3, 12, 12), {"kernel_size": 3, "padding": 1, "divisor_override": 5}),
    ((3, 12, 12), {"kernel_size": 2}),  # unbatched
    ((8, 64, 56, 56), {"kernel_size": 2}),
)

ADAPTIVE = (
    ((2, 4, 12, 12), (3, 3)),
    ((2, 4, 13, 11), (5, 3)),
    ((2, 4, 7, 7), (10, 9)),
    ((2, 4, 14, 14), (1, 1)),
    ((2, 4, 9, 9), (None, 4)),
    ((3, 10, 10), 4),
    ((8, 64, 28, 28), (7, 7)),
    ((8, 64, 7, 7), (1, 1)),
)


# ---------------------------------------------------------------- normalization


def _batch_norm(mod, shape, dt, seed, affine, steps, stats=True):
    def fn(T):
        T.manual_seed(seed)
        c = shape[1]
        m = getattr(T.nn, mod)(c, affine=affine, track_running_stats=stats, momentum=0.2)
        m = m.to(getattr(T, TORCH_DT[dt]))
        out = []
        for step in range(steps):
            x = _leaf(T, shape, dt, seed + step, 2.0)
            y = m(x + 0.5)
            y.backward(T.tensor(_data(shape, dt, seed + 10 + step)))
            out += [y, x.grad]
        m.eval()
        x = _leaf(T, shape, dt, seed + 99, 2.0)
        y = m(x)
        if stats:
            y.backward(T.tensor(_data(shape, dt, seed + 98)))
            out += [x.grad]
        out.append(y)
        if affine:
            out += [m.weight.grad, m.bias.grad]
        if stats:
            out += [m.running_mean, m.running_var, m.num_batches_tracked]
        return out

    return fn


def _batch_norm_eval(shape, dt, seed, affine):
    """F.batch_norm in eval mode with given statistics."""

    def fn(T):
        c = shape[1]
        x = _leaf(T, shape, dt, seed)
        rm = T.tensor(_data((c,), dt, seed + 1))
        rv = T.tensor(np.abs(_data((c,), dt, seed + 2)) + DTYPES[dt](0.5))
        w = _leaf(T, (c,), dt, seed + 3) if affine else None
        b = _leaf(T, (c,), dt, seed + 4) if affine else None
        y = T.nn.functional.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)
        y.backward(T.tensor(_data(shape, dt, seed + 5)))
        return [y, x.grad] + ([w.grad, b.grad] if affine else [])

    return fn


def _layer_norm(shape, ndim, dt, seed, affine):
    def fn(T):
        x = _leaf(T, shape, dt, seed, 3.0)
        ns = shape[-ndim:]
        w = _leaf(T, ns, dt, seed + 1) if affine else None
        b = _leaf(T, ns, dt, seed + 2) if affine else None
        y = T.nn.functional.layer_norm(x + 1.0, ns, w, b, eps=1e-5)
        y.backward(T.tensor(_data(shape, dt, seed + 3)))
        return [y, x.grad] + ([w.grad, b.grad] if affine else [])

    return fn


def _dropout2d(shape, p, dt, seed):
    def fn(T):
        T.manual_seed(seed)
        x = _leaf(T, shape, dt, seed)
        with warnings.catch_warnings():  # a 3-D input warns (channel-wise 1-D dropout)
            warnings.simplefilter("ignore")
            y = T.nn.functional.dropout2d(x, p, training=True)
        y.backward(T.tensor(_data(shape, dt, seed + 1)))
        return [y, x.grad, T.rand(3)]

    return fn


# ---------------------------------------------------------------- LeNet-5


def _lenet(dt, seed, steps=2):
    def fn(T):
        nn, F = T.nn, T.nn.functional
        T.manual_seed(seed)
        dtype = getattr(T, TORCH_DT[dt])
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
        ).to(dtype)  # fmt: skip
        opt = T.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        out = []
        for step in range(steps):
            x = T.tensor(_data((8, 1, 28, 28), dt, seed + step))
            t = T.tensor(np.random.default_rng(seed + step).integers(0, 10, 8))
            opt.zero_grad()
            loss = F.cross_entropy(model(x), t)
            loss.backward()
            opt.step()
            out.append(loss)
        return out + list(model.parameters())

    return fn


def _error(kind):
    def fn(T):
        F = T.nn.functional
        x = T.tensor(_data((2, 4, 8, 8), "f32", 0))
        if kind == "channels":
            return F.conv2d(x, T.tensor(_data((3, 3, 3, 3), "f32", 1)))
        if kind == "groups":
            return F.conv2d(x, T.tensor(_data((6, 2, 3, 3), "f32", 1)), groups=3)
        if kind == "kernel_too_big":
            return F.conv2d(x, T.tensor(_data((3, 4, 9, 9), "f32", 1)))
        if kind == "same_stride":
            return F.conv2d(x, T.tensor(_data((3, 4, 3, 3), "f32", 1)), stride=2, padding="same")
        if kind == "pool_pad":
            return F.max_pool2d(x, 2, padding=2)
        return F.avg_pool2d(x, 3, divisor_override=0)

    return fn


# Windows inside the image (2x2, 3x3, any stride: the lane kernel), apart or overlapping (the
# backward's single-add path or not), and ceil_mode's clipped last window.
MAX_POOL_SPECIALS = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 3},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": (2, 3), "stride": (2, 1)},
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 1},
]


def cases():
    seed = 0
    for dt in DTYPES:
        for dims, table in ((2, CONV2D), (1, CONV1D)):
            for n, c, size, oc, k, kw in table:
                for bias in (True, False):
                    if bias is False and np.prod(size) > 400:
                        continue  # the big shapes run once, with a bias
                    seed += 10
                    args = ",".join(f"{a}={v}" for a, v in kw.items())
                    shapes = f"{n}x{c}x{_tag(size)}/{oc}x{_tag(k)}"
                    name = f"conv/conv{dims}d/{dt}/{shapes}/{args}/b={int(bias)}"
                    yield name, _conv(dims, n, c, size, oc, k, dt, seed, bias, **kw)
        for i, kw in enumerate(({}, {"bias": False}, {"stride": 2, "padding": "valid"})):
            yield f"conv/module/{dt}/{i}", _conv_module(dt, 7 + i, **kw)
        for shape, kw in MAX_POOL:
            seed += 10
            args = ",".join(f"{a}={v}" for a, v in kw.items())
            yield f"conv/max_pool2d/{dt}/{_tag(shape)}/{args}", _max_pool(shape, dt, seed, **kw)
        yield f"conv/max_pool2d/{dt}/ties_nan", _max_pool_ties(dt, 5)
        for i, kw in enumerate(MAX_POOL_SPECIALS):
            args = ",".join(f"{a}={v}" for a, v in kw.items())
            yield f"conv/max_pool2d/{dt}/specials/{args}", _max_pool_specials(dt, 60 + i, **kw)
        for shape, kw in AVG_POOL:
            seed += 10
            args = ",".join(f"{a}={v}" for a, v in kw.items())
            yield f"conv/avg_pool2d/{dt}/{_tag(shape)}/{args}", _avg_pool(shape, dt, seed, **kw)
        for shape, out in ADAPTIVE:
            seed += 10
            yield f"conv/adaptive/{dt}/{_tag(shape)}/{out}", _adaptive(shape, out, dt, seed)
        for mod, shape in (
            ("BatchNorm2d", (4, 16, 12, 12)),
            ("BatchNorm2d", (8, 64, 28, 28)),
            ("BatchNorm1d", (32, 40)),
            ("BatchNorm1d", (8, 16, 33)),
        ):
            for affine in (True, False):
                seed += 100
                yield f"conv/batch_norm/{dt}/{mod}/{_tag(shape)}/affine={int(affine)}", (
                    _batch_norm(mod, shape, dt, seed, affine, 3))  # fmt: skip
        seed += 100
        yield f"conv/batch_norm/{dt}/no_stats", _batch_norm("BatchNorm2d", (4, 8, 6, 6), dt,
                                                            seed, True, 1, stats=False)  # fmt: skip
        for shape in ((4, 16, 12, 12), (32, 40), (8, 16, 33)):
            for affine in (True, False):
                seed += 10
                yield f"conv/batch_norm_eval/{dt}/{_tag(shape)}/affine={int(affine)}", (
                    _batch_norm_eval(shape, dt, seed, affine))  # fmt: skip
        for shape, ndim in (((8, 33), 1), ((4, 7, 64), 1), ((4, 6, 10, 10), 2), ((3, 4, 6, 7), 3),
                            ((2, 197, 768), 1)):  # fmt: skip
            for affine in (True, False):
                seed += 10
                yield f"conv/layer_norm/{dt}/{_tag(shape)}/nd={ndim}/affine={int(affine)}", (
                    _layer_norm(shape, ndim, dt, seed, affine))  # fmt: skip
        for shape, p in (((4, 16, 8, 8), 0.3), ((16, 5, 5), 0.5), ((2, 64, 28, 28), 0.2)):
            seed += 10
            yield f"conv/dropout2d/{dt}/{_tag(shape)}/p={p}", _dropout2d(shape, p, dt, seed)
    for dt in ("f32", "f16", "f64"):
        yield f"conv/lenet/{dt}", _lenet(dt, 3)
    for kind in ("channels", "groups", "kernel_too_big", "same_stride", "pool_pad", "divisor"):
        yield f"conv/error/{kind}", _error(kind)
