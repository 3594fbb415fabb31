"""Optimizer base: PyTorch's param_groups, state, zero_grad and state_dict (no kernels here)."""

import copy
from collections import defaultdict

import numpy as np

from .._grad_mode import enable_grad
from ..tensor import Tensor


def check_hyper(name, lr, checks):
    """PyTorch's checks of an optimizer's arguments, in its order: a Tensor lr is refused, and
    each (what, value, upper) must lie in [0, upper), or [0, inf) when upper is None, or raises
    ValueError("Invalid {what}: {value}") (NaN fails too, as PyTorch's `not 0.0 <= x`)."""
    if isinstance(lr, Tensor):
        raise NotImplementedError(f"{name} with a Tensor lr is not supported by tapegrad")
    for what, value, upper in checks:
        if not (0.0 <= value if upper is None else 0.0 <= value < upper):
            raise ValueError(f"Invalid {what}: {value}")


def refuse_flags(name, flags):
    """NotImplementedError for the first (flag, what) that is set: options tapegrad lacks."""
    for flag, what in flags:
        if flag:
            raise NotImplementedError(f"{name}({what}=True) is not supported by tapegrad")


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _zeros_like(p):
    """Zeros of p's shape and dtype on p's backend (not the current backend)."""
    return p._be.from_numpy(np.zeros(p.shape, dtype=p.dtype.np), False)


# The optimizers whose step ran while tg.compile captured a step (None when not capturing).
_noted = [None]
# Bumped by every change of any param group (ParamGroup) and by add_param_group: a compiled step
# re-reads its optimizers' hyperparameters when it moved since the last replay.
group_changes = [0]


def note_step(opt):
    """Record that the optimizer `opt` took a step while `tg.compile` captures a training step, so
    that the compiled step replays it; a no-op when nothing is being captured."""
    if _noted[0] is not None and opt not in _noted[0]:
        _noted[0].append(opt)


class ParamGroup(dict):
    """A param group: PyTorch's dict, counting its changes (`_n`) so that a compiled step
    (tg.compile) re-reads the hyperparameters only after one."""

    __slots__ = ("_n",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._n = 0

    def _bump(self):
        self._n = getattr(self, "_n", 0) + 1  # (unpickling sets items before the slot)
        group_changes[0] += 1

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        self._bump()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._bump()

    def update(self, *args, **kwargs):
        """Update the group as `dict.update`, and count it as a change."""
        dict.update(self, *args, **kwargs)
        self._bump()

    def setdefault(self, key, default=None):
        """Return `group[key]`, first setting it to `default` if absent, as `dict.setdefault`;
        counted as a change."""
        self._bump()
        return dict.setdefault(self, key, default)

    def pop(self, *args):
        """Remove `key` and return its value, or `default` if given, as `dict.pop`; counted as a
        change."""
        self._bump()
        return dict.pop(self, *args)

    def popitem(self):
        """Remove and return the last `(key, value)` pair, as `dict.popitem`; counted as a
        change."""
        self._bump()
        return dict.popitem(self)

    def clear(self):
        """Remove every item, as `dict.clear`; counted as a change."""
        self._bump()
        dict.clear(self)

    def __ior__(self, other):
        self.update(other)
        return self


class Optimizer:
    """Base class: holds `param_groups` (a list of dicts with "params" and the hyperparameters)
    and `state` (per-parameter dicts). Subclasses implement `step`."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got tapegrad.Tensor"
            )
        if isinstance(params, dict):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got dict"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ---- tg.compile: the hyperparameters a captured step reads at every replay
    _STRUCTURAL = ()  # group options that change which kernels run: a change captures anew

    def _hyper_values(self, group):
        """The group's numeric hyperparameters as the backend's update takes them (5 floats)."""
        raise NotImplementedError

    def _hyper(self, group, values):
        """While tg.compile captures a step (the only caller), the group's hyperparameter cell
        (cpp backend; None on the reference), set to `values`. A captured step reads the cell
        when it replays, so changing lr, betas, ... between calls (a learning-rate schedule)
        takes effect in compiled steps too."""
        be = group["params"][0]._be if group["params"] else None
        make = getattr(be, "Hyper", None)
        if make is None:
            return None
        cells = self.__dict__.setdefault("_cells", {})
        cell = cells.get(id(group))
        if cell is None or cell[0] is not group:
            cell = cells[id(group)] = (group, make())
        cell[1].set(*values)
        return cell[1]

    def _structure(self):
        """What a captured step depends on beyond the hyperparameters."""
        return tuple(
            (tuple(id(p) for p in g["params"]),) + tuple(bool(g.get(k)) for k in self._STRUCTURAL)
            for g in self.param_groups
        )

    def _sync_hyper(self):
        """The groups' current hyperparameters into their cells (before a replay)."""
        cells = self.__dict__.get("_cells", {})
        for group in self.param_groups:
            cell = cells.get(id(group))
            if cell is not None and cell[0] is group:
                cell[1].set(*self._hyper_values(group))

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        s += ")"
        return s

    def add_param_group(self, param_group):
        """Append a param group: a dict with "params" (a tensor or an ordered iterable of leaf
        tensors; a set is refused) and optional hyperparameters, the missing ones taken from the
        optimizer's defaults.

        A parameter already in another group raises ValueError, as PyTorch's."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + type(p).__name__
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    + name
                )
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            raise ValueError(
                "optimizer contains a parameter group with duplicate parameters; "
                "in the future, this will cause an error"
            )
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
        if seen.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(ParamGroup(param_group))
        group_changes[0] += 1

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters of all groups.

        With `set_to_none=True` (the default) each `.grad` becomes None; otherwise existing
        gradients are zeroed in place (detached first if they have a grad_fn)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    # while capturing assigned even when already None: the captured step
                    # (tg.compile) then starts its replays from None whatever the gradients were
                    if _noted[0] is not None or p.grad is not None:
                        p.grad = None
                    continue
                g = p.grad
                if g is None:
                    continue
                if g.grad_fn is not None:
                    g = g.detach()
                    p.grad = g
                g.zero_()

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):
        """Perform one optimization step (update the parameters from their `.grad`); subclasses
        implement it.

        `closure`, if given, re-evaluates the model with grad enabled and returns the loss, which
        `step` returns."""
        raise NotImplementedError

    # ---- state dict (in memory, PyTorch's layout) ----
    def state_dict(self):
        """Return the optimizer's state as PyTorch lays it out: a dict with "state" (index ->
        per-parameter state) and "param_groups" (each group's hyperparameters, "params" as indices).

        Parameters are numbered in group order. The state tensors are the optimizer's own (not
        copies)."""
        index = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = start
                    start += 1
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: v for p, v in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state from `state_dict()` (of this optimizer or of PyTorch's for the same
        parameters): the hyperparameters of each group and the per-parameter state.

        State tensors are cast to their parameter's dtype; `step` stays a float32 0-d tensor. The
        group count and sizes must match (ValueError otherwise)."""
        state_dict = {"state": state_dict["state"], "param_groups": state_dict["param_groups"]}
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = {}
        for g, s in zip(groups, saved_groups):
            for old, p in zip(s["params"], g["params"]):
                id_map[old] = p
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k not in id_map:
                continue
            p = id_map[k]
            state[p] = {key: self._cast_state(p, key, val) for key, val in v.items()}
        new_groups = []
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            new_groups.append(ParamGroup(s))
        group_changes[0] += 1
        self.state = state
        self.param_groups = new_groups

    @staticmethod
    def _cast_state(p, key, value):
        """A loaded state value as PyTorch's load_state_dict casts it: tensors follow the
        parameter's backend and dtype, and one that already does is kept, not copied (PyTorch's
        `.to()` returns the tensor itself); the step count stays a float32 0-d tensor."""
        if key == "step":
            if (
                isinstance(value, Tensor)
                and value._be is p._be
                and value.dtype.np == np.float32
                and value.numel() == 1
            ):
                return value
            v = value.item() if isinstance(value, Tensor) else float(value)
            return p._be.from_numpy(np.array(v, dtype=np.float32), False)
        if isinstance(value, Tensor):
            if value._be is p._be and value.dtype == p.dtype and value.is_contiguous():
                return value
            arr = value._be.to_numpy(value)
        elif isinstance(value, np.ndarray):
            arr = value
        else:
            return value
        return p._be.from_numpy(np.array(arr, dtype=p.dtype.np, order="C"), False)
