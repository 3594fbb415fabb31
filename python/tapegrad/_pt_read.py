"""Reading PyTorch's checkpoint format (torch.save's zip) without running any code from the file.

The archive holds `<prefix>/data.pkl`, a pickle of the object whose tensors point at storages
`<prefix>/data/<key>` through persistent ids ('storage', <storage type>, key, location, numel),
plus `byteorder` and `version` records. The pickle is read by pure Python's unpickler with its
opcode table cut down: `find_class` admits only the globals a weights-only checkpoint uses (each
mapped to a function of this module, never to torch's), REDUCE calls only those, BUILD only sets
attributes of an OrderedDict (a state dict's `_metadata`), SETITEM/APPEND only fill plain
containers, and the opcodes that make arbitrary objects (INST, OBJ, NEWOBJ, EXT) are gone. This
is what PyTorch's `weights_only=True` admits; anything else is a ValueError naming what was refused.
"""

import io
import pickle
from collections import OrderedDict

import numpy as np

from . import _dtype

# PyTorch's legacy storage classes and the dtype each holds; torch.storage.UntypedStorage is bytes
STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}
# torch dtypes tapegrad lacks: admitted as names so the refusal can say which one it was
FOREIGN_DTYPES = (
    "bfloat16 complex32 complex64 complex128 cfloat cdouble chalf uint16 uint32 uint64 "
    "float8_e4m3fn float8_e5m2 float8_e4m3fnuz float8_e5m2fnuz qint8 quint8 qint32 quint4x2"
).split()
FOREIGN_STORAGES = (
    "BFloat16Storage ComplexFloatStorage ComplexDoubleStorage QInt8Storage QUInt8Storage "
    "QInt32Storage QUInt4x2Storage QUInt2x4Storage"
).split()
MAX_DIMS = 8  # as the C++ core
MAX_NUMEL = 1 << 48  # a stride-0 tensor may be larger than its storage, but not beyond this


class _Refused(ValueError):
    pass


class _StorageType:
    """What a `torch.<X>Storage` global unpickles to: a name and a dtype (None: foreign)."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _Foreign:
    """A torch dtype tapegrad does not have; refused when a tensor would use it."""

    def __init__(self, name):
        self.name = name


def _int(v, what):
    if type(v) is not int:
        raise _Refused(f"{what} is a {type(v).__name__}, not an int")
    return v


def _ints(v, what):
    if type(v) not in (tuple, list) or len(v) > MAX_DIMS:
        raise _Refused(f"{what} is not a tuple of at most {MAX_DIMS} ints: {v!r:.80}")
    out = tuple(_int(x, what) for x in v)
    if any(x < 0 for x in out):
        raise _Refused(f"{what} has a negative entry: {out}")
    return out


class _Reader(pickle._Unpickler):
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, data, storages, be, order):
        super().__init__(io.BytesIO(data))
        self._storages, self._be = storages, be  # key -> bytes; the backend tensors go to
        self._order = "<" if order == "little" else ">"
        self._loaded = {}  # key -> (dtype, flat writable ndarray), as PyTorch's loaded_storages
        from .nn.modules.parameter import Parameter

        self._parameter_type = Parameter

    # ---- globals
    def find_class(self, module, name):
        admitted = {
            ("collections", "OrderedDict"): OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): self._tensor_v2,
            ("torch._utils", "_rebuild_tensor_v3"): self._tensor_v3,
            ("torch._utils", "_rebuild_parameter"): self._parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): self._parameter_with_state,
            ("torch", "Size"): _size,
            ("torch", "device"): _device,
            ("builtins", "set"): set,
            ("builtins", "frozenset"): frozenset,
            ("_codecs", "encode"): _encode,
        }
        if (module, name) in admitted:
            return admitted[(module, name)]
        if module in ("torch", "torch.storage"):
            if name in STORAGE_DTYPES:
                return _StorageType(name, getattr(_dtype, STORAGE_DTYPES[name]))
            if name == "UntypedStorage":
                return _StorageType(name, _dtype.uint8)
            if name in FOREIGN_STORAGES:
                return _StorageType(name, None)
            if module == "torch" and name in _dtype._NAMES:
                return _dtype._NAMES[name]
            if module == "torch" and name in FOREIGN_DTYPES:
                return _Foreign(name)
        raise _Refused(f"the global {module}.{name} is not admitted")

    # ---- storages and tensors
    def persistent_load(self, pid):
        if type(pid) is not tuple or len(pid) != 5 or pid[0] != "storage":
            raise _Refused(f"persistent id {pid!r:.80} is not a storage")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType) or type(key) is not str:
            raise _Refused(f"persistent id {pid!r:.80} is not a storage")
        numel = _int(numel, "a storage's size")
        if key in self._loaded:
            return self._loaded[key]
        if stype.dtype is None:
            raise _Refused(f"storage {key!r} is a torch.{stype.name}; tapegrad has no such dtype")
        raw = self._storages.get(key)
        if raw is None:
            raise _Refused(f"storage {key!r} has no record data/{key} in the archive")
        need = numel * stype.dtype.itemsize
        if numel < 0 or need > len(raw):
            raise _Refused(
                f"storage {key!r} declares {need} bytes but the archive holds {len(raw)}"
            )
        flat = np.frombuffer(bytearray(raw[:need]), stype.dtype.np.newbyteorder(self._order))
        if flat.dtype.byteorder not in "=|":  # written on a machine of the other byte order
            flat = flat.astype(stype.dtype.np)
        self._loaded[key] = (stype.dtype, flat)
        return self._loaded[key]

    def _tensor(self, storage, offset, size, stride, requires_grad, dtype=None):
        if type(storage) is not tuple or len(storage) != 2:
            raise _Refused("a tensor's storage is not a storage from the archive")
        sdt, flat = storage
        if isinstance(dtype, _Foreign):
            raise _Refused(f"a tensor has dtype torch.{dtype.name}; tapegrad has no such dtype")
        if dtype is not None and not isinstance(dtype, _dtype.dtype):
            raise _Refused(f"a tensor's dtype is a {type(dtype).__name__}")
        if dtype is not None and dtype is not sdt:
            if sdt is not _dtype.uint8 or len(flat) % dtype.itemsize:
                raise _Refused(f"a {dtype} tensor over a {sdt} storage")
            flat = flat.view(dtype.np.newbyteorder(self._order))
            if flat.dtype.byteorder not in "=|":
                flat = flat.astype(dtype.np)
        offset = _int(offset, "a tensor's storage offset")
        size, stride = _ints(size, "a tensor's size"), _ints(stride, "a tensor's stride")
        if len(size) != len(stride):
            raise _Refused(f"a tensor's size {size} and stride {stride} differ in length")
        if type(requires_grad) is not bool:
            raise _Refused("a tensor's requires_grad is not a bool")
        numel = int(np.prod(size, dtype=object))
        if numel > MAX_NUMEL:
            raise _Refused(f"a tensor of size {size} has more than {MAX_NUMEL} elements")
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if offset < 0 or (numel and last >= len(flat)):
            raise _Refused(
                f"a tensor of size {size}, stride {stride} at offset {offset} reaches past its "
                f"storage of {len(flat)} elements"
            )
        if numel == 0:
            t = self._be.from_numpy(np.zeros(size, flat.dtype), False)
        else:
            item = flat.itemsize
            view = np.lib.stride_tricks.as_strided(
                flat[offset:], size, tuple(s * item for s in stride), writeable=True
            )
            t = self._be.from_numpy_shared(view)  # tensors of one storage share memory
        if requires_grad:
            t.requires_grad_(True)
        return t

    def _tensor_v2(self, storage, offset, size, stride, requires_grad, hooks, metadata=None):
        _no_hooks(hooks)
        return self._tensor(storage, offset, size, stride, requires_grad)

    def _tensor_v3(self, storage, offset, size, stride, requires_grad, hooks, dtype, meta=None):
        _no_hooks(hooks)
        return self._tensor(storage, offset, size, stride, requires_grad, dtype)

    def _parameter(self, data, requires_grad, hooks):
        _no_hooks(hooks)
        if not hasattr(data, "_be") or type(requires_grad) is not bool:
            raise _Refused("a Parameter is rebuilt from something that is not a tensor")
        return self._parameter_type(data.detach(), requires_grad)

    def _parameter_with_state(self, data, requires_grad, hooks, state):
        if state not in (None, {}, ()):
            raise _Refused("a Parameter carries Python attributes (state)")
        return self._parameter(data, requires_grad, hooks)

    # ---- the opcodes that call or mutate: checked
    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if not callable(func) or isinstance(func, (_StorageType, _Foreign)):
            raise _Refused(f"REDUCE of {func!r:.80}, which is not an admitted callable")
        if type(args) is not tuple:
            raise _Refused("REDUCE with arguments that are not a tuple")
        self.stack[-1] = func(*args)

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is OrderedDict and type(state) is dict:
            for k, v in state.items():
                if type(k) is not str or k.startswith("__"):
                    raise _Refused(f"BUILD would set the attribute {k!r:.80} of an OrderedDict")
                setattr(inst, k, v)
            return
        if isinstance(inst, self._tensor_types()) and state in (None, {}, ()):
            return
        raise _Refused(f"BUILD on a {type(inst).__name__} with a {type(state).__name__}")

    def load_setitem(self):
        self._container(dict)
        super().load_setitem()

    def load_setitems(self):
        self._container(dict, marked=True)
        super().load_setitems()

    def load_append(self):
        self._container(list)
        super().load_append()

    def load_appends(self):
        self._container(list, marked=True)
        super().load_appends()

    def load_additems(self):
        self._container(set, marked=True)
        super().load_additems()

    def _container(self, kind, marked=False):
        # for the *S opcodes the items are above a mark: the target is the last object below it
        if marked:
            target = self.metastack[-1][-1] if self.metastack and self.metastack[-1] else None
        else:
            target = self.stack[-3] if kind is dict else self.stack[-2]
        ok = (dict, OrderedDict) if kind is dict else (kind,)
        if type(target) not in ok:
            raise _Refused(f"items added to a {type(target).__name__}")

    def _tensor_types(self):
        from .tensor import Tensor

        return Tensor


# what makes arbitrary objects or reads outside data.pkl: INST OBJ NEWOBJ(_EX) EXT1/2/4 PERSID and
# the out-of-band buffers
for _op in b"io\x81\x92\x82\x83\x84P\x96\x97\x98":
    _Reader.dispatch.pop(_op, None)
for _op, _fn in (
    (pickle.REDUCE, _Reader.load_reduce),
    (pickle.BUILD, _Reader.load_build),
    (pickle.SETITEM, _Reader.load_setitem),
    (pickle.SETITEMS, _Reader.load_setitems),
    (pickle.APPEND, _Reader.load_append),
    (pickle.APPENDS, _Reader.load_appends),
    (pickle.ADDITEMS, _Reader.load_additems),
):
    _Reader.dispatch[_op[0]] = _fn


def _no_hooks(hooks):
    if hooks not in (None, {}) or not isinstance(hooks, (dict, type(None))):
        raise _Refused("a tensor carries backward hooks")


def _size(dims=()):
    return tuple(_ints(dims, "a torch.Size"))


def _device(kind, index=None):
    from ._device import device

    if kind != "cpu" and not (type(kind) is str and kind.startswith("cpu")):
        raise _Refused(f"a torch.device({kind!r:.40}): tapegrad runs on the CPU only")
    return device("cpu")


def _encode(text, encoding="utf-8"):
    if type(text) is not str or encoding != "latin1":
        raise _Refused("_codecs.encode other than of a str to latin1 (protocol 2's bytes)")
    return text.encode("latin1")


def read(zf, names, be):
    """The object of a torch.save archive (an open zipfile, its member names)."""
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if len(pkl) != 1:
        raise _Refused(f"it holds {len(pkl)} top-level data.pkl records, not one")
    prefix = pkl[0][: -len("data.pkl")]
    order = "little"
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder").decode("ascii", "replace")
        if order not in ("little", "big"):
            raise _Refused(f"its byteorder record says {order!r:.20}")
    storages = {
        n[len(prefix) + len("data/") :]: zf.read(n) for n in names if n.startswith(prefix + "data/")
    }
    data = zf.read(pkl[0])
    reader = _Reader(data, storages, be, order)
    try:
        return reader.load()
    except _Refused:
        raise
    except Exception as e:  # whatever a malformed pickle makes the unpickler raise
        raise _Refused(
            f"its data.pkl is not a checkpoint pickle ({type(e).__name__}: {e})"
        ) from None
