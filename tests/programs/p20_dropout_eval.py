# Dropout, train/eval modes, weight decay and accuracy on a two-class problem.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1)
X = torch.randn(200, 5)
y = (X[:, 0] * X[:, 1] > 0).long()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 32)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(32, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.drop(x)
        return self.fc2(x)


net = Net()
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
for epoch in range(100):
    net.train()
    out = net(X)
    loss = F.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if epoch % 20 == 0:
        net.eval()
        with torch.no_grad():
            acc = (net(X).argmax(dim=1) == y).float().mean().item()
        print(f"epoch {epoch} loss {loss.item():.4f} acc {acc:.3f}")
net.eval()
print(net(X[:3]))
print(F.softmax(net(X[:3]), dim=1))
