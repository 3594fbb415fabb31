# Activation functions and losses side by side, with their gradients.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.linspace(-3, 3, 13, requires_grad=True)
for act in [
    nn.ReLU(),
    nn.LeakyReLU(0.1),
    nn.ELU(),
    nn.GELU(),
    nn.SiLU(),
    nn.Softplus(),
    nn.Tanh(),
    nn.Sigmoid(),
    nn.ReLU6(),
    nn.Hardtanh(),
]:
    y = act(x)
    y.sum().backward()
    print(act, y, x.grad)
    x.grad = None

logits = torch.randn(8, 5, requires_grad=True)
target = torch.randint(0, 5, (8,))
for loss in [nn.CrossEntropyLoss(), nn.CrossEntropyLoss(label_smoothing=0.1), nn.NLLLoss()]:
    inp = logits if not isinstance(loss, nn.NLLLoss) else F.log_softmax(logits, dim=1)
    val = loss(inp, target)
    val.backward()
    print(type(loss).__name__, val.item(), logits.grad.sum(0))
    logits.grad = None

p = torch.rand(8, requires_grad=True)
t = (torch.rand(8) > 0.5).float()
print(F.binary_cross_entropy(p, t), F.smooth_l1_loss(p, t), F.huber_loss(p, t, delta=0.5))
print(F.mse_loss(p, t), F.l1_loss(p, t))
