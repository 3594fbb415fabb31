"""Progress bars: the plain writer (tqdm absent), tqdm when installed, and `step.run(progress=)`
giving the same losses with and without a bar."""

import builtins
import io
import sys

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim
from tapegrad.utils import _progress


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def no_tqdm(monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == "tqdm" or name.startswith("tqdm."):
            raise ImportError("no tqdm here")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.delitem(sys.modules, "tqdm", raising=False)


def test_plain_bar_draws_and_ends_with_a_newline(no_tqdm, monkeypatch):
    monkeypatch.setattr(_progress, "_MIN_INTERVAL", 0.0)
    out = _Tty()
    items = list(_progress.progress(range(5), desc="fit", file=out))
    assert items == [0, 1, 2, 3, 4]
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("fit: 100%|" + "#" * 24 + "| 5/5 [")
    assert "it/s]" in last


def test_plain_bar_redraws_at_most_ten_times_a_second(no_tqdm):
    out = _Tty()
    bar = _progress.progress(total=10_000, file=out, unit="step")
    assert isinstance(bar, _progress.PlainBar)
    for _ in range(10_000):
        bar.update(1)
    bar.close()
    assert out.getvalue().count("\r") <= 3  # the loop takes far less than 0.2 s
    assert "10000/10000" in out.getvalue()


def test_off_unless_a_terminal_or_forced(no_tqdm):
    plain = io.StringIO()
    for _ in _progress.progress(range(3), file=plain):
        pass
    assert plain.getvalue() == ""  # not a terminal: nothing
    for _ in _progress.progress(range(3), file=plain, enabled=True):
        pass
    assert "3/3" in plain.getvalue() and plain.getvalue().endswith("\n")
    tty = _Tty()
    with _progress.progress(total=3, file=tty, enabled=False) as bar:
        bar.update(3)
    assert tty.getvalue() == ""
    assert _progress.wanted(None, tty) and not _progress.wanted(None, plain)


def test_plain_bar_without_total_and_with_postfix(no_tqdm):
    out = io.StringIO()
    bar = _progress.progress(iter([1, 2]), enabled=True, file=out, desc="epoch")
    for _ in bar:
        bar.set_postfix_str("loss=0.5000")
    text = out.getvalue()
    assert "epoch: 2 it [" in text and text.rstrip().endswith("loss=0.5000")


def test_tqdm_when_installed():
    tqdm = pytest.importorskip("tqdm")
    out = io.StringIO()
    bar = _progress.progress(range(4), desc="fit", enabled=True, file=out)
    assert isinstance(bar, tqdm.tqdm)
    assert list(bar) == [0, 1, 2, 3]
    assert "4/4" in out.getvalue()
    quiet = _progress.progress(range(4), file=io.StringIO())
    assert quiet.disable


def _model_and_step():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()

    @tg.compile
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_step_run_with_a_bar_gives_the_same_losses(backend, no_tqdm, monkeypatch):
    err = _Tty()
    monkeypatch.setattr(sys, "stderr", err)
    with tg.use_backend(backend):
        x = tg.tensor(np.linspace(-1, 1, 30, dtype=np.float32).reshape(10, 3))
        y = tg.tensor(np.linspace(0, 1, 10, dtype=np.float32).reshape(10, 1))
        runs = []
        for progress in (False, True):
            model, step = _model_and_step()
            runs.append((step.run(40, x, y, progress=progress), model[0].weight.detach().numpy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][0][-1] < runs[0][0][0]
    text = err.getvalue()
    assert text.count("\n") == 1 and "40/40" in text and "step/s" in text


def test_step_run_is_quiet_by_default_off_a_terminal(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    _, step = _model_and_step()
    x, y = tg.ones(4, 3), tg.zeros(4, 1)
    assert len(step.run(5, x, y)) == 5
    assert err.getvalue() == ""
