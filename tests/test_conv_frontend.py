"""The CNN front end (nn/_functional_conv.py and the conv, pooling and norm modules): argument
normalization, PyTorch's errors, reprs, state_dict keys, init bits and train/eval, on the numpy
backend. The constants were recorded from PyTorch 2.13."""

import warnings

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn.functional as F
from tapegrad import nn


@pytest.fixture(autouse=True)
def _numpy_backend():
    old = tg.get_backend() if hasattr(tg, "get_backend") else None
    tg.set_backend("numpy")
    yield
    if old is not None:
        tg.set_backend(old)


def _t(*shape, rg=False, dtype=np.float32, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return tg.tensor(a, requires_grad=rg)


def _bits32(t):
    return t.detach().numpy().astype(np.float32).view(np.int32).ravel()


# ---------------------------------------------------------------- functional: shapes and grad_fn


@pytest.mark.parametrize(
    "kw, shape",
    [
        ({}, (2, 6, 6, 6)),
        ({"stride": 2, "padding": 1}, (2, 6, 4, 4)),
        ({"stride": (2,), "padding": [1, 0]}, (2, 6, 4, 3)),
        ({"padding": "same", "dilation": 2}, (2, 6, 8, 8)),
        ({"padding": "valid"}, (2, 6, 6, 6)),
    ],
)
def test_conv2d_shapes(kw, shape):
    out = F.conv2d(_t(2, 4, 8, 8, rg=True), _t(6, 4, 3, 3), _t(6), **kw)
    assert tuple(out.shape) == shape
    assert out.grad_fn.name() == "ConvolutionBackward0"


def test_conv_unbatched_is_squeezed():
    out = F.conv2d(_t(4, 8, 8, rg=True), _t(6, 4, 3, 3))
    assert tuple(out.shape) == (6, 6, 6) and out.grad_fn.name() == "SqueezeBackward1"
    out = F.conv1d(_t(4, 16, rg=True), _t(6, 4, 5), padding="same")
    assert tuple(out.shape) == (6, 16) and out.grad_fn.name() == "SqueezeBackward1"


def test_conv_same_even_kernel_pads_right():
    x, w = _t(1, 1, 6, 6), _t(1, 1, 4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = F.conv2d(x, w, padding="same").numpy()
    # PyTorch's 'same' padding: (1 top, 2 bottom) rows and (0 left, 1 right) cols
    xp = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 2), (0, 1)))
    ref = F.conv2d(tg.tensor(xp), w).numpy()
    np.testing.assert_allclose(same, ref, rtol=1e-6, atol=1e-6)


def test_pool_shapes_and_grad_fns():
    x = _t(2, 4, 8, 8, rg=True)
    assert (
        F.max_pool2d(x, 3, 2, 1, ceil_mode=True).grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    )
    out, idx = F.max_pool2d(x, 3, 2, 1, 2, return_indices=True)
    assert tuple(out.shape) == (2, 4, 3, 3) and idx.dtype == tg.int64
    assert tuple(F.max_pool2d_with_indices(x, (3, 2))[1].shape) == (2, 4, 2, 4)
    assert F.avg_pool2d(x, 3, 2, 1).grad_fn.name() == "AvgPool2DBackward0"
    assert tuple(F.avg_pool2d(x[0], 3, ceil_mode=True).shape) == (4, 3, 3)
    assert tuple(F.adaptive_avg_pool2d(x, (3, None)).shape) == (2, 4, 3, 8)
    assert F.adaptive_avg_pool2d(x, 5).grad_fn.name() == "AdaptiveAvgPool2DBackward0"
    assert F.adaptive_avg_pool2d(x, (1, 1)).grad_fn.name() == "MeanBackward1"
    y = _t(2, 4, 16, rg=True)
    assert tuple(F.max_pool1d(y, 3, 2, 1).shape) == (2, 4, 8)
    assert F.avg_pool1d(y, 3, 2, 1).grad_fn.name() == "SqueezeBackward1"
    assert tuple(F.max_pool1d(y[0], 2, return_indices=True)[1].shape) == (4, 8)


def test_max_pool_indices_are_flat_in_the_plane():
    x = tg.tensor(np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8))
    _, idx = F.max_pool2d(x, 2, return_indices=True)
    assert idx.numpy()[0, 0, 0].tolist() == [9, 11, 13, 15]


# ---------------------------------------------------------------- functional: errors

X = (2, 4, 8, 8)
ERRORS = [
    (lambda: F.conv2d(_t(4, 8), _t(6, 4, 3, 3)), RuntimeError, "Expected 3D (unbatched) or 4D"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3)), RuntimeError, "list of 1 values to match"),
    (lambda: F.conv2d(_t(*X), _t(6, 4)), RuntimeError, "at least three dimensions"),
    (lambda: F.conv1d(_t(2, 4, 8), _t(6, 4, 3, 3)), RuntimeError, "Expected 4-dimensional input"),
    (lambda: F.conv2d(_t(*X), _t(6, 3, 3, 3)), RuntimeError, "to have 3 channels, but got 4"),
    (lambda: F.conv2d(_t(*X), _t(5, 2, 3, 3), groups=2), RuntimeError, "divisible by 2"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), groups=0), RuntimeError, "non-positive groups"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 9, 9)), RuntimeError, "(8 x 8). Kernel size: (9 x 9)"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), padding=-1), RuntimeError, "negative padding"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), stride=0), RuntimeError, "non-positive stride"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), dilation=0), RuntimeError, "non-positive dilation"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), padding="same", stride=2), RuntimeError, "strided"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), padding="foo"), RuntimeError, "Invalid padding"),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), padding=(1, 1, 1)), RuntimeError, "list of 2"),
    (
        lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3, dtype=np.float64)),
        RuntimeError,
        "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor)",
    ),
    (
        lambda: F.conv2d(_t(*X, dtype=np.float64), _t(6, 4, 3, 3)),
        RuntimeError,
        "expected scalar type Double but found Float",
    ),
    (
        lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), _t(6, dtype=np.float64)),
        RuntimeError,
        "Input type (float) and bias type (double)",
    ),
    (lambda: F.conv2d(_t(*X), _t(6, 4, 3, 3), _t(5)), RuntimeError, "1-dimensional with 6"),
    (lambda: F.conv2d(_t(*X) > 0, _t(6, 4, 3, 3) > 0), NotImplementedError, "Bool"),
    (lambda: F.max_pool2d(_t(8, 8), 2), RuntimeError, "3D or 4D"),
    (lambda: F.max_pool2d(_t(*X), 2, padding=2), RuntimeError, "at most half of effective"),
    (lambda: F.max_pool2d(_t(*X), 3, padding=-1), RuntimeError, "pad must be non-negative"),
    (lambda: F.max_pool2d(_t(*X), 0), RuntimeError, "stride should not be zero"),
    (lambda: F.max_pool2d(_t(*X), 0, 1), RuntimeError, "kernel size should be greater than"),
    (lambda: F.max_pool2d(_t(*X), 2, dilation=0), RuntimeError, "dilation should be greate"),
    (lambda: F.max_pool2d(_t(*X), (2, 2, 2)), RuntimeError, "kernel_size must either be"),
    (lambda: F.max_pool2d(_t(*X), 9), RuntimeError, "(4x8x8). Calculated output size: (4x0x0"),
    (lambda: F.avg_pool2d(_t(8, 8), 2), IndexError, "Dimension out of range"),
    (lambda: F.avg_pool2d(_t(*X), 2, divisor_override=0), RuntimeError, "divisor must be not zero"),
    (lambda: F.adaptive_avg_pool2d(_t(8, 8), (2, 3)), ValueError, "at least 3"),
    (lambda: F.adaptive_avg_pool2d(_t(*X), -1), RuntimeError, "received {-1, -1}"),
    (lambda: F.adaptive_avg_pool2d(_t(*X), (1, 2, 3)), RuntimeError, "output_size must be 2"),
    (lambda: F.max_pool1d(_t(*X), 2), RuntimeError, "max_pool1d: Expected 2D or 3D"),
    (lambda: F.max_pool1d(_t(2, 4, 8), 2, 2, 2), RuntimeError, "at most half of kernel size"),
    (lambda: F.avg_pool1d(_t(2, 4, 8), (2, 2)), RuntimeError, "should contain one int"),
    (lambda: F.batch_norm(_t(*X), None, None), RuntimeError, "running_mean must be defined"),
    (
        lambda: F.batch_norm(_t(1, 4), _t(4), _t(4), training=True),
        ValueError,
        "more than 1 value per channel when training, got input size torch.Size([1, 4])",
    ),
    (lambda: F.batch_norm(_t(*X), _t(3), _t(4)), RuntimeError, "should contain 4 elements not 3"),
    (lambda: F.batch_norm(_t(*X), _t(4), _t(4), _t(3)), RuntimeError, "weight should contain 4"),
    (
        lambda: F.batch_norm(_t(*X), _t(4), _t(4), _t(4, dtype=np.float64)),
        RuntimeError,
        "expect parameter to have scalar type of Float",
    ),
    (lambda: F.batch_norm(_t(*X), _t(4), _t(4), momentum=None), TypeError, "momentum"),
    (lambda: F.layer_norm(_t(*X), 8), TypeError, "must be tuple of ints, not int"),
    (lambda: F.layer_norm(_t(*X), (4, 8)), RuntimeError, "expected input with shape [*, 4, 8]"),
    (lambda: F.layer_norm(_t(*X), (8, 8), _t(8)), RuntimeError, "weight of shape [8]"),
    (lambda: F.layer_norm(_t(*X), ()), RuntimeError, "at least 1-dimensional"),
    (lambda: F.dropout2d(_t(*X), 1.5), ValueError, "between 0 and 1, but got 1.5"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_match_pytorch(i):
    fn, exc, msg = ERRORS[i]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc) as info:
            fn()
    assert msg in str(info.value)


# ---------------------------------------------------------------- modules


def test_conv_init_bits_match_pytorch():
    tg.manual_seed(0)
    m = nn.Conv2d(3, 6, 5)
    assert _bits32(m.weight)[[0, 1, 2, 449]].tolist() == [
        -1167941671,
        1031649311,
        -1111317813,
        -1110098514,
    ]
    assert _bits32(m.bias).tolist() == [
        1036263223,
        1031711299,
        1038815248,
        1030681254,
        -1113843638,
        1036344662,
    ]
    tg.manual_seed(1)
    m = nn.Conv1d(4, 8, 3, groups=2)
    assert tuple(m.weight.shape) == (8, 2, 3)
    assert _bits32(m.weight)[[0, 47]].tolist() == [1045915491, 1039525396]
    assert _bits32(m.bias)[[0, 7]].tolist() == [-1108251264, 1051167983]


REPRS = [
    (lambda: nn.Conv2d(3, 6, 5), "Conv2d(3, 6, kernel_size=(5, 5), stride=(1, 1))"),
    (
        lambda: nn.Conv2d(3, 6, 3, padding="same", bias=False, dilation=2, groups=3),
        "Conv2d(3, 6, kernel_size=(3, 3), stride=(1, 1), padding=same, dilation=(2, 2), "
        "groups=3, bias=False)",
    ),
    (
        lambda: nn.Conv1d(3, 6, 3, stride=2, padding=1),
        "Conv1d(3, 6, kernel_size=(3,), stride=(2,), padding=(1,))",
    ),
    (
        lambda: nn.MaxPool2d(2),
        "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    ),
    (lambda: nn.AvgPool2d(3, 2, 1), "AvgPool2d(kernel_size=3, stride=2, padding=1)"),
    (lambda: nn.AdaptiveAvgPool2d((None, 3)), "AdaptiveAvgPool2d(output_size=(None, 3))"),
    (
        lambda: nn.BatchNorm2d(4),
        "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)",
    ),
    (
        lambda: nn.BatchNorm1d(4, momentum=None, affine=False),
        "BatchNorm1d(4, eps=1e-05, momentum=None, affine=False, bias=False, "
        "track_running_stats=True)",
    ),
    (
        lambda: nn.LayerNorm([8], bias=False, eps=1e-3),
        "LayerNorm((8,), eps=0.001, elementwise_affine=True, bias=False)",
    ),
    (lambda: nn.Dropout2d(0.2, True), "Dropout2d(p=0.2, inplace=True)"),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_reprs_match_pytorch(i):
    make, text = REPRS[i]
    assert repr(make()) == text


def test_state_dict_keys_and_buffers():
    m = nn.BatchNorm2d(4)
    sd = m.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert sd["num_batches_tracked"].dtype == tg.int64 and sd["num_batches_tracked"].dim() == 0
    assert list(nn.BatchNorm2d(4, track_running_stats=False).state_dict()) == ["weight", "bias"]
    assert list(nn.BatchNorm1d(4, affine=False).state_dict()) == [
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]
    assert list(nn.Conv2d(3, 6, 3, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []


def test_batch_norm_train_and_eval():
    m = nn.BatchNorm2d(4, momentum=None)
    x = _t(3, 4, 5, 6) * 2 + 1
    for _ in range(2):
        m(x)
    assert int(m.num_batches_tracked) == 2
    a = x.numpy()
    mean = a.mean((0, 2, 3))
    var = a.var((0, 2, 3), ddof=1)  # the cumulative average of two equal batches
    np.testing.assert_allclose(m.running_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.running_var.numpy(), var, rtol=1e-5)
    m.eval()
    out = m(x).detach().numpy()
    ref = (a - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    assert int(m.num_batches_tracked) == 2
    with pytest.raises(ValueError, match="expected 4D input"):
        m(_t(3, 4))


def test_batch_norm_without_running_stats_normalizes_in_eval():
    m = nn.BatchNorm1d(4, track_running_stats=False).eval()
    out = m(_t(8, 4) * 3).detach().numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)


def test_conv_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.Conv2d(3, 6, 3, groups=0)
    with pytest.raises(ValueError, match="Invalid padding string 'foo'"):
        nn.Conv2d(3, 6, 3, padding="foo")
    with pytest.raises(NotImplementedError, match="padding_mode='zeros' only"):
        nn.Conv2d(3, 6, 3, padding_mode="reflect")


def test_dropout2d_stream_and_modes():
    tg.manual_seed(2)
    out = F.dropout2d(tg.ones(2, 8, 3, 3), 0.5)
    assert out.numpy()[:, :, 0, 0].tolist() == [
        [0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0],
        [0.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0],
    ]
    assert (out.numpy() == out.numpy()[:, :, :1, :1]).all()  # whole channels
    x = _t(2, 4, 3, 3, rg=True)
    assert F.dropout2d(x, 0.0) is x and F.dropout2d(x, 0.5, training=False) is x
    assert (F.dropout2d(x, 1.0).detach().numpy() == 0).all()
    m = nn.Dropout2d(0.3).eval()
    assert m(x) is x
    with pytest.warns(UserWarning, match="Received a 3D input"):
        F.dropout2d(_t(4, 3, 3), 0.5)
    with pytest.warns(UserWarning, match="Received a 2-D input"):
        F.dropout2d(_t(4, 3), 0.5)
