# Looking inside a model: autograd.grad, tensor hooks, retain_grad and module hooks.
import torch
from torch import nn

torch.manual_seed(1)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
x = torch.randn(16, 4)
target = torch.randint(0, 3, (16,))

activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()

    return hook


handles = [m.register_forward_hook(save_activation(f"layer{i}")) for i, m in enumerate(model)]
grad_norms = []
model[2].register_full_backward_hook(lambda m, gi, go: grad_norms.append(go[0].abs().sum()))
logits = model(x)
for name, act in activations.items():
    print(name, tuple(act.shape), act.mean().item())
loss = nn.functional.cross_entropy(logits, target)
print("loss", loss.item())

logits.retain_grad()
h = model[0].weight.register_hook(lambda g: g * 0.5)
loss.backward()
print("logits.grad", logits.grad[:2])
print("w0.grad (halved)", model[0].weight.grad[0])
print("grad_output abs sum", grad_norms[0].item())
h.remove()
for handle in handles:
    handle.remove()

# the gradient of the loss with respect to the input, without touching .grad
xr = x.clone().requires_grad_(True)
(gx,) = torch.autograd.grad(nn.functional.cross_entropy(model(xr), target), xr)
print("input gradient", gx[0], xr.grad)

# one SGD step from autograd.grad's results
params = list(model.parameters())
grads = torch.autograd.grad(nn.functional.cross_entropy(model(x), target), params)
with torch.no_grad():
    for p, g in zip(params, grads):
        p -= 0.1 * g
print("after step", nn.functional.cross_entropy(model(x), target).item())
