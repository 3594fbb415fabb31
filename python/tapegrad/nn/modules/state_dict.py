"""Module's state dict (state_dict, load_state_dict), as a base class of Module: module.py holds
the rest of the class."""

from collections import OrderedDict, namedtuple

import numpy as np

from ..._grad_mode import no_grad
from ...tensor import Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _to_backend_tensor(value, like):
    """`value` (tensor of any backend, or ndarray) as a tensor on `like`'s backend and dtype."""
    if isinstance(value, Tensor):
        if value._be is not like._be:
            value = like._be.from_numpy(
                np.asarray(value._be.to_numpy(value), dtype=like.dtype.np, order="C"), False
            )
        elif value.dtype is not like.dtype:
            value = value.detach().to(like.dtype)
        return value
    arr = np.asarray(value, dtype=like.dtype.np, order="C")  # keeps 0-d (ascontiguousarray: 1-d)
    return like._be.from_numpy(arr, False)


class _StateDict:
    """The state-dict methods of `nn.Module` (module.py); never instantiated on its own."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Return an OrderedDict of the module's parameters and persistent buffers, keyed by dotted
        names (e.g. `"0.weight"`).

        The values are detached tensors sharing storage with the module, unless `keep_vars=True`.
        `destination` and `prefix` extend an existing dict; PyTorch's deprecated positional form
        `(destination, prefix, keep_vars)` is accepted."""
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from `state_dict` into this module (in place, without
        recording autograd); return `(missing_keys, unexpected_keys)`.

        Values may be tensors of any backend or NumPy arrays; they are cast to each target's
        dtype. With `strict=True` (the default) missing or unexpected keys raise RuntimeError,
        with PyTorch's message, as do shape mismatches. Differs from PyTorch: `assign=True` is
        not supported (NotImplementedError)."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        if assign:
            raise NotImplementedError("load_state_dict(assign=True) is not supported by tapegrad")
        missing, unexpected, errors = [], [], []
        expected = self.state_dict(keep_vars=True)
        for key, target in expected.items():
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
                errors.append(
                    f'While copying the parameter named "{key}", expected a real-valued array '
                    f"from checkpoint but received an ndarray of dtype {value.dtype}"
                )
                continue
            if not isinstance(value, (Tensor, np.ndarray)):
                errors.append(
                    f'While copying the parameter named "{key}", expected a tensor or ndarray '
                    f"from checkpoint but received {type(value).__name__}"
                )
                continue
            vshape = tuple(value.shape)
            if vshape != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"torch.Size({list(vshape)}) from checkpoint, the shape in current model "
                    f"is torch.Size({list(target.shape)})."
                )
                continue
            try:
                src = _to_backend_tensor(value, target)
                with no_grad():
                    target.copy_(src)
            except Exception as e:  # noqa: BLE001 - reported like PyTorch
                errors.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{tuple(target.shape)} and whose dimensions in the checkpoint are {vshape}, "
                    f"an exception occurred : {e.args}."
                )
        for key in state_dict.keys():
            if key not in expected:
                unexpected.append(key)
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in unexpected)
                    ),
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: {}. ".format(
                        ", ".join(f'"{k}"' for k in missing)
                    ),
                )
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(
                    type(self).__name__, "\n\t".join(errors)
                )
            )
        return _IncompatibleKeys(missing, unexpected)
