# A WGAN-GP critic on 2-D toy data: the gradient penalty needs the gradient of the critic with
# respect to its input, kept differentiable with create_graph=True, then trained through.
import torch
import torch.nn as nn

torch.manual_seed(0)
critic = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                       nn.Linear(32, 1))  # fmt: skip
opt = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))


def real_batch(n):
    angle = torch.rand(n) * 6.2831853
    return torch.stack([angle.cos(), angle.sin()], dim=1) * 2.0


def fake_batch(n):
    return torch.randn(n, 2) * 0.5


def gradient_penalty(critic, real, fake):
    alpha = torch.rand(real.size(0), 1)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    scores = critic(mixed)
    grads = torch.autograd.grad(outputs=scores, inputs=mixed,
                                grad_outputs=torch.ones_like(scores),
                                create_graph=True, retain_graph=True)[0]  # fmt: skip
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


for step in range(201):
    real, fake = real_batch(64), fake_batch(64)
    w_dist = critic(real).mean() - critic(fake).mean()
    gp = gradient_penalty(critic, real, fake)
    loss = -w_dist + 10 * gp
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 40 == 0:
        print(f"step {step:3d}  W {w_dist.item():.5f}  GP {gp.item():.5f}  loss {loss.item():.5f}")

x = torch.tensor([[0.5, -1.0]], requires_grad=True)
(g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
print("critic gradient at (0.5, -1):", g.detach().numpy().round(5).tolist())
(h,) = torch.autograd.grad(g[0, 0], x)
print("d/dx of its first component:", h.numpy().round(5).tolist())
