"""copy.copy, copy.deepcopy and pickle of tensors, parameters, modules, optimizers and state
dicts, and tensors in matplotlib, on both backends. The expectations are PyTorch 2.13's
behaviour (CPU), observed with probe scripts and written down here; the suite does not need
torch."""

import copy
import operator
import os
import pickle
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim

# torch.Tensor.__deepcopy__'s RuntimeError for a non-leaf, verbatim (two spaces after "moment.").
NON_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
    "the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
)
# torch.Tensor.numpy()'s (and so __array__'s) RuntimeError for a tensor that requires grad.
NUMPY_RG = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))


def vals(t):
    return t.detach().numpy().copy()


def big(backend, shape=(40, 25), dtype=tg.float32, rg=False, start=0.0):
    n = int(np.prod(shape))
    data = (np.arange(n, dtype=np.float32) * 0.25 + start).reshape(shape)
    return tg.tensor(data, dtype=dtype, requires_grad=rg, backend=backend)


def fill(t, value):
    """Write through `t` (an in-place change PyTorch would allow on it)."""
    with tg.no_grad():
        t.fill_(value)


def with_grad(backend, dtype=tg.float32, shape=(1000,)):
    w = big(backend, shape, dtype, rg=True)
    (w * 3.0).sum().backward()
    return w


# ---------------------------------------------------------------- copy.copy of a tensor


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_copy_is_a_new_leaf_over_the_same_storage(backend, dtype):
    # torch: a different object, same storage (a write through one shows in the other), a leaf
    t = big(backend, (40, 25), dtype)
    c = copy.copy(t)
    assert c is not t and type(c) is type(t)
    assert c.shape == (40, 25) and c.dtype is dtype and c.backend == backend
    assert c.is_leaf and not c.requires_grad and c.grad is None
    np.testing.assert_array_equal(vals(c), vals(t))
    fill(c, 100.0)
    assert (vals(t) == 100.0).all()


def test_copy_keeps_requires_grad_not_grad(backend):
    # torch: requires_grad=True kept; the copy's grad is None
    w = with_grad(backend)
    c = copy.copy(w)
    assert c.requires_grad and c.is_leaf and c.grad is None
    assert w.grad is not None
    fill(w, 2.0)
    assert (vals(c) == 2.0).all()


def test_copy_of_a_non_leaf_is_a_leaf_that_requires_grad(backend):
    # torch: copy.copy(w * 2) -> tensor(..., requires_grad=True), is_leaf True, grad_fn None
    w = big(backend, (300,), rg=True)
    y = w * 2.0
    c = copy.copy(y)
    assert c.is_leaf and c.requires_grad and c.grad_fn is None
    np.testing.assert_array_equal(vals(c), vals(w) * 2)


# ---------------------------------------------------------------- copy.deepcopy of a tensor


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_deepcopy_copies_the_storage(backend, dtype):
    t = big(backend, (50, 20), dtype)
    d = copy.deepcopy(t)
    assert d is not t and d.shape == (50, 20) and d.dtype is dtype and d.backend == backend
    assert d.is_leaf and not d.requires_grad and d.grad is None
    np.testing.assert_array_equal(vals(d), vals(t))
    fill(d, 5.0)
    assert vals(t)[0, 0] == 0.0 and vals(t)[-1, -1] == 249.75


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_deepcopy_of_a_leaf_copies_its_grad(backend, dtype):
    # torch: requires_grad kept, the grad deep-copied (equal values, own storage, no grad)
    w = with_grad(backend, dtype)
    d = copy.deepcopy(w)
    assert d.requires_grad and d.is_leaf and d.grad_fn is None
    assert d.grad is not None and d.grad.dtype is dtype and d.grad.shape == (1000,)
    assert not d.grad.requires_grad
    np.testing.assert_array_equal(vals(d.grad), np.full(1000, 3.0, dtype.np))
    fill(d.grad, 9.0)
    assert (vals(w.grad) == 3.0).all()
    d.sum().backward()  # the copy is a leaf of its own: its grad accumulates
    assert (vals(d.grad) == 10.0).all() and (vals(w.grad) == 3.0).all()


def test_deepcopy_copies_the_grad_of_a_tensor_that_does_not_require_grad(backend):
    # torch: q = ones(2); q.grad = full((2,), 3.) -> deepcopy(q).grad == [3., 3.]
    q = tg.ones(200, backend=backend)
    q.grad = tg.full((200,), 3.0, backend=backend)
    d = copy.deepcopy(q)
    assert not d.requires_grad and (vals(d.grad) == 3.0).all()


def test_deepcopy_of_a_non_leaf_raises(backend):
    w = big(backend, (100,), rg=True)
    with pytest.raises(RuntimeError) as e:
        copy.deepcopy(w * 2.0)
    assert str(e.value) == NON_LEAF
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy({"h": w.sum()})
    with tg.no_grad():
        z = w * 2.0  # a leaf that does not require grad: copied
    np.testing.assert_array_equal(vals(copy.deepcopy(z)), vals(w) * 2)


def test_deepcopy_memo_keeps_shared_tensors_shared(backend):
    a = big(backend, (64,), rg=True)
    pair = copy.deepcopy([a, a])
    assert pair[0] is pair[1] and pair[0] is not a
    d = copy.deepcopy({"x": a, "y": [a], "z": (a, 1)})
    assert d["x"] is d["y"][0] is d["z"][0] and d["x"].requires_grad
    memo = {}
    first = copy.deepcopy(a, memo)
    assert copy.deepcopy(a, memo) is first


def test_deepcopy_keeps_views_of_one_storage_sharing_it(backend):
    # torch: c, d = deepcopy([a, a.view(2, 2)]) -> c and d share one new storage;
    # so do a tensor and its detach(); the original is untouched
    a = big(backend, (100,))
    c, v = copy.deepcopy([a, a.view(10, 10)])
    assert v.shape == (10, 10) and c is not v
    fill(c, 7.0)
    assert (vals(v) == 7.0).all() and vals(a)[1] == 0.25
    w = big(backend, (100,), rg=True)
    x, xd = copy.deepcopy([w, w.detach()])
    assert x.requires_grad and not xd.requires_grad
    fill(xd, 4.0)
    assert (vals(x) == 4.0).all() and vals(w)[1] == 0.25
    u, o = copy.deepcopy([a, big(backend, (100,))])  # equal values, other storage: not shared
    fill(u, 1.0)
    assert vals(o)[1] == 0.25


def test_deepcopy_of_a_tensor_and_its_grad(backend):
    # torch: deepcopy([w, w.grad]) -> result[0].grad is result[1]. (On the cpp backend `w.grad`
    # is a new Python object on every read, so there the two share a storage, not an object.)
    w = with_grad(backend)
    d, g = copy.deepcopy([w, w.grad])
    if w.grad is w.grad:
        assert d.grad is g
    fill(g, 6.0)
    assert (vals(d.grad) == 6.0).all() and (vals(w.grad) == 3.0).all()


def test_deepcopy_of_a_0d_tensor(backend):
    s = (big(backend, (30,)) * 1.0).sum()
    d = copy.deepcopy(s)
    assert d.shape == () and d.item() == s.item() == 108.75


# ---------------------------------------------------------------- nn.Parameter


@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_copy_and_deepcopy(backend, requires_grad):
    # torch: copy.copy -> a Parameter over the same storage; deepcopy -> a Parameter over a clone
    # of its data; both keep requires_grad and have no grad (Parameter.__deepcopy__ drops it)
    p = nn.Parameter(big(backend, (40, 25)), requires_grad=requires_grad)
    if requires_grad:
        (p * 2.0).sum().backward()
    c, d = copy.copy(p), copy.deepcopy(p)
    for q in (c, d):
        assert isinstance(q, nn.Parameter) and q is not p and q.is_leaf
        assert q.requires_grad is requires_grad and q.grad is None
        assert q.shape == (40, 25) and q.backend == backend
        np.testing.assert_array_equal(vals(q), vals(p))
    fill(d, 3.0)
    assert vals(p)[0, 1] == 0.25
    fill(c, 8.0)
    assert (vals(p) == 8.0).all()
    h = copy.deepcopy(nn.Parameter(big(backend, (64,), tg.float16)))
    assert isinstance(h, nn.Parameter) and h.dtype is tg.float16 and h.requires_grad


def test_deepcopy_of_a_detached_parameter_is_a_plain_tensor(backend):
    p = nn.Parameter(big(backend, (33,)))
    d = copy.deepcopy(p.detach())
    assert not isinstance(d, nn.Parameter) and not d.requires_grad


# ---------------------------------------------------------------- nn.Module


def _mlp(backend, dtype=tg.float32):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(dtype)


def _x(backend, dtype=tg.float32, n=50):
    rng = np.random.default_rng(0)
    return tg.tensor(rng.normal(size=(n, 4)).astype(np.float32), dtype=dtype, backend=backend)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_deepcopy_of_a_module(backend, dtype):
    # torch: new Parameters (requires_grad kept, grad None), same outputs, independent weights
    m, x = _mlp(backend, dtype), _x(backend, dtype)
    m(x).sum().backward()
    m2 = copy.deepcopy(m)
    assert type(m2) is nn.Sequential and isinstance(m2[0], nn.Linear) and m2[0] is not m[0]
    names = [n for n, _ in m.named_parameters()]
    assert [n for n, _ in m2.named_parameters()] == names == ["0.weight", "0.bias", "2.weight",
                                                              "2.bias"]  # fmt: skip
    for p, q in zip(m.parameters(), m2.parameters()):
        assert isinstance(q, nn.Parameter) and q is not p and q.requires_grad
        assert q.grad is None and p.grad is not None and q.dtype is dtype
    np.testing.assert_array_equal(vals(m2(x)), vals(m(x)))
    with tg.no_grad():
        m2[0].weight.add_(1.0)
    assert not np.array_equal(vals(m2(x)), vals(m(x)))
    assert m2[0].weight is m2._modules["0"].weight  # the registry and __dict__ agree


def test_shallow_copy_of_a_module_shares_its_children(backend):
    m = _mlp(backend)
    c = copy.copy(m)
    assert c is not m and c[0] is m[0] and c._modules is m._modules


def test_deepcopy_keeps_tied_parameters_tied(backend):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(3, 3)
            self.b = nn.Linear(3, 3)
            self.b.weight = self.a.weight

    with tg.use_backend(backend):
        t = Tied()
    t2 = copy.deepcopy(t)
    assert t2.a.weight is t2.b.weight and t2.a.weight is not t.a.weight
    assert len(list(t2.parameters())) == 3  # torch: 3


def test_deepcopy_of_a_module_with_a_buffer_and_a_non_leaf(backend):
    with tg.use_backend(backend):
        m = nn.Linear(3, 2)
        m.register_buffer("buf", tg.ones(40))
    m2 = copy.deepcopy(m)
    assert not isinstance(m2.buf, nn.Parameter) and not m2.buf.requires_grad
    assert m2.buf is not m.buf and "buf" in m2.state_dict()
    m.cache = m(tg.ones(3, backend=backend))  # a non-leaf attribute: torch raises
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(m)


# ---------------------------------------------------------------- optimizers


def _trained(backend, opt_name):
    m, x = _mlp(backend), _x(backend)
    if opt_name == "sgd":
        o = optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    else:
        o = optim.Adam(m.parameters(), lr=0.01)
    m(x).sum().backward()
    o.step()
    return m, o, x


STATE_KEYS = {"sgd": ["momentum_buffer"], "adam": ["step", "exp_avg", "exp_avg_sq"]}


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_deepcopy_of_a_model_and_its_optimizer_stays_linked(backend, opt_name):
    m, o, x = _trained(backend, opt_name)
    m2, o2 = copy.deepcopy((m, o))
    assert type(o2) is type(o) and o2.defaults == o.defaults and o2.defaults is not o.defaults
    params = list(m2.parameters())
    assert all(a is b for a, b in zip(params, o2.param_groups[0]["params"]))
    assert len(o2.state) == 4 and all(p in o2.state for p in params)
    for p, q in zip(m.parameters(), params):
        st, st2 = o.state[p], o2.state[q]
        assert list(st2) == STATE_KEYS[opt_name]
        for k in st:
            assert st2[k] is not st[k] and st2[k].shape == st[k].shape
            np.testing.assert_array_equal(vals(st2[k]), vals(st[k]))
    if opt_name == "adam":
        step = o2.state[params[0]]["step"]
        assert step.shape == () and step.dtype is tg.float32 and step.item() == 1.0
    # the copy trains on its own, exactly as the original does
    for model, opt in ((m, o), (m2, o2)):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    for p, q in zip(m.parameters(), params):
        np.testing.assert_array_equal(vals(q), vals(p))
    first = o.state[next(m.parameters())]
    for k, v in o2.state[params[0]].items():  # the copy's state moved on its own storage
        np.testing.assert_array_equal(vals(v), vals(first[k]))
        fill(v, 0.0)
    assert any(vals(first[k]).any() for k in first)


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_deepcopy_and_copy_of_an_optimizer_alone(backend, opt_name):
    # torch: deepcopy(opt) copies its parameters too (grad None), and its state follows them;
    # copy.copy(opt) shares state and param_groups
    m, o, _ = _trained(backend, opt_name)
    o2 = copy.deepcopy(o)
    params = o2.param_groups[0]["params"]
    assert all(a is not b for a, b in zip(params, o.param_groups[0]["params"]))
    assert all(p.grad is None and p.requires_grad for p in params)
    assert {id(k) for k in o2.state} == {id(p) for p in params}
    c = copy.copy(o)
    assert c.state is o.state and c.param_groups is o.param_groups
    sd2 = copy.deepcopy(o.state_dict())
    assert list(sd2["state"]) == [0, 1, 2, 3] and sd2["param_groups"][0]["params"] == [0, 1, 2, 3]
    o3 = pickle.loads(pickle.dumps(o))
    assert type(o3) is type(o) and len(o3.state) == 4
    assert {id(k) for k in o3.state} == {id(p) for p in o3.param_groups[0]["params"]}


# ---------------------------------------------------------------- state dicts


def test_state_dict_copies(backend):
    m, x = _mlp(backend), _x(backend)
    m(x).sum().backward()
    sd = m.state_dict()
    sd2 = copy.deepcopy(sd)
    assert type(sd2) is OrderedDict and list(sd2) == list(sd)
    for k in sd:
        assert not sd2[k].requires_grad and sd2[k] is not sd[k]
        np.testing.assert_array_equal(vals(sd2[k]), vals(sd[k]))
        fill(sd2[k], 0.0)
    assert vals(m[0].weight).any()
    c = copy.copy(sd)
    assert type(c) is OrderedDict and all(c[k] is sd[k] for k in sd)
    p = pickle.loads(pickle.dumps(sd))
    assert type(p) is OrderedDict and list(p) == list(sd)
    for k in sd:
        np.testing.assert_array_equal(vals(p[k]), vals(sd[k]))
    m3 = copy.deepcopy(m)
    m3.load_state_dict(p)
    np.testing.assert_array_equal(vals(m3(x)), vals(m(x)))
    kv = copy.deepcopy(m.state_dict(keep_vars=True))  # torch: Parameters, grad None
    assert all(isinstance(v, nn.Parameter) and v.grad is None for v in kv.values())


# ---------------------------------------------------------------- pickle


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_pickle_round_trip(backend, dtype, protocol):
    # torch: values, dtype, shape and requires_grad come back (a leaf, grad None), every protocol
    for rg in (False, True):
        t = big(backend, (40, 25), dtype, rg=rg, start=-100.0)
        p = pickle.loads(pickle.dumps(t, protocol=protocol))
        assert type(p) is type(t) and p.backend == backend and p.dtype is dtype
        assert p.shape == (40, 25) and p.requires_grad is rg and p.is_leaf and p.grad is None
        np.testing.assert_array_equal(vals(p), vals(t))
        fill(p, 1.0)
        assert vals(t)[0, 0] == -100.0


def test_pickle_drops_grad_and_history(backend):
    # torch: a leaf's grad is not pickled; a non-leaf comes back as a leaf with requires_grad
    w = with_grad(backend)
    p = pickle.loads(pickle.dumps(w))
    assert p.requires_grad and p.grad is None
    y = pickle.loads(pickle.dumps(w * 2.0))
    assert y.is_leaf and y.requires_grad and y.grad_fn is None
    np.testing.assert_array_equal(vals(y), vals(w) * 2)
    s = pickle.loads(pickle.dumps(tg.tensor(3.5, backend=backend)))
    assert s.shape == () and s.item() == 3.5


def test_pickle_keeps_parameters_and_shared_objects(backend):
    p = nn.Parameter(big(backend, (100,)))
    frozen = nn.Parameter(big(backend, (100,)), requires_grad=False)
    a = big(backend, (70,))
    out = pickle.loads(pickle.dumps([p, frozen, a, a]))
    assert isinstance(out[0], nn.Parameter) and out[0].requires_grad
    assert isinstance(out[1], nn.Parameter) and not out[1].requires_grad
    assert not isinstance(out[2], nn.Parameter) and out[2] is out[3]
    with tg.use_backend(backend):
        lin = nn.Linear(30, 20)
    lin2 = pickle.loads(pickle.dumps(lin))
    assert isinstance(lin2.weight, nn.Parameter) and lin2.weight.requires_grad
    np.testing.assert_array_equal(vals(lin2.weight), vals(lin.weight))


def test_tg_load_still_refuses_a_pickled_tensor(backend, tmp_path):
    path = tmp_path / "t.pt"
    path.write_bytes(pickle.dumps({"w": big(backend, (10,))}))
    with pytest.raises(ValueError, match="is a Python pickle"):
        tg.load(path)


def test_numpy_backend_pickles_unpickle_without_the_extension():
    t = big("numpy", (40, 25), tg.float16, rg=True)
    data = pickle.dumps({"t": t, "p": nn.Parameter(big("numpy", (50,)))})
    assert b"tapegrad._core" not in data and b"CTensor" not in data
    code = (
        "import pickle, sys\n"
        "sys.modules['tapegrad._core'] = None  # the extension cannot be imported\n"
        "d = pickle.loads(sys.stdin.buffer.read())\n"
        "t, p = d['t'], d['p']\n"
        "import tapegrad.nn as nn\n"
        "print(type(t).__name__, t.backend, t.dtype, tuple(t.shape), t.requires_grad,\n"
        "      t.detach().numpy().astype('f8').sum(), isinstance(p, nn.Parameter), p.backend)\n"
    )
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT, TAPEGRAD_BACKEND="numpy")
    res = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         env=env, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    want = f"NTensor numpy torch.float16 (40, 25) True {vals(t).astype('f8').sum()} True numpy"
    assert res.stdout.decode().strip() == want


def test_tensors_cross_process_boundaries():
    # multiprocessing pickles arguments and results: a leaf keeps requires_grad (torch too)
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        for backend in ("cpp", "numpy"):
            t = big(backend, (40, 25))
            r = pool.apply(operator.mul, (t, 2.0))
            assert r.backend == backend and r.shape == (40, 25)
            np.testing.assert_array_equal(vals(r), vals(t) * 2)
            w = big(backend, (64,), tg.float16, rg=True)
            r = pool.apply(copy.deepcopy, (w,))
            assert r.requires_grad and r.dtype is tg.float16 and r.backend == backend


# ---------------------------------------------------------------- NumPy and matplotlib


def test_array_refuses_a_tensor_that_requires_grad(backend):
    # torch: __array__ is numpy(), which refuses a tensor that requires grad
    w = big(backend, (100,), rg=True)
    for f in (np.asarray, np.array, lambda t: np.asarray(t, dtype=np.float64)):
        with pytest.raises(RuntimeError) as e:
            f(w)
        assert str(e.value) == NUMPY_RG
        with pytest.raises(RuntimeError, match="requires grad"):
            f(w * 2.0)
    np.testing.assert_array_equal(np.asarray(w.detach()), vals(w))
    assert np.asarray(w.detach(), dtype=np.float64).dtype == np.float64


@pytest.fixture
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as pyplot

    yield pyplot
    pyplot.close("all")


def test_matplotlib_plot_scatter_hist(backend, plt, tmp_path):
    with tg.use_backend(backend):
        x = tg.linspace(0, 1, 100)
    y = x**2
    (line,) = plt.plot(x, y)
    np.testing.assert_allclose(line.get_xydata(), np.stack([vals(x), vals(y)], 1), rtol=1e-6)
    assert type(line.get_xdata(orig=True)) is np.ndarray  # torch too
    lines = plt.plot(x.view(-1, 1), y.view(-1, 1), "r")
    assert len(lines) == 1 and len(lines[0].get_ydata()) == 100
    (line,) = plt.plot(y)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(100))
    col = plt.scatter(x, y, s=10)
    np.testing.assert_allclose(col.get_offsets(), np.stack([vals(x), vals(y)], 1), rtol=1e-6)
    assert plt.scatter(x.view(-1, 1), y.view(-1, 1)).get_offsets().shape == (100, 2)
    counts, edges, _ = plt.hist(y, bins=10)
    np.testing.assert_array_equal(counts, [32, 13, 10, 8, 8, 6, 6, 6, 5, 6])  # torch's counts
    assert edges[0] == 0.0 and edges[-1] == 1.0
    counts, _, _ = plt.hist(y.view(50, 2))  # two columns, two datasets (torch too)
    assert np.asarray(counts).shape == (2, 10) and np.asarray(counts).sum() == 100
    (line,) = plt.plot(x.half(), y.half())
    assert len(line.get_ydata()) == 100
    (line,) = plt.plot([tg.tensor(1.0, backend=backend), tg.tensor(2.0, backend=backend)])
    np.testing.assert_array_equal(line.get_ydata(), [1.0, 2.0])
    plt.savefig(tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 0


def test_matplotlib_refuses_tensors_that_require_grad(backend, plt):
    # torch: RuntimeError "Can't call numpy() on Tensor that requires grad..." from all three
    with tg.use_backend(backend):
        x = tg.linspace(0, 1, 100)
        w = tg.linspace(0, 1, 100, requires_grad=True)
    z = w * 2.0
    scalar = tg.tensor(1.0, requires_grad=True, backend=backend)
    calls = [
        lambda: plt.plot(w),
        lambda: plt.plot(x, z),
        lambda: plt.scatter(x, z),
        lambda: plt.hist(w),
        lambda: plt.hist([w[:50], w[50:]]),
        lambda: plt.plot([scalar]),
    ]
    for f in calls:
        with pytest.raises(RuntimeError, match="Use tensor.detach"):
            f()
    (line,) = plt.plot(x, z.detach())
    np.testing.assert_allclose(line.get_ydata(), vals(x) * 2, rtol=1e-6)
    assert len(plt.plot(x, z.data)[0].get_ydata()) == 100
