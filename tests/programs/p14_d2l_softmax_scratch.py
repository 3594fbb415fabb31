# Softmax regression from scratch (d2l style) on synthetic 4-class data.
import torch

torch.manual_seed(0)
num_inputs, num_outputs = 8, 4
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)

X_prob = torch.normal(0, 1, (2, 5))
X_prob = X_prob.exp()
partition = X_prob.sum(1, keepdim=True)
print(X_prob / partition, (X_prob / partition).sum(1))


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


true_W = torch.randn(num_inputs, num_outputs)
X = torch.randn(256, num_inputs)
y = torch.matmul(X, true_W).argmax(dim=1)
print(y[:10], y.dtype)

lr = 0.1
for epoch in range(10):
    for i in range(0, 256, 32):
        Xb, yb = X[i : i + 32], y[i : i + 32]
        l = cross_entropy(net(Xb), yb)
        l.mean().backward()
        with torch.no_grad():
            W -= lr * W.grad
            b -= lr * b.grad
            W.grad.zero_()
            b.grad.zero_()
    with torch.no_grad():
        print(epoch + 1, cross_entropy(net(X), y).mean().item(), accuracy(net(X), y) / len(y))
