"""tapegrad.nn: Parameter, Module (registration, traversal, state dicts, modes, dtypes, repr),
the layers, the losses and nn.functional."""

import math
from collections import OrderedDict

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn
from tapegrad.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2, bias=False))
        self.scale = nn.Parameter(tg.tensor([1.5]))

    def forward(self, x):
        return self.block(self.act(self.fc1(x))) * self.scale


NET_KEYS = ["fc1.weight", "fc1.bias", "block.0.weight", "block.0.bias", "block.2.weight"]


def _net(backend):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        return Net()


# ---------------------------------------------------------------- Parameter


def test_parameter_is_a_marked_detached_tensor(backend):
    t = tg.tensor([1.0, 2.0], backend=backend)
    p = nn.Parameter(t)
    assert isinstance(p, nn.Parameter) and isinstance(p, tg.Tensor)
    assert not isinstance(t, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p._is_param
    assert type(p) is type(t)
    with tg.no_grad():
        p.add_(1.0)
    assert t.tolist() == [2.0, 3.0]  # shares storage with the tensor it was made from
    q = nn.Parameter(t, requires_grad=False)
    assert isinstance(q, nn.Parameter) and not q.requires_grad
    assert not isinstance(p.detach(), nn.Parameter)
    assert not isinstance(3.0, nn.Parameter)
    with pytest.raises(TypeError):
        nn.Parameter([1.0])


def test_parameter_survives_data_assignment(backend):
    with tg.use_backend(backend):
        lin = nn.Linear(2, 2)
    lin.weight.data = lin.weight.data.half()
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.dtype is tg.float16


# ---------------------------------------------------------------- registration and traversal


def test_parameters_order_and_names(backend):
    net = _net(backend)
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", *NET_KEYS]  # PyTorch's order: own parameters, then children
    params = list(net.parameters())
    assert [id(p) for p in params] == [id(p) for _, p in net.named_parameters()]
    assert params[0] is net.scale and params[1] is net.fc1.weight
    assert [n for n, _ in net.named_parameters(prefix="model")][1] == "model.fc1.weight"
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert net.block[2].bias is None


def test_shared_parameters_are_listed_once(backend):
    with tg.use_backend(backend):
        lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.modules())) == 3


def test_children_and_modules(backend):
    net = _net(backend)
    kids = list(net.named_children())
    assert [n for n, _ in kids] == ["fc1", "act", "block"]
    assert list(net.children())[2] is net.block
    mods = list(net.named_modules())
    assert [n for n, _ in mods] == ["", "fc1", "act", "block", "block.0", "block.1", "block.2"]
    assert list(net.modules())[0] is net
    assert net.get_submodule("block.2") is net.block[2]


def test_attribute_rules(backend):
    net = _net(backend)
    with pytest.raises(TypeError, match="cannot assign 'tapegrad.Tensor' as parameter 'scale'"):
        net.scale = tg.tensor([2.0], backend=backend)
    with pytest.raises(TypeError, match="as child module 'fc1'"):
        net.fc1 = 3
    net.fc1 = None
    assert net.fc1 is None and "fc1" not in [n for n, _ in net.named_children()]
    net.extra = 5  # plain attributes are plain
    assert net.extra == 5 and "extra" not in dict(net.named_parameters())
    del net.scale
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nothing'"):
        net.nothing  # noqa: B018

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tg.tensor([1.0], backend=backend))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_register_parameter_and_buffer(backend):
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(tg.tensor([1.0, 2.0], backend=backend)))
    m.register_buffer("running", tg.tensor([0.5], backend=backend))
    m.register_buffer("tmp", tg.tensor([9.0], backend=backend), persistent=False)
    assert [n for n, _ in m.named_parameters()] == ["w"]
    assert [n for n, _ in m.named_buffers()] == ["running", "tmp"]
    assert list(m.state_dict()) == ["w", "running"]
    with pytest.raises(KeyError):
        m.register_buffer("a.b", None)


def test_module_call_and_missing_forward(backend):
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        nn.Module()(1)
    net = _net(backend)
    out = net(tg.tensor(np.ones((5, 3), np.float32), backend=backend))
    assert out.shape == (5, 2) and out.grad_fn is not None


def test_zero_grad(backend):
    net = _net(backend)
    net(tg.tensor(np.ones((5, 3), np.float32), backend=backend)).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads)
    net.zero_grad(set_to_none=False)
    assert all(not np.any(p.grad.numpy()) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_train_eval(backend):
    net = _net(backend)
    assert net.training and net.block[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_requires_grad_(backend):
    net = _net(backend)
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# ---------------------------------------------------------------- dtypes


def test_half_and_float(backend):
    net = _net(backend)
    x = tg.tensor(np.ones((2, 3), np.float32), backend=backend)
    net(x).sum().backward()
    w = net.fc1.weight
    before = w.tolist()
    assert net.half() is net
    assert net.fc1.weight is w  # converted in place: optimizers keep working
    assert all(p.dtype is tg.float16 for p in net.parameters())
    assert all(p.grad.dtype is tg.float16 for p in net.parameters())
    np.testing.assert_allclose(w.tolist(), before, rtol=1e-3)
    assert net(x.half()).dtype is tg.float16
    net.float()
    assert all(p.dtype is tg.float32 and p.grad.dtype is tg.float32 for p in net.parameters())
    net.to(tg.float16)
    assert net.fc1.bias.dtype is tg.float16
    net.to(dtype=tg.float32)
    assert net.fc1.bias.dtype is tg.float32
    assert net.to("cpu") is net
    assert net.double() is net and all(p.dtype is tg.float64 for p in net.parameters())


# ---------------------------------------------------------------- state dicts


def test_state_dict(backend):
    net = _net(backend)
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["scale", *NET_KEYS]
    for k, v in sd.items():
        assert not v.requires_grad
        assert not isinstance(v, nn.Parameter), k
    with tg.no_grad():
        net.fc1.bias.fill_(7.0)
    assert sd["fc1.bias"].tolist() == [7.0] * 4  # detached views share storage, as in PyTorch


def test_state_dict_order_is_pytorchs(backend):
    net = _net(backend)
    # Own parameters first, then each child in registration order.
    assert list(net.state_dict()) == ["scale", *NET_KEYS]


def test_load_state_dict_round_trip(backend):
    a, b = _net(backend), _net(backend)
    with tg.no_grad():
        for p in b.parameters():
            p.fill_(0.25)
    res = a.load_state_dict(b.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2 and p1.tolist() == p2.tolist()


def test_load_state_dict_across_backends_and_from_numpy():
    src = _net("numpy")
    dst = _net("cpp")
    dst.load_state_dict(src.state_dict())
    assert dst.fc1.weight.tolist() == src.fc1.weight.tolist()
    assert dst.fc1.weight.backend == "cpp"
    arrays = {k: v.numpy() * 0 + 1 for k, v in src.state_dict().items()}
    dst.load_state_dict(arrays)
    assert dst.block[0].bias.tolist() == [1.0] * 4


def test_load_state_dict_strict_reports_keys(backend):
    net = _net(backend)
    sd = net.state_dict()
    del sd["fc1.bias"]
    sd["fc9.weight"] = tg.tensor([1.0], backend=backend)
    with pytest.raises(RuntimeError) as ei:
        net.load_state_dict(sd)
    msg = str(ei.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:\n\t")
    assert 'Missing key(s) in state_dict: "fc1.bias". ' in msg
    assert 'Unexpected key(s) in state_dict: "fc9.weight". ' in msg
    assert msg.index("Missing") < msg.index("Unexpected")
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["fc9.weight"]


def test_load_state_dict_size_mismatch(backend):
    net = _net(backend)
    sd = net.state_dict()
    sd["fc1.weight"] = tg.tensor(np.zeros((2, 3)), backend=backend)
    with pytest.raises(RuntimeError) as ei:
        net.load_state_dict(sd, strict=False)
    assert (
        "size mismatch for fc1.weight: copying a param with shape torch.Size([2, 3]) from "
        "checkpoint, the shape in current model is torch.Size([4, 3])."
    ) in str(ei.value)
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_load_state_dict_casts_dtype(backend):
    net = _net(backend).half()
    net.load_state_dict(_net(backend).state_dict())
    assert net.fc1.weight.dtype is tg.float16


# ---------------------------------------------------------------- repr


def test_repr_like_pytorch(backend):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(1, 1)

    with tg.use_backend(backend):
        assert repr(Model()) == (
            "Model(\n  (linear): Linear(in_features=1, out_features=1, bias=True)\n)"
        )
        assert f"{Model()=}".startswith("Model()=Model(\n  (linear)")
        net = _net(backend)
    assert repr(net) == (
        "Net(\n"
        "  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (act): ReLU()\n"
        "  (block): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=4, bias=True)\n"
        "    (1): Tanh()\n"
        "    (2): Linear(in_features=4, out_features=2, bias=False)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(nn.Sigmoid()) == "Sigmoid()"


# ---------------------------------------------------------------- layers


def test_linear_shapes_and_init(backend):
    with tg.use_backend(backend):
        lin = nn.Linear(16, 5)
    assert lin.weight.shape == (5, 16) and lin.bias.shape == (5,)
    assert lin.weight.dtype is tg.float32 and lin.weight.backend == backend
    bound = 1 / math.sqrt(16)
    w = lin.weight.numpy(force=True)
    b = lin.bias.numpy(force=True)
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound)
    assert w.std() > bound / 3  # spread over the interval, not a constant
    with tg.use_backend(backend):
        tg.manual_seed(3)
        l1 = nn.Linear(4, 3)
        tg.manual_seed(3)
        l2 = nn.Linear(4, 3)
        l3 = nn.Linear(4, 3, dtype=tg.float16)
    assert l1.weight.tolist() == l2.weight.tolist()
    assert l3.weight.dtype is tg.float16
    with pytest.raises(ValueError):
        nn.Linear(0, 3)


def test_linear_forward_matches_numpy(backend, dtype):
    with tg.use_backend(backend):
        lin = nn.Linear(3, 2).to(dtype)
    x = np.array([[1.0, -2.0, 0.5], [0.25, 0.0, 3.0]], dtype=dtype.np)
    out = lin(tg.tensor(x, dtype=dtype, backend=backend))
    w = lin.weight.numpy(force=True).astype(np.float64)
    b = lin.bias.numpy(force=True).astype(np.float64)
    tol = 1e-6 if dtype is tg.float32 else 2e-3
    np.testing.assert_allclose(out.numpy(force=True), x @ w.T + b, rtol=tol, atol=tol)
    assert out.dtype is dtype
    out1 = lin(tg.tensor(x[0], dtype=dtype, backend=backend))  # 1-D input
    assert out1.shape == (2,)


def test_linear_errors(backend):
    with tg.use_backend(backend):
        lin = nn.Linear(3, 2)
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)"
    ):
        lin(tg.tensor(np.ones((4, 5)), backend=backend))
    with pytest.raises(
        RuntimeError, match="mat1 and mat2 must have the same dtype, but got Half and Float"
    ):
        lin(tg.tensor(np.ones((4, 3)), dtype=tg.float16, backend=backend))
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        lin([1.0, 2.0, 3.0])
    other = "numpy" if backend == "cpp" else "cpp"
    with pytest.raises(RuntimeError, match="same backend"):
        lin(tg.tensor(np.ones((4, 3)), backend=other))


def test_sequential(backend):
    with tg.use_backend(backend):
        seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
        named = nn.Sequential(OrderedDict([("inp", nn.Linear(2, 2)), ("act", nn.Sigmoid())]))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    assert len(seq[:2]) == 2
    assert [n for n, _ in named.named_parameters()] == ["inp.weight", "inp.bias"]
    x = tg.tensor([[1.0, -1.0]], backend=backend)
    assert seq(x).shape == (1, 1)
    h = seq[1](seq[0](x))
    np.testing.assert_array_equal(seq(x).numpy(force=True), seq[2](h).numpy(force=True))
    seq.append(nn.Tanh())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()][-1] == "3"


@pytest.mark.parametrize(
    "module, fn",
    [(nn.ReLU(), lambda a: np.maximum(a, 0)), (nn.Tanh(), np.tanh),
     (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a)))],
)  # fmt: skip
def test_activations(backend, module, fn):
    a = np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=np.float32)
    out = module(tg.tensor(a, backend=backend)).numpy()
    np.testing.assert_allclose(out, fn(a.astype(np.float64)), rtol=2e-6, atol=1e-6)
    np.testing.assert_array_equal(out, getattr(F, type(module).__name__.lower())(
        tg.tensor(a, backend=backend)).numpy())  # fmt: skip


# ---------------------------------------------------------------- losses


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses(backend, reduction):
    a = np.array([[1.0, -2.0], [0.5, 4.0]], dtype=np.float32)
    b = np.array([[0.0, -1.0], [2.5, 4.0]], dtype=np.float32)
    red = {"mean": np.mean, "sum": np.sum, "none": lambda x: x}[reduction]
    ta, tb = tg.tensor(a, backend=backend), tg.tensor(b, backend=backend)
    mse = nn.MSELoss(reduction=reduction)(ta, tb)
    l1 = nn.L1Loss(reduction=reduction)(ta, tb)
    np.testing.assert_allclose(mse.numpy(), red((a - b) ** 2), rtol=1e-6)
    np.testing.assert_allclose(l1.numpy(), red(np.abs(a - b)), rtol=1e-6)
    np.testing.assert_array_equal(F.mse_loss(ta, tb, reduction=reduction).numpy(), mse.numpy())
    np.testing.assert_array_equal(F.l1_loss(ta, tb, reduction=reduction).numpy(), l1.numpy())


def test_loss_gradients(backend):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    y = tg.tensor([0.0, 2.0, 5.0], backend=backend)
    F.mse_loss(x, y).backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 / 3, 0.0, -4 / 3], rtol=1e-6)
    x.grad = None
    F.l1_loss(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 0.0, -1.0])


def test_loss_shape_mismatch_is_refused(backend):
    out = tg.tensor(np.zeros((64, 1)), backend=backend)
    target = tg.tensor(np.zeros(64), backend=backend)
    for fn in (F.mse_loss, F.l1_loss, nn.MSELoss(), nn.L1Loss()):
        with pytest.raises(RuntimeError) as ei:
            fn(out, target)
        assert "(64, 1)" in str(ei.value) and "(64,)" in str(ei.value)


def test_loss_dtype_promotion(backend):
    a16 = tg.tensor([1.0, 2.0], dtype=tg.float16, requires_grad=True, backend=backend)
    b32 = tg.tensor([0.5, 0.5], backend=backend)
    loss = F.mse_loss(a16, b32)
    assert loss.dtype is tg.float32
    loss.backward()
    assert a16.grad.dtype is tg.float16
    assert F.l1_loss(b32, a16).dtype is tg.float32


def test_loss_argument_errors(backend):
    a = tg.tensor([1.0], backend=backend)
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F.mse_loss(a, a, reduction="bad")
    with pytest.raises(TypeError, match="must be Tensor"):
        F.mse_loss(a, [1.0])
    assert F.mse_loss(a * 3, a, size_average=False).item() == 4.0  # legacy arguments
    assert F.mse_loss(a * 3, a, reduce=False).shape == (1,)


def test_functional_linear_no_bias(backend):
    x = tg.tensor([[1.0, 2.0]], backend=backend)
    w = tg.tensor([[3.0, 4.0]], backend=backend)
    assert F.linear(x, w).tolist() == [[11.0]]
    assert F.linear(x, w, tg.tensor([1.0], backend=backend)).tolist() == [[12.0]]


# ---------------------------------------------------------------- tg.save / tg.load


def test_save_load_round_trip(backend, tmp_path):
    net = _net(backend)
    net.block[0].half()
    path = tmp_path / "model.pt"
    tg.save(net.state_dict(), path)
    assert path.exists() and not (tmp_path / "model.pt.npz").exists()  # the name as given
    with tg.use_backend(backend):
        sd = tg.load(path)
    assert list(sd) == list(net.state_dict())
    for k, v in net.state_dict().items():
        assert sd[k].dtype is v.dtype and sd[k].backend == backend
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    fresh = _net(backend)
    fresh.block[0].half()
    with tg.no_grad():
        for p in fresh.parameters():
            p.fill_(0.0)
    fresh.load_state_dict(sd)
    for (k, a), b in zip(fresh.state_dict().items(), net.state_dict().values()):
        assert a.dtype is b.dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_save_load_file_objects_and_arrays(tmp_path):
    import io

    buf = io.BytesIO()
    sd = OrderedDict(w=tg.tensor([[1.0, 2.0]]), steps=np.array([3], dtype=np.int64),
                     h=np.array([0.5], dtype=np.float16))  # fmt: skip
    tg.save(sd, buf)
    buf.seek(0)
    out = tg.load(buf, backend="numpy")
    assert list(out) == ["w", "steps", "h"]
    assert isinstance(out["w"], tg.Tensor) and out["w"].tolist() == [[1.0, 2.0]]
    # an int64 entry is an int64 tensor, as in PyTorch (tapegrad has the dtype now)
    assert out["steps"].dtype is tg.int64 and out["steps"].tolist() == [3]
    assert out["h"].dtype is tg.float16
    np.savez(tmp_path / "plain.npz", a=np.ones(3, np.float32))  # NumPy's own .npz loads too
    assert tg.load(tmp_path / "plain.npz", backend="numpy")["a"].tolist() == [1.0] * 3


@pytest.mark.parametrize(
    "obj, err",
    [
        ([1, 2], TypeError),
        ({"a": {"b": object()}}, TypeError),  # nested checkpoints hold no Python objects
        ({1: tg.tensor([1.0])}, TypeError),
        ({"a": {1.0, 2.0}}, TypeError),
        ({"a": np.array([object()], dtype=object)}, TypeError),
        ({"a": [np.array([object()], dtype=object)]}, TypeError),
    ],
)
def test_save_refuses_non_state_dicts(tmp_path, obj, err):
    with pytest.raises(err):
        tg.save(obj, tmp_path / "x.npz")


def test_load_refuses_pickles_and_garbage(tmp_path):
    import pickle
    import zipfile

    pk = tmp_path / "model.pkl"
    pk.write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="is a Python pickle"):
        tg.load(pk)

    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"hello, not a zip file at all")
    with pytest.raises(ValueError, match="is not an .npz archive"):
        tg.load(junk)

    good = tmp_path / "good.npz"
    tg.save({"w": tg.tensor(np.arange(1000, dtype=np.float32), backend="numpy")}, good)
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 10):
        trunc = tmp_path / f"trunc{cut}.npz"
        trunc.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="truncated or corrupt|corrupt|not an .npz"):
            tg.load(trunc)

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # inside the array data: the CRC check catches it
    bad = tmp_path / "crc.npz"
    bad.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt"):
        tg.load(bad)

    fake_torch = tmp_path / "torch_style.pt"  # torch.save's zip layout, naming a global it lacks
    with zipfile.ZipFile(fake_torch, "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"w": print}))
        zf.writestr("archive/version", "3")
    with pytest.raises(ValueError, match="PyTorch checkpoint.*builtins.print is not admitted"):
        tg.load(fake_torch)

    objs = tmp_path / "objects.npz"
    np.savez(objs, a=np.array([{"x": 1}], dtype=object))  # NumPy pickles object arrays
    with pytest.raises(ValueError, match="object array"):
        tg.load(objs)
