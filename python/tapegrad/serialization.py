"""tg.save / tg.load: PyTorch's checkpoint format both ways, and NumPy .npz; never unsafe pickle.

`save(obj, f)` writes PyTorch's format (the zip torch.save writes: `archive/data.pkl`, a protocol 2
pickle, and one `archive/data/<key>` record per tensor), which `torch.load(f, weights_only=True)`
reads. obj may be a state dict, an optimizer's state dict or a checkpoint nesting them: dicts,
OrderedDicts, lists, tuples, sets, str, int, float, bool, None, bytes, dtypes, tensors (Parameters
stay Parameters) and NumPy arrays of tapegrad's dtypes (saved as tensors); anything else is a
TypeError, since reading it back would need pickle to run code (_pt_write.py). With
`format="npz"`, or a file name ending in ".npz", it writes an uncompressed .npz instead: a flat
state dict as .npy members, a nested one with its layout as JSON (optim/_saving.py).

`load(f)` tells the two apart by content. A torch.save archive (also one written by PyTorch) is
read like PyTorch's `weights_only=True`: the pickle runs in a restricted unpickler that admits only
the globals such a checkpoint uses, mapped to tapegrad's own functions, and never imports torch
(_pt_read.py); tensors of one storage share memory; dtypes tapegrad lacks (bfloat16, complex,
uint16 ...), other globals, storages larger than their records and views reaching past their
storage are refused. An .npz comes back as an ordered dict: arrays of tapegrad's dtypes become
tensors of that dtype (on the current backend, or `backend=`), other numeric arrays (uint16/32/64)
stay NumPy arrays. A bare pickle (torch.save's legacy format), a truncated or corrupt archive, an
object array, an archive that would inflate beyond what its size allows (MAX_RATIO, MAX_BYTES) or
an entry whose header declares more data than it holds is refused with a ValueError that says what
was found, before anything is inflated or allocated.
"""

import io
import os
import re
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import _backend
from .tensor import Tensor

__all__ = ["save", "load"]

# What load inflates: at most MAX_RATIO times the file's size (deflate cannot do better than
# about 1032:1, so an honest archive always fits) and never more than MAX_BYTES in all.
MAX_RATIO = 1100
MAX_BYTES = 1 << 40
# Key names tapegrad.save writes as archive members: no paths, no control characters.
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.\-]+")

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_PICKLE_PROTOCOLS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


def _describe(f):
    return repr(os.fspath(f)) if isinstance(f, (str, bytes, os.PathLike)) else "the file object"


def _check_state_dict(obj):
    if not isinstance(obj, Mapping):
        raise TypeError(
            "tapegrad.save only saves a flat dict of str -> tensor (a state dict), "
            f"got {type(obj).__name__}. Pickled objects are not supported, by design."
        )
    out = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(
                f"tapegrad.save: state dict keys must be str, got {type(key).__name__} ({key!r})"
            )
        if not _SAFE_KEY.fullmatch(key) or key.startswith(".") or len(key) > 1000:
            raise ValueError(
                f"tapegrad.save: invalid state dict key {key!r}: not a safe archive member name "
                "(letters, digits, '_', '.', '-'; not starting with '.'; at most 1000 characters)"
            )
        if isinstance(value, Tensor):
            arr = value._be.to_numpy(value)
        elif isinstance(value, np.ndarray):
            arr = value
            if arr.dtype.kind not in "biuf":
                raise TypeError(
                    f"tapegrad.save: entry {key!r} is an ndarray of dtype {arr.dtype}; only "
                    "boolean, integer and floating arrays can be saved without pickle"
                )
        else:
            raise TypeError(
                f"tapegrad.save: entry {key!r} is a {type(value).__name__}; a state dict may only "
                "hold tensors and NumPy arrays (nested containers and Python objects would need "
                "pickle, which tapegrad does not use)"
            )
        out.append((key, np.asarray(arr, order="C")))  # (ascontiguousarray makes 0-d 1-d)
    return out


def save(obj, f, pickle_module=None, pickle_protocol=2, *, format=None):  # noqa: A002
    """Save obj to `f` (a path or a binary file) in PyTorch's format, or as .npz.

    format: "pt" (PyTorch's zip, which torch.load reads with weights_only=True) or "npz"; by
    default "npz" when the file name ends in ".npz", else "pt". The file is written under exactly
    the name given. pickle_module/pickle_protocol are accepted for PyTorch compatibility; the
    pickle is always tapegrad's own protocol 2 writer.
    """
    import zipfile  # here, not at import: it costs ~10 ms

    from .optim import _saving

    if pickle_module is not None:
        raise TypeError("tapegrad.save writes its own pickle; pickle_module must be None")
    name = getattr(f, "name", f) if hasattr(f, "write") else f
    if format is None:
        named = isinstance(name, (str, os.PathLike))
        format = "npz" if named and os.fspath(name).endswith(".npz") else "pt"  # noqa: A001
    if format not in ("pt", "npz"):
        raise ValueError(f'tapegrad.save: format must be "pt" or "npz", not {format!r}')
    if format == "pt":
        from . import _pt_write
        from .nn.modules.parameter import Parameter

        try:
            data = _pt_write.dumps(obj, Tensor, Parameter)
        except RecursionError:
            raise ValueError(
                "tapegrad.save: the object is nested too deeply (or is cyclic)"
            ) from None
        return _write(f, data)

    if _saving.is_nested(obj, Tensor):  # its layout goes in one more member
        members, text = _saving.encode(obj, Tensor)
        obj = dict(members)
        obj[_saving.MEMBER] = np.frombuffer(text, dtype=np.uint8)
    items = _check_state_dict(obj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in items:
            with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
    _write(f, buf.getvalue())


def _write(f, data):
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(f, "wb") as fh:
            fh.write(data)


def _refuse(what, f, why):
    raise ValueError(f"tapegrad.load: {_describe(f)} {what}: {why}")


def load(f, map_location=None, weights_only=None, backend=None, mmap=None):
    """Load what `tapegrad.save`, `torch.save` or `numpy.savez` wrote, from a path or binary file.

    A PyTorch checkpoint comes back as saved (dicts, lists, tensors ...); an .npz as an
    OrderedDict in the saved order. Tensors are on the current backend (or `backend`); .npz
    entries of dtypes tapegrad lacks stay NumPy arrays. `map_location` may only be None or "cpu";
    `weights_only` is accepted for PyTorch compatibility (loading is always weights-only here:
    weights_only=False is refused).
    """
    import zipfile  # here, not at import: it costs ~10 ms

    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise RuntimeError(f"tapegrad runs on the CPU only; map_location={map_location!r}")
    if weights_only is False:
        raise ValueError(
            "tapegrad.load: weights_only=False would unpickle arbitrary objects (running code "
            "from the file); tapegrad loads weights only"
        )
    if hasattr(f, "read"):
        data = f.read()
    else:
        with open(f, "rb") as fh:
            data = fh.read()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("tapegrad.load: the file must be opened in binary mode")
    head = bytes(data[:4])
    if head[:2] in _PICKLE_PROTOCOLS or head[:1] == b"\x80":
        _refuse(
            "is a Python pickle",
            f,
            "tapegrad never unpickles a bare pickle (pickles can run arbitrary code); it reads "
            "PyTorch's zip format (torch.save's default since 1.6): re-save it with "
            "torch.save(obj, path)",
        )
    if head != _ZIP_MAGIC and head != _EMPTY_ZIP_MAGIC:
        _refuse(
            "is not an .npz archive",
            f,
            f"it starts with {head!r}, not a zip header; tapegrad.load reads files written by "
            "tapegrad.save",
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
        inflated = sum(i.file_size for i in zf.infolist())
        limit = min(MAX_RATIO * len(data), MAX_BYTES)
        if inflated > limit:
            _refuse(
                "would inflate too far",
                f,
                f"its members hold {inflated} bytes uncompressed, more than the {limit} bytes a "
                f"{len(data)}-byte archive may (at most {MAX_RATIO}x its size, {MAX_BYTES} bytes "
                "in all)",
            )
        bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as e:
        if isinstance(e, ValueError) and str(e).startswith("tapegrad.load"):
            raise
        _refuse("is truncated or corrupt", f, f"{type(e).__name__}: {e}")
    if bad is not None:
        _refuse("is corrupt", f, f"member {bad!r} fails its CRC check")
    be = _backend.current() if backend is None else _backend.load(backend)
    if any(n.endswith("/data.pkl") for n in names):
        from . import _pt_read

        try:
            return _pt_read.read(zf, names, be)
        except ValueError as e:
            _refuse("is a PyTorch checkpoint tapegrad refuses to load", f, str(e))
    if any(n.endswith(".pkl") or n.endswith("/data.pkl") for n in names) or any(
        not n.endswith(".npy") for n in names
    ):
        others = [n for n in names if not n.endswith(".npy")]
        hint = (
            " It looks like a PyTorch checkpoint (torch.save), which needs pickle; convert it "
            "with numpy.savez(path, **{k: v.numpy() for k, v in sd.items()})."
            if any(n.endswith(".pkl") for n in names)
            else ""
        )
        _refuse(
            "is not a tapegrad/NumPy state dict",
            f,
            f"it holds members that are not .npy arrays: {others[:5]}.{hint}",
        )
    out = OrderedDict()
    for name in names:
        key = name[: -len(".npy")]
        _check_declared(zf, name, key, f)
        try:
            with zf.open(name) as member:
                arr = np.lib.format.read_array(member, allow_pickle=False)
        except ValueError as e:
            if "allow_pickle" in str(e) or "Object arrays" in str(e):
                _refuse("holds an object array", f, f"entry {key!r} would need pickle; refused")
            _refuse("is corrupt", f, f"entry {key!r}: {e}")
        except (EOFError, OSError, zipfile.BadZipFile) as e:
            _refuse("is truncated or corrupt", f, f"entry {key!r}: {type(e).__name__}: {e}")
        if arr.dtype.kind not in "biuf":
            _refuse("holds an unsupported array", f, f"entry {key!r} has dtype {arr.dtype}")
        if arr.dtype.byteorder not in ("=", "|"):
            arr = arr.astype(arr.dtype.newbyteorder("="))
        if arr.dtype.kind == "u" and arr.itemsize > 1:
            out[key] = arr  # uint16/32/64: tapegrad has no such dtype
        else:
            # the canonical dtype object: a byte-swapped descriptor compares equal but is not
            # what the backends' from_numpy checks for
            canonical = np.dtype(arr.dtype.str.replace(">", "<").replace("=", "<"))
            canonical = canonical.newbyteorder("=")
            out[key] = be.from_numpy(np.asarray(arr, dtype=canonical, order="C"), False)
    from .optim import _saving

    text = out.pop(_saving.MEMBER, None)
    if text is not None:  # a nested checkpoint (save)
        return _saving.decode(be.to_numpy(text) if isinstance(text, Tensor) else text, out)
    return out


def _check_declared(zf, name, key, f):
    """Refuse an entry whose .npy header declares more data than the member holds (read_array
    would allocate what the header says first)."""
    info = zf.getinfo(name)
    try:
        with zf.open(name) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(member)
            header = member.tell()
    except ValueError as e:
        _refuse("is corrupt", f, f"entry {key!r}: {e}")
    except (EOFError, OSError) as e:
        _refuse("is truncated or corrupt", f, f"entry {key!r}: {type(e).__name__}: {e}")
    if dtype.hasobject:
        _refuse("holds an object array", f, f"entry {key!r} would need pickle; refused")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    held = info.file_size - header
    if declared > held:
        _refuse(
            "is corrupt",
            f,
            f"entry {key!r} declares {declared} bytes of {dtype} {tuple(shape)} but holds {held}",
        )
