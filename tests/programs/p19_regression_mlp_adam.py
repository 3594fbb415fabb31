# Nonlinear regression with a small MLP, Adam and a step learning-rate schedule.
import torch
import torch.nn as nn

torch.manual_seed(0)
x = torch.unsqueeze(torch.linspace(-1, 1, 200), dim=1)
y = x.pow(2) + 0.2 * torch.rand(x.size())

net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=100, gamma=0.5)
loss_func = nn.MSELoss()
for t in range(300):
    prediction = net(x)
    loss = loss_func(prediction, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    if t % 50 == 0:
        print(t, loss.item(), scheduler.get_last_lr())
print(net(torch.tensor([[0.5]])))
