"""The losses slice without PyTorch: grad_fn names, PyTorch's errors and warnings, modules and
their buffers, and the two backends agreeing bit for bit (the numbers against PyTorch:
test_losses_golden.py)."""

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

RNG = np.random.default_rng(0)
P = RNG.random((5, 33)).astype(np.float32)
Q = RNG.random((5, 33)).astype(np.float32)


def _t(backend, a, **kw):
    return tg.tensor(a, backend=backend, **kw)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda x, y: F.binary_cross_entropy(x, y), "BinaryCrossEntropyBackward0"),
        (lambda x, y: F.binary_cross_entropy_with_logits(x, y),
         "BinaryCrossEntropyWithLogitsBackward0"),
        (lambda x, y: F.smooth_l1_loss(x, y, reduction="none"), "SmoothL1LossBackward0"),
        (lambda x, y: F.huber_loss(x, y, reduction="sum"), "HuberLossBackward0"),
        (lambda x, y: F.smooth_l1_loss(x, y, beta=0.0), "MeanBackward0"),  # l1_loss
    ],
)  # fmt: skip
def test_grad_fn_names(call, name, backend):
    x = _t(backend, P, requires_grad=True)
    assert call(x, _t(backend, Q)).grad_fn.name() == name


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_bce_errors(backend):
    x, y = _t(backend, P), _t(backend, Q)
    _raises(ValueError, r"Using a target size \(torch.Size\(\[1, 33\]\)\) that is different to "
            r"the input size \(torch.Size\(\[5, 33\]\)\) is deprecated",
            lambda: F.binary_cross_entropy(x, y[:1]))  # fmt: skip
    _raises(RuntimeError, "all elements of input should be between 0 and 1",
            lambda: F.binary_cross_entropy(x * 2.0, y))  # fmt: skip
    _raises(RuntimeError, "all elements of target should be between 0 and 1",
            lambda: F.binary_cross_entropy(x, y - 1.0))  # fmt: skip
    _raises(RuntimeError, "Found dtype Double but expected Float",
            lambda: F.binary_cross_entropy(x, y.double()))  # fmt: skip
    _raises(NotImplementedError, "\"binary_cross_entropy\" not implemented for 'Long'",
            lambda: F.binary_cross_entropy(x.long(), y.long()))  # fmt: skip
    _raises(ValueError, "bad is not a valid value for reduction",
            lambda: F.binary_cross_entropy(x, y, reduction="bad"))  # fmt: skip
    w = _t(backend, np.ones(33, np.float32), requires_grad=True)
    _raises(RuntimeError, "not differentiable with respect to argument 'weight'",
            lambda: F.binary_cross_entropy(x, y, weight=w))  # fmt: skip


def test_bce_with_logits_errors(backend):
    x, y = _t(backend, P), _t(backend, Q)
    _raises(ValueError, r"Target size \(torch.Size\(\[1, 33\]\)\) must be the same as input size",
            lambda: F.binary_cross_entropy_with_logits(x, y[:1]))  # fmt: skip
    _raises(NotImplementedError, "\"log_sigmoid_cpu\" not implemented for 'Long'",
            lambda: F.binary_cross_entropy_with_logits(x.long(), y.long()))  # fmt: skip
    pw = _t(backend, np.ones(33, np.float32), requires_grad=True)
    _raises(RuntimeError, "not differentiable with respect to argument 'pos_weight'",
            lambda: F.binary_cross_entropy_with_logits(x, y, pos_weight=pw))  # fmt: skip


def test_smooth_l1_and_huber_errors_and_warning(backend):
    x, y = _t(backend, P), _t(backend, Q)
    _raises(RuntimeError, "smooth_l1_loss does not support negative values for beta.",
            lambda: F.smooth_l1_loss(x, y, beta=-1.0))  # fmt: skip
    for d in (0.0, -1.0):
        _raises(RuntimeError, "huber_loss does not support non-positive values for delta.",
                lambda d=d: F.huber_loss(x, y, delta=d))  # fmt: skip
    _raises(NotImplementedError, "\"smooth_l1_cpu\" not implemented for 'Long'",
            lambda: F.smooth_l1_loss(x.long(), y.long()))  # fmt: skip
    _raises(NotImplementedError, "\"huber_cpu\" not implemented for 'Long'",
            lambda: F.huber_loss(x.long(), y.long()))  # fmt: skip
    with pytest.warns(UserWarning, match="This will likely lead to incorrect results"):
        out = F.smooth_l1_loss(x, y[0], reduction="none")
    assert tuple(out.shape) == (5, 33)
    with pytest.warns(UserWarning):
        _raises(RuntimeError, r"The size of tensor a \(33\) must match the size of tensor b \(4\)",
                lambda: F.huber_loss(x, y[:, :4]))  # fmt: skip
    assert F.smooth_l1_loss(x, y.double()).dtype is tg.float64  # promoted, as PyTorch


@pytest.mark.parametrize("dt", ["float16", "float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("op", ["bce", "bce_logits", "bce_logits_pw", "smooth_l1", "huber"])
def test_backends_agree_bit_for_bit(op, reduction, dt):
    """The C++ core and the NumPy reference (the executable spec) give the same bits, forward
    and both gradients (BCE's target gradient: the log op's kernels, which differ by design)."""

    def run(backend):
        x = _t(backend, P.astype(dt), requires_grad=True)
        y = _t(backend, Q.astype(dt), requires_grad=True)
        w = _t(backend, np.linspace(0.5, 2, 33).astype(dt))
        if op == "bce":
            loss = F.binary_cross_entropy(x, y, weight=w, reduction=reduction)
        elif op.startswith("bce_logits"):
            pw = w if op.endswith("pw") else None
            loss = F.binary_cross_entropy_with_logits(x * 4.0 - 2.0, y, w, reduction=reduction,
                                                      pos_weight=pw)  # fmt: skip
        elif op == "smooth_l1":
            loss = F.smooth_l1_loss(x, y * 2.0, reduction=reduction, beta=0.25)
        else:
            loss = F.huber_loss(x, y * 2.0, reduction=reduction, delta=0.5)
        loss.backward(tg.ones_like(loss))
        out = [loss, x.grad] + ([] if op == "bce" else [y.grad])
        return [t.detach().numpy() for t in out]

    for a, b in zip(run("cpp"), run("numpy")):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()


def test_bce_clamps_its_logs_at_minus_100(backend):
    x = _t(backend, np.array([0.0, 1.0, 0.0, 1.0], np.float32))
    y = _t(backend, np.array([1.0, 0.0, 0.0, 1.0], np.float32))
    out = F.binary_cross_entropy(x, y, reduction="none").numpy()
    assert out.tolist() == [100.0, 100.0, 0.0, 0.0]


def test_modules(backend):
    w = _t(backend, np.linspace(0.5, 2, 33).astype(np.float32))
    x, y = _t(backend, P), _t(backend, Q)
    m = nn.BCELoss(weight=w)
    assert list(m.state_dict()) == ["weight"] and repr(m) == "BCELoss()"
    assert m(x, y).item() == F.binary_cross_entropy(x, y, weight=w).item()
    m = nn.BCEWithLogitsLoss(pos_weight=w, reduction="sum")
    assert list(m.state_dict()) == ["pos_weight"] and repr(m) == "BCEWithLogitsLoss()"
    assert (
        m(x, y).item()
        == F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction="sum").item()
    )
    assert list(nn.BCELoss().state_dict()) == []
    m = nn.SmoothL1Loss(beta=0.5)
    assert m.beta == 0.5 and m(x, y).item() == F.smooth_l1_loss(x, y, beta=0.5).item()
    m = nn.HuberLoss(reduction="none", delta=0.25)
    assert m.delta == 0.25
    assert np.array_equal(m(x, y).numpy(), F.huber_loss(x, y, "none", 0.25).numpy())


def test_huber_weight_is_pytorchs_composite(backend):
    x, y = _t(backend, P, requires_grad=True), _t(backend, Q)
    w = _t(backend, np.full((5, 33), 0.5, np.float32))
    loss = F.huber_loss(x, y, weight=w)
    assert loss.grad_fn.name() == "MeanBackward0"
    expected = (F.huber_loss(x, y, reduction="none") * w).mean()
    assert loss.item() == expected.item()
    _raises(ValueError, "Weights and input must have the same size.",
            lambda: F.huber_loss(x, y, weight=w[0]))  # fmt: skip
