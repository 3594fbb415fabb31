"""The random-number cases shared by make_golden.py (run with PyTorch) and tests/test_random.py
(run with tapegrad): one definition, so both sides execute exactly the same calls.

Each case is a function of the module `T` (torch or tapegrad); it runs right after
`T.manual_seed(seed)` and returns a tensor, an array or a list of them.
"""

SEEDS = (0, 1, 42)
SIZES = (1, 3, 7, 15, 16, 17, 33, 100, 1000, 4099)  # both sides of the 16-element normal threshold


def _params(module):
    return [p.detach() for p in module.parameters()]


def cases(T):
    c = {}
    for n in SIZES:
        c[f"rand_{n}"] = lambda n=n: T.rand(n)
        c[f"randn_{n}"] = lambda n=n: T.randn(n)
        c[f"rand_{n}_f16"] = lambda n=n: T.rand(n, dtype=T.float16)
        c[f"randn_{n}_f16"] = lambda n=n: T.randn(n, dtype=T.float16)
        c[f"f64_rand_{n}"] = lambda n=n: T.rand(n, dtype=T.float64)
        c[f"f64_randn_{n}"] = lambda n=n: T.randn(n, dtype=T.float64)
        c[f"f64_normal_{n}"] = lambda n=n: T.zeros(n, dtype=T.float64).normal_(0.3, 2.7)
        c[f"f64_uniform_{n}"] = lambda n=n: T.zeros(n, dtype=T.float64).uniform_(-2.5, 3.7)
    c["f64_seq_cached_sample"] = lambda: [T.randn(3, dtype=T.float64), T.randn(1),
                                          T.randn(20, dtype=T.float64), T.randn(2, dtype=T.float64),
                                          T.rand(5, dtype=T.float64)]  # fmt: skip
    c["f64_linear_10_8"] = lambda: _params(T.nn.Linear(10, 8, dtype=T.float64))
    for n in (1, 7, 16, 100, 4099):
        c[f"dropout_{n}"] = lambda n=n: T.nn.functional.dropout(T.ones(n), 0.3)
    c["dropout_f16"] = lambda: T.nn.functional.dropout(T.ones(40, dtype=T.float16), 0.5)
    c["dropout_f64"] = lambda: T.nn.functional.dropout(T.ones(40, dtype=T.float64), 0.1)
    c["dropout_module_then_rand"] = lambda: [T.nn.Dropout(0.25)(T.ones(5, 6)), T.rand(3)]
    c["rand_2d"] = lambda: T.rand(4, 5)
    c["randn_2d"] = lambda: T.randn(7, 9)
    # interleaved calls: the cached second Box-Muller sample survives the 16-wide path
    c["seq_randn3_rand2_randn20"] = lambda: [T.randn(3), T.rand(2), T.randn(20)]
    c["seq_randn1_x3_randn16_randn1"] = lambda: [T.randn(1), T.randn(1), T.randn(1),
                                                 T.randn(16), T.randn(1)]  # fmt: skip
    c["seq_mixed"] = lambda: [T.rand(5), T.randn(17), T.randn(5), T.rand(1), T.randn(64, 1),
                              T.randint(0, 10, (4,)), T.randn(2)]  # fmt: skip
    for n in (7, 50):
        c[f"uniform_{n}"] = lambda n=n: T.zeros(n).uniform_(-2.5, 3.7)
        c[f"uniform_{n}_f16"] = lambda n=n: T.zeros(n, dtype=T.float16).uniform_(-2.5, 3.7)
    c["uniform_default"] = lambda: T.zeros(10).uniform_()
    c["uniform_narrow"] = lambda: T.zeros(40).uniform_(1000.0, 1000.5)
    for n in (5, 15, 16, 40, 100):
        c[f"normal_{n}"] = lambda n=n: T.zeros(n).normal_(0.3, 2.7)
        c[f"normal_{n}_f16"] = lambda n=n: T.zeros(n, dtype=T.float16).normal_(0.3, 2.7)
    c["randint_high"] = lambda: T.randint(10, (20,))
    c["randint_low_high"] = lambda: T.randint(-5, 7, (3, 5))
    c["randint_wide"] = lambda: T.randint(0, 2**30, (10,))
    c["randint_then_rand"] = lambda: [T.randint(3, 1000, (6,)), T.rand(3)]
    for n in (1, 2, 5, 10, 100, 1000):
        c[f"randperm_{n}"] = lambda n=n: T.randperm(n)
    c["linear_1_1"] = lambda: _params(T.nn.Linear(1, 1))
    c["linear_1_1_half"] = lambda: _params(T.nn.Linear(1, 1).half())
    c["linear_10_1"] = lambda: _params(T.nn.Linear(10, 1))
    c["linear_10_8_nobias"] = lambda: _params(T.nn.Linear(10, 8, bias=False))
    c["linear_10_5_f16"] = lambda: _params(T.nn.Linear(10, 5, dtype=T.float16))
    c["linear_3_then_randn"] = lambda: _params(T.nn.Linear(3, 2)) + [T.randn(4)]
    c["mlp_784_256_10"] = lambda: _params(
        T.nn.Sequential(T.nn.Linear(784, 256), T.nn.ReLU(), T.nn.Linear(256, 10))
    )
    c["mlp_784_256_10_half"] = lambda: _params(
        T.nn.Sequential(T.nn.Linear(784, 256), T.nn.ReLU(), T.nn.Linear(256, 10)).half()
    )
    c["reset_parameters"] = lambda: _reset(T)
    c["generator_default_seed"] = lambda: T.rand(5, generator=T.Generator())
    c["generator_seeded"] = lambda: _generator(T)
    c["state_after_draws"] = lambda: _state_after(T)
    c["state_roundtrip"] = lambda: _roundtrip(T)
    return c


def _reset(T):
    lin = T.nn.Linear(6, 4)
    first = _params(lin)
    lin.reset_parameters()
    return first + _params(lin)


def _generator(T):
    g = T.Generator().manual_seed(7)
    return [T.rand(5, generator=g), T.randn(3, generator=g), T.randn(20, generator=g),
            T.randint(0, 10, (3,), generator=g), T.randperm(6, generator=g), T.rand(2)]  # fmt: skip


def _state_after(T):
    T.randn(3)  # leaves a cached normal sample in the state
    T.rand(700)  # crosses an mt19937 twist
    return T.get_rng_state()


def _roundtrip(T):
    T.randn(1)
    state = T.get_rng_state()
    a = [T.randn(3), T.rand(4)]
    T.set_rng_state(state)
    return a + [T.randn(3), T.rand(4)]
