"""Parity cases for addmv, baddbmm and addbmm (forward and backward bits) and scatter's reduce=
forms. Each case builds its inputs from NumPy and returns the result and the inputs' gradients
(the backward of (y * w).sum() for a weight w holding some -0.0). The float32/float64 products
are MKL's gemm in PyTorch: those cases are named matmul/... (the matmul exception row); the
float16 ones, ATen's own kernels, are named mm2/... and must match bit for bit.
"""

import numpy as np

DTYPES = ("float32", "float16", "float64")
SCALARS = ((1, 1), (0.5, 1), (1, 0.3), (0.7, 0.3), (0, 1), (0, 0.3), (2, -1))
MV = ((1, 1), (7, 33), (33, 7), (16, 16), (100, 33), (5, 1000), (33, 1), (1, 33))
BMM = ((3, 7, 33, 5), (2, 16, 16, 16), (1, 33, 17, 40), (4, 5, 1, 9))


def _data(shape, dt, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * np.exp(rng.uniform(-2, 2, shape))
    return x.astype(dt)


def _weight(shape, dt, seed):
    w = _data(shape, dt, seed)
    if w.size:
        w.reshape(-1)[:: max(1, w.size // 5)] = -0.0
    return w


def _fwd_bwd(make, arrays, dt, seed):
    """make(T, *tensors) -> y; returns [y, grads of every input]."""

    def fn(T):
        xs = [T.tensor(a, requires_grad=True) for a in arrays]
        y = make(T, *xs)
        w = T.tensor(_weight(tuple(y.shape), dt, seed + 99))
        (y * w).sum().backward()
        return [y.detach()] + [x.grad for x in xs]

    return fn


def _fam(dt):
    return "mm2" if dt == "float16" else "matmul"


def _addmv_cases(dt):
    for m, k in MV:
        mat, vec = _data((m, k), dt, 1), _data((k,), dt, 2)
        for ishape in ((m,), (1,))[: 1 if m == 1 else 2]:
            for beta, alpha in SCALARS:
                name = f"{_fam(dt)}/{dt}/addmv/{m}x{k}/in={ishape}/beta={beta}/alpha={alpha}"
                make = lambda T, i, a, v, b=beta, al=alpha: T.addmv(i, a, v, beta=b, alpha=al)  # noqa: E731
                yield name, _fwd_bwd(make, [_data(ishape, dt, 3), mat, vec], dt, 4)


def _bmm_cases(dt):
    for b, m, k, n in BMM:
        b1, b2 = _data((b, m, k), dt, 1), _data((b, k, n), dt, 2)
        for op, ishapes in (("baddbmm", ((b, m, n), (n,), (m, 1))), ("addbmm", ((m, n), (n,)))):
            for ishape in ishapes:
                for beta, alpha in SCALARS:
                    name = (
                        f"{_fam(dt)}/{dt}/{op}/{b}x{m}x{k}x{n}/in={ishape}/beta={beta}/"
                        f"alpha={alpha}"
                    )
                    make = lambda T, i, x, y, o=op, be=beta, al=alpha: getattr(T, o)(  # noqa: E731
                        i, x, y, beta=be, alpha=al
                    )
                    yield name, _fwd_bwd(make, [_data(ishape, dt, 3), b1, b2], dt, 4)


def _nan_input(dt):
    """beta=0 leaves the input out: its NaN and inf do not reach the result."""
    inp = np.array([np.nan, np.inf, 1.0], dt)

    def fn(T):
        mat, vec = T.tensor(_data((3, 5), dt, 1)), T.tensor(_data((5,), dt, 2))
        b1, b2 = T.tensor(_data((2, 3, 4), dt, 3)), T.tensor(_data((2, 4, 3), dt, 4))
        i = T.tensor(inp)
        return [
            T.addmv(i, mat, vec, beta=0),
            T.baddbmm(i, b1, b2, beta=0),
            T.addbmm(i, b1, b2, beta=0, alpha=0.5),
        ]

    return fn


def _int_cases():
    for dt in ("int64", "int32"):

        def fn(T, dt=dt):
            rng = np.random.default_rng(5)
            mat = T.tensor(rng.integers(-9, 9, (7, 5)).astype(dt))
            vec = T.tensor(rng.integers(-9, 9, (5,)).astype(dt))
            b1 = T.tensor(rng.integers(-9, 9, (3, 7, 5)).astype(dt))
            b2 = T.tensor(rng.integers(-9, 9, (3, 5, 4)).astype(dt))
            i1, i2 = T.tensor(np.arange(7).astype(dt)), T.tensor(np.arange(4).astype(dt))
            return [
                T.addmv(i1, mat, vec),
                T.addmv(i1, mat, vec, beta=2, alpha=-3),
                T.baddbmm(i2, b1, b2, beta=3),
                T.addbmm(i2, b1, b2, alpha=2),
            ]

        yield f"mm2/{dt}/addmv-baddbmm-addbmm", fn


def _scatter_cases():
    """scatter/scatter_ with reduce= (no gradient in PyTorch): many duplicate indices, so the
    order of the updates shows in the rounding."""
    for dt in DTYPES + ("int64", "int32"):
        for shape, ishape, dim in (
            ((33,), (100,), 0),
            ((7, 16), (20, 16), 0),
            ((16, 7), (16, 33), 1),
        ):
            for reduce in ("add", "multiply"):
                for value in (None, 1.5):

                    def fn(
                        T, dt=dt, shape=shape, ishape=ishape, dim=dim, reduce=reduce, value=value
                    ):
                        rng = np.random.default_rng(7)
                        base = rng.uniform(0.5, 2, shape) * rng.choice([-1, 1], shape)
                        if dt.startswith("int"):
                            base = rng.integers(-3, 4, shape)
                        x = T.tensor(base.astype(dt))
                        idx = T.tensor(rng.integers(0, shape[dim], ishape).astype(np.int64))
                        src = rng.uniform(0.5, 2, ishape) * rng.choice([-1, 1], ishape)
                        src = T.tensor(src.astype(dt) if not dt.startswith("int") else
                                       rng.integers(-3, 4, ishape).astype(dt))  # fmt: skip
                        v = src if value is None else value
                        y = x.clone()
                        y.scatter_(dim, idx, v, reduce=reduce)
                        return [x.scatter(dim, idx, v, reduce=reduce), y]

                    what = "src" if value is None else "value"
                    yield f"mm2/{dt}/scatter-{reduce}/{what}/{shape}/dim={dim}", fn


def cases():
    for dt in DTYPES:
        yield from _addmv_cases(dt)
        yield from _bmm_cases(dt)
        yield f"{_fam(dt)}/{dt}/beta=0/nan-input", _nan_input(dt)
    yield from _int_cases()
    yield from _scatter_cases()


# the cases that match PyTorch bit for bit on every path (tests/golden/make_exact_golden.py
# records them for the main suite): float16 and the integers
EXACT = {n for n, _ in cases() if n.startswith("mm2/")}


def rng_fingerprint():
    """The draws these cases make, so that a NumPy with another generator skips the replay."""
    import hashlib

    g = np.random.default_rng(12345)
    x = np.concatenate([g.standard_normal(64), g.uniform(-2, 2, 64), g.integers(-9, 9, 64)])
    return hashlib.sha256(x.tobytes()).hexdigest()
