"""Parity cases for `//` and `%` (floor_divide, remainder): every dtype, sizes past PyTorch's
vector width, tensor and scalar divisors (float16's unrounded scalar), broadcasting, special
values, and remainder's gradients."""

import zlib

import numpy as np

FLOATS = ("float32", "float16", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 0.5, 2.5, -7.25, 1e-3, 1e4, 65504.0,
           6e-8, 3.0, -3.0, 0.1, 1 / 3, 1e30, -1e-30]  # fmt: skip


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def _floats(rng, dtype, n, scale=10.0):
    return (rng.normal(0, scale, n)).astype(dtype)


def _ints(rng, dtype, n, nonzero=False):
    lo, hi = (0, 100) if dtype == "uint8" else (-100, 100)
    x = rng.integers(lo, hi, n).astype(dtype)
    if nonzero:
        x[x == 0] = 3
    return x


def _pair(name, dtype, n):
    rng = _rng(name)
    if dtype in FLOATS:
        return _floats(rng, dtype, n), _floats(rng, dtype, n, 3.0)
    return _ints(rng, dtype, n), _ints(rng, dtype, n, nonzero=True)


def cases():
    for dt in FLOATS + INTS:
        for n in SIZES:
            for op in ("floordiv", "mod"):
                name = f"divmod/{op}/{dt}/n={n}"

                def fn(T, name=name, dt=dt, n=n, op=op):
                    a, b = _pair(name, dt, n)
                    x, y = T.tensor(a), T.tensor(b)
                    return x // y if op == "floordiv" else x % y

                yield name, fn
        for s in (2, -3, 2.5, 0.1, -0.7, 7):
            for op in ("floordiv", "mod", "rfloordiv", "rmod"):
                if dt not in FLOATS and op.startswith("r"):
                    continue  # integer tensors hold zeros: s // 0 raises
                name = f"divmod/{op}-scalar/{dt}/s={s}"

                def fn(T, name=name, dt=dt, s=s, op=op):
                    a, _ = _pair(name, dt, 1000)
                    x = T.tensor(a)
                    return {"floordiv": lambda: x // s, "mod": lambda: x % s,
                            "rfloordiv": lambda: s // x, "rmod": lambda: s % x}[op]()  # fmt: skip

                yield name, fn
    for dt in FLOATS:
        for op in ("floordiv", "mod"):
            name = f"divmod/{op}/special/{dt}"

            def fn(T, dt=dt, op=op):
                v = np.array(SPECIAL, dtype=np.float64)
                with np.errstate(over="ignore"):  # 1e30 is inf in float16
                    a = np.repeat(v, len(v)).astype(dt)
                    b = np.tile(v, len(v)).astype(dt)
                x, y = T.tensor(a), T.tensor(b)
                return x // y if op == "floordiv" else x % y

            yield name, fn
            name = f"divmod/{op}/broadcast/{dt}"

            def fn(T, name=name, dt=dt, op=op):
                rng = _rng(name)
                x = T.tensor(_floats(rng, dt, 6 * 40).reshape(6, 40))
                y = T.tensor(_floats(rng, dt, 40, 3.0))
                z = T.tensor(_floats(rng, dt, 1, 3.0).reshape(()))
                f = (lambda p, q: p // q) if op == "floordiv" else (lambda p, q: p % q)
                return f(x, y), f(y.reshape(40, 1), x[0]), f(x, z)

            yield name, fn
        for n in (7, 100, 1000):
            name = f"divmod/remainder-grad/{dt}/n={n}"

            def fn(T, name=name, dt=dt, n=n):
                a, b = _pair(name, dt, n)
                x = T.tensor(a, requires_grad=True)
                y = T.tensor(b, requires_grad=True)
                g = T.tensor(_floats(_rng(name + "g"), dt, n))
                out = x % y
                out.backward(g)
                return out, x.grad, y.grad

            yield name, fn
            name = f"divmod/remainder-grad-broadcast/{dt}/n={n}"

            def fn(T, name=name, dt=dt, n=n):
                rng = _rng(name)
                x = T.tensor(_floats(rng, dt, 4 * n).reshape(4, n), requires_grad=True)
                y = T.tensor(_floats(rng, dt, n, 3.0), requires_grad=True)
                out = (x % y) * 1.5
                out.sum().backward()
                s = x % 2.5
                s.sum().backward()
                return out, x.grad, y.grad

            yield name, fn
    for a_dt, b_dt in (("int64", "float32"), ("int8", "uint8"), ("float16", "float32"),
                       ("int32", "float16"), ("float32", "float64")):  # fmt: skip
        for op in ("floordiv", "mod"):
            name = f"divmod/{op}/mixed/{a_dt}-{b_dt}"

            def fn(T, name=name, a_dt=a_dt, b_dt=b_dt, op=op):
                a, _ = _pair(name, a_dt, 100)
                _, b = _pair(name + "b", b_dt, 100)
                x, y = T.tensor(a), T.tensor(b)
                y0 = T.tensor(b[:1].reshape(()))
                if op == "floordiv":
                    return x // y, x // y0
                return x % y, x % y0

            yield name, fn
