# Bag-of-embeddings text classifier on a tiny built-in corpus.
import torch
import torch.nn as nn

sentences = [
    ("good great fun", 1),
    ("bad awful boring", 0),
    ("great good", 1),
    ("boring bad", 0),
    ("fun fun great", 1),
    ("awful boring bad", 0),
    ("good fun", 1),
    ("bad bad awful", 0),
]
vocab = {w: i for i, w in enumerate(sorted({w for s, _ in sentences for w in s.split()}))}
print(vocab)


class BagModel(nn.Module):
    def __init__(self, n, d):
        super().__init__()
        self.emb = nn.Embedding(n, d)
        self.out = nn.Linear(d, 2)

    def forward(self, idx):
        return self.out(self.emb(idx).mean(0, keepdim=True))


torch.manual_seed(0)
model = BagModel(len(vocab), 4)
print(model)
opt = torch.optim.AdamW(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(30):
    total = 0.0
    for s, label in sentences:
        idx = torch.tensor([vocab[w] for w in s.split()], dtype=torch.long)
        loss = loss_fn(model(idx), torch.tensor([label]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    if epoch % 5 == 0:
        print(epoch, round(total, 6))
print(model.emb.weight)
