"""tg.compile: a captured-and-replayed step gives bit-identical results to eager steps."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim


def _data(n_in, n_out, batch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dt = getattr(tg, dtype)  # the tests name dtypes; PyTorch's dtype= takes dtype objects only
    x = tg.tensor(rng.standard_normal((batch, n_in)), dtype=dt)
    y = tg.tensor(rng.standard_normal((batch, n_out)), dtype=dt)
    return x, y


def _model(kind, dtype):
    tg.manual_seed(0)
    if kind == "linear":
        m = nn.Linear(1, 1)
    else:
        m = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3), nn.ReLU())
    if dtype == "float16":
        return m.half()
    return m.double() if dtype == "float64" else m


def _optimizer(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.05)
    if kind == "momentum":
        return optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    return optim.Adam(params, lr=1e-2, weight_decay=1e-4)


def _step_fn(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


CASES = [
    ("linear", "sgd", "float32", nn.MSELoss()),
    ("mlp", "momentum", "float32", nn.MSELoss()),
    ("mlp", "adam", "float32", nn.L1Loss()),
    ("mlp", "adam", "float16", nn.MSELoss()),
    ("linear", "sgd", "float16", nn.MSELoss()),
    ("mlp", "momentum", "float16", nn.MSELoss()),  # float16 adds with a vector body and a tail
    ("mlp", "momentum", "float64", nn.MSELoss()),
    ("mlp", "adam", "float64", nn.L1Loss()),
]


@pytest.mark.parametrize("model_kind,opt_kind,dtype,loss_fn", CASES)
def test_compiled_steps_match_eager_bit_for_bit(model_kind, opt_kind, dtype, loss_fn):
    with tg.use_backend("cpp"):
        shapes = (1, 1, 50) if model_kind == "linear" else (10, 3, 32)
        x, y = _data(*shapes, dtype)
        m_e, m_c = _model(model_kind, dtype), _model(model_kind, dtype)
        eager = _step_fn(m_e, _optimizer(opt_kind, m_e.parameters()), loss_fn)
        compiled = tg.compile(_step_fn(m_c, _optimizer(opt_kind, m_c.parameters()), loss_fn))
        for i in range(100):
            le, lc = eager(x, y).item(), compiled(x, y).item()
            assert le == lc or (np.isnan(le) and np.isnan(lc)), (i, le, lc)
        assert compiled.captures == 1
        for (name, pe), (_, pc) in zip(m_e.named_parameters(), m_c.named_parameters()):
            np.testing.assert_array_equal(pe.detach().numpy(), pc.detach().numpy(), err_msg=name)
            np.testing.assert_array_equal(pe.grad.numpy(), pc.grad.numpy(), err_msg=name)


def test_run_n_steps_matches_calls():
    with tg.use_backend("cpp"):
        x, y = _data(10, 3, 32, "float32")
        m1, m2 = _model("mlp", "float32"), _model("mlp", "float32")
        s1 = tg.compile(_step_fn(m1, _optimizer("momentum", m1.parameters()), nn.MSELoss()))
        s2 = tg.compile(_step_fn(m2, _optimizer("momentum", m2.parameters()), nn.MSELoss()))
        one_by_one = np.array([s1(x, y).item() for _ in range(20)], np.float32)
        np.testing.assert_array_equal(s2.run(20, x, y), one_by_one)


def test_eager_and_compiled_steps_share_optimizer_state():
    with tg.use_backend("cpp"):
        x, y = _data(10, 3, 32, "float32")
        m1, m2 = _model("mlp", "float32"), _model("mlp", "float32")
        o1, o2 = _optimizer("adam", m1.parameters()), _optimizer("adam", m2.parameters())
        e1, e2 = _step_fn(m1, o1, nn.MSELoss()), _step_fn(m2, o2, nn.MSELoss())
        c2 = tg.compile(e2)
        pattern = [c2, c2, e2, c2, e2, e2, c2]  # switch back and forth
        for f in pattern:
            assert e1(x, y).item() == f(x, y).item()
        assert o2.state[m2[0].weight]["step"].item() == len(pattern)


def test_new_shape_or_dtype_recaptures():
    with tg.use_backend("cpp"):
        m = _model("mlp", "float32")
        step = tg.compile(_step_fn(m, _optimizer("sgd", m.parameters()), nn.MSELoss()))
        x, y = _data(10, 3, 32, "float32")
        step(x, y)
        step(x, y)
        assert step.captures == 1
        x2, y2 = _data(10, 3, 8, "float32", seed=1)
        step(x2, y2)
        assert step.captures == 2
        step(x, y)  # the first signature is still cached
        assert step.captures == 2
        m.half()  # the parameters' buffers changed: replaying would be wrong, so it re-captures
        xh, yh = x.half(), y.half()
        step(xh, yh)
        step(xh, yh)
        assert step.captures == 3


def test_new_inputs_are_used_on_replay():
    with tg.use_backend("cpp"):
        m = _model("linear", "float32")

        @tg.compile
        def forward(x):
            return m(x).sum()

        with tg.no_grad():
            for v in (1.0, 2.0, 5.0):
                x = tg.tensor([[v]])
                want = m.weight.item() * v + m.bias.item()
                assert forward(x).item() == pytest.approx(want, rel=1e-6)
        assert forward.captures == 1


@pytest.mark.parametrize(
    "body,match",
    [
        (lambda m, x: m(x).sum().item(), "reading a tensor's value"),
        (lambda m, x: m(x).sum() + tg.randn(1).sum(), "randn"),
        (lambda m, x: m(x).sum() * tg.tensor([1.0], requires_grad=True).sum(), "requires grad"),
        (lambda m, x: print(m(x)), "reading a tensor's values"),
    ],
)
def test_uncapturable_work_raises_a_clear_error(body, match):
    with tg.use_backend("cpp"):
        m = _model("linear", "float32")
        step = tg.compile(lambda x: body(m, x))
        with pytest.raises(RuntimeError, match=match):
            step(tg.tensor([[1.0]]))
        # the failed capture left nothing behind: ordinary work goes on
        assert (tg.tensor([1.0]) + 1).item() == 2.0


def test_numpy_backend_runs_the_function_eagerly():
    results = {}
    for backend in ("cpp", "numpy"):
        with tg.use_backend(backend):
            x, y = _data(1, 1, 50, "float16")
            m = _model("linear", "float16")
            step = tg.compile(_step_fn(m, _optimizer("sgd", m.parameters()), nn.MSELoss()))
            results[backend] = step.run(30, x, y)
    np.testing.assert_array_equal(results["cpp"], results["numpy"])


# ---------------------------------------------------------------- what replays must not change


def test_a_parameter_passed_as_an_argument_gets_its_grad():
    with tg.use_backend("cpp"):
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        x = tg.tensor([1.0, 10.0])

        def step(w, x):
            loss = (w * x).sum()
            loss.backward()
            return loss

        compiled = tg.compile(step)
        got = []
        for i in range(4):  # as eager: the gradient accumulates until it is reset
            if i == 2:
                w.grad = None
            compiled(w, x)
            got.append(w.grad.tolist())
        assert got == [[1.0, 10.0], [2.0, 20.0], [1.0, 10.0], [2.0, 20.0]]
        other = tg.tensor([5.0, 5.0], requires_grad=True)  # another parameter: its own capture
        assert compiled(other, x).item() == 55.0 and other.grad.tolist() == [1.0, 10.0]


def test_two_threads_replaying_one_capture_take_turns():
    import threading

    with tg.use_backend("cpp"):
        x, y = _data(256, 256, 64, "float32")  # big enough that replays release the GIL

        def make():
            tg.manual_seed(0)
            m = nn.Linear(256, 256)
            return m, optim.SGD(m.parameters(), lr=0.01)

        m1, o1 = make()
        step = tg.compile(_step_fn(m1, o1, nn.MSELoss()))
        step(x, y)  # the capture
        threads = [threading.Thread(target=lambda: [step(x, y) for _ in range(20)])]
        threads.append(threading.Thread(target=lambda: [step(x, y) for _ in range(20)]))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        m2, o2 = make()
        eager = _step_fn(m2, o2, nn.MSELoss())
        for _ in range(41):  # the same 41 steps one after another
            eager(x, y)
        np.testing.assert_array_equal(m1.weight.detach().numpy(), m2.weight.detach().numpy())


def test_the_capture_cache_is_bounded():
    with tg.use_backend("cpp"):
        w = nn.Linear(3, 1)
        step = tg.compile(lambda x: w(x).sum(), max_captures=2)
        for n in (1, 2, 3, 4):
            step(tg.ones(n, 3))
        assert len(step._captures) == 2 and step.captures == 4
        step(tg.ones(4, 3))  # still cached: no capture
        assert step.captures == 4
        step(tg.ones(1, 3))  # dropped, least recently used: captured again
        assert step.captures == 5


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_hyperparameters_changed_between_calls_take_effect(kind):
    with tg.use_backend("cpp"):
        x, y = _data(10, 3, 32, "float32")
        losses = []
        for compiled in (False, True):
            m = _model("mlp", "float32")
            opt = _optimizer(kind, m.parameters())
            step = _step_fn(m, opt, nn.MSELoss())
            step = tg.compile(step) if compiled else step
            run = []
            for i in range(12):  # a schedule: lr, weight decay and momentum/betas change
                for g in opt.param_groups:
                    g["lr"] = 0.05 / (1 + i)
                    g["weight_decay"] = 1e-3 * (i % 3)
                    if kind == "adam":
                        g["betas"] = (0.9 - 0.01 * i, 0.999)
                    elif kind == "momentum":
                        g["momentum"] = 0.9 - 0.02 * i
                run.append(step(x, y).item())
            losses.append(run)
            if compiled:
                assert step.captures == 1
        assert losses[0] == losses[1]


def test_turning_momentum_on_captures_anew():
    with tg.use_backend("cpp"):
        x, y = _data(10, 3, 32, "float32")
        got = []
        for compiled in (False, True):
            m = _model("mlp", "float32")
            opt = optim.SGD(m.parameters(), lr=0.05)
            step = _step_fn(m, opt, nn.MSELoss())
            step = tg.compile(step) if compiled else step
            run = [step(x, y).item() for _ in range(3)]
            opt.param_groups[0]["momentum"] = 0.9  # now a momentum buffer is kept
            run += [step(x, y).item() for _ in range(3)]
            got.append(run)
            if compiled:
                assert step.captures == 2
        assert got[0] == got[1]


def test_a_replaced_parameter_is_seen():
    with tg.use_backend("cpp"):
        x = tg.ones(4, 3)

        def run(compiled):
            tg.manual_seed(0)
            m = nn.Linear(3, 2)

            def f(x):
                return m(x).sum()

            step = tg.compile(f) if compiled else f
            out = [step(x).item()]
            m.weight = nn.Parameter(tg.full((2, 3), 0.5))  # a new parameter object
            return out + [step(x).item(), step(x).item()]

        eager, compiled = run(False), run(True)
        assert eager == compiled and compiled[1] != compiled[0]


SCALE = tg.tensor([2.0, 3.0])


def test_a_rebound_tensor_is_seen():
    global SCALE
    with tg.use_backend("cpp"):
        x = tg.ones(2)
        step = tg.compile(lambda x: (x * SCALE).sum())
        assert step(x).item() == 5.0
        SCALE = tg.tensor([10.0, 10.0])  # the name now holds another tensor
        assert step(x).item() == 20.0
        factor = tg.tensor([1.0, 1.0])
        inner = tg.compile(lambda x: (x * factor).sum())
        assert inner(x).item() == 2.0
        factor = tg.tensor([4.0, 4.0])  # a closure cell rebound
        assert inner(x).item() == 8.0


def test_a_whole_read_zero_dim_factor_is_reread_on_replay():
    # float16 x * a float32 0-dim tensor reads the factor whole; a replay must read its new value
    with tg.use_backend("cpp"):
        scale = tg.tensor(0.1)

        @tg.compile
        def f(x):
            return x * scale

        x = tg.tensor([0.3, 1.7, 1000.0], dtype=tg.float16)
        for v in (0.1, 0.7, 3.3):
            scale.fill_(v)
            want = (x * tg.tensor(v)).tolist()
            assert f(x).tolist() == want
        assert f.captures == 1
