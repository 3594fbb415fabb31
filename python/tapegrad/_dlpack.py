"""DLPack: tensors share their memory with NumPy, PyTorch and other array libraries, both ways.

NumPy's own DLPack support does the work. A tensor exports the ndarray that already shares its
memory (what `Tensor.numpy()` returns), and an imported object becomes an ndarray first and then a
tensor over that ndarray's memory (as `from_numpy`). The capsule holds the ndarray, the ndarray
holds the tensor's storage, so the memory outlives whichever side is deleted first.

Which NumPy does what: `np.from_dlpack` is public from 1.23 (the first NumPy for Python 3.11 too),
bool from 1.25, versioned capsules (`max_version`) and read-only flags from 2.1. Older NumPys get
unversioned capsules, which the protocol allows, and import every array read-only."""

import enum

import numpy as np

from . import _backend
from ._factories import _check_device

INVALID_CAPSULE = (
    "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only "
    "once, so you might have already constructed a tensor from it once."
)


class DLDeviceType(enum.IntEnum):
    """Device codes of the DLPack specification (PyTorch's `torch.utils.dlpack.DLDeviceType`)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def device(t):
    """`Tensor.__dlpack_device__()`: tapegrad's memory is host memory."""
    return (DLDeviceType.kDLCPU, 0)


def export(t, stream=-1, max_version=None, dl_device=None, copy=None, check_grad=True):
    """`Tensor.__dlpack__`: a capsule over the tensor's memory, with PyTorch's checks."""
    if check_grad and t.requires_grad:
        # the consumer would see the data without the graph
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    if dl_device is not None and dl_device[0] != DLDeviceType.kDLCPU:
        # the protocol's answer for a device the producer cannot place memory on
        raise BufferError("unsupported device requested")
    arr = t._be.to_numpy(t)
    if copy:
        arr = arr.copy()
    if max_version is None or max_version[0] < 1:
        return arr.__dlpack__()
    try:
        return arr.__dlpack__(max_version=tuple(max_version))
    except TypeError:  # a NumPy before 2.1: the unversioned capsule
        return arr.__dlpack__()


class _Capsule:
    """A bare capsule (from `to_dlpack`) dressed as an exporter, which is all `np.from_dlpack`
    takes. Capsules carry no device a Python caller can read; a non-CPU one is refused by NumPy."""

    def __init__(self, capsule):
        self._capsule = capsule

    def __dlpack__(self, **kwargs):
        return self._capsule

    def __dlpack_device__(self):
        return (DLDeviceType.kDLCPU, 0)


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def from_dlpack(ext_tensor, *, device=None, copy=None):
    """A tensor over the memory of `ext_tensor` (an object with `__dlpack__`, or a capsule):
    writes through either are seen by the other. `copy=True` gives a tensor of its own."""
    _check_device(device)
    if not hasattr(ext_tensor, "__dlpack__"):
        if not _is_capsule(ext_tensor):
            raise RuntimeError(INVALID_CAPSULE)
        ext_tensor = _Capsule(ext_tensor)
    try:
        arr = np.from_dlpack(ext_tensor)
    except ValueError as e:  # a capsule already consumed (renamed "used_dltensor")
        if isinstance(ext_tensor, _Capsule):
            raise RuntimeError(INVALID_CAPSULE) from e
        raise
    arr = arr.copy() if copy else _writable(arr)
    return _backend.current().from_numpy_shared(arr)


class _WritableView:
    """The array interface of `arr` with its data marked writable; holds `arr`, so the memory
    lives as long as the view made from it."""

    def __init__(self, arr):
        self.arr = arr
        face = dict(arr.__array_interface__)
        face["data"] = (face["data"][0], False)
        self.__array_interface__ = face


def _writable(arr):
    """PyTorch's from_dlpack ignores a read-only flag (no warning, unlike from_numpy), and NumPy
    before 2.1 marks every array it imports read-only: a writable view of the same memory."""
    return arr if arr.flags.writeable else np.asarray(_WritableView(arr))


def to_dlpack(tensor):
    """The legacy capsule interface (`torch.utils.dlpack.to_dlpack`): like PyTorch's, it does
    not refuse a tensor that requires grad."""
    return export(tensor, check_grad=False)
