"""tapegrad.utils.data: datasets, samplers, collation and DataLoader behaviour, on both backends
(the batches and generator states are checked against PyTorch by tests/test_data_golden.py)."""

import collections

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)


@pytest.fixture(params=["cpp", "numpy"])
def backend(request):
    with tg.use_backend(request.param):
        yield request.param


def _ds(n=10):
    return TensorDataset(tg.tensor(np.arange(2.0 * n).reshape(n, 2)), tg.arange(n))


class Squares(Dataset):
    def __len__(self):
        return 9

    def __getitem__(self, i):
        return {"x": np.float32(i), "y": i * i}


def test_import_paths():
    assert tg.utils.data.DataLoader is DataLoader


@pytest.mark.parametrize("n, bs, drop, batches", [(10, 3, False, 4), (10, 3, True, 3),
                                                  (10, 5, True, 2), (4, 10, False, 1),
                                                  (4, 10, True, 0)])  # fmt: skip
def test_len_and_order(backend, n, bs, drop, batches):
    loader = DataLoader(_ds(n), batch_size=bs, drop_last=drop)
    got = [yb.tolist() for _, yb in loader]
    assert len(loader) == len(got) == batches
    flat = [i for b in got for i in b]
    assert flat == list(range(len(flat))) and all(len(b) == bs for b in got[: n // bs])
    assert [yb.tolist() for _, yb in loader] == got  # iterating twice: same batches


def test_shuffle(backend):
    tg.manual_seed(0)
    loader = DataLoader(_ds(20), batch_size=6, shuffle=True)
    first = [i for _, yb in loader for i in yb.tolist()]
    second = [i for _, yb in loader for i in yb.tolist()]
    assert sorted(first) == sorted(second) == list(range(20)) and first != second
    tg.manual_seed(0)
    assert [i for _, yb in loader for i in yb.tolist()] == first
    g1, g2 = tg.Generator().manual_seed(1), tg.Generator().manual_seed(1)
    a = [yb.tolist() for _, yb in DataLoader(_ds(20), batch_size=6, shuffle=True, generator=g1)]
    b = [yb.tolist() for _, yb in DataLoader(_ds(20), batch_size=6, shuffle=True, generator=g2)]
    assert a == b


def test_iteration_draws_from_default_generator(backend):
    tg.manual_seed(3)
    for _ in DataLoader(_ds(5), batch_size=2):
        pass
    after = tg.get_rng_state()
    tg.manual_seed(3)
    assert not np.array_equal(tg.get_rng_state(), after)  # the base seed draw, as PyTorch
    g = tg.Generator().manual_seed(3)
    tg.manual_seed(3)
    for _ in DataLoader(_ds(5), batch_size=2, shuffle=True, generator=g):
        pass
    state = tg.get_rng_state()
    tg.manual_seed(3)
    assert np.array_equal(tg.get_rng_state(), state)  # everything came from g


def test_num_workers_in_process(backend):
    tg.manual_seed(0)
    a = [yb.tolist() for _, yb in DataLoader(_ds(12), batch_size=5, shuffle=True)]
    tg.manual_seed(0)
    b = [yb.tolist() for _, yb in DataLoader(_ds(12), batch_size=5, shuffle=True, num_workers=3)]
    assert a == b


def test_pin_memory_warns(backend):
    with pytest.warns(UserWarning, match="no accelerator is found"):
        list(DataLoader(_ds(3), pin_memory=True))


def test_dataset_subclass_and_collate_fn(backend):
    batch = next(iter(DataLoader(Squares(), batch_size=4)))
    assert batch["x"].dtype is tg.float32 and batch["y"].dtype is tg.int64
    assert batch["y"].tolist() == [0, 1, 4, 9]
    loader = DataLoader(Squares(), batch_size=4, collate_fn=lambda b: len(b))
    assert list(loader) == [4, 4, 1]
    items = list(DataLoader(Squares(), batch_size=None))
    assert len(items) == 9 and items[2]["x"].dtype is tg.float32 and items[2]["y"] == 4


def test_collate_rules(backend):
    assert default_collate([1, 2]).dtype is tg.int64
    assert default_collate([1.5, 2.0]).dtype is tg.float64
    assert default_collate([True, False]).dtype is tg.bool
    assert default_collate([np.float16(1), np.float16(2)]).dtype is tg.float16
    assert default_collate(["a", "b"]) == ["a", "b"]
    out = default_collate([(1, 2.0), (3, 4.0)])
    assert isinstance(out, list) and out[0].tolist() == [1, 3]
    P = collections.namedtuple("P", "x y")
    p = default_collate([P(1, 2.0), P(3, 4.0)])
    assert isinstance(p, P) and p.y.dtype is tg.float64
    t = default_collate([tg.ones(2, dtype=tg.float16), tg.zeros(2, dtype=tg.float16)])
    assert t.dtype is tg.float16 and tuple(t.shape) == (2, 2) and t.backend == backend
    assert default_convert(np.arange(3)).dtype is tg.int64
    assert default_convert((np.ones(2), 1))[1] == 1


@pytest.mark.parametrize(
    "batch, exc, msg",
    [
        ([[1, 2], [3]], RuntimeError, "each element in list of batch should be of equal size"),
        ([None], TypeError, "default_collate: batch must contain tensors, numpy arrays, numbers, "
         "dicts or lists; found <class 'NoneType'>"),
        ([np.array(["a"])], TypeError, "default_collate: batch must contain tensors, numpy "
         "arrays, numbers, dicts or lists; found <U1"),
        ([tg.ones(2), tg.ones(3)], RuntimeError, "stack expects each tensor to be equal size, "
         "but got [2] at entry 0 and [3] at entry 1"),
    ],
)  # fmt: skip
def test_collate_errors(batch, exc, msg):
    with pytest.raises(exc) as e:
        default_collate(batch)
    assert str(e.value) == msg


def test_datasets(backend):
    ds = _ds(10)
    assert len(ds) == 10 and ds[3][1].item() == 3
    sub = Subset(ds, [9, 0, 4])
    assert len(sub) == 3 and sub[0][1].item() == 9
    cat = ConcatDataset([sub, ds])
    assert len(cat) == 13 and cat[3][1].item() == 0 and cat[-1][1].item() == 9
    assert len(sub + ds) == 13
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(tg.ones(3), tg.ones(4))


def test_random_split(backend):
    tg.manual_seed(0)
    parts = random_split(range(10), [0.3, 0.7])
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    assert [len(p) for p in random_split(range(10), [0.34, 0.33, 0.33])] == [4, 3, 3]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [-0.5, 1.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(1), [0.5, 0.5])


def test_samplers_and_loader_errors():
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert len(BatchSampler(range(5), 2, True)) == 2
    assert len(list(RandomSampler(range(5), replacement=True, num_samples=7))) == 7
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(5), 0, False)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(5), num_samples=0)
    w = tg.utils.data.WeightedRandomSampler([0.0, 1.0, 0.0, 2.0], 6)
    assert len(w) == 6 and set(w) <= {1, 3} and w.weights.dtype is tg.float64
    assert sorted(tg.utils.data.WeightedRandomSampler([1, 0, 2], 2, replacement=False)) == [0, 2]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        tg.utils.data.WeightedRandomSampler([[1.0]], 1)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(range(3), sampler=SequentialSampler(range(3)), shuffle=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(range(3), num_workers=-1)
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(range(3), batch_size=None, drop_last=True)


def test_beginner_training_loop(backend):
    """The tutorial shape: pick a device, move the model, loop over a shuffled DataLoader."""
    tg.manual_seed(0)
    device = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    x = tg.linspace(-1, 1, 40).reshape(40, 1)
    ds = TensorDataset(x, 3 * x + 0.5)
    train, val = random_split(ds, [0.8, 0.2])
    model = tg.nn.Linear(1, 1).to(device)
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        for xb, yb in DataLoader(train, batch_size=8, shuffle=True):
            xb, yb = xb.to(device), yb.to(device)
            loss = ((model(xb) - yb) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(loss.item())
    xv, yv = next(iter(DataLoader(val, batch_size=len(val))))
    assert tuple(xv.shape) == (8, 1) and losses[-1] < 1e-3 < losses[0]
    assert float(((model(xv) - yv) ** 2).mean()) < 1e-3


class Count(tg.utils.data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))


def test_iterable_dataset(backend):
    assert [b.tolist() for b in DataLoader(Count(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Count(7), batch_size=3, drop_last=True))) == 2
    assert list(DataLoader(Count(3), batch_size=None)) == [0, 1, 2]
    assert tg.utils.data.get_worker_info() is None
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Count(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Count(3), sampler=SequentialSampler(range(3)))
    with pytest.raises(TypeError):
        len(DataLoader(Count(3)))  # no __len__, as in PyTorch
