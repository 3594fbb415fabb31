"""`tapegrad.device` and the device checks of factories and `.to()`: tapegrad runs on the CPU, so
every other device type is refused with the error PyTorch's CPU build gives for it."""

import builtins
import re

_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
          "vulkan, mps, meta, hpu, mtia, privateuseone")  # fmt: skip
_KNOWN = frozenset(_TYPES.split(", "))
NO_ACCELERATOR = "Cannot access accelerator device when none is available."
NO_CUDA = "Torch not compiled with CUDA enabled"


def _is_int(v):
    return isinstance(v, builtins.int) and not isinstance(v, builtins.bool)


_GRAMMAR = re.compile(r"([a-zA-Z_]+)(?::([1-9][0-9]*|0))?")


def _parse(s):
    """PyTorch's device string grammar: `type` or `type:index` (no sign, no leading zero)."""
    m = _GRAMMAR.fullmatch(s)
    if m is None:
        raise RuntimeError(f"Invalid device string: '{s}'")
    if m.group(1) not in _KNOWN:
        raise RuntimeError(f"Expected one of {_TYPES} device type at start of device string: {s}")
    return m.group(1), (None if m.group(2) is None else builtins.int(m.group(2)))


class device:  # noqa: N801 - PyTorch's name
    """`device("cpu")`, `device("cuda:1")`, `device("cpu", 0)`: a device name, as PyTorch's.

    Any device type PyTorch knows can be named; only "cpu" can hold tensors. Equal to another
    device with the same type and index (never to a string, as in PyTorch).
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's keyword
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device takes no index")
            self._type, self._index = type._type, type._index
            return
        if _is_int(type):
            raise RuntimeError(NO_ACCELERATOR)
        if not isinstance(type, str):
            raise TypeError(
                f"device() received an invalid combination of arguments - got "
                f"({builtins.type(type).__name__}), but expected one of: (torch.device device), "
                "(str type, int index = -1)"
            )
        kind, idx = _parse(type)
        if index is not None:
            if not _is_int(index):
                raise TypeError(
                    f"device(): argument 'index' (position 2) must be int, not "
                    f"{builtins.type(index).__name__}"
                )
            if idx is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            idx = index
        self._type, self._index = kind, idx

    @property
    def type(self):
        """The device type, such as 'cpu' or 'cuda'."""
        return self._type

    @property
    def index(self):
        """The device index, or None when the name gave none (`device('cpu:0').index` is 0)."""
        return self._index

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return False
        return (self._type, self._index) == (other._type, other._index)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


CPU = device("cpu")


def check(dev):
    """None or a CPU device: fine. Any other device: PyTorch's CPU-build error for it."""
    if dev is None or dev == "cpu" or dev is CPU:
        return
    if _is_int(dev):
        raise RuntimeError(NO_ACCELERATOR)
    if not isinstance(dev, (str, device)):
        raise TypeError(
            f"expected a device (torch.device or str), got {builtins.type(dev).__name__}"
        )
    kind = device(dev).type
    if kind == "cpu":
        return
    if kind in ("cuda", "xpu"):
        raise AssertionError(f"Torch not compiled with {kind.upper()} enabled")
    raise RuntimeError(f"tapegrad runs on the CPU only; device '{dev}' is not available")
