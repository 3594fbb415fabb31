# Saving and loading a model's state_dict and an optimizer's, then training on.
import io

import torch
import torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
X = torch.randn(64, 3)
y = X.sum(1, keepdim=True)
for _ in range(20):
    loss = nn.functional.mse_loss(model(X), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
print(loss.item())

buf = io.BytesIO()
torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buf)
buf.seek(0)
ckpt = torch.load(buf)
model2 = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))
model2.load_state_dict(ckpt["model"])
opt2 = torch.optim.Adam(model2.parameters(), lr=0.01)
opt2.load_state_dict(ckpt["opt"])
print(list(ckpt["model"].keys()))
print(ckpt["opt"]["param_groups"][0]["lr"], sorted(ckpt["opt"]["state"][0].keys()))
for _ in range(20):
    for m, o in ((model, opt), (model2, opt2)):
        loss = nn.functional.mse_loss(m(X), y)
        o.zero_grad()
        loss.backward()
        o.step()
print(loss.item(), torch.equal(model[0].weight, model2[0].weight))
