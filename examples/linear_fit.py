"""Linear regression with one neuron: the "Data Flow Inside a Neural Network Model" tutorial.

y = 2x + 1 + noise, fitted by nn.Linear(1, 1) with MSE and SGD (lr 1e-4, 100 epochs, as in the
tutorial). Prints the parameters, the loss every 10th epoch and the learned line; saves the loss
curve and the fit as PNGs in examples/out/ when matplotlib is installed.

    python examples/linear_fit.py [--backend {cpp,numpy}] [--epochs N] [--no-plot]
"""

import argparse
import contextlib
import os

import tapegrad as torch
import tapegrad.nn as nn
import tapegrad.optim as optim

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


class LinearRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def run(epochs=100, lr=1e-4, seed=0, plot=True, out_dir=OUT_DIR, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    model = LinearRegression()
    for name, param in model.named_parameters():
        say(name, param.item())

    simple_list = torch.linspace(0, 50, 50).view(-1, 1)
    noise = torch.randn(simple_list.shape) * 5
    desired = 2 * simple_list + 1 + noise  # a line with some noise

    criterion = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=lr)
    losses = []
    # a bar on a terminal's stderr (tqdm if installed); stdout stays the same
    bar = torch.utils.progress(range(1, epochs + 1), desc="fit", enabled=None if verbose else False)
    for i in bar:
        predicted = model(simple_list)
        loss = criterion(predicted, desired)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if verbose and i % 10 == 0:
            bar.write(  # above the bar
                f"epoch {i:4d}  loss: {loss.item():10.4f}  "
                f"weight: {model.linear.weight.item():.4f}  bias: {model.linear.bias.item():.4f}"
            )
    w, b = model.linear.weight.item(), model.linear.bias.item()
    say(f"learned y = {w:.4f} x + {b:.4f}   (data: y = 2 x + 1 + noise)")

    saved = []
    if plot:
        plt = _pyplot()
        if plt is None:
            say(
                "note: matplotlib is not installed, so no plots were saved (pip install matplotlib)"
            )
        else:
            os.makedirs(out_dir, exist_ok=True)
            predicted = model(simple_list)
            fig, ax = plt.subplots()
            ax.plot(range(1, epochs + 1), losses)
            ax.set_xlabel("Epoch")
            ax.set_ylabel("Loss")
            saved.append(os.path.join(out_dir, "linear_fit_loss.png"))
            fig.savefig(saved[-1])
            plt.close(fig)
            fig, ax = plt.subplots()
            ax.scatter(simple_list, desired, s=10)  # tensors go straight into matplotlib
            ax.plot(simple_list, predicted.data, "r")
            ax.set_xlabel("x input")
            ax.set_ylabel("y output")
            saved.append(os.path.join(out_dir, "linear_fit.png"))
            fig.savefig(saved[-1])
            plt.close(fig)
            say("saved " + " and ".join(saved))
    return {"losses": losses, "weight": w, "bias": b, "plots": saved}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(epochs=args.epochs, plot=not args.no_plot)


if __name__ == "__main__":
    main()
