"""Devices, legacy names and the new factories: PyTorch 2.13's behaviour and error wording
(recorded from its CPU build), on both backends. The values PyTorch draws are checked by
tests/test_factories_golden.py and tests/test_data_golden.py."""

import pickle

import numpy as np
import pytest
import tapegrad as tg

BACKENDS = ["cpp", "numpy"]
FLOATS = ["float32", "float16", "float64"]
ALL = FLOATS + ["int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    with tg.use_backend(request.param):
        yield request.param


# ---------------------------------------------------------------- devices


def test_device_object():
    d = tg.device("cpu")
    assert (repr(d), str(d), d.type, d.index) == ("device(type='cpu')", "cpu", "cpu", None)
    d0 = tg.device("cpu", 0)
    assert (repr(d0), str(d0), d0.index) == ("device(type='cpu', index=0)", "cpu:0", 0)
    assert tg.device("cuda:1").index == 1 and tg.device(d0) == d0
    assert d == tg.device("cpu") and d != d0 and hash(d) == hash(tg.device("cpu"))
    assert not (d == "cpu")  # PyTorch: a device never equals a string
    assert pickle.loads(pickle.dumps(d0)) == d0
    assert {d: 1}[tg.device("cpu")] == 1


@pytest.mark.parametrize(
    "args, exc, msg",
    [
        (("gpu",), RuntimeError, "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, "
         "ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone "
         "device type at start of device string: gpu"),
        (("cpu:x",), RuntimeError, "Invalid device string: 'cpu:x'"),
        (("cpu:-1",), RuntimeError, "Invalid device string: 'cpu:-1'"),
        ((" cpu",), RuntimeError, "Invalid device string: ' cpu'"),
        (("cuda", -1), RuntimeError, "Device index must not be negative"),
        (("cpu:1", 1), RuntimeError, "type (string) must not include an index because index was "
         "passed explicitly: cpu:1"),
        (("cpu", "a"), TypeError, "device(): argument 'index' (position 2) must be int, not str"),
        ((0,), RuntimeError, "Cannot access accelerator device when none is available."),
    ],
)  # fmt: skip
def test_device_errors(args, exc, msg):
    with pytest.raises(exc) as e:
        tg.device(*args)
    assert str(e.value) == msg


def test_no_gpu():
    assert tg.cuda.is_available() is False and tg.cuda.device_count() == 0
    assert tg.backends.mps.is_available() is False and tg.backends.mps.is_built() is False
    assert tg.backends.cudnn.is_available() is False
    tg.backends.cudnn.deterministic = True  # reproducibility idioms run
    tg.backends.cudnn.deterministic = False
    tg.cuda.manual_seed(0)
    tg.cuda.manual_seed_all(0)
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        tg.cuda.current_device()


def test_tensor_device(backend):
    t = tg.ones(3)
    assert t.device == tg.device("cpu") and repr(t.device) == "device(type='cpu')"
    assert (t.is_cuda, t.is_cpu, t.get_device()) == (False, True, -1)
    assert t.cpu() is t and t.to("cpu") is t and t.to(tg.device("cpu", 0)) is t
    assert t.to("cpu:1") is t  # PyTorch accepts any CPU index
    assert tg.device("cuda" if tg.cuda.is_available() else "cpu") == t.device


@pytest.mark.parametrize("dt", ALL)
def test_to_device_and_dtype(backend, dt):
    x = tg.tensor(np.linspace(-2, 2, 33))
    want = x.to(getattr(tg, dt))
    d = getattr(tg, dt)
    for got in (x.to(tg.device("cpu"), d), x.to("cpu", d), x.to(device="cpu", dtype=d),
                x.to(None, d)):  # fmt: skip
        assert got.dtype is want.dtype and np.array_equal(got.numpy(), want.numpy())


def test_to_copy_and_grad(backend):
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = x.to("cpu", copy=True)
    assert c is not x and c.grad_fn is not None
    y = x.to(tg.device("cpu"), tg.float64)
    (y * y).sum().backward()
    assert x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda t: t.cuda(), AssertionError, "Torch not compiled with CUDA enabled"),
        (lambda t: t.cuda(0), RuntimeError, "Cannot access accelerator device when none is "
         "available."),
        (lambda t: t.to("cuda"), AssertionError, "Torch not compiled with CUDA enabled"),
        (lambda t: t.to(tg.device("cuda:0")), AssertionError, "Torch not compiled with CUDA "
         "enabled"),
        (lambda t: t.to("xpu"), AssertionError, "Torch not compiled with XPU enabled"),
        (lambda t: t.to(1), RuntimeError, "Cannot access accelerator device when none is "
         "available."),
        (lambda t: t.to("bogus"), RuntimeError, None),
        (lambda t: t.to("mps"), RuntimeError, None),
        (lambda t: t.to(tg.float64, tg.float64), TypeError, None),
        (lambda t: t.to("cpu", "cpu"), TypeError, None),
        (lambda t: t.to(foo=1), TypeError, None),
    ],
)  # fmt: skip
def test_to_errors(backend, call, exc, msg):
    with pytest.raises(exc) as e:
        call(tg.ones(2))
    if msg is not None:
        assert str(e.value) == msg


FACTORIES = {
    "tensor": lambda d: tg.tensor([1.0], device=d),
    "as_tensor": lambda d: tg.as_tensor([1.0], device=d),
    "zeros": lambda d: tg.zeros(2, device=d),
    "ones": lambda d: tg.ones(2, device=d),
    "full": lambda d: tg.full((2,), 1.5, device=d),
    "empty": lambda d: tg.empty(2, device=d),
    "eye": lambda d: tg.eye(2, device=d),
    "arange": lambda d: tg.arange(3, device=d),
    "linspace": lambda d: tg.linspace(0, 1, 3, device=d),
    "rand": lambda d: tg.rand(2, device=d),
    "randn": lambda d: tg.randn(2, device=d),
    "randint": lambda d: tg.randint(0, 3, (2,), device=d),
    "randperm": lambda d: tg.randperm(3, device=d),
    "normal": lambda d: tg.normal(0.0, 1.0, (2,), device=d),
    "zeros_like": lambda d: tg.zeros_like(tg.ones(2), device=d),
    "ones_like": lambda d: tg.ones_like(tg.ones(2), device=d),
    "empty_like": lambda d: tg.empty_like(tg.ones(2), device=d),
    "full_like": lambda d: tg.full_like(tg.ones(2), 3, device=d),
    "rand_like": lambda d: tg.rand_like(tg.ones(2), device=d),
    "randn_like": lambda d: tg.randn_like(tg.ones(2), device=d),
    "randint_like": lambda d: tg.randint_like(tg.ones(2), 5, device=d),
    "Tensor": lambda d: tg.Tensor([1.0], device=d),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_factory_device_keyword(backend, name):
    make = FACTORIES[name]
    for d in (None, "cpu", "cpu:0", tg.device("cpu")):
        assert make(d).device == tg.device("cpu")
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        make("cuda")
    with pytest.raises(RuntimeError, match="device type at start of device string: bogus$"):
        make("bogus")


def test_module_to(backend):
    m = tg.nn.Linear(3, 2)
    assert m.to(tg.device("cpu")) is m and m.to("cpu") is m and m.cpu() is m
    assert m.to(tg.device("cpu"), tg.float64) is m and m.weight.dtype is tg.float64
    assert m.to(dtype=tg.float16) is m and m.bias.dtype is tg.float16
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        m.to("cuda")
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        m.cuda()
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(tg.int64)


# ---------------------------------------------------------------- legacy names


TYPE_NAMES = {"float32": "FloatTensor", "float16": "HalfTensor", "float64": "DoubleTensor",
              "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
              "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}  # fmt: skip


@pytest.mark.parametrize("dt", ALL)
def test_legacy_types(backend, dt):
    cls = getattr(tg, TYPE_NAMES[dt])
    t = cls([1, 0, 2])
    assert t.dtype is getattr(tg, dt) and t.type() == "torch." + TYPE_NAMES[dt]
    assert isinstance(t, cls) and isinstance(t, tg.Tensor)
    assert not isinstance(tg.zeros(1, dtype=tg.float64 if dt != "float64" else tg.int8), cls)
    assert cls(2, 3).shape == (2, 3) and cls(2, 3).dtype is getattr(tg, dt)
    x = tg.tensor([1.7, -2.2])
    assert x.type(cls).dtype is getattr(tg, dt)
    assert x.type("torch." + TYPE_NAMES[dt]).dtype is getattr(tg, dt)


def test_legacy_tensor_constructor(backend):
    assert tg.Tensor(2, 3).dtype is tg.float32 and tuple(tg.Tensor(2, 3).shape) == (2, 3)
    assert tg.Tensor([1, 2]).dtype is tg.float32 and tg.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert tuple(tg.Tensor().shape) == (0,)
    assert tuple(tg.Tensor(tg.ones(2, 3).size()).shape) == (2, 3)
    assert tg.Tensor(np.arange(3)).dtype is tg.float32
    x = tg.ones(2, dtype=tg.float64)
    assert tg.Tensor(x) is x and tg.DoubleTensor(x) is x  # PyTorch returns the tensor itself
    assert tg.IntTensor([1.7, -2.2]).tolist() == [1, -2]


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: tg.Tensor(2.5), TypeError, "new(): data must be a sequence (got float)"),
        (lambda: tg.Tensor("a"), TypeError, "new(): invalid data type 'str'"),
        (lambda: tg.FloatTensor(-1), RuntimeError, "Trying to create tensor with negative "
         "dimension -1: [-1]"),
        (lambda: tg.Tensor(2, 3.0), TypeError, "new(): argument 'size' failed to unpack the "
         "object at pos 2 with error \"type must be tuple of ints,but got float\""),
        (lambda: tg.LongTensor(tg.ones(2)), TypeError, None),
        (lambda: tg.Tensor(3, requires_grad=True), TypeError, None),
        (lambda: tg.ones(2).type("float"), ValueError, "invalid type: 'float'"),
        (lambda: tg.ones(2).type("torch.cuda.FloatTensor"), RuntimeError, None),
    ],
)  # fmt: skip
def test_legacy_errors(backend, call, exc, msg):
    with pytest.raises(exc) as e:
        call()
    if msg is not None:
        assert str(e.value) == msg


def test_variable(backend):
    x = tg.tensor([1.0, 2.0])
    v = tg.autograd.Variable(x, requires_grad=True)
    assert v is not x and v.requires_grad and not x.requires_grad
    x.add_(1)  # the same storage, as in PyTorch
    assert v.tolist() == [2.0, 3.0]
    assert isinstance(x, tg.autograd.Variable)
    assert tg.autograd.Variable(x).requires_grad is False
    assert tuple(tg.autograd.Variable().shape) == (0,)
    with pytest.warns(UserWarning, match="volatile was removed"):
        tg.autograd.Variable(x, volatile=True)
    with pytest.raises(TypeError, match="^Variable data has to be a tensor, but got list$"):
        tg.autograd.Variable([1, 2])
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype"):
        tg.autograd.Variable(tg.ones(2, dtype=tg.int64), requires_grad=True)


def test_shape_names(backend):
    t = tg.zeros(2, 3, 5)
    assert (t.nelement(), t.numel(), t.dim(), t.ndimension(), t.ndim) == (30, 30, 3, 3, 3)
    assert (t.size(1), t.size(-1), tuple(t.size()), tuple(t.shape)) == (3, 5, (2, 3, 5), (2, 3, 5))
    assert t.data.shape == t.shape
    with pytest.raises(IndexError):
        t.size(3)


def test_arange_int64(backend):
    assert tg.arange(5).dtype is tg.int64 and tg.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert tg.arange(5.0).dtype is tg.float32
