"""Parity cases for the data slice: devices and `.to()`, legacy names (Variable, type(),
nelement, ...), and `utils.data` (collation, TensorDataset, Subset, random_split, DataLoader with
and without shuffling, with the generator state checked afterwards by a `rand` draw).

Factories and random functions are in cases_factories.py. Each case is fn(T) for T in (torch,
tapegrad); an error case returns the index of the exception type in ERRORS, so that both
libraries must raise the same type.
"""

import numpy as np

ERRORS = (RuntimeError, TypeError, ValueError, AssertionError, NotImplementedError, IndexError)
FLOATS = ("float32", "float16", "float64")
SEEDS = (0, 1, 42)


def _raises(fn):
    def case(T):
        try:
            fn(T)
        except ERRORS as e:
            return next(i for i, k in enumerate(ERRORS) if isinstance(e, k))
        return -1

    return case


def _x(T, n=7, dt="float32"):
    return T.tensor(np.linspace(-1.5, 2.5, n), dtype=getattr(T, dt))


def _device_cases():
    yield "device/is_available", lambda T: [T.cuda.is_available(), T.cuda.device_count(),
                                            T.backends.mps.is_available()]  # fmt: skip
    yield (
        "device/fields",
        lambda T: [
            T.device("cpu").index is None,
            T.device("cpu", 0).index,
            T.device("cuda:1").index,
            T.device("cpu").type == "cpu",
        ],
    )
    yield (
        "device/eq",
        lambda T: [
            T.device("cpu") == T.device("cpu"),
            T.device("cpu") == "cpu",
            T.device("cpu:0") == T.device("cpu"),
            T.device("cpu", 0) == T.device("cpu:0"),
        ],
    )
    yield (
        "device/str",
        lambda T: [
            str(T.device("cpu")) == "cpu",
            str(T.device("cpu", 0)) == "cpu:0",
            repr(T.device("cpu")) == "device(type='cpu')",
            repr(T.device("cuda", 1)) == "device(type='cuda', index=1)",
        ],
    )
    yield "device/idiom", lambda T: _x(T).to(T.device("cuda" if T.cuda.is_available() else "cpu"))
    yield "device/tensor_device", lambda T: [_x(T).device == T.device("cpu"), _x(T).is_cuda]
    for dt in FLOATS + ("int64", "int32", "bool"):
        yield (
            f"to/device_dtype/{dt}",
            lambda T, dt=dt: _x(T, 33).to(T.device("cpu"), getattr(T, dt)),
        )
        yield f"to/str_dtype/{dt}", lambda T, dt=dt: _x(T, 16).to("cpu", getattr(T, dt))
        yield f"to/kw/{dt}", lambda T, dt=dt: _x(T, 16).to(device="cpu", dtype=getattr(T, dt))
    yield "to/cpu_same", lambda T: [_x(T).to("cpu") is not None, _x(T).cpu()]
    yield "to/tensor", lambda T: _x(T).to(T.zeros(1, dtype=T.float64))
    yield "to/copy", lambda T: _x(T).to(T.float32, copy=True)
    yield "to/grad", lambda T: _to_grad(T)
    yield "module/to_device", lambda T: _module_to(T, lambda m: m.to(T.device("cpu")))
    yield "module/to_str_dtype", lambda T: _module_to(T, lambda m: m.to("cpu", T.float64))
    yield "module/to_dtype_kw", lambda T: _module_to(T, lambda m: m.to(dtype=T.float16))
    yield "module/cpu", lambda T: _module_to(T, lambda m: m.cpu())
    for name, fn in {
        "cuda_tensor": lambda T: _x(T).cuda(),
        "cuda_module": lambda T: T.nn.Linear(2, 2).cuda(),
        "to_cuda": lambda T: _x(T).to("cuda"),
        "to_cuda_device": lambda T: _x(T).to(T.device("cuda:0")),
        "module_to_cuda": lambda T: T.nn.Linear(2, 2).to("cuda"),
        "zeros_cuda": lambda T: T.zeros(2, device="cuda"),
        "rand_cuda": lambda T: T.rand(2, device="cuda"),
        "tensor_cuda": lambda T: T.tensor([1.0], device="cuda"),
        "bad_string": lambda T: T.device("gpu"),
        "bad_index": lambda T: T.device("cpu:x"),
        "negative_index": lambda T: T.device("cuda", -1),
        "int_device": lambda T: T.device(0),
        "zeros_bad": lambda T: T.zeros(2, device="bogus"),
        "to_two_dtypes": lambda T: _x(T).to(T.float64, T.float64),
        "to_bad_kw": lambda T: _x(T).to(foo=1),
    }.items():
        yield f"device/error/{name}", _raises(fn)


def _to_grad(T):
    x = _x(T, 33).requires_grad_()
    y = x.to("cpu", T.float64)
    (y * y).sum().backward()
    return [y.detach(), x.grad]


def _module_to(T, move):
    T.manual_seed(0)
    m = T.nn.Linear(3, 2)
    out = move(m)
    return [out is m] + [p.detach() for p in m.parameters()]


def _legacy_cases():
    for dt in FLOATS + ("int64", "int32", "int16", "int8", "uint8", "bool"):
        yield (
            f"legacy/type/{dt}",
            lambda T, dt=dt: T.zeros(2, dtype=getattr(T, dt)).type() == "torch." + _TYPE[dt],
        )
        yield f"legacy/type_name/{dt}", lambda T, dt=dt: _x(T).type("torch." + _TYPE[dt])
        yield f"legacy/type_class/{dt}", lambda T, dt=dt: _x(T).type(getattr(T, _TYPE[dt]))
        yield (
            f"legacy/isinstance/{dt}",
            lambda T, dt=dt: [
                isinstance(T.zeros(2, dtype=getattr(T, dt)), getattr(T, k)) for k in _TYPE.values()
            ],
        )
    x = lambda T: T.zeros(2, 3, 5)  # noqa: E731
    yield "legacy/sizes", lambda T: [x(T).nelement(), x(T).numel(), x(T).dim(), x(T).ndimension(),
                                     x(T).ndim, x(T).size(1), x(T).size(-1), list(x(T).shape),
                                     list(x(T).size())]  # fmt: skip
    yield "legacy/data", lambda T: _x(T).data
    yield "legacy/variable", lambda T: _variable(T)
    yield "legacy/variable_plain", lambda T: T.autograd.Variable(_x(T))
    yield "legacy/variable_isinstance", lambda T: isinstance(_x(T), T.autograd.Variable)
    yield "legacy/error/size_range", _raises(lambda T: T.zeros(2, 3).size(2))
    yield "legacy/error/variable_list", _raises(lambda T: T.autograd.Variable([1, 2]))
    yield (
        "legacy/error/variable_int",
        _raises(lambda T: T.autograd.Variable(T.ones(2, dtype=T.int64), requires_grad=True)),
    )
    yield "legacy/error/long_from_float", _raises(lambda T: T.LongTensor(T.ones(2)))
    yield "legacy/error/tensor_float", _raises(lambda T: T.Tensor(2.5))
    yield "legacy/error/tensor_str", _raises(lambda T: T.Tensor("a"))
    yield "legacy/error/tensor_negative", _raises(lambda T: T.FloatTensor(-1))
    yield "legacy/error/tensor_mixed", _raises(lambda T: T.Tensor(2, 3.0))
    yield "legacy/error/type_cuda", _raises(lambda T: _x(T).type("torch.cuda.FloatTensor"))
    yield "legacy/error/eye_float", _raises(lambda T: T.eye(2.0))
    yield "legacy/error/eye_negative", _raises(lambda T: T.eye(-1))


_TYPE = {"float32": "FloatTensor", "float16": "HalfTensor", "float64": "DoubleTensor",
         "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
         "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}  # fmt: skip


def _variable(T):
    v = T.autograd.Variable(_x(T, 33), requires_grad=True)
    (v * v).sum().backward()
    return [v.detach(), v.grad, v.requires_grad]


def _collate_cases():
    yield "collate/ints", lambda T: T.utils.data.default_collate([1, 2, 3])
    yield "collate/floats", lambda T: T.utils.data.default_collate([1.5, 2.0, -0.1])
    yield "collate/bools", lambda T: T.utils.data.default_collate([True, False])
    yield (
        "collate/np_scalars",
        lambda T: T.utils.data.default_collate([np.float32(1.5), np.float32(2)]),
    )
    yield "collate/np_int32", lambda T: T.utils.data.default_collate([np.int32(3), np.int32(4)])
    yield "collate/np_arrays", lambda T: T.utils.data.default_collate([np.arange(4.0), np.ones(4)])
    yield "collate/tuples", lambda T: T.utils.data.default_collate([(1, 2.0), (3, 4.0)])
    yield "collate/lists", lambda T: T.utils.data.default_collate([[1, 2], [3, 4]])
    yield (
        "collate/dict",
        lambda T: list(
            T.utils.data.default_collate(
                [{"a": 1, "b": _x(T, 3)}, {"a": 2, "b": _x(T, 3) * 2}]
            ).values()
        ),
    )
    for dt in FLOATS + ("int64",):
        yield (
            f"collate/tensors/{dt}",
            lambda T, dt=dt: T.utils.data.default_collate(
                [_x(T, 5, dt), _x(T, 5, dt) + 1, _x(T, 5, dt) * 3]
            ),
        )
    yield (
        "collate/scalar_tensors",
        lambda T: T.utils.data.default_collate([T.tensor(1.0), T.tensor(2.5)]),
    )
    yield "collate/error/ragged", _raises(lambda T: T.utils.data.default_collate([[1, 2], [3]]))
    yield (
        "collate/error/shapes",
        _raises(lambda T: T.utils.data.default_collate([T.ones(2), T.ones(3)])),
    )
    yield "collate/error/none", _raises(lambda T: T.utils.data.default_collate([None]))


def _dataset(T, n=10):
    x = T.tensor(np.arange(3.0 * n).reshape(n, 3), dtype=T.float32)
    y = T.tensor(np.arange(n) % 3)
    return T.utils.data.TensorDataset(x, y)


def _epochs(T, loader, epochs=2):
    out = [len(loader)]
    for _ in range(epochs):
        for xb, yb in loader:
            out += [xb, yb]
    return out + [T.rand(3)]  # the default generator's state afterwards


def _loader_bodies():
    D = lambda T: T.utils.data  # noqa: E731
    body = {}
    for n, bs in ((10, 1), (10, 3), (10, 4), (33, 8), (100, 32), (7, 7), (5, 10)):
        for drop in (False, True):
            for shuffle in (False, True):
                body[f"loader/n={n}/bs={bs}/drop={drop}/shuffle={shuffle}"] = (
                    lambda T, n=n, bs=bs, drop=drop, shuffle=shuffle: _epochs(
                        T, D(T).DataLoader(_dataset(T, n), batch_size=bs, shuffle=shuffle,
                                           drop_last=drop)))  # fmt: skip
    body["loader/generator"] = lambda T: _epochs(
        T,
        D(T).DataLoader(
            _dataset(T, 20), batch_size=6, shuffle=True, generator=T.Generator().manual_seed(7)
        ),
    )
    body["loader/generator_state"] = lambda T: _generator_state(T)
    body["loader/workers"] = lambda T: _epochs(
        T, D(T).DataLoader(_dataset(T, 12), batch_size=5, shuffle=True, num_workers=2)
    )
    body["loader/no_batch"] = lambda T: (
        [b for b in D(T).DataLoader([np.arange(3.0), np.ones(3)], batch_size=None)] + [T.rand(2)]
    )
    body["loader/list_dataset"] = lambda T: _list_loader(T)
    body["loader/collate_fn"] = lambda T: [
        b
        for b in D(T).DataLoader(list(range(7)), batch_size=3, collate_fn=lambda b: T.tensor(b) * 2)
    ]
    body["loader/sampler"] = lambda T: _epochs(
        T,
        D(T).DataLoader(
            _dataset(T, 9), batch_size=2, sampler=D(T).SubsetRandomSampler([0, 2, 4, 6, 8])
        ),
    )
    body["loader/replacement"] = lambda T: (
        [
            b
            for b in D(T).DataLoader(
                list(range(40)),
                batch_size=8,
                sampler=D(T).RandomSampler(range(40), replacement=True, num_samples=70),
            )
        ]
        + [T.rand(2)]
    )
    for lengths in ([3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [0.34, 0.33, 0.33], [10, 0]):
        body[f"random_split/{lengths}"] = lambda T, lengths=lengths: _split(T, lengths)
    body["random_split/generator"] = lambda T: _split(
        T, [4, 6], generator=T.Generator().manual_seed(3)
    )
    body["subset"] = lambda T: list(D(T).Subset(_dataset(T, 10), [9, 0, 4])[1])
    body["training_loop"] = _training_loop
    for repl in (True, False):
        body[f"loader/weighted/replacement={repl}"] = lambda T, repl=repl: [
            b for b in D(T).DataLoader(list(range(30)), batch_size=4,
                                       sampler=D(T).WeightedRandomSampler(
                                           [0.1 * (i % 7) + 0.05 for i in range(30)], 25, repl))
        ] + [T.rand(2)]  # fmt: skip
    for bs, drop in ((4, False), (4, True), (5, False), (None, False)):
        body[f"loader/iterable/bs={bs}/drop={drop}"] = lambda T, bs=bs, drop=drop: _iterable(
            T, bs, drop
        )
    body["loader/error/iterable_shuffle"] = _raises(
        lambda T: T.utils.data.DataLoader(_stream(T, 5), shuffle=True)
    )
    return body


def _stream(T, n):
    class Stream(T.utils.data.IterableDataset):
        def __iter__(self):
            return iter([(np.float32(i) / 4, i) for i in range(n)])

        def __len__(self):
            return n

    return Stream()


def _iterable(T, bs, drop):
    loader = T.utils.data.DataLoader(_stream(T, 10), batch_size=bs, drop_last=drop)
    out = [len(loader)]
    for _ in range(2):
        for b in loader:
            out += list(b) if isinstance(b, (list, tuple)) else [b]
    return out + [T.rand(2)]


def _training_loop(T):
    """A tutorial's loop: device idiom, random_split, shuffled batches, Linear, MSE, SGD."""
    device = T.device("cuda" if T.cuda.is_available() else "cpu")
    x = T.tensor(np.linspace(-1, 1, 40, dtype=np.float32).reshape(40, 1))
    train, _ = T.utils.data.random_split(T.utils.data.TensorDataset(x, 3 * x + 0.5), [0.8, 0.2])
    model = T.nn.Linear(1, 1).to(device)
    opt = T.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        for xb, yb in T.utils.data.DataLoader(train, batch_size=8, shuffle=True):
            loss = ((model(xb.to(device)) - yb.to(device)) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.detach())
    return losses + [p.detach() for p in model.parameters()] + [T.rand(2)]


def _list_loader(T):
    data = [(np.float32(i) / 3, i % 2) for i in range(11)]
    out = []
    for xb, yb in T.utils.data.DataLoader(data, batch_size=4, shuffle=True):
        out += [xb, yb]
    return out


def _generator_state(T):
    g = T.Generator().manual_seed(5)
    loader = T.utils.data.DataLoader(_dataset(T, 9), batch_size=4, shuffle=True, generator=g)
    out = _epochs(T, loader, 1)
    return out + [T.rand(4, generator=g)]


def _split(T, lengths, generator=None):
    parts = T.utils.data.random_split(range(10), lengths, generator=generator)
    return [len(p) for p in parts] + [list(p) for p in parts if len(p)] + [T.rand(2)]


def cases():
    yield from _device_cases()
    yield from _legacy_cases()
    yield from _collate_cases()
    for name, fn in _loader_bodies().items():
        for seed in SEEDS:
            yield f"data/{name}/seed={seed}", lambda T, fn=fn, seed=seed: _seeded(T, fn, seed)


def _seeded(T, fn, seed):
    T.manual_seed(seed)
    return fn(T)
