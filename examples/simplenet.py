"""SimpleNet(10, 1) with a ReLU, trained on batches of 64: the "simple neural network" tutorial.

One forward/backward/step on a single input first, then 10 epochs on a batch of 64 random inputs
and targets with MSE and SGD(lr=0.01), printing the loss every 2nd epoch.

    python examples/simplenet.py [--backend {cpp,numpy}] [--epochs N]
"""

import argparse
import contextlib

import tapegrad as torch
import tapegrad.nn as nn


class SimpleNet(nn.Module):
    def __init__(self, input_size, output_size):
        super().__init__()
        self.layer1 = nn.Linear(input_size, output_size)

    def forward(self, x):
        x = self.layer1(x)
        x = torch.relu(x)
        return x


def run(epochs=10, seed=0, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    torch.manual_seed(seed)
    net = SimpleNet(10, 1)
    say(net)

    # One example: forward, loss, backward, step.
    input_data = torch.randn(10)
    output_data = net(input_data)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    target_data = torch.randn(1)
    loss = criterion(output_data, target_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    say(f"single example: output {output_data.item():.4f} target {target_data.item():.4f} "
        f"loss {loss.item():.4f}")  # fmt: skip

    # Batches of 64.
    input_batch = torch.randn(64, 10)
    target_batch = torch.randn(64, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
    losses = []
    for epoch in range(epochs):
        output_batch = net(input_batch)
        loss = criterion(output_batch, target_batch)
        losses.append(loss.item())
        if epoch % 2 == 0:
            say(f"Epoch: {epoch} Loss: {loss.item()}")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"losses": losses}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default=None)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args(argv)
    ctx = torch.use_backend(args.backend) if args.backend else contextlib.nullcontext()
    with ctx:
        return run(epochs=args.epochs)


if __name__ == "__main__":
    main()
