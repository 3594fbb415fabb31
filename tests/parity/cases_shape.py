"""Parity cases for cat/stack, repeat/tile, flip/roll, gather/scatter, index_select,
masked_select and the matmul family (mm, bmm, mv, dot, outer, addmm): forward and backward bits.

Each case builds its inputs from NumPy and returns the result and the inputs' gradients (the
backward of (y * w).sum() for a weight w holding some -0.0, so copies and additions of the
gradient are both seen). The matmul family's float32/float64 cases are named matmul/... (MKL's
gemm, an exception of its own).
"""

import numpy as np

DTYPES = ("float32", "float16", "float64")
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((7, 33), (33, 7), (16, 16), (3, 17, 20), (5, 1, 9))


def _data(shape, dt, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, shape))
    return x.astype(dt)


def _weight(shape, dt, seed):
    w = _data(shape, dt, seed)
    if w.size:
        w.reshape(-1)[:: max(1, w.size // 5)] = -0.0
    return w


def _index(shape, high, seed):
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(np.int64)


def _fwd_bwd(make, arrays, dt, seed):
    """make(T, *tensors) -> y; returns [y, grads of every input]."""

    def fn(T):
        xs = [T.tensor(a, requires_grad=True) for a in arrays]
        y = make(T, *xs)
        w = T.tensor(_weight(tuple(y.shape), dt, seed + 99))
        (y * w).sum().backward()
        return [y.detach()] + [x.grad for x in xs]

    return fn


def _shapes_1d():
    return [(n,) for n in SIZES]


def _cat_cases(dt):
    for shape in _shapes_1d() + list(SHAPES):
        for dim in range(-1, len(shape)):
            name = f"shape/cat/{dt}/{shape}/dim={dim}"
            other = list(shape)
            other[dim] = max(1, other[dim] // 2)
            arrays = [_data(shape, dt, 1), _data(tuple(other), dt, 2), _data(shape, dt, 3)]
            yield name, _fwd_bwd(lambda T, *xs, d=dim: T.cat(xs, d), arrays, dt, 4)
            if dim >= 0:
                yield (
                    f"shape/stack/{dt}/{shape}/dim={dim}",
                    _fwd_bwd(
                        lambda T, *xs, d=dim: T.stack(xs, d),
                        [_data(shape, dt, s) for s in (5, 6, 7, 8, 9)],
                        dt,
                        10,
                    ),  # fmt: skip
                )
    # more than three inputs: the recorded chain
    arrays = [_data((3, 4), dt, s) for s in range(7)]
    yield f"shape/cat/{dt}/seven", _fwd_bwd(lambda T, *xs: T.cat(xs, 1), arrays, dt, 11)
    yield f"shape/stack/{dt}/seven", _fwd_bwd(lambda T, *xs: T.stack(xs, 2), arrays, dt, 12)
    mixed = [_data((4, 3), "float32", 1), _data((2, 3), "float64", 2)]
    yield "shape/cat/mixed-f32-f64", _fwd_bwd(lambda T, a, b: T.cat([a, b]), mixed, "float64", 3)
    yield (
        f"shape/hstack/{dt}",
        _fwd_bwd(lambda T, a, b: T.hstack([a, b]), [_data((5,), dt, 1), _data((3,), dt, 2)], dt, 3),
    )
    yield (
        f"shape/vstack/{dt}",
        _fwd_bwd(
            lambda T, a, b: T.vstack([a, b]), [_data((5,), dt, 1), _data((2, 5), dt, 2)], dt, 3
        ),
    )


def _repeat_cases(dt):
    for shape, reps in [
        ((7,), (3,)),
        ((33,), (2, 2)),
        ((1000,), (5,)),
        ((4099,), (3, 1)),
        ((7, 33), (2, 3)),
        ((33, 7), (1, 17)),
        ((16, 1), (1, 100)),
        ((3, 17, 20), (2, 1, 3)),
        ((5, 1, 9), (4, 2, 7, 1)),
        ((2, 3), (33, 1, 1)),
        ((2, 3), (0, 2)),
    ]:
        arrays = [_data(shape, dt, 1)]
        yield (
            f"shape/repeat/{dt}/{shape}x{reps}",
            _fwd_bwd(lambda T, x, r=reps: x.repeat(*r), arrays, dt, 2),
        )
    yield (
        f"shape/tile/{dt}",
        _fwd_bwd(lambda T, x: T.tile(x, (3,)), [_data((4, 5), dt, 1)], dt, 2),
    )


def _reorder_cases(dt):
    for shape in _shapes_1d() + list(SHAPES):
        arrays = [_data(shape, dt, 1)]
        nd = len(shape)
        for dims in {(0,), (nd - 1,), tuple(range(nd))}:
            yield (
                f"shape/flip/{dt}/{shape}/dims={dims}",
                _fwd_bwd(lambda T, x, d=dims: x.flip(d), arrays, dt, 2),
            )
        yield f"shape/roll/{dt}/{shape}/flat", _fwd_bwd(lambda T, x: x.roll(5), arrays, dt, 2)
        yield (
            f"shape/roll/{dt}/{shape}/dims",
            _fwd_bwd(lambda T, x, n=nd: T.roll(x, (-3,) * n, tuple(range(n))), arrays, dt, 2),
        )


def _gather_cases(dt):
    for shape in _shapes_1d() + list(SHAPES):
        nd = len(shape)
        for dim in range(nd):
            ishape = list(shape)
            ishape[dim] = shape[dim] * 2  # repeated picks: the gradient adds them in order
            idx = _index(tuple(ishape), shape[dim], 5)
            arrays = [_data(shape, dt, 1)]
            yield (
                f"shape/gather/{dt}/{shape}/dim={dim}",
                _fwd_bwd(lambda T, x, d=dim, i=idx: T.gather(x, d, T.tensor(i)), arrays, dt, 2),
            )
            sel = _index((shape[dim] + 3,), shape[dim], 6)
            yield (
                f"shape/index_select/{dt}/{shape}/dim={dim}",
                _fwd_bwd(lambda T, x, d=dim, i=sel: x.index_select(d, T.tensor(i)), arrays, dt, 2),
            )
            sidx = _index(tuple(shape), shape[dim], 7)
            src = _data(tuple(shape), dt, 8)
            for op in ("scatter", "scatter_add"):
                yield (
                    f"shape/{op}/{dt}/{shape}/dim={dim}",
                    _fwd_bwd(
                        lambda T, x, s, d=dim, i=sidx, op=op: getattr(x, op)(d, T.tensor(i), s),
                        [_data(shape, dt, 1), src],
                        dt,
                        2,
                    ),  # fmt: skip
                )
            yield (
                f"shape/scatter-value/{dt}/{shape}/dim={dim}",
                _fwd_bwd(lambda T, x, d=dim, i=sidx: x.scatter(d, T.tensor(i), 1.5), arrays, dt, 2),
            )
        mask = np.random.default_rng(9).random(shape) < 0.4
        yield (
            f"shape/masked_select/{dt}/{shape}",
            _fwd_bwd(
                lambda T, x, m=mask: x.masked_select(T.tensor(m)), [_data(shape, dt, 1)], dt, 2
            ),
        )


def _inplace_cases(dt):
    def fn(T):
        x = T.tensor(_data((7, 33), dt, 1), requires_grad=True)
        s = T.tensor(_data((7, 33), dt, 2), requires_grad=True)
        i = T.tensor(_index((7, 33), 33, 3))
        y = x * 1
        y.scatter_add_(1, i, s)
        y.scatter_(0, T.tensor(_index((3, 33), 7, 4)), 2.5)
        (y * T.tensor(_weight((7, 33), dt, 5))).sum().backward()
        return [y.detach(), x.grad, s.grad]

    yield f"shape/scatter_/{dt}", fn

    def bigger_src(T, op):
        # src larger than index: only its leading part is read (PyTorch's backward refuses a
        # gradient for such a src, so it takes none here)
        x = T.tensor(_data((7, 33), dt, 1), requires_grad=True)
        s = T.tensor(_data((9, 40), dt, 2))
        y = getattr(x, op)(1, T.tensor(_index((7, 20), 33, 3)), s)
        (y * T.tensor(_weight((7, 33), dt, 4))).sum().backward()
        return [y.detach(), x.grad]

    for op in ("scatter", "scatter_add"):
        yield f"shape/{op}/{dt}/src-larger", lambda T, op=op: bigger_src(T, op)


MM = [((7, 33), (33, 16)), ((1, 1), (1, 7)), ((100, 16), (16, 33))]


def _mm_cases(dt):
    fam = "matmul" if dt != "float16" else "shape/matmul"
    for sa, sb in MM:
        arrays = [_data(sa, dt, 1), _data(sb, dt, 2)]
        yield f"{fam}/{dt}/mm/{sa}@{sb}", _fwd_bwd(lambda T, a, b: T.mm(a, b), arrays, dt, 3)
        yield (
            f"{fam}/{dt}/mv/{sa}",
            _fwd_bwd(lambda T, a, v: T.mv(a, v), [arrays[0], _data((sa[1],), dt, 4)], dt, 3),
        )
        yield (
            f"{fam}/{dt}/addmm/{sa}@{sb}",
            _fwd_bwd(lambda T, m, a, b: T.addmm(m, a, b), [_data((sb[1],), dt, 5)] + arrays, dt, 3),
        )
    for n in SIZES:
        arrays = [_data((n,), dt, 1), _data((n,), dt, 2)]
        yield f"{fam}/{dt}/dot/n={n}", _fwd_bwd(lambda T, a, b: T.dot(a, b), arrays, dt, 3)
    for b, m, k, n in [(3, 7, 33, 5), (2, 16, 16, 16)]:
        arrays = [_data((b, m, k), dt, 1), _data((b, k, n), dt, 2)]
        yield (
            f"{fam}/{dt}/bmm/{b}x{m}x{k}x{n}",
            _fwd_bwd(lambda T, x, y: T.bmm(x, y), arrays, dt, 3),
        )
    for n, m in [(7, 33), (100, 16)]:
        arrays = [_data((n,), dt, 1), _data((m,), dt, 2)]
        yield f"shape/outer/{dt}/{n}x{m}", _fwd_bwd(lambda T, a, b: T.outer(a, b), arrays, dt, 3)


def cases():
    for dt in DTYPES:
        yield from _cat_cases(dt)
        yield from _repeat_cases(dt)
        yield from _reorder_cases(dt)
        yield from _gather_cases(dt)
        yield from _inplace_cases(dt)
        yield from _mm_cases(dt)
