"""copy.copy, copy.deepcopy and pickle of tensors, as PyTorch 2.13 does them (a base class of
Tensor, through _tensor_convert.py).

- `copy.copy(t)`: a new leaf over t's storage (PyTorch rebuilds the tensor from its storage), with
  t's requires_grad and no grad, also for a non-leaf; a parameter stays a parameter. The copy
  shares t's version counter (PyTorch gives it its own), so an in-place change through it is seen
  by the autograd checks of t's graph instead of going unnoticed.
- `copy.deepcopy(t)`: a leaf over a copy of the storage, requires_grad kept and the grad
  deep-copied; tensors that shared a storage (views, detached aliases) share the new one. A
  non-leaf raises PyTorch's RuntimeError. A parameter (PyTorch's Parameter.__deepcopy__): a
  parameter over a clone of its data, requires_grad kept, no grad.
- pickle: values, dtype, shape, requires_grad, the parameter mark and the backend (no grad, no
  history: a non-leaf comes back as a leaf). The pickle names only `_rebuild_tensor` below and
  NumPy, so a numpy-backend tensor unpickles without the C extension. (`tg.load` never unpickles.)
"""

import copy

import numpy as np

from ._grad_mode import no_grad

NON_LEAF_DEEPCOPY = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
    "the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
)
# The deepcopy memo's entry for storages: {(address, nbytes, dtype): (original array, copy)}.
# Its key is a str, so it never meets the memo's int keys (ids).
_STORAGES = "tapegrad.storages"


def _is_param(t):
    return bool(getattr(t, "_is_param", False))


def _mark(t, requires_grad, is_param):
    t.requires_grad = bool(requires_grad)
    t._is_param = bool(is_param)
    return t


def _storage_copy(t, memo):
    """A requires_grad=False leaf over a copy of t's storage, shared with the other tensors of
    this deepcopy that had t's storage."""
    be = t._be
    arr = be.to_numpy(t)  # no copy: a view of the storage, on both backends
    with no_grad():
        if arr.size == 0:
            return be.from_numpy(arr, False)
        storages = memo.setdefault(_STORAGES, {})
        key = (arr.__array_interface__["data"][0], arr.nbytes, arr.dtype.str)
        hit = storages.get(key)
        if hit is None:
            new = be.from_numpy(arr, False)  # from_numpy copies (both backends)
            storages[key] = (arr, new)  # `arr` keeps the storage, so its address stays unique
            return new
        base = hit[1]
        return be.reshape(be.detach(base), tuple(t.shape))


def _rebuild_tensor(backend, arr, requires_grad, is_param):
    """Unpickle a tensor (the callable its __reduce_ex__ names)."""
    from ._backend import load

    be = load(backend)
    arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("="), order="C")  # (keeps 0-d)
    return _mark(be.from_numpy(arr, False), requires_grad, is_param)


class _Copying:
    """The copy and pickle methods of `tapegrad.Tensor`; never instantiated on its own."""

    __slots__ = ()

    def __copy__(self):
        return _mark(self._be.detach(self), self.requires_grad, _is_param(self))

    def __deepcopy__(self, memo):
        done = memo.get(id(self))
        if done is not None:
            return done
        if _is_param(self):
            arr = self._be.to_numpy(self)
            with no_grad():
                new = _mark(self._be.from_numpy(arr, False), self.requires_grad, True)
        else:
            if self.grad_fn is not None:
                raise RuntimeError(NON_LEAF_DEEPCOPY)
            new = _mark(_storage_copy(self, memo), self.requires_grad, False)
            if self.grad is not None:
                new.grad = copy.deepcopy(self.grad, memo)
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        arr = self._be.to_numpy(self)
        return (_rebuild_tensor, (self._be.name, arr, self.requires_grad, _is_param(self)))

    def __reduce__(self):
        return self.__reduce_ex__(2)
