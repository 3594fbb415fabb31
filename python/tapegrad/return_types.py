"""The named pairs some reductions return, as PyTorch's torch.return_types: tuples of
(values, indices) that also have those two fields."""

__all__ = ["max", "min"]


class _Pair(tuple):
    __slots__ = ()
    n_fields = n_sequence_fields = 2

    def __new__(cls, values, indices=None):
        if indices is None:  # PyTorch's structseq also takes one sequence of both
            values, indices = values
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        """The values (field 0)."""
        return self[0]

    @property
    def indices(self):
        """The indices (field 1), an int64 tensor."""
        return self[1]

    def __repr__(self):
        name = type(self).__name__
        return f"torch.return_types.{name}(\nvalues={self[0]!r},\nindices={self[1]!r})"

    def __reduce__(self):
        return (type(self), (tuple(self),))


class max(_Pair):  # noqa: A001
    """The `(values, indices)` named pair that `max(input, dim)` returns: a tuple that also has
    the fields `.values` and `.indices`, printed as `torch.return_types.max(...)`."""

    __slots__ = ()


class min(_Pair):  # noqa: A001
    """The `(values, indices)` named pair that `min(input, dim)` returns: a tuple that also has
    the fields `.values` and `.indices`, printed as `torch.return_types.min(...)`."""

    __slots__ = ()
