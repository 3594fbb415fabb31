"""Error outcomes of the core (docs/design.md, Errors) that the other files do not cover: bad
input, bad shapes."""

import re

import numpy as np
import pytest
import tapegrad as tg

BAD_INPUT = {
    "str": (lambda b: tg.tensor("abc", backend=b), TypeError, "could not convert"),
    "None": (lambda b: tg.tensor(None, backend=b), TypeError, "could not convert"),
    "complex": (lambda b: tg.tensor([1j], backend=b), TypeError, "only real numbers"),
    # PyTorch's dtype arguments are its dtypes: a NumPy type or a name is refused
    "np.int32 dtype": (
        lambda b: tg.tensor([1], dtype=np.int32, backend=b),
        TypeError,
        re.escape("tensor(): argument 'dtype' must be torch.dtype, not type"),
    ),
    "'float64' dtype": (
        lambda b: tg.tensor([1], dtype="float64", backend=b),
        TypeError,
        re.escape("tensor(): argument 'dtype' must be torch.dtype, not str"),
    ),
    # PyTorch 2.13 makes a uint16 tensor; tapegrad has no uint16 (a documented difference)
    "uint16 array": (
        lambda b: tg.tensor(np.ones(2, np.uint16), backend=b),
        TypeError,
        "can't convert np.ndarray of type numpy.uint16",
    ),
    "int64 overflow": (
        lambda b: tg.tensor(2**63, backend=b),
        ValueError,
        "Overflow when unpacking long long",
    ),
    "Linear(dtype=int64)": (
        lambda b: tg.nn.Linear(2, 2, dtype=tg.int64),
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
    ),
    "tensor + str": (lambda b: tg.tensor([1.0], backend=b) + "a", TypeError, "unsupported operand"),
    "pow tensor": (
        lambda b: tg.tensor([2.0, 3.0], backend=b) ** tg.tensor([1.0, 2.0, 3.0], backend=b),
        RuntimeError,
        "must match the size",
    ),
    "view": (lambda b: tg.tensor([1.0, 2, 3], backend=b).view(2, 2), RuntimeError, "invalid"),
    "two -1": (lambda b: tg.tensor([1.0, 2], backend=b).view(-1, -1), RuntimeError, "inferred"),
    "sum dim": (lambda b: tg.tensor([1.0, 2], backend=b).sum(1), IndexError, "out of range"),
    "dup dims": (lambda b: tg.zeros(2, 2).sum((0, 0)), RuntimeError, "multiple times"),
    "index": (lambda b: tg.tensor([1.0, 2], backend=b)[2], IndexError, "out of bounds"),
    "too many": (lambda b: tg.tensor([1.0, 2], backend=b)[0, 0], IndexError, "too many"),
    "bool mask shape": (
        lambda b: tg.tensor([1.0, 2], backend=b)[tg.tensor([True, False, True], backend=b)],
        IndexError,
        re.escape("The shape of the mask [3] at index 0 does not match the shape of the indexed"),
    ),
    "float index": (
        lambda b: tg.tensor([1.0, 2], backend=b)[tg.tensor([0.0], backend=b)],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    "step 0": (lambda b: tg.tensor([1.0, 2], backend=b)[::-1], ValueError, "step"),
    "permute": (lambda b: tg.zeros(2, 3).permute(0, 0), RuntimeError, "duplicate"),
    "matmul 0-d": (
        lambda b: tg.tensor(1.0, backend=b) @ tg.tensor(1.0, backend=b),
        RuntimeError,
        "at least 1D",
    ),
    # PyTorch reports a batch-dim mismatch of matmul with its broadcasting message
    "batch bcast": (
        lambda b: tg.zeros(2, 3, 4) @ tg.zeros(3, 4, 5),
        RuntimeError,
        re.escape("tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ),
    "grad shape": (
        lambda b: (tg.tensor([1.0, 2], requires_grad=True, backend=b) * 2.0).backward(
            tg.tensor([1.0, 2, 3], backend=b)
        ),
        RuntimeError,
        "Mismatch in shape",
    ),
}


@pytest.mark.parametrize("name", BAD_INPUT)
def test_bad_input_raises(backend, name):
    fn, exc, match = BAD_INPUT[name]
    with tg.use_backend(backend):
        with pytest.raises(exc, match=match):
            fn(backend)


def test_absurd_size_is_refused_before_allocating(backend):
    with tg.use_backend(backend):
        with pytest.raises(MemoryError, match="4503599627370496 bytes"):
            tg.zeros(1 << 40, 1 << 10)


def test_non_contiguous_and_read_only_arrays_are_copied(backend):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tg.tensor(base[:, ::2], backend=backend)
    np.testing.assert_array_equal(t.numpy(), base[:, ::2])
    ro = np.frombuffer(np.arange(3, dtype=np.float32).tobytes(), np.float32)
    assert not ro.flags.writeable
    t = tg.tensor(ro, backend=backend, requires_grad=True)
    (t * t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 2.0, 4.0])
    base[0, 0] = 99.0
    assert tg.tensor(base, backend=backend).numpy()[0, 0] == 99.0


def test_comparisons_return_bool_tensors(backend):
    # PyTorch 2.13's answers; a tensor is still hashed by identity
    a = tg.tensor([1.0, 2.0], backend=backend)
    b = tg.tensor([1.0, 3.0], backend=backend)
    for got, want in (
        (a == b, [True, False]),
        (a != b, [False, True]),
        (a < b, [False, True]),
        (a <= 1.0, [True, False]),
        (a > b, [False, False]),
        (2.0 >= a, [True, True]),
        (tg.tensor([1, 2], backend=backend) == b, [True, False]),  # int64 == float32
    ):
        assert got.dtype is tg.bool and got.backend == backend
        np.testing.assert_array_equal(got.numpy(), np.array(want), strict=True)
    assert (a == b).sum().item() == 1 and (a == b).sum().dtype is tg.int64
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(a == b)
    assert (a == None) is False and (a != None) is True  # noqa: E711 - PyTorch's answers
    with pytest.raises(TypeError, match="'<' not supported between instances of"):
        a < None  # noqa: B015
    assert a in [a] and {a: 1}[a] == 1 and b not in {a: 1}  # hashed by identity


def test_comparison_with_a_list_is_false(backend):
    # PyTorch's Tensor.__eq__ takes no list: Python falls back to identity (False, True)
    a = tg.tensor([1.0, 2.0], backend=backend)
    assert (a == [1.0, 2.0]) is False and (a != [1.0, 2.0]) is True
