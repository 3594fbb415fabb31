"""mm, bmm, mv, dot, outer and addmm with PyTorch's checks and messages. Each is the backends'
`matmul` (its grad_fn is named by the operands' ranks: MmBackward0, BmmBackward0, MvBackward0,
DotBackward0) or `linear` (AddmmBackward0); outer is PyTorch's own composite,
`a.reshape(n, 1) * b` (MulBackward0)."""

from ._tensor_args import _MIX

_CPP = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
        "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
        "bool": "bool"}  # fmt: skip
_SCALAR = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
           "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}  # fmt: skip


def _tensors(fn, *pairs):
    from .tensor import Tensor

    for pos, (name, x) in enumerate(pairs, 1):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}"
            )
    be = pairs[0][1]._be
    for _, x in pairs[1:]:
        if x._be is not be:
            raise RuntimeError(_MIX.format(be.name, x._be.name))


def mm(input, mat2):
    """Matrix product of two 2-D tensors of one dtype: (n, m) @ (m, p) -> (n, p). No broadcasting:
    use `matmul` for that."""
    _tensors("mm", ("input", input), ("mat2", mat2))
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if input.dtype is not mat2.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_CPP[input.dtype.name]} != {_CPP[mat2.dtype.name]}"
        )
    return input._be.matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors of one dtype: (b, n, m) @ (b, m, p) -> (b, n, p).
    No broadcasting: use `matmul` for that."""
    _tensors("bmm", ("input", input), ("mat2", mat2))
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, _, k = input.shape
    if tuple(mat2.shape[:2]) != (b, k):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
            f"[{mat2.shape[0]}, {mat2.shape[1]}]."
        )
    if input.dtype is not mat2.dtype:
        raise RuntimeError(
            f"expected scalar type {_SCALAR[input.dtype.name]} but found {_SCALAR[mat2.dtype.name]}"
        )
    return input._be.matmul(input, mat2)


def mv(input, vec):
    """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
    _tensors("mv", ("input", input), ("vec", vec))
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x"
            f"{input.shape[1]}), vec ({vec.shape[0]})"
        )
    if input.dtype is not vec.dtype:
        v, m = _SCALAR[vec.dtype.name], _SCALAR[input.dtype.name]
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {v}, {m}, and {v}"
        )
    return input._be.matmul(input, vec)


def dot(input, tensor):
    """The inner product of two 1-D tensors of the same length and dtype, as a 0-dim tensor."""
    _tensors("dot", ("input", input), ("tensor", tensor))
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors")
    if input.dtype is not tensor.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{_SCALAR[input.dtype.name]} and {_SCALAR[tensor.dtype.name]}"
        )
    n, m = input.shape[0], tensor.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    return input._be.matmul(input, tensor)


def outer(input, vec2):
    """Outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j], with type promotion."""
    _tensors("outer", ("input", input), ("vec2", vec2))
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return input.reshape(input.shape[0], 1) * vec2


ger = outer


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2). With beta = alpha = 1 and a bias-shaped input (n,)
    it is the backends' linear (AddmmBackward0, PyTorch's bits); otherwise the composite of
    matmul, scaling and add (the same values up to rounding, grad_fn AddBackward0)."""
    _tensors("addmm", ("input", input), ("mat1", mat1), ("mat2", mat2))
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    for m in (mat1, mat2):
        if m.dtype is not input.dtype:
            raise RuntimeError(
                f"self and mat2 must have the same dtype, but got {_SCALAR[input.dtype.name]} "
                f"and {_SCALAR[m.dtype.name]}"
            )
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
            f"{mat2.shape[0]}x{mat2.shape[1]})"
        )
    m, n = mat1.shape[0], mat2.shape[1]
    target = (m, n)
    shape = tuple(input.shape)
    ok = len(shape) <= 2 and all(s in (1, t) for s, t in zip(reversed(shape), reversed(target)))
    if not ok:
        raise RuntimeError(
            f"The expanded size of the tensor ({n}) must match the existing size "
            f"({shape[-1]}) at non-singleton dimension 1.  Target sizes: [{m}, {n}].  Tensor "
            f"sizes: {list(shape)}"
        )
    if beta == 1 and alpha == 1 and shape == (n,) and input.dtype.is_floating_point:
        return input._be.linear(mat1, mat2.t(), input)
    prod = mat1._be.matmul(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:  # PyTorch ignores input then (its NaNs too)
        return prod
    return prod + (input if beta == 1 else input * beta)


class _ShapeMM:
    """The Tensor methods of this module (a base class of tapegrad.Tensor)."""

    __slots__ = ()

    def mm(self, mat2):
        """Matrix product of two 2-D tensors of one dtype: (n, m) @ (m, p) -> (n, p). No
        broadcasting: use `matmul` for that."""
        return mm(self, mat2)

    def bmm(self, mat2):
        """Batched matrix product of two 3-D tensors of one dtype: (b, n, m) @ (b, m, p) -> (b, n,
        p). No broadcasting: use `matmul` for that."""
        return bmm(self, mat2)

    def mv(self, vec):
        """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
        return mv(self, vec)

    def dot(self, other):
        """The inner product of two 1-D tensors of the same length and dtype, as a 0-dim tensor."""
        return dot(self, other)

    def outer(self, vec2):
        """Outer product of two 1-D tensors: out[i, j] = self[i] * vec2[j], with type promotion."""
        return outer(self, vec2)

    def ger(self, vec2):
        """Outer product of two 1-D tensors; the deprecated alias of `outer`."""
        return outer(self, vec2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2): mat1 (n, m), mat2 (m, p); self broadcasts to (n, p).

        As `tapegrad.addmm(self, mat1, mat2, beta=beta, alpha=alpha)`.
        """
        return addmm(self, mat1, mat2, beta=beta, alpha=alpha)
