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
    "int32 dtype": (lambda b: tg.tensor([1], dtype=np.int32, backend=b), TypeError, "unsupported"),
    "float64 dtype": (lambda b: tg.tensor([1], dtype="float64", backend=b), TypeError, "float16"),
    "tensor + str": (lambda b: tg.tensor([1.0], backend=b) + "a", TypeError, "unsupported operand"),
    "pow tensor": (
        lambda b: tg.tensor([2.0], backend=b) ** tg.tensor([1.0, 2.0], backend=b),
        TypeError,
        "exponent",
    ),
    "view": (lambda b: tg.tensor([1.0, 2, 3], backend=b).view(2, 2), RuntimeError, "invalid"),
    "two -1": (lambda b: tg.tensor([1.0, 2], backend=b).view(-1, -1), RuntimeError, "inferred"),
    "sum dim": (lambda b: tg.tensor([1.0, 2], backend=b).sum(1), IndexError, "out of range"),
    "dup dims": (lambda b: tg.zeros(2, 2).sum((0, 0)), RuntimeError, "multiple times"),
    "index": (lambda b: tg.tensor([1.0, 2], backend=b)[2], IndexError, "out of bounds"),
    "too many": (lambda b: tg.tensor([1.0, 2], backend=b)[0, 0], IndexError, "too many"),
    "bool index": (lambda b: tg.tensor([1.0, 2], backend=b)[True], IndexError, "boolean"),
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


def test_comparisons_are_refused_until_there_is_a_bool_dtype(backend):
    # PyTorch answers with a bool tensor; answering with identity would count wrongly.
    a = tg.tensor([1.0, 2.0], backend=backend)
    b = tg.tensor([1.0, 3.0], backend=backend)
    for compare in (
        lambda: a == b,
        lambda: a != b,
        lambda: a < b,
        lambda: a <= 1.0,
        lambda: a > b,
        lambda: 2.0 >= a,
    ):
        with pytest.raises(NotImplementedError, match="bool dtype"):
            compare()
    assert (a == None) is False and (a != None) is True  # noqa: E711 - PyTorch's answers
    assert a in [a] and {a: 1}[a] == 1 and b not in {a: 1}  # hashed by identity
