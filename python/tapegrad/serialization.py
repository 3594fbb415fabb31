"""tg.save / tg.load: flat state dicts as NumPy .npz files, never pickle.

`save(obj, f)` accepts only a flat mapping of str -> tensor or NumPy array (what
`Module.state_dict()` returns) and writes an uncompressed .npz (a zip of .npy files) with
`allow_pickle=False`. `load(f)` reads such a file back as an ordered dict: float32/float16
arrays become tensors (on the current backend, or `backend=`), other numeric arrays stay NumPy
arrays. Anything else — a pickle (e.g. a file written by torch.save), a truncated or corrupt
archive, an object array, a non-npz file — is refused with a ValueError that says what was found.
"""

import io
import os
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from . import _backend
from .tensor import Tensor

__all__ = ["save", "load"]

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
        if not key or "\x00" in key:
            raise ValueError(f"tapegrad.save: invalid state dict key {key!r}")
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


def save(obj, f):
    """Save a flat state dict (str -> tensor or ndarray) to `f` (a path or a binary file) as .npz.

    The file is written under exactly the name given (no ".npz" is appended).
    """
    import zipfile  # here, not at import: it costs ~10 ms

    items = _check_state_dict(obj)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, arr in items:
            with zf.open(key + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)
    data = buf.getvalue()
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(f, "wb") as fh:
            fh.write(data)


def _refuse(what, f, why):
    raise ValueError(f"tapegrad.load: {_describe(f)} {what}: {why}")


def load(f, map_location=None, weights_only=None, backend=None, mmap=None):
    """Load a state dict saved by `tapegrad.save` (or `numpy.savez`) from a path or binary file.

    Returns an OrderedDict in the saved order; float32/float16 entries are tensors on the
    current backend (or `backend`), other numeric entries NumPy arrays. `map_location` may only
    be None or "cpu"; `weights_only` is accepted for PyTorch compatibility (loading is always
    weights-only here).
    """
    import zipfile  # here, not at import: it costs ~10 ms

    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise RuntimeError(f"tapegrad runs on the CPU only; map_location={map_location!r}")
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
            "tapegrad never unpickles (pickles can run arbitrary code). Save state dicts with "
            "tapegrad.save, or convert a PyTorch checkpoint with "
            "numpy.savez(path, **{k: v.numpy() for k, v in sd.items()})",
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
        bad = zf.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as e:
        _refuse("is truncated or corrupt", f, f"{type(e).__name__}: {e}")
    if bad is not None:
        _refuse("is corrupt", f, f"member {bad!r} fails its CRC check")
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
    be = _backend.current() if backend is None else _backend.load(backend)
    out = OrderedDict()
    for name in names:
        key = name[: -len(".npy")]
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
        if arr.dtype == np.float32 or arr.dtype == np.float16:
            # the canonical dtype objects: a byte-swapped descriptor compares equal but is not
            # what the backends' from_numpy checks for
            canonical = np.float32 if arr.dtype.itemsize == 4 else np.float16
            out[key] = be.from_numpy(np.asarray(arr, dtype=canonical, order="C"), False)
        else:
            out[key] = arr
    return out
