"""A physics-informed network: fit u(x) to the oscillator u'' + u = 0, u(0) = 0, u'(0) = 1
(whose solution is sin x) on [0, 2], from the equation alone: no samples of sin.

u is a small tanh MLP. The loss is the mean squared residual (u'' + u)^2 over collocation
points plus the two boundary terms; u' and u'' come from two `autograd.grad(...,
create_graph=True)` calls, so the loss's own gradient (with respect to the weights) runs through
the backward of the backward. Trained with Adam; prints the loss and max |u - sin x| on a grid.

    python examples/pinn_oscillator.py [--backend {cpp,numpy}] [--steps N]
"""

import argparse
import contextlib

import tapegrad as torch
from tapegrad import nn


def derivatives(model, x):
    """u, u' and u'' at the points x (n, 1), each with history (so a loss on them trains)."""
    x = x.detach().requires_grad_(True)
    u = model(x)
    (du,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    (d2u,) = torch.autograd.grad(du.sum(), x, create_graph=True)
    return u, du, d2u


def run(steps=500, lr=0.005, n_points=32, hidden=16, seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x = torch.linspace(0, 2, n_points).reshape(-1, 1)
    x0 = torch.zeros(1, 1)
    losses = []
    # a bar on a terminal's stderr (tqdm if installed); stdout stays the same
    bar = torch.utils.progress(total=steps, desc="train", enabled=None if verbose else False)
    for step in range(steps + 1):
        u, _, d2u = derivatives(model, x)
        u0, du0, _ = derivatives(model, x0)
        loss = ((d2u + u) ** 2).mean() + (u0**2).sum() + ((du0 - 1) ** 2).sum()
        if verbose and step % max(steps // 5, 1) == 0:
            bar.write(f"step {step:4d}  loss {loss.item():.6f}")  # above the bar
        losses.append(loss.item())
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.update()
    bar.close()
    grid = torch.linspace(0, 2, 101).reshape(-1, 1)
    with torch.no_grad():
        err = (model(grid) - grid.sin()).abs().max().item()
    say(f"max |u(x) - sin(x)| on [0, 2]: {err:.4f}")
    return {"losses": losses, "max_error": err}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(steps=args.steps)


if __name__ == "__main__":
    main()
