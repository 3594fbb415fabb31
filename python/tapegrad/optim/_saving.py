"""tg.save / tg.load of a nested checkpoint without pickle: an optimizer's state dict ({'state':
..., 'param_groups': ...}), or a dict that nests state dicts with numbers and strings (PyTorch's
`torch.save({"epoch": e, "model": model.state_dict(), "optimizer": opt.state_dict()}, path)`):
each tensor becomes an .npy member of the archive and the nesting (dicts with int keys,
tuples such as betas, floats, bools, None, strings) one more .npy member, MEMBER, holding its
JSON text as bytes. JSON keeps floats exact (repr round-trips) and tuples are tagged, so a
loaded state dict equals the saved one."""

import json
from collections.abc import Mapping

import numpy as np

MEMBER = "_tapegrad.optimizer_state_dict"


def is_optimizer_state_dict(obj):
    return (
        isinstance(obj, Mapping)
        and set(obj.keys()) == {"state", "param_groups"}
        and isinstance(obj["state"], Mapping)
        and isinstance(obj["param_groups"], (list, tuple))
    )


def is_nested(obj, tensor_type):
    """A mapping that is no flat state dict: one of its values is no tensor or array."""
    return isinstance(obj, Mapping) and (
        is_optimizer_state_dict(obj)
        or any(not isinstance(v, (tensor_type, np.ndarray)) for v in obj.values())
    )


def encode(obj, tensor_type):
    """(members, JSON bytes): members a list of (name, tensor or ndarray)."""
    members = []

    def enc(v, path):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, (tensor_type, np.ndarray)):
            name = f"t{len(members)}"
            members.append((name, v))
            return {"tensor" if isinstance(v, tensor_type) else "array": name}
        if isinstance(v, tuple):
            return {"tuple": [enc(x, path) for x in v]}
        if isinstance(v, list):
            return [enc(x, path) for x in v]
        if isinstance(v, Mapping):
            items = []
            for k, x in v.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(
                        f"tapegrad.save: key {k!r} at {path} is a "
                        f"{type(k).__name__}; only str and int keys can be saved without pickle"
                    )
                items.append([k, enc(x, f"{path}[{k!r}]")])
            return {"dict": items}
        if isinstance(v, np.generic) and v.dtype.kind in "biuf":
            return v.item()
        raise TypeError(
            f"tapegrad.save: entry {path} is a {type(v).__name__}; only tensors, arrays, numbers, "
            "strings, None, lists, tuples and dicts can be saved without pickle, which tapegrad "
            "does not use"
        )

    tree = enc(obj, "obj")
    return members, json.dumps(tree).encode()


def decode(text, entries):
    """The state dict from MEMBER's bytes and the archive's other entries (name -> value)."""

    def dec(v):
        if isinstance(v, list):
            return [dec(x) for x in v]
        if not isinstance(v, dict):
            return v
        if "tuple" in v:
            return tuple(dec(x) for x in v["tuple"])
        if "dict" in v:
            return {k: dec(x) for k, x in v["dict"]}
        name = v.get("tensor", v.get("array"))
        if name not in entries:
            raise ValueError(
                f"tapegrad.load: the checkpoint's layout names a missing entry {name!r}"
            )
        value = entries[name]
        if "array" in v and not isinstance(value, np.ndarray):
            value = value._be.to_numpy(value).copy()
        return value

    try:
        tree = json.loads(bytes(text).decode())
    except ValueError as e:
        raise ValueError(f"tapegrad.load: the checkpoint's layout entry is corrupt: {e}") from None
    return dec(tree)
