"""Writing PyTorch's checkpoint format (the zip torch.save writes), readable by
`torch.load(path, weights_only=True)` and by tapegrad.load.

The pickle (protocol 2, as torch.save) is written opcode by opcode here, never by pickle's own
Pickler, so only what a weights-only loader admits can be in it: dicts and OrderedDicts, lists,
tuples, sets, str, int, float, bool, None, bytes, dtypes, tensors (a Parameter stays one) and
NumPy arrays of tapegrad's dtypes (written as tensors). Each tensor's data is one contiguous
storage record `archive/data/<key>`, aligned to 64 bytes as torch.save aligns them.
"""

import io
import struct
import zipfile
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import _dtype

ALIGN = 64
# tapegrad dtype name -> torch's legacy storage class, which torch.save names in its pickles
STORAGE = {
    "float64": "DoubleStorage",
    "float32": "FloatStorage",
    "float16": "HalfStorage",
    "int64": "LongStorage",
    "int32": "IntStorage",
    "int16": "ShortStorage",
    "int8": "CharStorage",
    "uint8": "ByteStorage",
    "bool": "BoolStorage",
}


class _Writer:
    def __init__(self, tensor_type, parameter_type):
        self.out = io.BytesIO()
        self.memo = {}  # id -> memo index, for objects met twice (and the objects, kept alive)
        self.kept = []
        self.storages = []  # raw bytes, by key
        self.tensor_type, self.parameter_type = tensor_type, parameter_type

    def op(self, *parts):
        for p in parts:
            self.out.write(p)

    def put(self, obj):
        i = len(self.memo)
        self.memo[id(obj)] = i
        self.kept.append(obj)
        self.op(b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i))

    def get(self, obj):
        i = self.memo[id(obj)]
        self.op(b"h" + bytes([i]) if i < 256 else b"j" + struct.pack("<I", i))

    def glob(self, module, name):
        self.op(b"c" + f"{module}\n{name}\n".encode("ascii"))

    def write(self, v, path):
        if id(v) in self.memo:
            return self.get(v)
        if v is None:
            return self.op(b"N")
        if v is True or v is False:
            return self.op(b"\x88" if v else b"\x89")
        if isinstance(v, np.generic) and v.dtype.kind in "biuf":
            v = v.item()
        if type(v) is int or (isinstance(v, int) and not isinstance(v, bool)):
            return self.integer(int(v))
        if isinstance(v, float):
            return self.op(b"G" + struct.pack(">d", float(v)))
        if isinstance(v, str):
            data = str(v).encode("utf-8", "surrogatepass")
            return self.op(b"X" + struct.pack("<I", len(data)), data)
        if isinstance(v, (bytes, bytearray)):  # protocol 2 spells bytes as a latin-1 str
            self.glob("_codecs", "encode")
            self.write(bytes(v).decode("latin1"), path)
            self.write("latin1", path)
            return self.op(b"\x86R")
        if isinstance(v, _dtype.dtype):
            return self.glob("torch", v.name)
        if isinstance(v, self.tensor_type):
            return self.tensor(v, path)
        if isinstance(v, np.ndarray):
            if v.dtype.kind not in "biuf" or v.dtype.newbyteorder("=") not in _dtype._BY_NP:
                raise TypeError(
                    f"tapegrad.save: entry {path} is an ndarray of dtype {v.dtype}; PyTorch's "
                    "format holds only tensors of tapegrad's dtypes (no uint16/32/64, complex, "
                    "object)"
                )
            return self.storage_tensor(np.asarray(v, order="C"), False, path, v)
        if isinstance(v, tuple):
            return self.tuple(v, path)
        if isinstance(v, list):
            self.op(b"]")
            self.put(v)
            return self.items(v, b"e", path)
        if isinstance(v, (set, frozenset)):
            self.glob("builtins", type(v).__name__ if type(v) in (set, frozenset) else "set")
            self.op(b"]")
            self.items(list(v), b"e", path)
            self.op(b"\x85R")
            return self.put(v)
        if isinstance(v, Mapping):
            if isinstance(v, OrderedDict):
                self.glob("collections", "OrderedDict")
                self.op(b")R")
            else:
                self.op(b"}")
            self.put(v)
            return self.items(list(v.items()), b"u", path)
        raise TypeError(
            f"tapegrad.save: entry {path} is a {type(v).__name__}; only tensors, arrays, numbers, "
            "strings, bytes, None, dtypes, lists, tuples, sets and dicts can be saved without "
            "pickle running arbitrary code on load (as torch.load(weights_only=True) requires)"
        )

    def integer(self, n):
        if 0 <= n < 256:
            return self.op(b"K" + bytes([n]))
        if 0 <= n < 65536:
            return self.op(b"M" + struct.pack("<H", n))
        if -(2**31) <= n < 2**31:
            return self.op(b"J" + struct.pack("<i", n))
        data = n.to_bytes((n + (n < 0)).bit_length() // 8 + 1, "little", signed=True)
        if len(data) > 255:
            raise TypeError(f"tapegrad.save: the int {n:.3g} is too large")
        self.op(b"\x8a" + bytes([len(data)]), data)

    def tuple(self, v, path):
        if not v:
            return self.op(b")")
        if len(v) <= 3:
            for i, x in enumerate(v):
                self.write(x, f"{path}[{i}]")
            return self.op(b"\x85\x86\x87"[len(v) - 1 : len(v)])
        self.op(b"(")
        for i, x in enumerate(v):
            self.write(x, f"{path}[{i}]")
        self.op(b"t")

    def items(self, items, op, path):
        # in batches of 1000, as pickle does; a SETITEMS/APPENDS of nothing is skipped
        for start in range(0, len(items), 1000):
            self.op(b"(")
            for j, x in enumerate(items[start : start + 1000]):
                if op == b"u":
                    key, value = x
                    if not (key is None or isinstance(key, (str, int, float, tuple))):
                        raise TypeError(
                            f"tapegrad.save: key {key!r} at {path} is a {type(key).__name__}; "
                            "keys are str, int, float, bool, None or tuples of those"
                        )
                    self.write(key, f"{path} key")
                    self.write(value, f"{path}[{key!r}]")
                else:
                    self.write(x, f"{path}[{start + j}]")
            self.op(op)

    def tensor(self, t, path):
        if t.requires_grad and not t.is_leaf:
            raise RuntimeError(
                "Cowardly refusing to serialize non-leaf tensor which requires_grad, since "
                "autograd does not support crossing process boundaries.  If you just want to "
                "transfer the data, call detach() on the tensor before serializing (e.g., "
                "putting it on the queue)."
            )
        arr = np.asarray(t._be.to_numpy(t), order="C")  # (ascontiguousarray makes 0-d 1-d)
        if isinstance(t, self.parameter_type):
            self.glob("torch._utils", "_rebuild_parameter")
            self.storage_tensor(arr, False, path, None)
            self.op(b"\x89" if not t.requires_grad else b"\x88")
            self.glob("collections", "OrderedDict")
            self.op(b")R\x87R")
            return self.put(t)
        return self.storage_tensor(arr, bool(t.requires_grad), path, t)

    def storage_tensor(self, arr, requires_grad, path, memo_obj):
        dt = _dtype._BY_NP[arr.dtype.newbyteorder("=")]
        key = str(len(self.storages))
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        self.storages.append(data)
        self.glob("torch._utils", "_rebuild_tensor_v2")
        # (storage, offset, size, stride, requires_grad, backward hooks); the storage is a
        # persistent id ('storage', its class, key, location, numel)
        self.op(b"((")
        self.write("storage", path)
        self.glob("torch", STORAGE[dt.name])
        self.write(key, path)
        self.write("cpu", path)
        self.integer(arr.size)
        self.op(b"tQ")
        self.integer(0)
        self.tuple(tuple(int(n) for n in arr.shape), path)
        strides = [1] * arr.ndim
        for i in range(arr.ndim - 2, -1, -1):
            strides[i] = strides[i + 1] * max(int(arr.shape[i + 1]), 1)
        self.tuple(tuple(strides), path)
        self.op(b"\x88" if requires_grad else b"\x89")
        self.glob("collections", "OrderedDict")
        self.op(b")R")
        self.op(b"tR")
        if memo_obj is not None:
            self.put(memo_obj)


def _aligned_member(zf, fp, name, data):
    """Write one stored member whose data starts at a multiple of ALIGN (torch.save's layout),
    padding the local header's extra field."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 0
    start = fp.tell() + 30 + len(name.encode("utf-8"))
    pad = (-(start + 4)) % ALIGN
    info.extra = struct.pack("<HH", 0x5A46, pad) + b"Z" * pad  # id "FZ": torch's padding field
    zf.writestr(info, data)


def dumps(obj, tensor_type, parameter_type):
    """The bytes of a torch.save archive holding obj."""
    w = _Writer(tensor_type, parameter_type)
    w.op(b"\x80\x02")
    w.write(obj, "obj")
    w.op(b".")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        records = [
            ("data.pkl", w.out.getvalue()),
            (".format_version", b"1"),
            (".storage_alignment", str(ALIGN).encode()),
            ("byteorder", b"little"),  # the storages are written little-endian on any machine
        ]
        records += [(f"data/{k}", d) for k, d in enumerate(w.storages)]
        records.append(("version", b"3\n"))
        for name, data in records:
            _aligned_member(zf, buf, "archive/" + name, data)
    return buf.getvalue()
