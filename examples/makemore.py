"""Names, one character at a time: a bigram table, then an MLP, in the style of makemore.

The word list is built in (59 common first names), so nothing is downloaded. Part 1 counts
character pairs into an int32 table, turns it into probabilities, samples names with
`multinomial` from a seeded `Generator`, and measures the average negative log-likelihood. Part
2 trains an MLP on 3-character contexts: an embedding table `C[X]`, a tanh layer, `F.cross_entropy`
on random minibatches drawn with `randint`, plain SGD on `p.data`, and samples names from it.

Stated result: the MLP's loss on the whole word list ends below the bigram table's NLL (about
2.5 on this list, 2.45 on makemore's 32k names) after the default 2,000 steps, on both backends.

    python examples/makemore.py [--backend {cpp,numpy}] [--steps N]
"""

import argparse

import tapegrad as tg
import tapegrad.nn.functional as F
from tapegrad.utils import progress

WORDS = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily
elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace chloe penelope
layla riley zoey nora lily eleanor hannah lillian addison aubrey ellie stella natalie zoe leah
hazel violet aurora savannah audrey brooklyn bella claire skylar lucy paisley everly anna
caroline nova genesis emilia kennedy""".split()


def vocabulary(words):
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    return stoi, {i: s for s, i in stoi.items()}


def bigram(words, stoi, itos, say, samples=5):
    V = len(stoi)
    N = tg.zeros((V, V), dtype=tg.int32)
    for w in words:
        chs = ["."] + list(w) + ["."]
        for a, b in zip(chs, chs[1:]):
            N[stoi[a], stoi[b]] += 1
    P = (N + 1).float()  # add-one smoothing: no pair has probability 0
    P /= P.sum(1, keepdim=True)
    g = tg.Generator().manual_seed(2147483647)
    for _ in range(samples):
        out, ix = [], 0
        while True:
            ix = tg.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        say("  " + "".join(out))
    nll, n = 0.0, 0
    for w in words:
        chs = ["."] + list(w) + ["."]
        for a, b in zip(chs, chs[1:]):
            nll -= tg.log(P[stoi[a], stoi[b]]).item()
            n += 1
    return nll / n


def dataset(words, stoi, block):
    X, Y = [], []
    for w in words:
        context = [0] * block
        for ch in w + ".":
            X.append(context)
            Y.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return tg.tensor(X), tg.tensor(Y)


def mlp(words, stoi, itos, say, steps=2000, block=3, emb=10, hidden=100, samples=5, verbose=True):
    V = len(stoi)
    X, Y = dataset(words, stoi, block)
    g = tg.Generator().manual_seed(2147483647)
    C = tg.randn((V, emb), generator=g)
    W1 = tg.randn((block * emb, hidden), generator=g) * (5 / 3) / (block * emb) ** 0.5
    b1 = tg.randn(hidden, generator=g) * 0.01
    W2 = tg.randn((hidden, V), generator=g) * 0.01
    b2 = tg.zeros(V)
    params = [C, W1, b1, W2, b2]
    for p in params:
        p.requires_grad = True
    say(f"MLP: {sum(p.nelement() for p in params)} parameters, {len(X)} examples")

    def forward(xb):
        h = tg.tanh(C[xb].view(-1, block * emb) @ W1 + b1)
        return h @ W2 + b2

    # a bar on a terminal's stderr (tqdm if installed); stdout stays the same
    bar = progress(range(steps), desc="train", enabled=None if verbose else False)
    for i in bar:
        ix = tg.randint(0, X.shape[0], (32,), generator=g)
        loss = F.cross_entropy(forward(X[ix]), Y[ix])
        for p in params:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps * 3 // 4 else 0.01
        for p in params:
            p.data += -lr * p.grad
        if verbose and i % max(1, steps // 5) == 0:
            bar.write(f"  step {i:5d}  minibatch loss {loss.item():.4f}")  # above the bar
    with tg.no_grad():
        full = F.cross_entropy(forward(X), Y).item()
        for _ in range(samples):
            out, context = [], [0] * block
            while True:
                probs = F.softmax(forward(tg.tensor([context])), dim=1)
                ix = tg.multinomial(probs, num_samples=1, generator=g).item()
                context = context[1:] + [ix]
                out.append(itos[ix])
                if ix == 0 or len(out) > 20:
                    break
            say("  " + "".join(out))
    return full


def run(steps=2000, verbose=True):
    say = print if verbose else (lambda *a, **k: None)
    stoi, itos = vocabulary(WORDS)
    say(f"{len(WORDS)} words, {len(stoi)} characters\nbigram table, samples:")
    bigram_nll = bigram(WORDS, stoi, itos, say)
    say(f"bigram: average negative log-likelihood {bigram_nll:.4f}\nMLP:")
    mlp_loss = mlp(WORDS, stoi, itos, say, steps=steps, verbose=verbose)
    say(f"MLP: loss on the whole list {mlp_loss:.4f} (bigram {bigram_nll:.4f})")
    return {"bigram_nll": bigram_nll, "mlp_loss": mlp_loss}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["cpp", "numpy"], default="cpp")
    ap.add_argument("--steps", type=int, default=2000)
    args = ap.parse_args()
    with tg.use_backend(args.backend):
        run(steps=args.steps)


if __name__ == "__main__":
    main()
