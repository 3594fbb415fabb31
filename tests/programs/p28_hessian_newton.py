# Second derivatives from torch.autograd.functional: a Hessian, Hessian-vector products, and
# Newton's method on a small logistic regression.
import numpy as np
import torch
from torch.autograd.functional import hessian, hvp, jacobian, vhp

torch.manual_seed(0)


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


p = torch.tensor([-1.2, 1.0], dtype=torch.float64)
print("hessian at (-1.2, 1):", hessian(rosenbrock, p).tolist())
print("jacobian of its gradient:",
      jacobian(lambda q: torch.autograd.grad(rosenbrock(q), q, create_graph=True)[0],
               p.clone().requires_grad_(True)).tolist())  # fmt: skip
v = torch.tensor([1.0, -2.0], dtype=torch.float64)
print("hvp:", hvp(rosenbrock, p, v)[1].tolist(), " vhp:", vhp(rosenbrock, p, v)[1].tolist())

X = torch.randn(100, 3)
w_true = torch.tensor([1.5, -2.0, 0.5])
y = (torch.sigmoid(X @ w_true) > torch.rand(100)).float()


def nll(w):
    z = X @ w
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y) + 0.01 * (w * w).sum()


w = torch.zeros(3, dtype=torch.float64)
X, y = X.double(), y.double()
for it in range(6):
    g = torch.autograd.grad(nll(w.requires_grad_(True)), w)[0]
    H = hessian(nll, w.detach())
    step = torch.from_numpy(np.linalg.solve(H.numpy(), g.numpy()))  # a 3 x 3 system
    w = (w - step).detach()
    print(f"newton {it}: loss {nll(w).item():.8f}  |grad| {g.norm().item():.3e}")
print("weights:", [round(v, 6) for v in w.tolist()])
