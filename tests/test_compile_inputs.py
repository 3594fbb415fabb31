"""tg.compile's tensor inputs: a replay reads each call's data (in place where the step only
reads it and the caller's tensor is dense and aligned, else from a copy), and a step that
writes its input in place leaves the caller's tensor as a copy would."""

import gc

import numpy as np
import tapegrad as tg
from tapegrad import nn


def _batches(n, shape, seed=0):
    rng = np.random.default_rng(seed)
    return [tg.tensor(rng.standard_normal(shape).astype(np.float32)) for _ in range(n)]


def _losses(compiled, batches, reshape):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(48, 40), nn.ReLU(), nn.Linear(40, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        h = x.view(-1, 48) if reshape else x  # a view of the input made inside the step
        loss = model(h).square().mean()
        loss.backward()
        opt.step()
        return loss

    fn = tg.compile(step) if compiled else step
    out = [fn(x).item() for x in batches]
    return out, [p.detach().clone() for p in model.parameters()]


def test_replays_read_each_calls_data_bit_for_bit():
    for reshape, shape in ((False, (32, 48)), (True, (32, 6, 8))):
        batches = _batches(5, shape)
        eager, pe = _losses(False, batches, reshape)
        compiled, pc = _losses(True, batches, reshape)
        assert eager == compiled
        for a, b in zip(pe, pc):
            assert np.array_equal(a.numpy().view(np.uint32), b.numpy().view(np.uint32))


def test_inputs_that_cannot_be_read_in_place():
    # a strided view, an offset view (not 64-byte aligned), and a float64 tensor of the step's
    # dtype made from another: each is copied, with the same results as eager
    base = _batches(4, (64, 96))
    views = [b[::2, :48] for b in base]  # strided rows
    offset = [b.reshape(-1)[1 : 1 + 32 * 48].view(32, 48) for b in base]
    for batches in (views, offset):
        eager, _ = _losses(False, batches, False)
        compiled, _ = _losses(True, batches, False)
        assert eager == compiled


def test_the_callers_tensor_is_read_after_the_previous_one_is_freed():
    batches = _batches(3, (32, 48))
    eager, _ = _losses(False, batches, False)
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(48, 40), nn.ReLU(), nn.Linear(40, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)

    @tg.compile
    def step(x):
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss

    got = []
    for b in batches:
        x = b.clone()
        got.append(step(x).item())
        del x  # the replay handed the caller's storage back: freeing it is safe
        gc.collect()
    assert got == eager


def test_a_step_that_writes_its_input_leaves_the_callers_tensor_alone():
    w = tg.ones(16, requires_grad=True)

    @tg.compile
    def step(x):
        x.mul_(2.0)  # in place on the input: tg.compile documents that it works on a copy
        return (x * w).sum()

    x = tg.arange(16, dtype=tg.float32)
    before = x.clone()
    results = [step(x).item() for _ in range(3)]
    assert results == [2.0 * float(before.sum().item())] * 3
    assert np.array_equal(x.numpy(), before.numpy())
