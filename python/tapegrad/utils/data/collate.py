"""`default_collate` and `default_convert`: PyTorch's rules for turning a list of samples into a
batch (tensors stacked along a new first dimension, Python ints -> int64, floats -> float64,
bools -> bool, NumPy arrays and scalars -> tensors of their dtype, containers element-wise)."""

import collections.abc

import numpy as np

from ..._dtype import float64
from ...tensor import Tensor, as_tensor, tensor

_ERR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        "found {}")  # fmt: skip


def _stack(batch):
    """Stack same-shaped tensors along a new dim 0 (a new leaf: collation is not recorded)."""
    shape = tuple(batch[0].shape)
    for i, t in enumerate(batch):
        if tuple(t.shape) != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
        if t.dtype is not batch[0].dtype:
            raise RuntimeError(
                f"stack expects each tensor to have the same dtype, got {batch[0].dtype} and "
                f"{t.dtype}"
            )
    be = batch[0]._be
    arr = np.stack([t._be.to_numpy(t) for t in batch]) if batch else np.zeros((0,))
    return be.from_numpy(np.ascontiguousarray(arr), False)


def _is_numpy(x):
    return type(x).__module__ == "numpy" and not isinstance(x, (np.str_, np.bytes_))


def default_collate(batch):
    """Merge a list of samples into a batch, as PyTorch's `default_collate`.

    Tensors (and NumPy arrays) of one shape are stacked along a new dim 0; Python floats become a
    float64 tensor, ints an int64 one, bools a bool one; NumPy scalars keep their dtype; strings
    stay a list. Dicts, namedtuples and sequences are collated field by field (a tuple sample
    gives a list of batches, as PyTorch's)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if _is_numpy(elem):
        if isinstance(elem, np.ndarray):
            if elem.dtype.char in "SaUO":
                raise TypeError(_ERR.format(elem.dtype))
            return _stack([as_tensor(b) for b in batch])
        if elem.shape == ():  # a NumPy scalar keeps its dtype
            return tensor(np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bool too: tensor() infers bool for a list of bools
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if not all(len(e) == n for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(s)) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return columns
        try:
            return type(elem)(columns)
        except TypeError:
            return columns
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """A sample without batching: NumPy arrays become tensors, containers element-wise."""
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if isinstance(data, np.ndarray) and data.dtype.char in "SaUO":
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        if isinstance(data, tuple):
            return [default_convert(d) for d in data]
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
