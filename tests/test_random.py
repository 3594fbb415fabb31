"""Random numbers: PyTorch's CPU streams bit for bit, from golden vectors made once with PyTorch
(tests/golden/make_golden.py); no PyTorch needed here. Both engines (the C++ CPUGenerator and the
NumPy fallback) and both backends must reproduce them, and must agree with each other."""

import hashlib
import importlib.util
import json
import os

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _random
from tapegrad._fma import simd

# The goldens hold PyTorch's AVX2 numbers; the portable path (TAPEGRAD_NO_SIMD=1) follows its
# `default` kernels instead and is compared with those by tests/parity/run.py.
AVX2 = pytest.mark.skipif(not simd(), reason="PyTorch's AVX2 numbers; the SIMD path only")

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
IMPLS = ("cpp", "numpy")


def _load_cases():
    spec = importlib.util.spec_from_file_location(
        "random_cases", os.path.join(GOLDEN, "random_cases.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


CASES = _load_cases()
with open(os.path.join(GOLDEN, "torch_random.json")) as _f:
    GOLD = json.load(_f)
CASE_NAMES = sorted(GOLD["seeds"]["0"])


@pytest.fixture(params=IMPLS)
def impl(request, monkeypatch):
    """Make the default generator use one engine for the test."""
    g = tg.Generator(_impl=request.param)
    monkeypatch.setattr(_random, "_default", g)
    return request.param


def _as_numpy(x):
    if isinstance(x, np.ndarray):
        return x
    return x.detach().numpy()


def _check(got, rec, where):
    arr = np.ascontiguousarray(_as_numpy(got))
    assert list(arr.shape) == rec["shape"], f"{where}: shape {arr.shape} != {rec['shape']}"
    want_dtype = np.dtype(rec["dtype"])
    if want_dtype.kind in "iu" and arr.dtype.kind == "f":
        # tapegrad returns randint/randperm as float32: PyTorch's integers, rounded to float32
        if "hex" in rec:
            want = np.frombuffer(bytes.fromhex(rec["hex"]), want_dtype).astype(arr.dtype)
            assert arr.reshape(-1).tobytes() == want.tobytes(), f"{where}: {arr} != {want}"
            return
        assert np.all(np.abs(arr) < 2**24), where  # exact in float32
        arr = arr.astype(want_dtype)
    assert arr.dtype == want_dtype, f"{where}: dtype {arr.dtype} != {want_dtype}"
    raw = arr.tobytes()
    if "hex" in rec:
        if raw.hex() != rec["hex"]:
            want = np.frombuffer(bytes.fromhex(rec["hex"]), want_dtype).reshape(rec["shape"])
            bad = np.nonzero(arr.view(np.uint8).reshape(-1) != want.view(np.uint8).reshape(-1))
            pytest.fail(f"{where}: differs from PyTorch (first bytes {bad[0][:4]})\n"
                        f"got  {arr.reshape(-1)[:8]}\nwant {want.reshape(-1)[:8]}")  # fmt: skip
    else:
        flat = arr.reshape(-1)
        assert flat[:8].tobytes().hex() == rec["head_hex"], f"{where}: first values differ"
        assert flat[-8:].tobytes().hex() == rec["tail_hex"], f"{where}: last values differ"
        assert hashlib.sha256(raw).hexdigest() == rec["sha256"], f"{where}: hash differs"


def test_golden_file_is_from_pytorch_2():
    assert GOLD["torch_version"].split(".")[0] == "2"
    assert set(GOLD["seeds"]) == {str(s) for s in CASES.SEEDS} == {"0", "1", "42"}
    assert set(CASES.cases(tg)) == set(CASE_NAMES)


# Every case on the cpp backend; on the numpy backend the cases whose tensors are built there
# (the stream itself does not depend on the backend).
_ON_NUMPY = ("linear", "mlp", "reset", "seq", "uniform", "normal", "randn_17", "f64", "dropout")
BACKEND_CASES = [("cpp", n) for n in CASE_NAMES] + [
    ("numpy", n) for n in CASE_NAMES if n.startswith(_ON_NUMPY)
]


@AVX2
@pytest.mark.parametrize("backend,name", BACKEND_CASES)
def test_matches_pytorch_bit_for_bit(name, impl, backend):
    for seed in CASES.SEEDS:
        with tg.use_backend(backend):
            tg.manual_seed(seed)
            res = CASES.cases(tg)[name]()
        items = res if isinstance(res, list) else [res]
        recs = GOLD["seeds"][str(seed)][name]
        assert len(items) == len(recs)
        for i, (got, rec) in enumerate(zip(items, recs)):
            _check(got, rec, f"seed {seed} {name}[{i}] ({impl} engine, {backend} backend)")


@pytest.mark.parametrize("engine", IMPLS)
def test_wide_randint_int64_exact(engine):
    """Ranges >= 2**28 take 64-bit draws; the engines' int64 output is PyTorch's exactly."""
    for seed in CASES.SEEDS:
        e = _random._new_engine(engine)
        e.manual_seed(seed)
        out = np.empty(10, np.int64)
        e.randint_(out, 0, 2**30)
        assert out.tobytes().hex() == GOLD["seeds"][str(seed)]["randint_wide"][0]["hex"]


@AVX2
def test_tutorial_numbers():
    """The numbers the float16 tutorial prints: manual_seed(0), Linear(1, 1)."""
    tg.manual_seed(0)
    lin = tg.nn.Linear(1, 1)
    assert lin.weight.item() == -0.007486820220947266  # torch 2.13: the same floats
    assert lin.bias.item() == 0.5364435911178589
    lin.half()  # the tutorial prints these as -0.0075 and 0.5366
    assert lin.weight.item() == -0.007488250732421875 and lin.bias.item() == 0.53662109375


# ---------------------------------------------------------------- the two engines agree


@pytest.mark.parametrize("seed", [0, 5, 2**32 + 3, 2**64 - 1])
def test_engines_agree(seed):
    engines = [_random._new_engine(i) for i in IMPLS]
    for e in engines:
        e.manual_seed(seed)
    rng = np.random.default_rng(seed % 2**32)
    for step in range(60):
        kind = step % 6
        n = int(rng.integers(1, 1300))
        a_, b_ = float(rng.normal() * 10), float(rng.exponential() * 5)
        lo = int(rng.integers(-(2**40), 2**40))
        width = int(rng.choice([1, 7, 2**27, 2**28, 2**35]))
        outs = []
        for e in engines:
            if kind == 0:
                outs.append(np.array([e.random(), e.random64(), e.random()], dtype=np.uint64))
            elif kind == 1:
                a = np.empty(n, np.float64 if step % 12 == 7 else np.float32)
                e.uniform_(a, a_, a_ + b_)
                outs.append(a)
            elif kind in (2, 3):
                a = np.empty(n % 200, np.float64 if step % 12 == 8 else np.float32)
                e.normal_(a, a_, b_, kind == 3 and a.dtype == np.float32)
                outs.append(a)
            elif kind == 4:
                a = np.empty(n % 50 + 1, np.int64)
                e.randint_(a, lo, lo + width)
                outs.append(a)
            else:
                a = np.empty(n % 300 + 1, np.int64)
                e.randperm_(a)
                outs.append(a)
        np.testing.assert_array_equal(
            outs[0].view(np.uint8), outs[1].view(np.uint8), f"step {step}"
        )
        s0, s1 = (np.asarray(e.get_state()) for e in engines)
        assert s0.tobytes() == s1.tobytes(), f"states differ after step {step}"


def test_engines_exchange_states():
    a, b = (_random._new_engine(i) for i in IMPLS)
    a.manual_seed(11)
    x = np.empty(3, np.float32)
    a.normal_(x, 0.0, 1.0, False)  # leaves a cached sample
    for src, dst in ((a, b), (b, a)):
        dst.set_state(src.get_state())
        u, v = np.empty(40, np.float32), np.empty(40, np.float32)
        src.normal_(u[:5], 0.0, 1.0, False)
        dst.normal_(v[:5], 0.0, 1.0, False)
        src.uniform_(u[5:], 0.0, 1.0)
        dst.uniform_(v[5:], 0.0, 1.0)
        assert u.tobytes() == v.tobytes()


@AVX2
def test_normal_fill_all_uniform_inputs_agree():
    """The 16-wide transform on a broad sweep of uniform inputs: C++ and NumPy give the same
    floats (the C++ one was checked against PyTorch on all 2**24 inputs when written)."""
    core = pytest.importorskip("tapegrad._core")
    if not hasattr(core, "CPUGenerator"):
        pytest.fail("tapegrad._core has no CPUGenerator (csrc/python/rng.cpp not registered)")
    k = np.arange(0, 2**24, 97, dtype=np.uint32)
    k = k[: len(k) // 16 * 16]
    u = (k.astype(np.float32) * np.float32(2**-24)).reshape(-1, 16)
    u[:, 8:] = u[::-1, 8:]  # pair different u1 and u2
    ref = u.copy()
    _random._normal_fill16(ref, np.float32(0), np.float32(1))
    # Run the same inputs through the C++ engine by crafting its state: outputs are the tempered
    # state words, so untempered uniforms come back out of random().
    got = np.empty_like(u)
    e = _random._new_engine("cpp")
    words = (u.reshape(-1) * np.float32(2**24)).astype(np.uint32)
    for i in range(0, len(words), 608):
        chunk = words[i : i + 608]
        st = np.asarray(e.get_state()).copy()
        st[8:12] = np.frombuffer(np.int32(624).tobytes(), np.uint8)  # left: 623 draws, no twist
        st[16:24] = 0
        body = np.zeros(624, np.uint64)
        body[: len(chunk)] = _untemper(chunk)
        st[24 : 24 + 624 * 8] = body.view(np.uint8)
        e.set_state(st)
        out = np.empty(len(chunk), np.float32)
        e.normal_(out, 0.0, 1.0, True)
        got.reshape(-1)[i : i + len(chunk)] = out
    assert got.tobytes() == ref.tobytes()


def _untemper(y):
    y = y.astype(np.uint32)
    y = y ^ (y >> np.uint32(18))
    y = y ^ ((y << np.uint32(15)) & np.uint32(0xEFC60000))
    r = y.copy()
    for _ in range(5):
        r = y ^ ((r << np.uint32(7)) & np.uint32(0x9D2C5680))
    y, r = r, r.copy()
    for _ in range(3):
        r = y ^ (r >> np.uint32(11))
    return r


# ---------------------------------------------------------------- the API


def test_manual_seed_and_initial_seed(impl):
    g = tg.manual_seed(3)
    assert isinstance(g, tg.Generator) and tg.initial_seed() == 3
    assert tg.manual_seed(-1).initial_seed() == 2**64 - 1  # two's complement, as PyTorch
    a = tg.rand(4).tolist()
    tg.manual_seed(2**32 - 1)
    assert tg.rand(4).tolist() == a  # mt19937 uses the low 32 bits
    tg.manual_seed(2.0)
    assert tg.initial_seed() == 2
    with pytest.raises(ValueError, match="Overflow"):
        tg.manual_seed(2**64)
    with pytest.raises(ValueError):
        tg.manual_seed("a")


def test_seed_is_nondeterministic_and_reported(impl):
    s1 = tg.seed()
    a = tg.rand(3).tolist()
    s2 = tg.seed()
    assert s1 != s2 and tg.initial_seed() == s2
    tg.manual_seed(s1)
    assert tg.rand(3).tolist() == a


def test_generator_objects(impl):
    g = tg.Generator()
    assert g.initial_seed() == 67280421310721 and str(g.device) == "cpu"
    assert g.manual_seed(5) is g
    st = g.get_state()
    assert st.dtype == np.uint8 and st.shape == (5056,)
    a = tg.randn(20, generator=g).tolist()
    tg.manual_seed(0)
    before = tg.get_rng_state()
    g.set_state(st)
    assert tg.randn(20, generator=g).tolist() == a
    assert tg.get_rng_state().tobytes() == before.tobytes()  # the default was not touched
    g.set_state(bytes(st))
    assert g.initial_seed() == 5
    with pytest.raises(RuntimeError, match="size 5056 but found the input RNG state size to be 10"):
        g.set_state(np.zeros(10, np.uint8))
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        g.set_state(np.zeros(5056, np.uint8))
    with pytest.raises(TypeError):
        g.set_state(np.zeros(5056, np.float32))
    with pytest.raises(TypeError):
        tg.rand(2, generator=object())
    s = g.seed()
    assert g.initial_seed() == s
    with pytest.raises(RuntimeError, match="CPU only"):
        tg.Generator("cuda")


def test_numpy_engine_is_used_without_the_extension(monkeypatch):
    monkeypatch.setattr(_random, "_core_engine_type", lambda: None)
    g = tg.Generator()
    assert isinstance(g._e, _random._NumpyEngine)
    monkeypatch.setattr(_random, "_default", None)
    tg.manual_seed(0)
    assert tg.rand(2).tolist() == [0.49625658988952637, 0.7682217955589294]


def test_randint_and_randperm(impl, backend):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        r = tg.randint(3, 10, (50,))
        assert r.dtype is tg.int64 and r.backend == backend  # as PyTorch
        v = r.numpy()
        assert v.min() >= 3 and v.max() < 10 and np.all(v == np.round(v))
        assert tg.randint(5, size=(2, 3)).shape == (2, 3)
        p = tg.randperm(20, dtype=tg.float16).numpy()
        assert sorted(p.tolist()) == list(range(20))
    with pytest.raises(RuntimeError, match="random_ expects 'from' to be less than 'to'"):
        tg.randint(5, 5, (3,))
    with pytest.raises(TypeError):
        tg.randint(1.5, (3,))
    with pytest.raises(RuntimeError):
        tg.randperm(-1)


def test_inplace_init_methods(impl, backend):
    with tg.use_backend(backend):
        p = tg.nn.Parameter(tg.zeros(3, 4))
        assert p.uniform_(-1, 1) is p  # a leaf that requires grad: written without the tape
        assert p.grad_fn is None and p.requires_grad
        assert np.all(np.abs(p.numpy(force=True)) <= 1)
        p.normal_(2.0, 0.5)
        p.uniform_(**{"from": 5.0, "to": 6.0})
        assert np.all(p.numpy(force=True) >= 5)
        h = tg.zeros(64, dtype=tg.float16).uniform_(0, 1)
        assert h.dtype is tg.float16
    with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range"):
        tg.zeros(2).uniform_(2, 1)
    with pytest.raises(RuntimeError, match="normal expects std >= 0.0"):
        tg.zeros(2).normal_(0, -1)


def test_float16_uniform_stays_below_to(impl):
    """PyTorch replaces a float16 value that rounds up to `to` with `from`."""
    tg.manual_seed(0)
    h = tg.rand(4000, dtype=tg.float16).numpy()
    tg.manual_seed(0)
    f = tg.rand(4000).numpy()
    assert np.all(h < 1) and np.any(f.astype(np.float16) == 1)
    rounded = f.astype(np.float16)
    rounded[rounded == 1] = 0
    assert h.tobytes() == rounded.tobytes()


def test_random_in_compiled_step_is_refused():
    core = pytest.importorskip("tapegrad._core")
    w = tg.tensor([1.0], requires_grad=True)

    def step(x):
        return (w * x + tg.rand(1)).sum()

    f = tg.compile(step)
    with pytest.raises(RuntimeError, match="cannot capture rand"):
        f(tg.tensor([1.0]))
    assert core is not None
