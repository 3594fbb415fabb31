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
    yield from _more_factory_cases()


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
    body.update(_more_rng_bodies())
    for name, fn in body.items():
        for seed in SEEDS:
            yield f"random/{name}/seed={seed}", lambda T, fn=fn, seed=seed: seeded(fn)(T, seed)


def _dropout_grad(T):
    x = T.tensor(np.linspace(-1, 1, 50), dtype=T.float32, requires_grad=True)
    y = T.nn.functional.dropout(x, 0.4)
    (y * y).sum().backward()
    return [y.detach(), x.grad]


def _eye(T, n, m, dt):
    return T.eye(n, dtype=dt) if m is None else T.eye(n, m, dtype=dt)


def _more_factory_cases():
    """eye, empty (zeroed here: PyTorch's values are uninitialized), full_like, legacy ctors."""
    for dt in FLOATS + INTS + ("bool",):
        for n, m in ((1, None), (3, None), (4, 7), (33, 5), (0, 3)):
            yield f"eye/{dt}/{n}x{m}", lambda T, n=n, m=m, dt=dt: _eye(T, n, m, getattr(T, dt))
        yield f"empty/{dt}", lambda T, dt=dt: T.empty(3, 4, dtype=getattr(T, dt)).zero_()
        yield (f"empty_like/{dt}", lambda T, dt=dt:
               T.empty_like(T.ones(2, 5, dtype=getattr(T, dt))).zero_())  # fmt: skip
        for v in (2.7, -1, True):
            if dt in ("uint8", "bool") and v == -1:
                continue
            yield (
                f"full_like/{dt}/v={v}",
                lambda T, v=v, dt=dt: T.full_like(T.zeros(3, 2, dtype=getattr(T, dt)), v),
            )
    yield "full_like/dtype", lambda T: T.full_like(T.zeros(4), 2.7, dtype=T.float16)
    yield "eye/default", lambda T: T.eye(5)
    yield "empty/tuple", lambda T: T.empty((2, 3)).zero_()
    yield "arange/int64", lambda T: T.arange(5)
    yield "legacy/Tensor_data", lambda T: T.Tensor([[1, 2], [3, 4.5]])
    yield "legacy/Tensor_sizes", lambda T: T.Tensor(2, 3).zero_()
    yield "legacy/Tensor_empty", lambda T: T.Tensor()
    yield "legacy/Tensor_numpy", lambda T: T.Tensor(np.arange(5))
    yield "legacy/FloatTensor", lambda T: T.FloatTensor([1, 2, 3])
    yield "legacy/DoubleTensor", lambda T: T.DoubleTensor([0.1, 0.2])
    yield "legacy/LongTensor", lambda T: T.LongTensor([1, 2, 3])
    yield "legacy/LongTensor_size", lambda T: T.LongTensor(4).zero_()
    yield "legacy/IntTensor", lambda T: T.IntTensor([1.7, -2.2])
    yield "legacy/BoolTensor", lambda T: T.BoolTensor([1, 0, 2])
    yield "legacy/ByteTensor", lambda T: T.ByteTensor([1, 255])
    yield "as_tensor/list", lambda T: T.as_tensor([1, 2, 3])
    yield "as_tensor/dtype", lambda T: T.as_tensor([1, 2, 3], dtype=T.float32, device="cpu")
    yield "as_tensor/numpy", lambda T: T.as_tensor(np.linspace(0, 1, 7))
    for dt in FLOATS + ("int64", "int32", "bool"):
        base = lambda T, dt=dt: T.ones(2, dtype=getattr(T, dt))  # noqa: E731
        yield f"new_zeros/{dt}", lambda T, b=base: b(T).new_zeros(3, 4)
        yield f"new_ones/{dt}", lambda T, b=base: b(T).new_ones((5,))
        yield f"new_empty/{dt}", lambda T, b=base: b(T).new_empty(2, 2).zero_()
        yield f"new_full/{dt}", lambda T, b=base: b(T).new_full((3,), 2.5)
        yield f"new_tensor/{dt}", lambda T, b=base: b(T).new_tensor([[1, 2], [3, 4]])
        yield f"new_ones/dtype/{dt}", lambda T, b=base: b(T).new_ones(4, dtype=T.float16)


def _more_rng_bodies():
    """The random functions beyond rand/randn/randint/randperm: *_like, normal's overloads,
    bernoulli, exponential_, random_, multinomial."""
    body = {}
    for n in (1, 7, 16, 33, 100, 1000):
        for dt in FLOATS:
            body[f"rand_like/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.rand_like(
                T.zeros(n, dtype=getattr(T, dt))
            )
            body[f"randn_like/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.randn_like(
                T.zeros(n, dtype=getattr(T, dt))
            )
            body[f"exponential_/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).exponential_(1.5)
            body[f"bernoulli/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.bernoulli(
                T.tensor(np.linspace(0, 1, n), dtype=getattr(T, dt))
            )
            body[f"bernoulli_p/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.bernoulli(
                T.zeros(n, dtype=getattr(T, dt)), p=0.3
            )
            body[f"normal/tensor_float/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.normal(
                T.tensor(np.linspace(-2, 2, n), dtype=getattr(T, dt)), 0.5
            )
            body[f"normal/float_tensor/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.normal(
                0.25, T.tensor(np.linspace(0, 3, n), dtype=getattr(T, dt))
            )
            body[f"normal/tensor_tensor/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.normal(
                T.tensor(np.linspace(-2, 2, n), dtype=getattr(T, dt)),
                T.tensor(np.linspace(0.1, 1, n), dtype=getattr(T, dt)),
            )
            body[f"normal/floats/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.normal(
                1.5, 2.0, (n,), dtype=getattr(T, dt)
            )
        body[f"normal/floats/n={n}"] = lambda T, n=n: T.normal(-1.0, 0.5, size=(n,))
        body[f"randint_like/n={n}"] = lambda T, n=n: T.randint_like(T.zeros(n, dtype=T.int64), 10)
        body[f"randint_like/lohi/n={n}"] = lambda T, n=n: T.randint_like(T.zeros(n), -3, 9)
        body[f"bernoulli_/tensor/n={n}"] = lambda T, n=n: T.zeros(n).bernoulli_(
            T.tensor(np.linspace(0, 1, n), dtype=T.float32)
        )
        for dt in FLOATS + INTS + ("bool",):
            body[f"bernoulli_/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).bernoulli_(0.6)
            body[f"random_/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).random_()
            body[f"random_to/{dt}/n={n}"] = lambda T, n=n, dt=dt: T.zeros(
                n, dtype=getattr(T, dt)
            ).random_(2)
        body[f"random_/int64_wide/n={n}"] = lambda T, n=n: T.zeros(n, dtype=T.int64).random_(
            -5, 2**40
        )
        body[f"random_/from_to/n={n}"] = lambda T, n=n: T.zeros(n).random_(-7, 100)
        body[f"random_/from_only/n={n}"] = lambda T, n=n: T.zeros(n, dtype=T.int16).random_(
            100, None
        )
    for k in (2, 5, 33, 1000):
        w = np.linspace(0.1, 2.0, k)
        for dt in FLOATS:
            body[f"multinomial/one/{dt}/k={k}"] = lambda T, w=w, dt=dt: T.multinomial(
                T.tensor(w, dtype=getattr(T, dt)), 1
            )
            body[f"multinomial/norepl/{dt}/k={k}"] = lambda T, w=w, dt=dt, k=k: T.multinomial(
                T.tensor(w, dtype=getattr(T, dt)), min(k, 3)
            )
            body[f"multinomial/repl/{dt}/k={k}"] = lambda T, w=w, dt=dt: T.multinomial(
                T.tensor(w, dtype=getattr(T, dt)), 40, replacement=True
            )
        body[f"multinomial/2d/k={k}"] = lambda T, w=w: T.multinomial(
            T.tensor(np.stack([w, w[::-1].copy(), w * w])), 2
        )
        body[f"multinomial/2d_repl/k={k}"] = lambda T, w=w: T.multinomial(
            T.tensor(np.stack([w, w[::-1].copy()]), dtype=T.float32), 7, True
        )
    body["multinomial/makemore"] = _makemore
    body["multinomial/zeros_in_row"] = lambda T: T.multinomial(T.tensor([0.0, 0.3, 0.0, 0.7]), 2)
    body["multinomial/method"] = lambda T: T.tensor([0.2, 0.8]).multinomial(5, replacement=True)
    body["seq/new_random"] = lambda T: [T.bernoulli(T.full((5,), 0.5)), T.rand(3),
                                        T.zeros(4).exponential_(), T.randn(2),
                                        T.multinomial(T.ones(6), 3), T.randn(17),
                                        T.zeros(3, dtype=T.int64).random_(), T.rand(2)]  # fmt: skip
    return body


def _makemore(T):
    """makemore's sampling loop: a seeded Generator, rows of probabilities, one index at a time."""
    g = T.Generator().manual_seed(2147483647)
    counts = T.randint(1, 50, (27, 27), generator=g).float()
    P = counts / counts.sum(1, keepdim=True)
    ix, out = 0, []
    for _ in range(40):
        ix = T.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
        out.append(ix)
    return [T.tensor(out), T.randn(3, generator=g)]


def cases():
    yield from _factory_cases()
    yield from _rng_cases()
