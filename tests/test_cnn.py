"""Convolutional networks end to end: a LeNet-5 step captured and replayed, the digits example,
a CNN's checkpoint and copy, and the max pool's saved indices."""

import copy
import importlib.util
import os

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _example(name):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(ROOT, "examples", name + ".py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _lenet(dtype):
    tg.manual_seed(0)
    return _example("cnn_digits").lenet5().to(dtype)


def _step(model):
    opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16])
def test_compiled_lenet_step_matches_eager_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    xs = [tg.tensor(rng.standard_normal((8, 1, 28, 28)), dtype=dtype) for _ in range(3)]
    ys = [tg.tensor(rng.integers(0, 10, 8)) for _ in range(3)]
    eager, captured = _lenet(dtype), _lenet(dtype)
    run_e, run_c = _step(eager), tg.compile(_step(captured))
    for x, y in zip(xs, ys):
        le, lc = run_e(x, y), run_c(x, y)
        assert le.item() == lc.item()
    for pe, pc in zip(eager.parameters(), captured.parameters()):
        assert np.array_equal(pe.detach().numpy(), pc.detach().numpy())
    assert run_c.captures == 1


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cnn_digits_reaches_stated_accuracy(backend, dtype):
    ex = _example("cnn_digits")
    if backend == "numpy" and dtype == "float16":
        pytest.skip("the float32 run covers the reference backend; float16 there takes 20 s")
    with tg.use_backend(backend):
        r = ex.run(dtype=dtype, synthetic=True, verbose=False)
    assert r["test_accuracy"] >= ex.STATED_ACCURACY


def test_cnn_checkpoint_and_deepcopy_give_the_same_outputs(tmp_path):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.LayerNorm(8 * 4 * 4),
                          nn.Linear(8 * 4 * 4, 2))  # fmt: skip
    x = tg.randn(4, 3, 8, 8)
    for _ in range(2):  # running statistics move and num_batches_tracked counts
        model(x).sum().backward()
    assert model[1].num_batches_tracked.item() == 2
    model.eval()
    want = model(x).detach().numpy()
    twin = copy.deepcopy(model)
    assert np.array_equal(twin(x).detach().numpy(), want)
    tg.save(model.state_dict(), str(tmp_path / "cnn.npz"))
    tg.manual_seed(1)
    fresh = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.LayerNorm(8 * 4 * 4),
                          nn.Linear(8 * 4 * 4, 2))  # fmt: skip
    fresh.load_state_dict(tg.load(str(tmp_path / "cnn.npz")))
    fresh.eval()
    assert np.array_equal(fresh(x).detach().numpy(), want)


def test_max_pool_backward_sees_an_in_place_change_of_its_input():
    x = tg.randn(2, 3, 8, 8, requires_grad=True)
    h = x * 1
    y = F.max_pool2d(h, 2)
    h.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_max_pool_gradient_lands_on_the_maxima(backend):
    with tg.use_backend(backend):
        x = tg.tensor(np.arange(32.0, dtype=np.float32).reshape(1, 2, 4, 4), requires_grad=True)
        y, idx = F.max_pool2d(x, 2, return_indices=True)
        y.sum().backward()
        grad = x.grad.numpy().reshape(2, 16)
        for plane in range(2):
            hit = np.zeros(16)
            hit[idx.numpy()[0, plane].ravel()] = 1
            assert np.array_equal(grad[plane], hit)


def test_conv_output_prints_pytorch_grad_fn():
    x = tg.randn(1, 1, 5, 5)
    conv = nn.Conv2d(1, 2, 3)
    assert "grad_fn=<ConvolutionBackward0>" in repr(conv(x))
    assert "grad_fn=<MaxPool2DWithIndicesBackward0>" in repr(F.max_pool2d(conv(x), 2))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"training": True, "eps": 0.0}, "eps must be positive during training, but got 0.0"),
        ({"training": True, "eps": -1e-5}, "eps must be positive during training, but got -1e-05"),
        ({"training": False, "eps": -0.5}, "eps must be non-negative, but got -0.5"),
    ],
)
def test_batch_norm_refuses_a_bad_eps(kwargs, message):
    x = tg.randn(4, 3, 2)
    with pytest.raises(ValueError, match=message):
        F.batch_norm(x, tg.zeros(3), tg.ones(3), **kwargs)


def test_batch_norm_needs_both_running_stats_or_neither():
    x = tg.randn(4, 3, 2)
    with pytest.raises(ValueError, match="must either both be None or neither be None"):
        F.batch_norm(x, tg.zeros(3), None, training=True)


@pytest.mark.parametrize(
    "pool",
    [lambda h: F.avg_pool2d(h, 2), lambda h: F.adaptive_avg_pool2d(h, 3)],
    ids=["avg", "adaptive"],
)
def test_avg_pools_see_an_in_place_change_of_their_input(backend, pool):
    with tg.use_backend(backend):
        h = tg.randn(2, 3, 6, 6, requires_grad=True) * 1
        y = pool(h)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_conv_dtype_error_follows_pytorchs_path():
    w64 = tg.randn(4, 3, 3, 3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="expected scalar type Float but found Double"):
        F.conv2d(tg.randn(1, 3, 8, 8), w64)  # PyTorch's native path for one small image
    with pytest.raises(RuntimeError, match=r"Input type \(torch.FloatTensor\) and weight type"):
        F.conv2d(tg.randn(2, 3, 8, 8), w64)  # its oneDNN path, for a batch


# Shapes that reach every branch of the float32 direct convolution (kernels/conv_direct.h): both
# tilings with their row tails, weight blocks past the channel count, several channel chunks
# (C*KH*KW > 256), groups, dilation, 1-D, asymmetric padding, and both weight-gradient tilings.
DIRECT = [
    ((2, 40, 9, 23), (20, 40, 3, 3), {"padding": 1}),
    ((3, 6, 14, 14), (16, 6, 5, 5), {}),
    ((2, 1, 30, 37), (5, 1, 5, 5), {"padding": 2}),
    ((2, 4, 11, 19), (6, 2, 3, 2), {"dilation": (2, 3), "groups": 2}),
    ((2, 3, 9, 9), (4, 3, 4, 2), {"padding": "same"}),
    ((3, 8, 50), (12, 8, 7), {"padding": 3}),
    ((1, 70, 5, 7), (33, 70, 1, 1), {}),
]


@pytest.mark.parametrize("xs, ws, kw", DIRECT)
def test_direct_convolution_matches_the_reference(xs, ws, kw):
    rng = np.random.default_rng(len(xs) + ws[0])
    x0 = rng.standard_normal(xs).astype(np.float32)
    w0 = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[1:]))).astype(np.float32)
    b0 = rng.standard_normal(ws[0]).astype(np.float32)
    conv = F.conv1d if len(xs) == 3 else F.conv2d
    got = {}
    for be in ("cpp", "numpy"):
        with tg.use_backend(be):
            x, w, b = (tg.tensor(a, requires_grad=True) for a in (x0, w0, b0))
            y = conv(x, w, b, **kw)
            (
                y * tg.tensor(np.cos(np.arange(y.numel())).reshape(y.shape).astype(np.float32))
            ).sum().backward()
            got[be] = [t.detach().numpy() for t in (y, x.grad, w.grad, b.grad)]
    for a, r in zip(got["cpp"], got["numpy"]):
        scale = np.abs(r).max()
        assert np.abs(a - r).max() <= 1e-5 * scale


def test_batch_norm_updates_strided_running_stats_and_takes_5d_input(backend):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        x = tg.randn(2, 3, 2, 3, 4)
        rm, rv = tg.zeros(6), tg.ones(6)
        F.batch_norm(x, rm[::2], rv[1::2], training=True, momentum=0.5)
        axes = (0, 2, 3, 4)
        xn = x.numpy().astype(np.float64)
        want_mean = 0.5 * xn.mean(axis=axes)
        want_var = 0.5 + 0.5 * xn.var(axis=axes, ddof=1)
        np.testing.assert_allclose(rm.numpy()[::2], want_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(rv.numpy()[1::2], want_var, rtol=1e-5)
        assert not rm.numpy()[1::2].any() and (rv.numpy()[::2] == 1).all()


def test_batch_norm_3d_module():
    tg.manual_seed(0)
    bn = nn.BatchNorm3d(3)
    y = bn(tg.randn(2, 3, 2, 2, 2))
    assert y.shape == (2, 3, 2, 2, 2) and bn.num_batches_tracked.item() == 1
    assert list(bn.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="expected 5D input"):
        bn(tg.randn(2, 3, 4))


@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize(
    "kw",
    [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2}, {"kernel_size": (2, 3), "stride": (2, 1)},
     {"kernel_size": 2, "ceil_mode": True}, {"kernel_size": 3, "stride": 2, "padding": 1}],
)  # fmt: skip
def test_max_pool_bits_match_the_reference_with_ties_nans_and_zeros(dtype, kw):
    """The first largest (or the last NaN) of each window, and the gradient's single add to zero
    (-0 becomes +0), bit for bit against the NumPy backend, the kernels' spec."""
    rng = np.random.default_rng(3)
    a = np.round(rng.standard_normal((2, 3, 28, 30)) * 2)
    u = rng.random(a.shape)
    a[u < 0.02] = np.nan
    a[(u >= 0.02) & (u < 0.05)] = -0.0
    a[(u >= 0.05) & (u < 0.06)] = -np.inf
    got = []
    for backend in ("cpp", "numpy"):
        with tg.use_backend(backend):
            x = tg.tensor(a.astype(dtype), requires_grad=True)
            y, idx = tg.nn.functional.max_pool2d(x, return_indices=True, **kw)
            g = np.round(np.cos(np.arange(y.numel())) * 4).reshape(y.shape)
            g.ravel()[::5] = -0.0
            y.backward(tg.tensor(g.astype(dtype)))
            got.append([t.detach().numpy().tobytes() for t in (y, idx, x.grad)])
    assert got[0] == got[1]
