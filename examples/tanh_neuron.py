"""One tanh neuron by hand, then a tiny tanh MLP: the micrograd-style tutorial.

Part 1 builds f(x) = w1*x1 + w2*x2 + b and Y = tanh(f) from tensors (x1 = 7, x2 = 3, random
w1, w2, b in [0, 1)), runs backward and checks the gradients against the chain rule by hand:
dY/dw1 = (1 - Y**2) * x1, and so on. (The tutorial's hand-written tanh,
(e^2x + 1) / (e^2x - 1), is actually coth; tensors' .tanh() is the real thing.)

Part 2 trains the tutorial's nn.Sequential(Linear, Linear, Tanh) shape, made a real MLP with a
tanh between the layers, on micrograd's four-example data set with SGD.

    python examples/tanh_neuron.py [--backend {cpp,numpy}] [--steps N]
"""

import argparse
import contextlib
import math
import random

import tapegrad as torch
import tapegrad.nn as nn


def neuron(seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    rnd = random.Random(seed)
    x1, x2 = torch.tensor(7.0), torch.tensor(3.0)
    w1, w2, b = (torch.tensor(rnd.uniform(0, 1), requires_grad=True) for _ in range(3))
    fx = x1 * w1 + x2 * w2 + b
    Y = fx.tanh()
    Y.backward()
    say(f"f(x) = {fx.item():.4f}   Y = tanh(f(x)) = {Y.item():.6f}")
    dY = 1 - Y.item() ** 2  # tanh'(f) = 1 - tanh(f)**2
    by_hand = {"w1": dY * 7.0, "w2": dY * 3.0, "b": dY}
    grads = {"w1": w1.grad.item(), "w2": w2.grad.item(), "b": b.grad.item()}
    for k in grads:
        say(f"dY/d{k}: autograd {grads[k]:.6e}   by hand {by_hand[k]:.6e}")
    return {"Y": Y.item(), "f": fx.item(), "grads": grads, "by_hand": by_hand,
            "expected_Y": math.tanh(fx.item())}  # fmt: skip


def mlp(steps=60, lr=0.1, seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    n_input, n_hidden, n_out = 3, 4, 1
    model = nn.Sequential(
        nn.Linear(n_input, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out), nn.Tanh()
    )
    say(model)
    xs = torch.tensor([[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]])
    ys = torch.tensor([[1.0], [-1.0], [-1.0], [1.0]])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        loss = nn.functional.mse_loss(model(xs), ys, reduction="sum")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 10 == 0 or step == steps - 1:
            say(f"step {step:3d}  loss {loss:.4f}")
    preds = [round(v[0], 3) for v in model(xs).tolist()]
    say(f"predictions {preds}  targets {[v[0] for v in ys.tolist()]}")
    return {"losses": losses, "predictions": preds}


def run(steps=60, verbose=True):
    return {"neuron": neuron(verbose=verbose), "mlp": mlp(steps=steps, verbose=verbose)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(steps=args.steps)


if __name__ == "__main__":
    main()
