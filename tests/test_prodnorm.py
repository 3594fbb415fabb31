"""prod gives PyTorch's bits, dtypes, grad_fn names and errors: the cases of
tests/golden/prodnorm_golden.json (recorded by tests/golden/make_exact_golden.py from
tests/parity/cases_prodnorm.py) replayed on the cpp backend (TAPEGRAD_NO_SIMD=1 runs the
portable path; prod has one loop for both) and on the NumPy reference, plus the calls' edges."""

import pytest
import tapegrad as tg
from golden_util import golden, parity_cases, replay_exact

cases_prodnorm = parity_cases("prodnorm")
GOLD = golden("prodnorm_golden.json")
CASES = dict(cases_prodnorm.cases())
# the NumPy reference folds in Python: a sample of the cases keeps the suite fast
NUMPY_SAMPLE = [n for n in sorted(GOLD["cases"]) if "4099" not in n and "100x100" not in n][::4]


def _replay(name, backend):
    replay_exact(cases_prodnorm, CASES, GOLD, name, backend)


def test_recorded_every_case():
    assert set(GOLD["cases"]) == set(CASES)


@pytest.mark.parametrize("name", sorted(GOLD["cases"]))
def test_prod_matches_torch_cpp(name):
    _replay(name, "cpp")


@pytest.mark.parametrize("name", NUMPY_SAMPLE)
def test_prod_matches_torch_numpy(name):
    _replay(name, "numpy")


def test_prod_dtypes_and_names(backend):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    assert x.prod().grad_fn.name() == "ProdBackward0"
    assert tg.prod(x, 0).grad_fn.name() == "ProdBackward1"
    assert tg.prod(x, axis=0, keepdims=True).shape == (1,)
    for dt in (tg.int32, tg.int8, tg.uint8, tg.bool, tg.int64):
        t = tg.tensor([[1, 0, 1], [1, 1, 1]], dtype=dt, backend=backend)
        assert t.prod().dtype == tg.int64
        assert t.prod(1).tolist() == [0, 1]
    assert tg.tensor([1, 2], backend=backend).prod(dtype=tg.float16).dtype == tg.float16
    assert tg.tensor(3.0, backend=backend).prod(-1, keepdim=True).shape == ()
    assert tg.zeros(3, 0, backend=backend).prod(1).tolist() == [1.0, 1.0, 1.0]
    big = tg.tensor([2**40, 2**40], backend=backend)
    assert big.prod().item() == 0  # int64 wraps, as PyTorch


def test_prod_gradient_with_zeros(backend):
    x = tg.tensor([2.0, 0.0, 3.0, 4.0], requires_grad=True, backend=backend)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 24.0, 0.0, 0.0]
    x = tg.tensor([2.0, 0.0, 3.0, 0.0], requires_grad=True, backend=backend)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 0.0]
    x = tg.tensor([[2.0, 0.0], [3.0, 5.0]], requires_grad=True, backend=backend)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [5.0, 3.0]]


@pytest.mark.parametrize(
    "call,exc,msg",
    [
        (lambda x: x.prod(keepdim=True), TypeError, "prod() received an invalid combination"),
        (lambda x: x.prod(dim=None), TypeError, "prod() received an invalid combination"),
        (lambda x: x.prod(1.5), TypeError, "got (float), but expected one of:"),
        (lambda x: tg.prod(x, (0, 1)), TypeError, "got (Tensor, tuple), but expected"),
        (
            lambda x: x.prod(2),
            IndexError,
            "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
        ),  # fmt: skip
        (lambda x: tg.prod(3), TypeError, "prod(): argument 'input' (position 1) must be Tensor"),
    ],
)
def test_prod_errors(backend, call, exc, msg):
    x = tg.ones(3, 4, backend=backend)
    with pytest.raises(exc) as e:
        call(x)
    assert msg in str(e.value)
