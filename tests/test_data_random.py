"""The new factories and random functions: dtypes, shapes, generator use and PyTorch's errors,
on both backends (their values are checked against PyTorch by tests/test_factories_golden.py)."""

import numpy as np
import pytest
import tapegrad as tg

FLOATS = ["float32", "float16", "float64"]
INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]


@pytest.fixture(params=["cpp", "numpy"])
def backend(request):
    with tg.use_backend(request.param):
        yield request.param


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_factories_dtype_and_shape(backend, dt):
    d = getattr(tg, dt)
    assert tg.eye(4, 7, dtype=d).numpy().tolist() == np.eye(4, 7).astype(d.np).tolist()
    assert tg.eye(3, dtype=d).dtype is d and tuple(tg.eye(0, 3).shape) == (0, 3)
    for t in (tg.empty(3, 4, dtype=d), tg.empty((3, 4), dtype=d),
              tg.empty_like(tg.ones(3, 4, dtype=d))):  # fmt: skip
        assert t.dtype is d and tuple(t.shape) == (3, 4) and t.backend == backend
    f = tg.full_like(tg.zeros(2, 3, dtype=d), 1)
    assert f.dtype is d and f.numpy().tolist() == np.ones((2, 3), d.np).tolist()


@pytest.mark.parametrize("dt", FLOATS)
def test_random_like_and_methods(backend, dt):
    d = getattr(tg, dt)
    x = tg.zeros(33, dtype=d)
    for t in (tg.rand_like(x), tg.randn_like(x), tg.randint_like(x, 10), tg.bernoulli(x + 0.5),
              x.clone().exponential_(), x.clone().random_(0, 5), x.clone().bernoulli_(0.3),
              x.clone().normal_(), tg.normal(x, 1.0), tg.normal(1.0, x + 1),
              tg.normal(x, x + 1)):  # fmt: skip
        assert t.dtype is d and tuple(t.shape) == (33,) and t.backend == backend
    assert tg.normal(0.0, 1.0, (2, 3), dtype=d).dtype is d
    assert tg.normal(0.0, 1.0, size=(4,)).dtype is tg.float32


def test_generator_argument(backend):
    calls = {
        "rand_like": lambda g: tg.rand_like(tg.zeros(40), generator=g),
        "randn_like": lambda g: tg.randn_like(tg.zeros(40), generator=g),
        "normal": lambda g: tg.normal(0.0, 1.0, (40,), generator=g),
        "bernoulli": lambda g: tg.bernoulli(tg.full((40,), 0.5), generator=g),
        "multinomial": lambda g: tg.multinomial(tg.ones(40), 5, generator=g),
        "exponential_": lambda g: tg.zeros(40).exponential_(generator=g),
        "random_": lambda g: tg.zeros(40).random_(generator=g),
    }
    for name, call in calls.items():
        a = call(tg.Generator().manual_seed(3))
        tg.manual_seed(0)
        state = tg.get_rng_state()
        b = call(tg.Generator().manual_seed(3))
        assert np.array_equal(a.numpy(), b.numpy()), name
        assert np.array_equal(tg.get_rng_state(), state), name  # the default generator untouched


@pytest.mark.parametrize("dt", INTS)
def test_random_integer_ranges(backend, dt):
    d = getattr(tg, dt)
    top = 1 if dt == "bool" else np.iinfo(d.np).max
    t = tg.zeros(1000, dtype=d).random_()
    assert t.dtype is d and 0 <= int(t.numpy().min()) and int(t.numpy().max()) <= top
    u = tg.zeros(1000, dtype=d).random_(2).numpy().astype(np.int64)
    assert set(np.unique(u).tolist()) <= {0, 1}


def test_multinomial_values(backend):
    w = tg.tensor([0.0, 1.0, 0.0, 3.0])
    s = tg.multinomial(w, 2)
    assert s.dtype is tg.int64 and sorted(s.tolist()) == [1, 3]
    r = tg.multinomial(w, 50, replacement=True).numpy()
    assert set(r.tolist()) <= {1, 3}
    assert tuple(tg.multinomial(tg.ones(3, 5), 4).shape) == (3, 4)
    assert len(set(tg.multinomial(tg.ones(3, 5), 5)[1].tolist())) == 5


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: tg.multinomial(tg.tensor([1, 2]), 1), RuntimeError,
         "multinomial only supports floating-point dtypes for input, got: Long"),
        (lambda: tg.multinomial(tg.tensor([0.0, 0.0]), 1), RuntimeError,
         "invalid multinomial distribution (sum of probabilities <= 0)"),
        (lambda: tg.multinomial(tg.tensor([1.0, -1.0]), 1), RuntimeError,
         "probability tensor contains either `inf`, `nan` or element < 0"),
        (lambda: tg.multinomial(tg.tensor([1.0, float("nan")]), 1), RuntimeError,
         "probability tensor contains either `inf`, `nan` or element < 0"),
        (lambda: tg.multinomial(tg.tensor([1.0, 2.0]), 3), RuntimeError,
         "cannot sample n_sample > prob_dist.size(-1) samples without replacement"),
        (lambda: tg.multinomial(tg.tensor([1.0, 2.0]), 0), RuntimeError,
         "cannot sample n_sample <= 0 samples"),
        (lambda: tg.multinomial(tg.tensor(1.0), 1), RuntimeError, "prob_dist must be 1 or 2 dim"),
        (lambda: tg.multinomial(tg.tensor([0.0, 0.0]), 2, True), RuntimeError,
         "invalid multinomial distribution (sum of probabilities <= 0)"),
        (lambda: tg.multinomial(tg.tensor([1.0, -1.0]), 2, True), RuntimeError,
         "invalid multinomial distribution (encountering probability entry < 0)"),
        (lambda: tg.multinomial(tg.ones(3), 2.5), TypeError,
         "multinomial(): argument 'num_samples' (position 2) must be int, not float"),
        (lambda: tg.multinomial([0.5], 1), TypeError,
         "multinomial(): argument 'input' (position 1) must be Tensor, not list"),
        (lambda: tg.bernoulli(tg.ones(2, dtype=tg.int64)), NotImplementedError,
         "\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'"),
        (lambda: tg.bernoulli(tg.tensor([0.5, 2.0])), RuntimeError,
         "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
         "be improved?  If so, please report an enhancement request to PyTorch.)"),
        (lambda: tg.ones(2).bernoulli_(1.5), RuntimeError,
         "bernoulli_ expects p to be in [0, 1], but got p=1.5"),
        (lambda: tg.ones(3).exponential_(-1), RuntimeError,
         "exponential_ expects lambda > 0.0, but found lambda=-1"),
        (lambda: tg.ones(3).exponential_(float("nan")), RuntimeError,
         "exponential_ expects lambda > 0.0, but found lambda=nan"),
        (lambda: tg.ones(3, dtype=tg.int64).exponential_(), RuntimeError,
         "Exponential distribution is a continuous probability distribution. dtype must be a "
         "floating point but you specified Long"),
        (lambda: tg.ones(3).random_(5, 2), RuntimeError,
         "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
        (lambda: tg.ones(3, dtype=tg.float16).random_(70000), RuntimeError,
         "to - 1 is out of bounds for c10::Half"),
        (lambda: tg.ones(3, dtype=tg.uint8).random_(-1, 5), RuntimeError,
         "from is out of bounds for unsigned char"),
        (lambda: tg.ones(3, dtype=tg.int8).random_(0, 300), RuntimeError,
         "to - 1 is out of bounds for signed char"),
        (lambda: tg.ones(3, dtype=tg.bool).random_(0, 3), RuntimeError,
         "to - 1 is out of bounds for bool"),
        (lambda: tg.ones(3).random_(2.5), TypeError, None),
        (lambda: tg.rand_like(tg.ones(3, dtype=tg.int64)), NotImplementedError,
         "\"check_uniform_bounds\" not implemented for 'Long'"),
        (lambda: tg.randn_like(tg.ones(3, dtype=tg.int64)), NotImplementedError,
         "\"normal_kernel_cpu\" not implemented for 'Long'"),
        (lambda: tg.rand_like([1]), TypeError,
         "rand_like(): argument 'input' (position 1) must be Tensor, not list"),
        (lambda: tg.randint_like(tg.ones(2), 5, 2), RuntimeError,
         "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
        (lambda: tg.normal(tg.zeros(3), tg.ones(2)), RuntimeError,
         "The size of tensor a (3) must match the size of tensor b (2) at non-singleton "
         "dimension 0"),
        (lambda: tg.normal(0.0, -1.0, (2,)), RuntimeError,
         "normal expects std >= 0.0, but found std -1"),
        (lambda: tg.normal(tg.zeros(2), -1.0), RuntimeError,
         "normal expects std >= 0.0, but found std -1"),
        (lambda: tg.normal(0.0, tg.tensor([-1.0, 1.0])), RuntimeError,
         "normal expects all elements of std >= 0.0"),
        (lambda: tg.normal(tg.zeros(3, dtype=tg.int64), 1.0), NotImplementedError,
         "\"normal_kernel_cpu\" not implemented for 'Long'"),
        (lambda: tg.normal(0.0, 1.0), TypeError, None),
        (lambda: tg.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
        (lambda: tg.eye(2, -1), RuntimeError, "m must be greater or equal to 0, got -1"),
        (lambda: tg.eye(2.0), TypeError, "eye(): argument 'n' (position 1) must be int, not float"),
        (lambda: tg.eye(2, None), TypeError, None),
        (lambda: tg.eye(3, dtype=tg.int64, requires_grad=True), RuntimeError,
         "Only Tensors of floating point and complex dtype can require gradients"),
        (lambda: tg.empty(-1), RuntimeError, None),
        (lambda: tg.empty(2, dtype=tg.int64, requires_grad=True), RuntimeError,
         "Only Tensors of floating point and complex dtype can require gradients"),
        (lambda: tg.zeros(3, requires_grad=True).bernoulli_(0.5), RuntimeError,
         "a leaf Variable that requires grad is being used in an in-place operation."),
        (lambda: tg.zeros(3, requires_grad=True).random_(), RuntimeError,
         "a leaf Variable that requires grad is being used in an in-place operation."),
        (lambda: tg.zeros(3, requires_grad=True).exponential_(), RuntimeError,
         "a leaf Variable that requires grad is being used in an in-place operation."),
    ],
)  # fmt: skip
def test_errors(backend, call, exc, msg):
    with pytest.raises(exc) as e:
        call()
    if msg is not None:
        assert str(e.value) == msg


def test_random_fill_under_no_grad(backend):
    x = tg.zeros(3, requires_grad=True)
    with tg.no_grad():
        x.bernoulli_(1.0)
    assert x.tolist() == [1.0, 1.0, 1.0] and x.requires_grad


def test_float_random_warns_beyond_exact_range(backend):
    with pytest.warns(UserWarning, match=r"to - 1 is out of bounds \[-\(2\^24\), 2\^24\]"):
        tg.zeros(3).random_(2**30)


@pytest.mark.parametrize("dt", FLOATS + INTS)
def test_new_factories(backend, dt):
    d = getattr(tg, dt)
    t = tg.ones(2, dtype=d)
    for n in (t.new_zeros(2, 3), t.new_ones((2, 3)), t.new_empty(2, 3), t.new_full((2, 3), 1)):
        assert n.dtype is d and tuple(n.shape) == (2, 3) and n.backend == backend
    assert t.new_tensor([1, 0]).dtype is d and t.new_zeros(2, dtype=tg.float16).dtype is tg.float16
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        assert t.new_tensor(t) is not t
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        t.new_zeros(2, device="cuda")
    if not d.is_floating_point:
        with pytest.raises(RuntimeError, match="^Only Tensors of floating point"):
            t.new_zeros(2, requires_grad=True)
    else:
        assert t.new_zeros(2, requires_grad=True).requires_grad


def test_generator_manual_seed_takes_only_an_int():
    """torch.manual_seed takes int(seed); Generator.manual_seed refuses anything else (2.13)."""
    tg.manual_seed(1.5)  # int(1.5)
    g = tg.Generator()
    for bad, name in ((1.5, "float"), ("3", "str"), (True, "bool")):
        with pytest.raises(RuntimeError, match=f"^manual_seed expected a long, but got {name}$"):
            g.manual_seed(bad)
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1
