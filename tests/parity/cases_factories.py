"""Parity cases for the factories (linspace, arange, full, zeros, ones, eye, tensor) and the
random streams (manual_seed, then rand, randn, randint, randperm, normal_, uniform_, random_,
nn.Linear's init, dropout masks).

Each case is fn(T) for T in (torch, tapegrad); RNG cases seed T themselves.
"""

import numpy as np

STEPS = (0, 1, 2, 7, 16, 33, 50, 100, 1000, 4099)
RANGES = ((0, 50), (0.0, 1.0), (-1.0, 1.0), (3.7, -2.2), (-10, -3), (1e-3, 7.5), (100, -100),
          (-5.5, 0.3))  # fmt: skip
INT_RANGES = ((0, 50), (-1, 1), (3, -2), (-128, 127), (7, 1000003), (0, 255))
FLOATS = ("float32", "float16", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
ARANGES = ((0, 5, 0.1), (0, 1, 0.01), (-3.3, 7.7, 0.37), (10, -10, -0.7), (0.5, 100, 1.3),
           (-1, 1, 1 / 3), (0, 53.287, 0.013), (1e-3, 2.5, 0.001), (0, 50, 1.0), (0, 1000, 0.999),
           (0, 4099, 1), (-7, 30, 3), (5, -20, -2))  # fmt: skip
SIZES = (1, 7, 15, 16, 17, 33, 100, 1000, 4099)
SEEDS = (0, 1, 42)


def _fits(lo, hi, dt):
    """PyTorch converts start and end to the dtype with c10's overflow check (an unsigned type
    also takes negatives down to -max)."""
    info = np.iinfo(dt)
    if info.min == 0:
        return all(-info.max <= v <= info.max for v in (lo, hi))
    return all(info.min <= v <= info.max for v in (lo, hi))


def _factory_cases():
    for dt in FLOATS:
        for a, b in RANGES:
            for n in STEPS:
                yield (
                    f"linspace/{dt}/{a}:{b}/n={n}",
                    (lambda T, a=a, b=b, n=n, dt=dt: T.linspace(a, b, n, dtype=getattr(T, dt))),
                )
        yield f"linspace/{dt}/default_dtype", lambda T: T.linspace(0, 50, 50)
        for a, b, s in ARANGES:
            yield (
                f"arange/{dt}/{a}:{b}:{s}",
                (lambda T, a=a, b=b, s=s, dt=dt: T.arange(a, b, s, dtype=getattr(T, dt))),
            )
    for dt in INTS:
        for a, b in INT_RANGES:
            if not _fits(a, b, dt):
                continue
            for n in STEPS:
                yield (
                    f"linspace/{dt}/{a}:{b}/n={n}",
                    (lambda T, a=a, b=b, n=n, dt=dt: T.linspace(a, b, n, dtype=getattr(T, dt))),
                )
        for a, b, s in ARANGES:
            if dt != "uint8" or min(a, b) >= 0:
                yield (
                    f"arange/{dt}/{a}:{b}:{s}",
                    (lambda T, a=a, b=b, s=s, dt=dt: T.arange(a, b, s, dtype=getattr(T, dt))),
                )
    for a, b, s in ARANGES:
        yield f"arange/inferred/{a}:{b}:{s}", lambda T, a=a, b=b, s=s: T.arange(a, b, s)
    yield "arange/inferred/end_only", lambda T: T.arange(10)
    yield "arange/inferred/float_end", lambda T: T.arange(7.5)
    for dt in FLOATS + INTS + ("bool",):
        for v in (0, 1, -2.5, 3.14159, 1e-8, 7):
            if dt in ("uint8", "bool") and v < 0:
                continue
            yield (
                f"full/{dt}/v={v}",
                (lambda T, v=v, dt=dt: T.full((3, 5), v, dtype=getattr(T, dt))),
            )
        yield f"zeros/{dt}", lambda T, dt=dt: T.zeros(4, 3, dtype=getattr(T, dt))
        yield f"ones/{dt}", lambda T, dt=dt: T.ones(33, dtype=getattr(T, dt))
    for v in (0, 1, -2.5, 3.14159, 1e-8, 7, True):
        yield f"full/inferred/v={v}", lambda T, v=v: T.full((2, 2), v)
    yield "tensor/floats", lambda T: T.tensor([0.1, 0.2, 1 / 3, 1e-40, 3.4e38, 1e39, -0.0, 2.5])
    yield "tensor/floats_f16", lambda T: T.tensor([0.1, 1 / 3, 65519.0, 65520.0, 1e-8, 6e-8],
                                                  dtype=T.float16)  # fmt: skip
    yield "tensor/floats_f64", lambda T: T.tensor([0.1, 1 / 3, 1e-310], dtype=T.float64)
    yield "tensor/ints", lambda T: T.tensor([[1, -2], [3, 2**40]])
    yield "tensor/float_to_int", lambda T: T.tensor([1.7, -1.7, 2.5], dtype=T.int32)
    yield "tensor/scalar", lambda T: T.tensor(2.5)
    yield "tensor/numpy_f32", lambda T: T.tensor(np.linspace(-3, 3, 17, dtype=np.float32))


def _rng_cases():
    def seeded(fn):
        def case(T, seed):
            T.manual_seed(seed)
            return fn(T)

        return case

    body = {}
    for n in SIZES:
        for dt in FLOATS:
            body[f"rand/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.rand(n, dtype=getattr(T, dt))
            body[f"randn/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.randn(n, dtype=getattr(T, dt))
            body[f"normal_/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).normal_(0.3, 2.7)
            body[f"uniform_/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).uniform_(-2.5, 3.7)
        body[f"randint/n={n}"] = lambda T, n=n: T.randint(-5, 7, (n,))
        body[f"randint_wide/n={n}"] = lambda T, n=n: T.randint(0, 2**30, (n,))
        body[f"randperm/n={n}"] = lambda T, n=n: T.randperm(n)
        for p in (0.1, 0.5):
            body[f"dropout/p={p}/n={n}"] = lambda T, n=n, p=p: T.nn.functional.dropout(T.ones(n), p)
            body[f"dropout_module/p={p}/n={n}"] = lambda T, n=n, p=p: T.nn.Dropout(p)(T.ones(n))
    for dt in ("float16", "float64"):
        for n in (7, 33, 1000):
            body[f"dropout/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.nn.functional.dropout(
                T.tensor(np.linspace(-2, 3, n), dtype=getattr(T, dt)), 0.3
            )
    body["dropout/2d"] = lambda T: T.nn.functional.dropout(
        T.tensor(np.arange(60.0).reshape(6, 10) / 7), 0.2
    )
    body["dropout/p=0"] = lambda T: T.nn.functional.dropout(T.ones(9), 0.0)
    body["dropout/p=1"] = lambda T: T.nn.functional.dropout(T.ones(9), 1.0)
    body["dropout/eval"] = lambda T: T.nn.Dropout(0.5).eval()(T.ones(9))
    body["dropout/inplace"] = lambda T: T.nn.functional.dropout(T.ones(40), 0.25, inplace=True)
    body["dropout/grad"] = lambda T: _dropout_grad(T)
    body["dropout/then_rand"] = lambda T: [T.nn.functional.dropout(T.ones(17), 0.5), T.rand(3)]
    body["randn/float32/2d"] = lambda T: T.randn(7, 9)
    body["rand/float64/2d"] = lambda T: T.rand(4, 5, dtype=T.float64)
    body["randn/float64/2d"] = lambda T: T.randn(6, 5, dtype=T.float64)
    body["seq/randn_mix"] = lambda T: [T.randn(3), T.rand(2), T.randn(20), T.randn(1),
                                       T.randn(16), T.randn(5, dtype=T.float64),
                                       T.rand(7, dtype=T.float64), T.randn(33, dtype=T.float64),
                                       T.randn(1)]  # fmt: skip
    body["seq/uniform_normal"] = lambda T: [T.rand(5), T.randn(17), T.randint(0, 10, (4,)),
                                            T.randperm(9), T.zeros(40).uniform_(),
                                            T.zeros(15, dtype=T.float64).normal_(),
                                            T.rand(3)]  # fmt: skip
    for shape in ((1, 1), (10, 1), (10, 8), (33, 17), (784, 16)):
        body[f"linear/{shape[0]}x{shape[1]}"] = lambda T, s=shape: [
            p.detach() for p in T.nn.Linear(*s).parameters()
        ]
        for dt in ("float16", "float64"):
            body[f"linear/{dt}/{shape[0]}x{shape[1]}"] = lambda T, s=shape, dt=dt: [
                p.detach() for p in T.nn.Linear(*s, dtype=getattr(T, dt)).parameters()
            ]
    for name, fn in body.items():
        for seed in SEEDS:
            yield f"random/{name}/seed={seed}", lambda T, fn=fn, seed=seed: seeded(fn)(T, seed)


def _dropout_grad(T):
    x = T.tensor(np.linspace(-1, 1, 50), dtype=T.float32, requires_grad=True)
    y = T.nn.functional.dropout(x, 0.4)
    (y * y).sum().backward()
    return [y.detach(), x.grad]


def cases():
    yield from _factory_cases()
    yield from _rng_cases()
