"""Op cases of the nnloss slice: softmax, log_softmax, nll_loss (and its 2-D form, through
cross_entropy's N-d inputs) and embedding, each as the public call and the reference kernel
call it amounts to (see oracle.Case)."""

import numpy as np
import tapegrad as tg
import tapegrad.nn.functional as F
from oracle import Case, fixed

CASES = []


def _on(x, arr):
    return tg.tensor(arr, backend=x.backend)


for name in ("softmax", "log_softmax"):
    for shape, dim in (((3, 7), -1), ((4, 5, 6), 1), ((33,), 0), ((2, 17, 3), 0), ((5, 40), 1)):
        d = dim % len(shape)
        CASES.append(
            Case(f"{name}{shape}dim={dim}", (name,),
                 lambda x, name=name, dim=dim: getattr(tg, name)(x, dim), (shape,),
                 (name, {"dim": d}), k=shape[d])
        )  # fmt: skip
    CASES.append(
        Case(f"F.{name}(4x9)", (name,), lambda x, name=name: getattr(F, name)(x, dim=1),
             ((4, 9),), (name, {"dim": 1}), k=9)
    )  # fmt: skip

TARGETS = np.array([1, 0, 4, 4, 2, 3, 1], np.int64)
TARGETS_2D = np.array([[[0, 2], [1, 1]], [[2, 0], [0, 1]]], np.int64)
WEIGHT = np.array([0.5, 1.0, 2.0, 1.5, 0.25])


def _nll_case(reduction, weighted, ignore):
    def fn(x):
        w = _on(x, WEIGHT.astype(x.dtype.np)) if weighted else None
        return F.nll_loss(x, _on(x, TARGETS), w, ignore_index=ignore, reduction=reduction)

    def ref(T, x):
        w = fixed(WEIGHT) if weighted else None
        return T("nll_loss", x, fixed(TARGETS), w, reduction=reduction, ignore_index=ignore)

    tag = f"nll_loss/{reduction}/w={int(weighted)}/ignore={ignore}"
    CASES.append(Case(tag, ("nll_loss",), fn, ((7, 5),), ref))


for reduction in ("mean", "sum", "none"):
    for weighted in (False, True):
        _nll_case(reduction, weighted, -100)
    _nll_case(reduction, False, 4)


def _ce2d(reduction):
    def fn(x):
        return F.cross_entropy(x, _on(x, TARGETS_2D), reduction=reduction)

    def ref(T, x):
        lsm = T("log_softmax", x, dim=1)
        return T("nll_loss2d", lsm, fixed(TARGETS_2D), None, reduction=reduction,
                 ignore_index=-100)  # fmt: skip

    CASES.append(Case(f"cross_entropy(2x3x2x2)/{reduction}", ("log_softmax", "nll_loss2d"), fn,
                      ((2, 3, 2, 2),), ref))  # fmt: skip


for reduction in ("mean", "sum", "none"):
    _ce2d(reduction)

IDX = np.array([[0, 3, 3], [5, 1, 0]], np.int64)
for pad in (None,):  # (the padding row takes no gradient, so finite differences disagree)

    def _emb(w, pad=pad):
        return F.embedding(_on(w, IDX), w, padding_idx=pad)

    def _emb_ref(T, w, pad=pad):
        return T("embedding", w, fixed(IDX), padding_idx=-1 if pad is None else pad)

    CASES.append(Case(f"embedding(6x4)/pad={pad}", ("embedding",), _emb, ((6, 4),), _emb_ref))
