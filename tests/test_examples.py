"""The tutorials the examples reproduce, as tests (the examples' run functions, small sizes), the
demo, and the two backends training side by side: 100 steps of a small MLP (float32 within
tolerance, float16 too) and 100 float16 SGD steps of Linear(1, 1) that must agree bit for bit."""

import importlib.util
import io
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim

# Subprocesses import the same tapegrad as this process (installed or in-tree).
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def _example(name):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", os.path.join(EXAMPLES, name + ".py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------- the seed programs


def test_linear_fit(backend, tmp_path):
    ex = _example("linear_fit")
    with tg.use_backend(backend):
        r = ex.run(epochs=30, plot=True, out_dir=str(tmp_path), verbose=False)
    assert r["losses"][-1] < r["losses"][0] / 5
    assert abs(r["weight"] - 2.0) < 0.1
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert r["plots"] == []
    else:
        assert all(os.path.exists(p) for p in r["plots"]) and len(r["plots"]) == 2


# The table the float16 tutorial printed with PyTorch (torch.manual_seed(0), Linear(1, 1), .half(),
# SGD(lr=0.1)), rows 0-9 verbatim: pandas' CSV form (index, iteration, prediction, loss, weight,
# bias, weight_grad, bias_grad).
TUTORIAL_ROWS = """\
0,0,0.529297,0.2215576,0.086609,0.630859,-0.941406,-0.941406
1,1,0.717285,0.07995605,0.143066,0.6875,-0.56543,-0.56543
2,2,0.830566,0.02870178,0.177002,0.721191,-0.338867,-0.338867
3,3,0.898438,0.01031494,0.197266,0.741699,-0.203125,-0.203125
4,4,0.938965,0.003725052,0.209473,0.753906,-0.12207,-0.12207
5,5,0.963379,0.001340866,0.216797,0.76123,-0.073242,-0.073242
6,6,0.978027,0.0004827976,0.221191,0.765625,-0.043945,-0.043945
7,7,0.986816,0.0001738071,0.223877,0.768066,-0.026367,-0.026367
8,8,0.992188,6.103516e-05,0.225464,0.769531,-0.015625,-0.015625
9,9,0.995117,2.384186e-05,0.22644,0.770508,-0.009766,-0.009766""".splitlines()


def _agrees(value, text):
    """`value` rounds to the tutorial's printed `text` (within half a unit of its last digit)."""
    mant, _, exp = text.lower().partition("e")
    decimals = len(mant.partition(".")[2])
    return abs(value - float(text)) <= 0.5 * 10.0 ** (int(exp or 0) - decimals) * (1 + 1e-9)


def test_float16_neuron_reproduces_the_tutorial_table(backend, capsys):
    """The seeded init (no hard-coded weights) prints the tutorial's table, line for line."""
    ex = _example("float16_neuron")
    r = ex.main(["--backend", backend, "--steps", "20"])
    out = capsys.readouterr().out
    assert "linear.weight: tensor([[-0.0075]], dtype=torch.float16)" in out
    assert "linear.bias: tensor([0.5366], dtype=torch.float16)" in out
    assert "model(torch.tensor([1.0]))=tensor([0.5293], dtype=torch.float16" in out
    lines = out.splitlines()
    start = lines.index(",iteration,prediction,loss,weight,bias,weight_grad,bias_grad") + 1
    assert lines[start : start + 10] == TUTORIAL_ROWS
    cols = ("prediction", "loss", "weight", "bias", "weight_grad", "bias_grad")
    for row, line in zip(r["rows"], TUTORIAL_ROWS):  # and the values themselves
        for c, text in zip(cols, line.split(",")[2:]):
            assert _agrees(row[c], text), (line, c, row[c])
    assert r["mismatches"] == []
    rows = r["rows"]
    assert rows[-1]["loss"] == 0.0 and rows[-1]["weight_grad"] == 0.0  # converged in float16
    with tg.use_backend(backend):
        r2 = ex.run(steps=5, seed=1, verbose=False)
    assert r2["rows"][-1]["loss"] < r2["rows"][0]["loss"] and "mismatches" not in r2


def test_float16_neuron_table_format(backend, capsys):
    ex = _example("float16_neuron")
    ex.main(["--backend", backend, "--steps", "3"])
    out = capsys.readouterr().out
    assert "Model(\n  (linear): Linear(in_features=1, out_features=1, bias=True)\n)" in out
    assert "linear.weight: tensor([[-0.0075]], dtype=torch.float16)" in out
    assert "iteration" in out and "weight_grad" in out


def test_tanh_neuron(backend):
    ex = _example("tanh_neuron")
    with tg.use_backend(backend):
        r = ex.run(steps=40, verbose=False)
    n = r["neuron"]
    assert n["Y"] == pytest.approx(n["expected_Y"], rel=1e-6)
    for k in ("w1", "w2", "b"):
        assert n["grads"][k] == pytest.approx(n["by_hand"][k], rel=1e-3, abs=1e-9)
    losses = r["mlp"]["losses"]
    assert losses[-1] < 0.05 < losses[0]
    assert [math.copysign(1, p) for p in r["mlp"]["predictions"]] == [1, -1, -1, 1]


def test_simplenet(backend):
    ex = _example("simplenet")
    with tg.use_backend(backend):
        r = ex.run(epochs=10, verbose=False)
    losses = r["losses"]
    assert len(losses) == 10 and all(math.isfinite(v) for v in losses)
    assert all(b <= a + 1e-6 for a, b in zip(losses, losses[1:]))


def test_quadratic_mae(backend):
    ex = _example("quadratic_mae")
    with tg.use_backend(backend):
        r = ex.run(steps=10, plot=False, verbose=False)
    losses = r["losses"]
    assert losses[-1] < losses[0] and losses[0] == pytest.approx(2.40, abs=0.01)
    assert all(b < a for a, b in zip(losses, losses[1:]))


def test_mlp_classifier_reaches_stated_accuracy(backend):
    ex = _example("mlp_classifier")
    with tg.use_backend(backend):
        r = ex.run(verbose=False)
    assert r["test_accuracy"] >= ex.STATED_ACCURACY
    assert r["train_accuracy"] >= ex.STATED_ACCURACY


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_blobs_classifier_reaches_stated_accuracy(backend, dtype):
    ex = _example("blobs_classifier")
    with tg.use_backend(backend):
        r = ex.run(dtype=dtype, verbose=False)
    assert r["accuracy"] >= ex.STATED_ACCURACY
    assert r["losses"][-1] < r["losses"][0]


def test_makemore_mlp_beats_the_bigram_table(backend):
    ex = _example("makemore")
    with tg.use_backend(backend):
        r = ex.run(steps=1000 if backend == "cpp" else 400, verbose=False)
    assert 2.0 < r["bigram_nll"] < 3.0
    assert r["mlp_loss"] < r["bigram_nll"]


def test_pinn_oscillator(backend):
    """u'' through two create_graph grads, trained: the residual loss falls and u nears sin."""
    ex = _example("pinn_oscillator")
    with tg.use_backend(backend):
        r = ex.run(steps=100, verbose=False)
    assert r["losses"][0] == pytest.approx(1.032235, abs=1e-6)  # PyTorch's, same seeded init
    assert r["losses"][-1] < r["losses"][0] / 5
    assert r["max_error"] < 0.5


def test_newton_hessian_converges(backend):
    ex = _example("newton_hessian")
    with tg.use_backend(backend):
        r = ex.run(verbose=False)
    assert r["point"] == pytest.approx([1.0, 1.0], abs=1e-12)
    assert len(r["rosenbrock"]) == 8 and r["rosenbrock"][-1][1] < 1e-8
    grads = [g for _, g in r["logistic"]]
    assert grads[-1] < 1e-10 and grads[-2] < 1e-5  # quadratic convergence at the end
    assert r["weights"] == pytest.approx([1.1893, -2.2302, 0.6542, 0.4272], abs=1e-4)


def test_examples_run_as_scripts():
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT, TAPEGRAD_BACKEND="numpy")
    for name, args in [("linear_fit", ["--epochs", "10", "--no-plot"]),
                       ("float16_neuron", ["--steps", "10"]),
                       ("quadratic_mae", ["--no-plot"]),
                       ("simplenet", []), ("tanh_neuron", ["--steps", "5"]),
                       ("mlp_classifier", ["--steps", "5"]),
                       ("blobs_classifier", ["--epochs", "1"]),
                       ("makemore", ["--steps", "20"]),
                       ("pinn_oscillator", ["--steps", "5"]),
                       ("newton_hessian", ["--iters", "3"])]:  # fmt: skip
        for backend in ("numpy", "cpp"):
            res = subprocess.run(
                [sys.executable, os.path.join(EXAMPLES, name + ".py"), "--backend", backend, *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            assert res.returncode == 0, f"{name} on {backend}:\n{res.stderr}"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("kind", ["tqdm", "plain"])
def test_fit_loops_draw_a_bar_on_a_terminal_and_print_the_same(kind, monkeypatch, capsys):
    """The bar goes to stderr only when it is a terminal; stdout is the same with or without it."""
    from tapegrad.utils import _progress

    if kind == "tqdm":
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setattr(_progress, "_tqdm", lambda: None)
    for name, kwargs, total in [("linear_fit", {"epochs": 20, "plot": False}, 20),
                                ("pinn_oscillator", {"steps": 5}, 5),
                                ("makemore", {"steps": 20}, 20)]:  # fmt: skip
        ex = _example(name)
        ex.run(**kwargs)
        plain = capsys.readouterr()
        assert plain.err == "" and "%|" not in plain.out
        term = _Terminal()
        with monkeypatch.context() as m:
            m.setattr(sys, "stderr", term)
            ex.run(**kwargs)
        assert capsys.readouterr().out == plain.out, name
        drawn = term.getvalue()
        assert "100%|" in drawn and f"| {total}/{total} [" in drawn, (name, drawn)
        assert drawn.endswith("\n"), name


# ---------------------------------------------------------------- the demo


def test_demo(capsys):
    from tapegrad.__main__ import main

    assert main(["--epochs", "30", "--time", "0.05", "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "loss (cpp)" in out and "loss (numpy)" in out
    assert "learned w =" in out and "x faster than the NumPy reference" in out


def test_demo_says_when_cpp_is_missing(monkeypatch, capsys):
    import tapegrad.__main__ as demo

    real = demo._backend.load

    def load(name):
        if name == "cpp":
            raise ImportError("tapegrad's C++ extension (tapegrad._core) could not be imported")
        return real(name)

    monkeypatch.setattr(demo._backend, "load", load)
    monkeypatch.setattr(demo.tg, "use_backend", _use_backend_via(load))
    assert demo.main(["--epochs", "10", "--time", "0.02", "--no-plot"]) == 1
    out = capsys.readouterr().out
    assert "cpp backend: NOT AVAILABLE" in out
    assert "ImportError: tapegrad's C++ extension (tapegrad._core) could not be imported" in out
    assert "loss (numpy)" in out and "loss (cpp)" not in out


def _use_backend_via(load):
    import contextlib

    real = tg.use_backend

    @contextlib.contextmanager
    def use_backend(name):
        load(name)
        with real(name) as be:
            yield be

    return use_backend


def test_python_dash_m_tapegrad():
    env = dict(os.environ, PYTHONPATH=_PKG_PARENT)
    res = subprocess.run(
        [sys.executable, "-m", "tapegrad", "--epochs", "20", "--time", "0.05", "--no-plot"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert "cpp is" in res.stdout


# ---------------------------------------------------------------- cpp and numpy side by side


def _mlp_pair(dtype, seed=0):
    models = {}
    for be in ("cpp", "numpy"):
        with tg.use_backend(be):
            tg.manual_seed(seed)
            models[be] = nn.Sequential(
                nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 1)
            ).to(dtype)
    models["cpp"].load_state_dict(models["numpy"].state_dict())  # identical start, bit for bit
    return models


@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=["float32", "float16"])
def test_backends_agree_on_a_small_mlp(dtype, opt_name):
    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(32, 4)).astype(np.float32)
    y_np = np.sin(x_np.sum(axis=1, keepdims=True)).astype(np.float32)
    models = _mlp_pair(dtype)
    runs = {}
    for be, model in models.items():
        if opt_name == "sgd":
            opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        else:
            opt = optim.Adam(model.parameters(), lr=0.01, eps=1e-4 if dtype is tg.float16 else 1e-8)
        x = tg.tensor(x_np, dtype=dtype, backend=be)
        y = tg.tensor(y_np, dtype=dtype, backend=be)
        losses = []
        for _ in range(100):
            loss = nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        runs[be] = (
            losses,
            {k: v.numpy().astype(np.float64) for k, v in model.state_dict().items()},
        )
    (lc, pc), (ln, pn) = runs["cpp"], runs["numpy"]
    assert ln[-1] < ln[0] / 2 and all(math.isfinite(v) for v in ln)
    if dtype is tg.float32:
        np.testing.assert_allclose(lc, ln, rtol=1e-4, atol=1e-6)
        for k in pc:
            np.testing.assert_allclose(pc[k], pn[k], rtol=1e-4, atol=1e-5, err_msg=k)
    else:
        # float16: one ulp of difference in a matmul can grow over 100 steps; the runs must stay
        # close, and they usually stay identical.
        np.testing.assert_allclose(lc, ln, rtol=3e-2, atol=1e-3)
        if opt_name == "adam":
            # Adam divides by sqrt(v): for weights whose gradient is at float16's noise level it
            # moves by about lr in the direction of that noise's sign, so single weights drift
            # apart by up to lr * steps. The losses above stay close; the weights are not compared.
            return
        for k in pc:
            np.testing.assert_allclose(pc[k], pn[k], rtol=3e-2, atol=1e-2, err_msg=k)


def _float16_neuron_table(backend, w0, b0, steps=100):
    with tg.use_backend(backend):
        model = nn.Linear(1, 1).half()
        with tg.no_grad():
            model.weight.copy_(tg.tensor([[w0]], dtype=tg.float16))
            model.bias.copy_(tg.tensor([b0], dtype=tg.float16))
        x = tg.tensor([1.0], dtype=tg.float16)
        y = tg.tensor([1.0], dtype=tg.float16)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    rows = []
    for _ in range(steps):
        out = model(x)
        loss = loss_fn(out, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        rows.append((out.item(), loss.item(), model.weight.item(), model.bias.item(),
                     model.weight.grad.item(), model.bias.grad.item()))  # fmt: skip
    return rows


@pytest.mark.parametrize(
    "start", [(-0.00750732421875, 0.53662109375), (0.3567, -0.2331), (-1.5, 2.0)]
)
def test_float16_linear_sgd_is_bit_identical_on_both_backends(start):
    a = _float16_neuron_table("cpp", *start)
    b = _float16_neuron_table("numpy", *start)
    for i, (ra, rb) in enumerate(zip(a, b)):
        assert ra == rb, f"step {i}: cpp {ra} != numpy {rb}"
