"""addmv, baddbmm and addbmm (beta * input + alpha * the product) with PyTorch's checks and
messages, and their in-place forms. Each is one backend op (AddmvBackward0, BaddbmmBackward0,
AddbmmBackward0): docs/api-mm2.md says where the bits differ from PyTorch's. Also scatter's
deprecated reduce= (scatter_reduced), which _ops_shape.scatter hands over to."""

from ._ops_shape_mm import _SCALAR, _tensors

_TYPE = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
         "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
         "bool": "Bool"}  # fmt: skip


def _scalars(fn, beta, alpha):
    for name, s in (("beta", beta), ("alpha", alpha)):
        if not isinstance(s, (bool, int, float)):
            raise TypeError(f"{fn}(): argument '{name}' must be Number, not {type(s).__name__}")
    return float(beta), float(alpha)


def _expandable(input, target):
    """PyTorch's expand() errors for broadcasting `input` to the result's shape."""
    shape = tuple(input.shape)
    if len(shape) > len(target):
        raise RuntimeError(
            f"expand(torch.{_TYPE[input.dtype.name]}Tensor{{{list(shape)}}}, size="
            f"{list(target)}): the number of sizes provided ({len(target)}) must be greater or "
            f"equal to the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(target) - len(shape)
    for i in reversed(range(len(shape))):
        if shape[i] not in (1, target[lead + i]):
            raise RuntimeError(
                f"The expanded size of the tensor ({target[lead + i]}) must match the existing "
                f"size ({shape[i]}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{list(target)}.  Tensor sizes: {list(shape)}"
            )


def _no_bool(t, kernel):
    if t.dtype.name == "bool":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec): mat (n, m), vec (m,); input broadcasts to (n,)."""
    _tensors("addmv", ("input", input), ("mat", mat), ("vec", vec))
    beta, alpha = _scalars("addmv", beta, alpha)
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}"
        )
    m, k = mat.shape
    n_in = input.shape[0] if input.ndim else 1
    if vec.shape[0] != k or n_in not in (1, m):
        raise RuntimeError(
            f"size mismatch, got input ({n_in}), mat ({m}x{k}), vec ({vec.shape[0]})"
        )
    if not input.dtype is mat.dtype is vec.dtype:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got "
            f"{_SCALAR[input.dtype.name]}, {_SCALAR[mat.dtype.name]}, and "
            f"{_SCALAR[vec.dtype.name]}"
        )
    _no_bool(input, "addmv_impl_cpu")
    return input._be.addmv(mat, vec, input, beta, alpha)


def _batches(fn, b1, b2):
    for name, t in (("batch1", b1), ("batch2", b2)):
        if t.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch: batch1 (b, n, m), batch2 (b, m, p);
    input broadcasts to (b, n, p)."""
    _tensors("baddbmm", ("input", input), ("batch1", batch1), ("batch2", batch2))
    beta, alpha = _scalars("baddbmm", beta, alpha)
    _batches("baddbmm", batch1, batch2)
    b, m, k = batch1.shape
    if tuple(batch2.shape[:2]) != (b, k):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but "
            f"got: [{batch2.shape[0]}, {batch2.shape[1]}]."
        )
    if batch1.dtype is not batch2.dtype:
        raise RuntimeError(
            f"expected scalar type {_SCALAR[batch1.dtype.name]} but found "
            f"{_SCALAR[batch2.dtype.name]}"
        )
    _expandable(input, (b, m, batch2.shape[2]))
    if input.dtype is not batch1.dtype:
        cpp = {"float32": "float", "float64": "double", "float16": "c10::Half"}
        names = [cpp.get(t.dtype.name, t.dtype.name) for t in (input, batch1, batch2)]
        raise RuntimeError(
            f"Input dtypes must be the same, got: input {names[0]}, batch1: {names[1]}, "
            f"batch2: {names[2]}"
        )
    _no_bool(input, "baddbmm")
    return input._be.baddbmm(batch1, batch2, input, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (sum over i of batch1[i] @ batch2[i]): batch1 (b, n, m) and batch2 (b,
    m, p) reduce to one (n, p) matrix; input broadcasts to (n, p)."""
    _tensors("addbmm", ("input", input), ("batch1", batch1), ("batch2", batch2))
    beta, alpha = _scalars("addbmm", beta, alpha)
    _batches("addbmm", batch1, batch2)
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(
            "batch1 and batch2 must have same number of batches, got "
            f"{batch1.shape[0]} and {batch2.shape[0]}"
        )
    _, m, k = batch1.shape
    if batch2.shape[1] != k:
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({m}x{k} and {batch2.shape[1]}x{batch2.shape[2]})"
        )
    _expandable(input, (m, batch2.shape[2]))
    for t in (batch1, batch2):
        if t.dtype is not input.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {_SCALAR[input.dtype.name]} "
                f"and {_SCALAR[t.dtype.name]}"
            )
    _no_bool(input, "addmm_impl_cpu_")
    return input._be.addbmm(batch1, batch2, input, beta, alpha)


def _in_place(t, out):
    if tuple(out.shape) != tuple(t.shape):
        raise RuntimeError(
            f"Bad in-place call: input tensor size {list(t.shape)} and output tensor size "
            f"{list(out.shape)} should match"
        )
    return t.copy_(out)


class _MM2:
    """The Tensor methods of this module (a base class of tapegrad.Tensor)."""

    __slots__ = ()

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        """beta * self + alpha * (mat @ vec): mat (n, m), vec (m,); self broadcasts to (n,)."""
        return addmv(self, mat, vec, beta=beta, alpha=alpha)

    def addmv_(self, mat, vec, *, beta=1, alpha=1):
        """In-place `addmv`; self must have the result's shape. Returns self."""
        return _in_place(self, addmv(self, mat, vec, beta=beta, alpha=alpha))

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * (batch1 @ batch2), batch by batch: batch1 (b, n, m), batch2 (b, m,
        p); self broadcasts to (b, n, p)."""
        return baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def baddbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        """In-place `baddbmm`; self must have the result's shape. Returns self."""
        return _in_place(self, baddbmm(self, batch1, batch2, beta=beta, alpha=alpha))

    def addbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * (sum over i of batch1[i] @ batch2[i]): batch1 (b, n, m) and batch2
        (b, m, p) reduce to one (n, p) matrix; self broadcasts to (n, p)."""
        return addbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def addbmm_(self, batch1, batch2, *, beta=1, alpha=1):
        """In-place `addbmm`; self must have the result's shape. Returns self."""
        return _in_place(self, addbmm(self, batch1, batch2, beta=beta, alpha=alpha))


# ---------------------------------------------------------------- scatter's reduce=

_WARNED = []


def scatter_reduced(t, dim, index, src, value, reduce, inplace):
    """scatter/scatter_ with reduce='add' or 'multiply' (deprecated in PyTorch, which has no
    derivative for it): each index element in turn updates its place of a copy of t, rounding
    every step, as ATen's loop does. Computed in NumPy by the front end (ufunc.at keeps that
    order); with autograd recording, it raises PyTorch's backward error at once."""
    import warnings

    import numpy as np

    from ._grad_mode import is_grad_enabled
    from ._ops_shape import _scatter_args

    if reduce not in ("add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    coords, v, is_value = _scatter_args(t, dim, index, src, value, None, "scatter")
    if not is_value and not _WARNED:
        _WARNED.append(True)  # PyTorch warns once per process
        warnings.warn(
            "The reduce argument of torch.scatter with Tensor src is deprecated and will be "
            "removed in a future PyTorch release. Use torch.scatter_reduce instead for more "
            "reduction options.",
            UserWarning,
            stacklevel=3,
        )
    if is_grad_enabled() and (t.requires_grad or (not is_value and src.requires_grad)):
        raise RuntimeError(
            "derivative for aten::scatter is not implemented (tapegrad raises when scatter "
            "with reduce= is recorded; PyTorch when backward reaches it)"
        )
    be = t._be
    out = np.array(be.to_numpy(t), copy=True).reshape(tuple(t.shape) or (1,))
    where = tuple(be.to_numpy(coords).reshape(-1, out.ndim).T)
    vals = np.broadcast_to(be.to_numpy(v), where[0].shape if is_value else tuple(v.shape))
    ufunc = np.add if reduce == "add" else np.multiply
    if out.dtype == np.bool_:
        ufunc = np.logical_or if reduce == "add" else np.logical_and
    acc = out.astype(np.float32) if out.dtype == np.float16 else out  # ATen's float opmath
    with np.errstate(all="ignore"):
        ufunc.at(acc, where, vals.reshape(-1).astype(acc.dtype))
    out = acc.astype(out.dtype)
    res = be.from_numpy(np.asarray(out.reshape(tuple(t.shape)), order="C"), False)
    return t.copy_(res) if inplace else res
