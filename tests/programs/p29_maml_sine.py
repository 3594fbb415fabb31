# MAML on sine regression (Finn et al.): a gradient step taken with create_graph=True inside
# the loop, so the meta-gradient flows through the inner update.

import torch

F = torch.nn.functional
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Linear(1, 40),
    torch.nn.ReLU(),
    torch.nn.Linear(40, 40),
    torch.nn.ReLU(),
    torch.nn.Linear(40, 1),
)
meta = torch.optim.Adam(net.parameters(), lr=1e-3)


def fwd(x, params):
    h = F.relu(F.linear(x, params[0], params[1]))
    h = F.relu(F.linear(h, params[2], params[3]))
    return F.linear(h, params[4], params[5])


for it in range(30):
    meta.zero_grad()
    total = 0.0
    for task in range(4):
        amp = 0.5 + 0.5 * task
        xs = torch.rand(10, 1) * 10 - 5
        ys = amp * torch.sin(xs)
        params = list(net.parameters())
        loss = F.mse_loss(fwd(xs, params), ys)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        fast = [p - 0.01 * g for p, g in zip(params, grads)]
        xq = torch.rand(10, 1) * 10 - 5
        qloss = F.mse_loss(fwd(xq, fast), amp * torch.sin(xq))
        qloss.backward()
        total += qloss.item()
    meta.step()
    if it % 10 == 9:
        print(it, round(total / 4, 6))
