# Weight initialisation with nn.init and networks built from ModuleList.
import torch
import torch.nn as nn

torch.manual_seed(0)


class Deep(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


net = Deep([4, 16, 16, 3])
print(net)
print(net.layers[0].weight)
w = torch.empty(3, 5)
nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
print(w)
nn.init.normal_(w, mean=0.0, std=0.02)
print(w)
nn.init.uniform_(w, -0.1, 0.1)
print(w)
nn.init.constant_(w, 0.3)
print(w)
nn.init.trunc_normal_(w, std=0.5)
print(w)
print(nn.init.calculate_gain("tanh"))
x = torch.randn(5, 4)
print(net(x))
opt = torch.optim.Adagrad(net.parameters(), lr=0.1)
for _ in range(10):
    loss = net(x).pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
print(loss.item())
