"""DLPack with NumPy: zero-copy both ways, every dtype, strided views, lifetimes, and PyTorch's
errors (the messages and types PyTorch 2.13 gives for the same calls)."""

import gc

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _backend

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
# NumPy exchanges bool through DLPack from 1.25
NO_BOOL = tuple(int(p) for p in np.__version__.split(".")[:2]) < (1, 25)


@pytest.fixture(autouse=True)
def on_backend(backend):
    with _backend.use_backend(backend):
        yield


def one(dt):
    return True if dt == "bool" else 1


@pytest.mark.parametrize("dt", DTYPES)
def test_numpy_sees_tensor_writes_and_back(dt):
    if dt == "bool" and NO_BOOL:
        pytest.skip("NumPy < 1.25")
    t = tg.zeros(2, 3, dtype=getattr(tg, dt))
    a = np.from_dlpack(t)
    assert a.dtype == np.dtype(dt) and a.shape == (2, 3)
    if a.flags.writeable:  # NumPy before 2.1 imports every array read-only
        a[0, 1] = one(dt)
        assert t[0, 1].item() == one(dt)
    t[1, 2] = one(dt)
    assert a[1, 2] == one(dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_tensor_sees_array_writes_and_back(dt):
    if dt == "bool" and NO_BOOL:
        pytest.skip("NumPy < 1.25")
    a = np.zeros((2, 3), dtype=dt)
    t = tg.from_dlpack(a)
    assert t.dtype is getattr(tg, dt) and t.shape == (2, 3)
    a[1, 0] = one(dt)
    assert t[1, 0].item() == one(dt)
    t[0, 2] = one(dt)
    assert a[0, 2] == one(dt)


def views():
    t = tg.arange(12.0).reshape(3, 4)
    return {
        "transpose": t.t(),
        "step": t[:, ::2],
        "row": t[1],
        "0-d": tg.tensor(5.0),
        "expand": tg.ones(3).expand(2, 3),
    }


@pytest.mark.parametrize("name", ["transpose", "step", "row", "0-d", "expand"])
def test_views_keep_their_strides(name):
    v = views()[name]
    a = np.from_dlpack(v)
    assert a.shape == tuple(v.shape)
    assert tuple(s // a.itemsize for s in a.strides) == v.stride()
    np.testing.assert_array_equal(a, np.array(v.tolist()))


def test_array_views_keep_their_strides():
    a = np.arange(12.0).reshape(3, 4)
    for v in (a.T, a[:, ::2], a[1], np.array(5.0)):
        t = tg.from_dlpack(v)
        assert t.stride() == tuple(s // v.itemsize for s in v.strides)
        assert t.tolist() == v.tolist()
    t = tg.from_dlpack(a.T)
    t[0, 2] = -1.0  # element (0, 2) of a.T is a[2, 0]
    assert a[2, 0] == -1.0


def test_read_only_producer_gives_a_writable_tensor():
    # as PyTorch: the producer's read-only flag is not carried over, and no warning
    a = np.arange(3.0)
    a.flags.writeable = False
    try:
        t = tg.from_dlpack(a)
    except (TypeError, BufferError):
        pytest.skip("NumPy before 2.1 exports no read-only arrays")
    t[0] = 7.0
    assert a[0] == 7.0


def test_tensor_to_tensor_shares():
    t = tg.arange(4.0)
    u = tg.from_dlpack(t)
    assert u is not t
    u[0] = 9.0
    assert t.tolist() == [9.0, 1.0, 2.0, 3.0]


def test_memory_outlives_the_producer():
    t = tg.arange(5.0)
    a = np.from_dlpack(t)
    del t
    gc.collect()
    tg.zeros(10_000)  # reuse freed memory if it had been freed
    assert a.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    a = np.arange(5.0)
    t = tg.from_dlpack(a)
    del a
    gc.collect()
    np.ones(10_000)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_device_and_capsules():
    t = tg.arange(3.0)
    assert t.__dlpack_device__() == (1, 0)
    assert t.__dlpack_device__()[0] is tg.utils.dlpack.DLDeviceType.kDLCPU
    assert "dltensor" in repr(t.__dlpack__())
    assert "dltensor_versioned" not in repr(t.__dlpack__(max_version=(0, 8)))
    # the legacy interface: a capsule, consumed once
    c = tg.utils.dlpack.to_dlpack(t)
    u = tg.utils.dlpack.from_dlpack(c)
    u[0] = 7.0
    assert t[0].item() == 7.0
    with pytest.raises(RuntimeError, match="can be consumed only once"):
        tg.from_dlpack(c)
    assert tg.to_dlpack is tg.utils.dlpack.to_dlpack


def test_versioned_capsule():
    t = tg.arange(3.0)
    c = t.__dlpack__(max_version=(1, 0))
    if "versioned" not in repr(c):
        pytest.skip("NumPy < 2.1 gives unversioned capsules")
    assert tg.from_dlpack(c).tolist() == [0.0, 1.0, 2.0]


def test_copy():
    t = tg.zeros(3)
    u = tg.from_dlpack(t.__dlpack__(copy=True))
    u[0] = 5.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    a = np.zeros(3)
    u = tg.from_dlpack(a, copy=True)
    u[0] = 5.0
    assert a.tolist() == [0.0, 0.0, 0.0]
    u = tg.from_dlpack(a, copy=False)
    u[0] = 5.0
    assert a[0] == 5.0
    assert tg.from_dlpack(a, device="cpu").tolist() == [5.0, 0.0, 0.0]


def test_errors_as_pytorch():
    r = tg.ones(2, requires_grad=True)
    msg = "Can't export tensors that require gradient, use tensor.detach()"
    with pytest.raises(BufferError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        r.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        np.from_dlpack(r)
    assert np.from_dlpack(r.detach()).tolist() == [1.0, 1.0]
    assert "dltensor" in repr(tg.utils.dlpack.to_dlpack(r))  # the legacy call does not check
    t = tg.ones(2)
    with pytest.raises(AssertionError, match="stream should be None on cpu."):
        t.__dlpack__(stream=1)
    with pytest.raises(TypeError, match="stream must be ``int`` or ``none``"):
        t.__dlpack__(stream="s")
    with pytest.raises(TypeError, match="positional"):
        t.__dlpack__(None)
    assert "dltensor" in repr(t.__dlpack__(stream=None, dl_device=(1, 0)))
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    for bad in ([1, 2], 3, "x", None):
        with pytest.raises(RuntimeError, match="from_dlpack received an invalid capsule"):
            tg.from_dlpack(bad)
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        tg.from_dlpack(np.ones(2), device="cuda")
