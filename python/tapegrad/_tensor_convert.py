"""Tensor's conversions (to NumPy, Python numbers and text; its backend), as a base
class of Tensor: tensor.py holds the rest of the class. Copying and pickling are in _copy.py."""

import numpy as np

from ._copy import _Copying
from ._format import format_spec, format_tensor


class _Conversions(_Copying):
    """The conversion methods of `tapegrad.Tensor` (tensor.py); never instantiated on its own."""

    __slots__ = ()

    def numpy(self, force=False):
        """A NumPy array that shares this tensor's memory (a write to one shows in the other). A
        tensor that requires grad is refused unless `force=True`."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._be.to_numpy(self)

    def to_numpy(self):
        """`np.asarray(self)`. Not PyTorch API: matplotlib converts objects that have it as it
        converts torch tensors, so 2-D tensors plot and hist column by column as PyTorch's do."""
        return self.numpy()

    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        from . import _dlpack  # imports the factories, which import this module

        return _dlpack.export(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        from . import _dlpack

        return _dlpack.device(self)

    def item(self):
        """The value of a one-element tensor as a Python number (float, int or bool)."""
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._be.item(self)

    def tolist(self):
        """The values as (nested) Python lists of floats, ints or bools; a 0-dim tensor gives a
        number."""
        arr = self._be.to_numpy(self)
        if self.dtype.is_floating_point:
            arr = arr.astype(np.float64)
        return arr.tolist()

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()  # PyTorch's __array__: refuses a tensor that requires grad
        if dtype is not None:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __float__(self):
        return float(self.item())  # an integer or bool tensor too

    def __int__(self):
        v = self.item()
        if v != v or v in (float("inf"), float("-inf")):
            raise RuntimeError(f"value cannot be converted to type int without overflow: {v}")
        return int(v)

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        n = self.numel()
        if n == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if n != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __format__(self, spec):
        return format_spec(self, spec)

    def __repr__(self):
        return format_tensor(self)

    @property
    def backend(self):
        """The name of the backend holding this tensor, 'cpp' or 'numpy' (tapegrad only)."""
        return self._be.name
