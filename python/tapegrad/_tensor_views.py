"""Tensor's view and shape methods (PyTorch's strided views), as a base class of Tensor.

Every method shapes its arguments with PyTorch's rules and messages and calls one backend view
op per step (docs/backends.md): view, reshape, permute, transpose, t, select, slice, unsqueeze,
squeeze, expand, as_strided. The geometry comes from the concrete tensor classes' attributes
`_strides` (element strides), `_offset` (element offset in the storage), `_base` (the viewed
tensor, or None) and `_data_ptr` (the address of element 0).
"""

import warnings

import numpy as np

from ._tensor_args import _is_scalar, _norm_dim, _resolve_shape, _shape_arg


def _int(x, what):
    if not isinstance(x, (int, np.integer)) or isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{what} must be an int, got {type(x).__name__}")
    return int(x)


def _dims_list(dims, ndim):
    """squeeze's dims: an int or a sequence of ints, normalised; repeats are an error."""
    out = []
    for d in dims:
        nd = _norm_dim(d, ndim)
        if nd in out:
            raise RuntimeError(f"dim {nd} appears multiple times in the list of dims")
        out.append(nd)
    return tuple(out)


class _Views:
    """The view and shape methods of `tapegrad.Tensor` (tensor.py); never instantiated."""

    __slots__ = ()

    # ---- geometry ----
    def stride(self, dim=None):
        """The strides in elements: a tuple, or the stride of dim `dim`."""
        strides = tuple(int(s) for s in self._strides)
        if dim is None:
            return strides
        return strides[_norm_dim(dim, self.ndim)] if strides else 1

    def storage_offset(self):
        """The position of this tensor's first element in its storage, in elements."""
        return int(self._offset)

    def data_ptr(self):
        """The address of this tensor's first element, an int."""
        return int(self._data_ptr)

    def is_contiguous(self, memory_format=None):
        """PyTorch's rule: row-major and gap-free; size-1 dims may have any stride; empty
        tensors are contiguous."""
        if self.numel() == 0:
            return True
        expect = 1
        for size, st in zip(reversed(tuple(self.shape)), reversed(self.stride())):
            if size != 1:
                if st != expect:
                    return False
                expect *= size
        return True

    def _is_view(self):
        return self._base is not None

    def contiguous(self, memory_format=None):
        """The tensor itself if contiguous, else a contiguous copy (recorded as a copy)."""
        if self.is_contiguous():
            return self
        return self._be.cast(self, self.dtype.code)

    # ---- view / reshape ----
    def view(self, *shape):
        """A view with a new shape (one size may be -1) sharing this tensor's storage; raises, as
        PyTorch does, when the strides do not allow it (use `reshape`). `view(dtype)` is not
        supported."""
        return self._be.view(self, _resolve_shape(_shape_arg(shape), self.numel()))

    def reshape(self, *shape):
        """This tensor's elements in a new shape (one size may be -1): a view when the strides
        allow, else a copy."""
        return self._be.reshape(self, _resolve_shape(_shape_arg(shape), self.numel()))

    def view_as(self, other):
        """`view(other.size())`."""
        _need_like("view_as", other)
        return self.view(other.shape)

    def reshape_as(self, other):
        """`reshape(other.size())`."""
        _need_like("reshape_as", other)
        return self.reshape(other.shape)

    def as_strided(self, size, stride, storage_offset=None):
        """A view of this tensor's storage with the given size and stride (in elements), starting at
        `storage_offset` (by default this tensor's own). Its elements may overlap; nothing is
        checked beyond the storage bounds."""
        size, stride = _shape_arg((size,)), _shape_arg((stride,))
        if len(size) != len(stride):
            raise RuntimeError(
                f"mismatch in length of strides and shape: {len(stride)} strides for "
                f"{len(size)} sizes"
            )
        off = self.storage_offset() if storage_offset is None else _int(storage_offset, "offset")
        return self._be.as_strided(self, size, stride, off)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims `start_dim` to `end_dim` into one: a view when the strides allow, else a copy
        (as `reshape`). A 0-dim tensor becomes 1-D."""
        s = _norm_dim(start_dim, self.ndim)
        e = _norm_dim(end_dim, self.ndim)
        if s > e:
            raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
        if self.ndim == 0:
            return self._be.reshape(self, (1,))
        if s == e:
            return self
        shape = tuple(self.shape)
        n = 1
        for x in shape[s : e + 1]:
            n *= x
        return self._be.reshape(self, shape[:s] + (n,) + shape[e + 1 :])

    def unflatten(self, dim, sizes):
        """Split dim `dim` into the shape `sizes` (one size may be -1), as `reshape` does."""
        d = _norm_dim(dim, self.ndim)
        sizes = _shape_arg((sizes,))
        if not sizes:
            raise RuntimeError("unflatten: sizes must be non-empty")
        size = self.shape[d]
        known = 1
        for s in sizes:
            known *= s if s != -1 else 1
        if sizes.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        if (-1 in sizes and (known == 0 or size % known)) or (-1 not in sizes and known != size):
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{dim} ({size}) in the input tensor"
            )
        sizes = tuple(size // known if s == -1 else s for s in sizes)
        shape = tuple(self.shape)
        return self._be.view(self, shape[:d] + sizes + shape[d + 1 :])

    # ---- dims ----
    def permute(self, *dims):
        """A view with the dims reordered: the result's dim i is this tensor's dim `dims[i]`."""
        dims = _shape_arg(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match "
                f"the length of the desired ordering of dimensions i.e. input.dim() = {self.ndim} "
                f"is not equal to len(dims) = {len(dims)}"
            )
        nd = tuple(_norm_dim(d, self.ndim) for d in dims)
        if len(set(nd)) != len(nd):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        return self._be.permute(self, nd)

    def transpose(self, dim0, dim1):
        """A view with dims `dim0` and `dim1` swapped; `swapaxes` and `swapdims` are aliases."""
        a, b = _norm_dim(dim0, self.ndim), _norm_dim(dim1, self.ndim)
        return self._be.transpose(self, a, b)

    swapaxes = swapdims = transpose

    def t(self):
        """Transpose a tensor of at most 2 dimensions; a view, as `transpose(0, 1)`."""
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self._be.t(self)

    @property
    def T(self):
        """This tensor with its dims reversed (a view): the transpose of a matrix. On tensors of
        other than 0 or 2 dims it warns that this use is deprecated, as PyTorch does."""
        n = self.ndim
        if n not in (0, 2):
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` "
                "to reverse the dimensions of a tensor.",
                UserWarning,
                stacklevel=2,
            )
        elif n == 0:
            warnings.warn(
                "Tensor.T is deprecated on 0-D tensors. This function is the identity in these "
                "cases.",
                UserWarning,
                stacklevel=2,
            )
        return self._be.permute(self, tuple(range(n - 1, -1, -1)))

    @property
    def mT(self):
        """The transpose of the last two dims, a view; for matrices and batches of them."""
        if self.ndim < 2:
            raise RuntimeError(
                "tensor.mT is only supported on matrices or batches of matrices. "
                f"Got {self.ndim}-D tensor."
            )
        return self._be.transpose(self, self.ndim - 2, self.ndim - 1)

    def unsqueeze(self, dim):
        """A view with a size-1 dim inserted at `dim` (from -(ndim + 1) to ndim)."""
        return self._be.unsqueeze(self, _norm_dim(dim, self.ndim + 1))

    def squeeze(self, dim=None):
        """A view without size-1 dims: all of them, or only those named by `dim` (an int or a
        tuple); a named dim whose size is not 1 stays."""
        if dim is None:
            return self._be.squeeze(self, None)
        if isinstance(dim, (tuple, list)):
            return self._be.squeeze(self, _dims_list(dim, self.ndim))
        return self._be.squeeze(self, _norm_dim(dim, self.ndim))

    def expand(self, *sizes):
        """A view with size-1 dims repeated to the given sizes without copying: -1 keeps a size, and
        new dims may be added in front."""
        sizes = _shape_arg(sizes)
        shape = tuple(self.shape)
        lead = len(sizes) - len(shape)
        if lead < 0:
            raise RuntimeError(
                f"expand({_type_name(self)}{{{list(shape)}}}, size={list(sizes)}): the number of "
                f"sizes provided ({len(sizes)}) must be greater or equal to the number of "
                f"dimensions in the tensor ({len(shape)})"
            )
        out = []
        for i, s in enumerate(sizes):
            if s == -1:
                if i < lead:
                    raise RuntimeError(
                        f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                        f"non-existing dimension {i}"
                    )
                s = shape[i - lead]
            out.append(s)
        return self._be.expand(self, tuple(out))

    def expand_as(self, other):
        """`expand(other.size())`."""
        _need_like("expand_as", other)
        return self.expand(tuple(other.shape))

    # ---- pieces ----
    def select(self, dim, index):
        """The view at `index` along `dim`, without that dim (`t.select(1, i)` is `t[:, i]`)."""
        if self.ndim == 0:
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        d = _norm_dim(dim, self.ndim)
        i, size = _int(index, "index"), self.shape[d]
        if not -size <= i < size:
            raise IndexError(
                f"select(): index {i} out of range for tensor of size {list(self.shape)} at "
                f"dimension {d}"
            )
        return self._be.select(self, d, i % size)

    def narrow(self, dim, start, length):
        """The view of `length` elements from `start` along `dim`; `start` may be a 0-dim integer
        tensor."""
        if self.ndim == 0:
            raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
        if hasattr(start, "_be") and start.ndim == 0 and not start.dtype.is_floating_point:
            start = int(start.item())  # PyTorch's narrow(dim, Tensor start, length)
        start, length = _int(start, "start"), _int(length, "length")
        if length < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
        d = _norm_dim(dim, self.ndim)
        size = self.shape[d]
        if not -size <= start <= size:
            raise IndexError(
                f"start out of range (expected to be in range of [{-size}, {size}], but got "
                f"{start})"
            )
        if start < 0:
            start += size
        if start > size - length:
            raise RuntimeError(
                f"start ({start}) + length ({length}) exceeds dimension size ({size})."
            )
        return self._be.slice(self, d, start, start + length, 1)

    def split(self, split_size_or_sections, dim=0):
        """Views along `dim`: pieces of `split_size_or_sections` elements (the last one smaller), or
        of the sizes in a list."""
        if self.ndim == 0:
            raise RuntimeError("split expects at least a 1-dimensional tensor")
        d = _norm_dim(dim, self.ndim)
        size = self.shape[d]
        if isinstance(split_size_or_sections, (tuple, list)):
            sizes = _shape_arg((split_size_or_sections,))
            if any(s < 0 for s in sizes):
                raise RuntimeError(
                    "split_with_sizes expects split_sizes have only non-negative entries, but "
                    f"got split_sizes={list(sizes)}"
                )
            if sum(sizes) != size:
                raise RuntimeError(
                    f"split_with_sizes expects split_sizes to sum exactly to {size} (input "
                    f"tensor's size at dimension {d}), but got split_sizes={list(sizes)}"
                )
        else:
            n = _int(split_size_or_sections, "split_size")
            if n < 0:
                raise RuntimeError(
                    f"split expects split_size be non-negative, but got split_size={n}"
                )
            if n == 0 and size != 0:
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size "
                    f"of {size}"
                )
            count = max((size + n - 1) // n, 1) if n else 1
            sizes = (n,) * (count - 1) + (n - (n * count - size),)
        out, start = [], 0
        for s in sizes:
            out.append(self._be.slice(self, d, start, start + s, 1))
            start += s
        return tuple(out)

    def chunk(self, chunks, dim=0):
        """Split into at most `chunks` views along `dim`, each of size ceil(n / chunks) (the last
        one smaller)."""
        if self.ndim == 0:
            raise RuntimeError("chunk expects at least a 1-dimensional tensor")
        chunks = _int(chunks, "chunks")
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        size = self.shape[_norm_dim(dim, self.ndim)]
        n = (size + chunks - 1) // chunks
        if n == 0 and size == 0:
            return self.split([0] * chunks, dim)
        return self.split(n, dim)

    def unbind(self, dim=0):
        """A tuple of views, one per index along `dim`, each without that dim."""
        if self.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _norm_dim(dim, self.ndim)
        return tuple(self._be.select(self, d, i) for i in range(self.shape[d]))

    def __getitem__(self, index):
        from ._index import apply_index
        from ._index_adv import as_tuple, getitem, is_advanced

        index = as_tuple(index)
        items = index if isinstance(index, tuple) else (index,)
        if any(is_advanced(i) for i in items):
            return getitem(self, index)
        return apply_index(
            self, tuple(_plain(i) for i in items) if isinstance(index, tuple) else _plain(index)
        )

    def __setitem__(self, index, value):
        """x[index] = value: the indexed view filled or copied into (so autograd records it as
        PyTorch does, CopySlices on the base). value: a number, or a tensor broadcast to the
        view; like PyTorch, lists and arrays are refused."""
        from ._index import apply_index
        from ._index_adv import as_tuple, is_advanced, setitem

        index = as_tuple(index)
        if not (_is_scalar(value) or isinstance(value, (bool, np.bool_)) or hasattr(value, "_be")):
            kind = type(value)
            name = kind.__name__ if kind.__module__ == "builtins" else kind.__module__ + "."
            name += "" if kind.__module__ == "builtins" else kind.__name__
            raise TypeError(f"can't assign a {name} to a {_type_name(self)}")
        items = index if isinstance(index, tuple) else (index,)
        if any(is_advanced(i) for i in items):
            return setitem(self, index, value)
        index = tuple(_plain(i) for i in items) if isinstance(index, tuple) else _plain(index)
        target = apply_index(self, index)
        if _is_scalar(value) or isinstance(value, (bool, np.bool_)):
            target.fill_(value)
        else:
            target.copy_(value if value.shape == target.shape else value.expand(target.shape))


def _plain(i):
    """A 0-dim integer tensor index as the int it holds (PyTorch selects with it)."""
    if hasattr(i, "_be") and i.ndim == 0 and not i.dtype.is_floating_point:
        if i.dtype.name != "bool":
            return int(i.item())
    return i


def _type_name(t):
    return "torch.HalfTensor" if t.dtype.code == 1 else "torch.FloatTensor"


def _need_like(fn, other):
    from ._factories import _need_like as need

    need(fn, other)
