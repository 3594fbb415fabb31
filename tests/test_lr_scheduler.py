"""tapegrad.optim.lr_scheduler: PyTorch's learning rates to the bit (recorded from PyTorch 2.13 in
tests/golden/torch_lr_schedules.json), its warnings and state, and compiled steps that follow a
schedule exactly as eager ones do."""

import json
import os
import warnings

import numpy as np
import pytest
import tapegrad as tg
from lr_cases import CASES, run
from tapegrad import nn, optim
from tapegrad.optim import lr_scheduler as S

GOLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "torch_lr_schedules.json")
with open(GOLD) as _f:
    WANT = json.load(_f)["cases"]


@pytest.mark.parametrize("name", CASES)
def test_schedule_matches_pytorch_bit_for_bit(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = [repr(v) for v in run(tg, name)]
    assert got == WANT[name]


def _opt(lr=0.1):
    return optim.SGD([tg.zeros(2, requires_grad=True)], lr=lr)


def test_stepping_the_scheduler_first_warns():
    opt = _opt()
    sched = S.StepLR(opt, 2)
    with pytest.warns(UserWarning, match=r"before `optimizer.step\(\)`"):
        sched.step()


def test_stepping_in_order_does_not_warn():
    opt = _opt()
    sched = S.ExponentialLR(opt, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.05]
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_epoch_argument_uses_the_closed_form_and_warns():
    opt = _opt()
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    opt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    assert opt.param_groups[0]["lr"] == 0.1 * 0.5**2


def test_state_dict_round_trip():
    opt = _opt()
    sched = S.MultiStepLR(opt, [2, 4], gamma=0.1)
    opt.step()
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    assert "optimizer" not in state and state["last_epoch"] == 3
    other = S.MultiStepLR(_opt(), [9], gamma=0.5)
    other.load_state_dict(state)
    assert other.last_epoch == 3 and other.milestones == sched.milestones


def test_bad_arguments_raise_pytorch_errors():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], 2)
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        S.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        S.ReduceLROnPlateau(_opt(), mode="avg")
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        S.LambdaLR(_opt(), [lambda e: 1, lambda e: 2])
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_opt(), 2, last_epoch=3)


def _train(kind, compiled, x, y):
    """12 SGD steps under a schedule; the losses."""
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    if kind == "step":
        sched = S.StepLR(opt, step_size=3, gamma=0.5)
    elif kind == "cosine":
        sched = S.CosineAnnealingLR(opt, T_max=5)
    else:
        sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=1)

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = tg.compile(step) if compiled else step
    out = []
    for _ in range(12):
        loss = fn().item()
        out.append(loss)
        sched.step(loss) if kind == "plateau" else sched.step()
    return out


@pytest.mark.parametrize("kind", ["step", "cosine", "plateau"])
def test_compiled_steps_follow_the_schedule_like_eager(kind):
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((16, 4)), dtype=tg.float32)
    y = tg.tensor(rng.standard_normal((16, 1)), dtype=tg.float32)
    with tg.use_backend("cpp"):
        eager, compiled = _train(kind, False, x, y), _train(kind, True, x, y)
    assert compiled == eager
    assert len(set(eager)) >= 10  # the schedule did change the steps
