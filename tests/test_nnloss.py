"""The nnloss slice's API without PyTorch: grad_fn names, dtypes, PyTorch's errors (wording and
type), module reprs, the containers and nn.init's semantics. Its numbers are checked bit for bit
by tests/test_nnloss_golden.py."""

import warnings

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F


def _x(backend, shape=(3, 5), dtype=tg.float32, rg=True):
    arr = np.random.default_rng(0).standard_normal(shape)
    return tg.tensor(arr, dtype=dtype, requires_grad=rg, backend=backend)


def _t(backend, vals):
    return tg.tensor(np.asarray(vals, np.int64), backend=backend)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16, tg.float64], ids=str)
def test_softmax_family_names_and_dtypes(backend, dtype):
    x = _x(backend, dtype=dtype)
    for fn, name in ((tg.softmax, "SoftmaxBackward0"), (tg.log_softmax, "LogSoftmaxBackward0")):
        y = fn(x, 1)
        assert y.dtype is dtype and y.grad_fn.name() == name
    assert x.softmax(-1).grad_fn.name() == "SoftmaxBackward0"
    assert F.log_softmax(x, 0).shape == (3, 5)
    y = F.softmax(x, 1, dtype=tg.float64)
    assert y.dtype is tg.float64
    below = y.grad_fn.next_functions[0][0].name()
    assert below == ("AccumulateGrad" if dtype is tg.float64 else "ToCopyBackward0")


def test_softmax_rows_sum_to_one_and_scalar(backend):
    y = tg.softmax(_x(backend, (4, 33)), 1).detach().numpy()
    np.testing.assert_allclose(y.sum(1), 1, rtol=1e-6)
    assert tg.softmax(tg.tensor(2.0, backend=backend), 0).item() == 1.0


def test_softmax_errors_and_implicit_dim(backend):
    with pytest.raises(NotImplementedError, match='"softmax_lastdim_kernel_impl" not impl'):
        tg.softmax(_t(backend, [1, 2]), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.softmax(_x(backend), 2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        y = F.softmax(_x(backend))
    assert "Implicit dimension choice for softmax" in str(w[0].message)
    np.testing.assert_allclose(y.detach().numpy().sum(1), 1, rtol=1e-6)  # dim 1 for 2-D


def test_nll_and_cross_entropy_grad_fns(backend):
    x = _x(backend)
    t = _t(backend, [1, 0, 4])
    assert F.nll_loss(x, t).grad_fn.name() == "NllLossBackward0"
    assert F.cross_entropy(x, t).grad_fn.name() == "NllLossBackward0"
    x4 = _x(backend, (2, 5, 3, 4))
    t4 = tg.tensor(np.zeros((2, 3, 4), np.int64), backend=backend)
    assert F.cross_entropy(x4, t4).grad_fn.name() == "NllLoss2DBackward0"
    x3 = _x(backend, (2, 5, 4))
    t3 = tg.tensor(np.zeros((2, 4), np.int64), backend=backend)
    assert F.cross_entropy(x3, t3, reduction="none").grad_fn.name() == "ViewBackward0"
    assert F.cross_entropy(x3, t3, reduction="none").shape == (2, 4)
    p = tg.tensor(np.full((3, 5), 0.2, np.float32), backend=backend)
    assert F.cross_entropy(x, p).grad_fn.name() == "DivBackward1"
    assert F.cross_entropy(x, p, reduction="sum").grad_fn.name() == "NegBackward0"
    assert F.cross_entropy(x, t, label_smoothing=0.1).grad_fn.name() == "AddBackward0"
    u = F.cross_entropy(_x(backend, (5,)), tg.tensor(2, backend=backend))
    assert u.shape == () and u.grad_fn.name() == "NllLossBackward0"


def test_nll_loss_errors(backend):
    x = _x(backend)
    with pytest.raises(
        RuntimeError, match="expected target dtype to be Long or Byte, but got Float"
    ):
        F.nll_loss(x, tg.tensor([1.0, 2.0, 3.0], backend=backend))
    with pytest.raises(IndexError, match="^Target 5 is out of bounds.$"):
        F.nll_loss(x, _t(backend, [1, 2, 5]))
    with pytest.raises(IndexError, match="^Target -1 is out of bounds.$"):
        F.cross_entropy(x, _t(backend, [1, 2, -1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target"):
        F.nll_loss(x, _t(backend, [1, 2]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5"):
        F.nll_loss(x, _t(backend, [1, 2, 3]), weight=tg.ones(4, backend=backend))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 4\], got \[2, 3\]"):
        F.nll_loss(_x(backend, (2, 5, 4)), tg.tensor(np.zeros((2, 3), np.int64), backend=backend))
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        F.cross_entropy(x, _t(backend, [1, 2, 3]), reduction="bogus")
    # a Byte target is taken, and an ignored target adds nothing
    b = tg.tensor(np.array([1, 2, 3], np.uint8), backend=backend)
    assert F.nll_loss(x, b).item() == F.nll_loss(x, _t(backend, [1, 2, 3])).item()
    assert F.nll_loss(x, _t(backend, [1, -100, 3]), reduction="none").detach().numpy()[1] == 0


def test_nll_loss_gradient_places(backend):
    x = _x(backend)
    F.nll_loss(x, _t(backend, [1, 0, 4]), reduction="sum").backward()
    want = np.zeros((3, 5), np.float32)
    want[[0, 1, 2], [1, 0, 4]] = -1
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_one_hot(backend):
    out = F.one_hot(_t(backend, [0, 2, 1]))
    assert out.dtype is tg.int64 and out.shape == (3, 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(_t(backend, [[0], [2]]), 5).shape == (2, 1, 5)
    for vals, n, msg in (
        ([0, 2], 2, "Class values must be smaller than num_classes."),
        ([0, -2], -1, "Class values must be non-negative."),
        ([], -1, "Can not infer total number of classes from empty tensor."),
    ):
        with pytest.raises(RuntimeError, match=msg):
            F.one_hot(_t(backend, vals), n)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor"):
        F.one_hot(tg.tensor([0.0, 1.0], backend=backend))


def test_embedding(backend):
    tg.manual_seed(0)
    with tg.use_backend(backend):
        emb = nn.Embedding(10, 3, padding_idx=0)
    assert emb.weight.shape == (10, 3) and (emb.weight.detach().numpy()[0] == 0).all()
    idx = _t(backend, [[0, 3], [3, 9]])
    y = emb(idx)
    assert y.shape == (2, 2, 3) and y.grad_fn.name() == "EmbeddingBackward0"
    y.sum().backward()
    g = emb.weight.grad.numpy()
    assert (g[0] == 0).all() and (g[3] == 2).all() and (g[9] == 1).all()
    i32 = tg.tensor(np.array([1, 2], np.int32), backend=backend)
    assert emb(i32).shape == (2, 3)
    with pytest.raises(IndexError, match="index out of range in self"):
        emb(_t(backend, [10]))
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar types"):
        F.embedding(tg.tensor([0.0], backend=backend), emb.weight)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(4, 3, padding_idx=5)
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"


def test_module_reprs():
    model = nn.Sequential(
        nn.Flatten(), nn.Linear(4, 3), nn.Softmax(dim=1), nn.LogSoftmax(1), nn.Identity(),
        nn.Unflatten(1, (1, 3)), nn.Embedding(10, 3, padding_idx=0),
        nn.ModuleList([nn.ReLU()]), nn.CrossEntropyLoss(), nn.NLLLoss(),
        nn.ModuleDict({"a": nn.Tanh()}),
    )  # fmt: skip
    assert repr(model) == "\n".join([
        "Sequential(",
        "  (0): Flatten(start_dim=1, end_dim=-1)",
        "  (1): Linear(in_features=4, out_features=3, bias=True)",
        "  (2): Softmax(dim=1)",
        "  (3): LogSoftmax(dim=1)",
        "  (4): Identity()",
        "  (5): Unflatten(dim=1, unflattened_size=(1, 3))",
        "  (6): Embedding(10, 3, padding_idx=0)",
        "  (7): ModuleList(",
        "    (0): ReLU()",
        "  )",
        "  (8): CrossEntropyLoss()",
        "  (9): NLLLoss()",
        "  (10): ModuleDict(",
        "    (a): Tanh()",
        "  )",
        ")",
    ])  # fmt: skip
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == (
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    )
    pl = nn.ParameterList([nn.Parameter(tg.ones(2, 3))])
    assert repr(pl) == "ParameterList(  (0): Parameter containing: [torch.float32 of size 2x3])"
    pd = nn.ParameterDict({"w": nn.Parameter(tg.ones(2))})
    assert repr(pd) == "ParameterDict(  (w): Parameter containing: [torch.FloatTensor of size 2])"


def test_containers_register_their_entries():
    ml = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 3)])
    ml.append(nn.ReLU())
    assert len(ml) == 3 and isinstance(ml[-1], nn.ReLU) and len(list(ml.parameters())) == 4
    del ml[0]
    assert [type(m).__name__ for m in ml] == ["Linear", "ReLU"]
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    md["b"] = nn.Tanh()
    assert list(md.keys()) == ["a", "b"] and "a" in md and len(list(md.parameters())) == 2
    pl = nn.ParameterList([tg.ones(2), nn.Parameter(tg.zeros(3))])
    assert len(pl) == 2 and all(isinstance(p, nn.Parameter) for p in pl)
    assert len(list(pl.parameters())) == 2
    pd = nn.ParameterDict({"w": tg.ones(2)})
    assert isinstance(pd["w"], nn.Parameter) and [n for n, _ in pd.named_parameters()] == ["w"]
    net = nn.Sequential(nn.Flatten(), nn.Linear(6, 2), nn.Unflatten(1, (2, 1)), nn.Identity())
    assert net(tg.ones(4, 2, 3)).shape == (4, 2, 1)


def test_init_semantics():
    init = nn.init
    assert init.calculate_gain("relu") == 2**0.5 and init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == (2.0 / (1 + 0.2**2)) ** 0.5
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed"):
        init.xavier_uniform_(tg.zeros(3))
    with pytest.raises(ValueError, match="Mode fan_up not supported"):
        init.kaiming_uniform_(tg.zeros(3, 4), mode="fan_up")
    assert init._calculate_fan_in_and_fan_out(tg.zeros(5, 3, 2, 2)) == (12, 20)
    w = tg.zeros(4, 6, requires_grad=True)
    out = init.kaiming_uniform_(w, a=5**0.5)
    assert out is w and w.grad_fn is None and w.requires_grad
    bound = 1 / 6**0.5
    assert np.abs(w.detach().numpy()).max() <= bound
    assert (init.constant_(tg.zeros(2), 0.5).numpy() == 0.5).all()
    assert (init.ones_(tg.zeros(2)).numpy() == 1).all() and (
        init.zeros_(tg.ones(2)).numpy() == 0
    ).all()
    t = init.trunc_normal_(tg.zeros(1000), std=1.0, a=-0.5, b=0.5).numpy()
    assert t.min() >= -0.5 and t.max() <= 0.5


def test_linear_init_is_kaiming_uniform_with_a_sqrt5():
    """Linear's weight is init.kaiming_uniform_(a=sqrt(5)) from the same generator state."""
    tg.manual_seed(3)
    lin = nn.Linear(7, 5)
    tg.manual_seed(3)
    w = nn.init.kaiming_uniform_(tg.zeros(5, 7), a=5**0.5)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w.numpy())


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_compiled_classifier_steps_match_eager(dtype):
    """A captured step (tg.compile) replays softmax, nll_loss and embedding with new batches."""
    from tapegrad import optim

    def model():
        tg.manual_seed(0)
        m = nn.Sequential(nn.Embedding(20, 8), nn.Flatten(), nn.Linear(24, 16), nn.Tanh(),
                          nn.Linear(16, 5), nn.LogSoftmax(1))  # fmt: skip
        return m.half() if dtype == "float16" else (m.double() if dtype == "float64" else m)

    def step_fn(m, loss_fn):
        opt = optim.SGD(m.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(m(x), y)
            loss.backward()
            opt.step()
            return loss

        return step

    rng = np.random.default_rng(1)
    with tg.use_backend("cpp"):
        for loss_fn in (nn.NLLLoss(), nn.CrossEntropyLoss(label_smoothing=0.1)):
            m_e, m_c = model(), model()
            eager, compiled = step_fn(m_e, loss_fn), tg.compile(step_fn(m_c, loss_fn))
            for _ in range(5):
                x = tg.tensor(rng.integers(0, 20, (12, 3)))
                y = tg.tensor(rng.integers(0, 5, (12,)))
                assert eager(x, y).item() == compiled(x, y).item()
            for pe, pc in zip(m_e.parameters(), m_c.parameters()):
                np.testing.assert_array_equal(pe.detach().numpy(), pc.detach().numpy())
