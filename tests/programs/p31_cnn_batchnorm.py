# A small CNN with BatchNorm, Dropout2d and global average pooling, trained on random "images"
# (the nn_tutorial's Mnist_CNN shape), then evaluated: running statistics, train/eval, state_dict.
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.randn(32, 1, 16, 16)
y = (x.mean((1, 2, 3)) > 0).long()


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding="same")
        self.bn2 = nn.BatchNorm2d(16)
        self.drop = nn.Dropout2d(0.25)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 2)

    def forward(self, xb):
        xb = F.relu(self.bn1(self.conv1(xb)))
        xb = F.avg_pool2d(xb, 2)
        xb = self.drop(F.relu(self.bn2(self.conv2(xb))))
        xb = self.pool(xb)
        return self.fc(xb.view(xb.size(0), -1))


model = SmallCNN()
print(model)
print(sorted(model.state_dict().keys()))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
for epoch in range(15):
    model.train()
    for i in range(0, 32, 8):
        loss = F.cross_entropy(model(x[i : i + 8]), y[i : i + 8])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean()
    print(epoch, f"{loss.item():.4f}", f"{acc.item():.3f}")
print(model.bn1.running_mean)
print(model.bn1.running_var)
print(model.bn1.num_batches_tracked)
out, idx = F.max_pool2d(x[:1], 4, return_indices=True)
print(out.shape, idx.dtype, idx[0, 0, 0])
