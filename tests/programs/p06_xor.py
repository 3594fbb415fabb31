# XOR with a two-layer network, sigmoid output and binary cross-entropy.
import torch
import torch.nn as nn

torch.manual_seed(42)
X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])


class XOR(nn.Module):
    def __init__(self):
        super(XOR, self).__init__()
        self.lin1 = nn.Linear(2, 4)
        self.lin2 = nn.Linear(4, 1)

    def forward(self, x):
        x = torch.sigmoid(self.lin1(x))
        return torch.sigmoid(self.lin2(x))


model = XOR()
loss_func = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
for epoch in range(2001):
    optimizer.zero_grad()
    y_hat = model(X)
    loss = loss_func(y_hat, Y)
    loss.backward()
    optimizer.step()
    if epoch % 250 == 0:
        print("Epoch: {0}, Loss: {1}".format(epoch, loss.data.numpy()))

with torch.no_grad():
    out = model(X)
print(out)
print((out > 0.5).float())
print(torch.round(out))
