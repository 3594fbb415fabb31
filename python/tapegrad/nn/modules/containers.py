"""ModuleList, ModuleDict, ParameterList and ParameterDict: PyTorch's containers, holding their
entries as registered children (modules) or parameters named "0", "1", ... or by key."""

import operator
from collections import OrderedDict

from ...tensor import Tensor
from .module import Module, _addindent
from .parameter import Parameter, _is_param


def _index(idx, n):
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"index {idx} is out of range")
    return idx % n


class ModuleList(Module):
    """Modules in a list, registered as children "0", "1", ..."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self)))]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self))), module)

    def __delitem__(self, idx):
        keys = list(self._modules.keys())
        for key in keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys))]]:
            self._drop(key)
        mods = list(self._modules.values())
        for key in list(self._modules.keys()):
            self._drop(key)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        """Append `module` as the next child (named by its index); return this list."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append each module of the iterable `modules`; return this list."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Insert `module` before position `index`, renumbering the children after it."""
        mods = list(self._modules.values())
        mods.insert(index, module)
        for key in list(self._modules.keys()):
            self._drop(key)
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        """Raise NotImplementedError: a ModuleList only holds modules; iterate over it and call
        them.

        PyTorch raises the same error type (its message is the base Module's "missing the
        required forward function")."""
        raise NotImplementedError("ModuleList has no forward(); call its modules")

    def __repr__(self):
        """PyTorch's: runs of identical entries print once as "(i-j): n x module"."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for a, b, r in runs:
            text = f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}"
            lines.append(_addindent(text, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """Modules by name, registered as children in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        self._drop(key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module from the dict."""
        for key in list(self._modules):
            self._drop(key)

    def pop(self, key):
        """Remove the module under `key` and return it (KeyError if absent)."""
        m = self._modules[key]
        self._drop(key)
        return m

    def keys(self):
        """Return the names of the modules, in insertion order."""
        return self._modules.keys()

    def items(self):
        """Return the `(name, module)` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """Return the modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add or replace modules from a mapping or an iterable of `(name, module)` pairs, in their
        order."""
        items = modules.items() if hasattr(modules, "items") else modules
        for key, m in items:
            self[key] = m

    def forward(self, *args, **kwargs):
        """Raise NotImplementedError: a ModuleDict only holds modules; look them up and call them.

        PyTorch raises the same error type (its message is the base Module's "missing the
        required forward function")."""
        raise NotImplementedError("ModuleDict has no forward(); call its modules")


def _as_param(p):
    if isinstance(p, Tensor) and not _is_param(p):
        return Parameter(p)
    return p


def _param_line(p, typename):
    if isinstance(p, Tensor):
        size = "x".join(str(s) for s in p.shape)
        kind = "Parameter" if _is_param(p) else "Tensor"
        return f"{kind} containing: [{typename(p)} of size {size}]"
    return f"Object of type: {type(p).__name__}"


class ParameterList(Module):
    """Parameters in a list, registered as "0", "1", ... (tensors become Parameters)."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[i] for i in range(len(self))[idx]])
        return getattr(self, str(_index(idx, len(self))))

    def __setitem__(self, idx, param):
        setattr(self, str(_index(idx, len(self))), _as_param(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        """Append `value` as the next entry (plain tensors become Parameters); return the list."""
        self._size += 1
        setattr(self, str(self._size - 1), _as_param(value))
        return self

    def extend(self, values):
        """Append each value of the iterable `values` (plain tensors become Parameters); return this
        list."""
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        """Return one line per entry, e.g. `(0): Parameter containing: [torch.float32 of size 2x3]`,
        as PyTorch prints them."""
        return "\n".join(
            f"  ({i}): " + _param_line(p, lambda t: f"torch.{t.dtype.name}")
            for i, p in enumerate(self)
        )


_TYPENAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor"}


class ParameterDict(Module):
    """Parameters by name, in insertion order (tensors become Parameters)."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys = OrderedDict()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return getattr(self, key)

    def __setitem__(self, key, value):
        self._keys[key] = None
        setattr(self, key, _as_param(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        """Return the keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """Return the `(key, parameter)` pairs, in insertion order."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """Return the parameters, in insertion order."""
        return (self[k] for k in self._keys)

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of `(key, value)` pairs (plain
        tensors become Parameters)."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, p in items:
            self[key] = p

    def extra_repr(self):
        """Return one line per entry, e.g.
        `(a): Parameter containing: [torch.FloatTensor of size 2x3]`, as PyTorch prints them."""

        def typename(t):
            return "torch." + _TYPENAMES.get(t.dtype.name, t.dtype.name)

        return "\n".join(f"  ({k}): " + _param_line(p, typename) for k, p in self.items())
