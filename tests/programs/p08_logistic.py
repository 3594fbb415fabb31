# Logistic regression on two Gaussian blobs with BCEWithLogitsLoss and Adam.
import torch
import torch.nn as nn

torch.manual_seed(0)
n = 100
x0 = torch.randn(n, 2) + torch.tensor([2.0, 2.0])
x1 = torch.randn(n, 2) + torch.tensor([-2.0, -2.0])
X = torch.cat([x0, x1], 0)
y = torch.cat([torch.zeros(n), torch.ones(n)]).unsqueeze(1)
print(X.shape, y.shape)

model = nn.Linear(2, 1)
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
for epoch in range(200):
    logits = model(X)
    loss = criterion(logits, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 20 == 0:
        acc = ((logits > 0).float() == y).float().mean()
        print(f"epoch {epoch + 1:3d} loss {loss.item():.6f} acc {acc.item():.3f}")

probs = torch.sigmoid(model(X[:5]))
print(probs)
print(model.weight.data, model.bias.data)
