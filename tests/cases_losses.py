"""Op cases of the losses slice: binary_cross_entropy, binary_cross_entropy_with_logits,
smooth_l1_loss and huber_loss, each as the public call and the reference kernel call it amounts
to (see oracle.Case)."""

import numpy as np
import tapegrad as tg
import tapegrad.nn.functional as F
from oracle import Case, fixed, normal, uniform

CASES = []
WEIGHT = np.linspace(0.5, 2.0, 9)


def _on(x, arr):
    return tg.tensor(arr.astype(x.dtype.np), backend=x.backend)


def _bce(reduction, weighted):
    def fn(x, y):
        w = _on(x, WEIGHT) if weighted else None
        return F.binary_cross_entropy(x, y, weight=w, reduction=reduction)

    def ref(T, x, y):
        w = fixed(np.broadcast_to(WEIGHT, (5, 9))) if weighted else None
        return T("binary_cross_entropy", x, y, w, reduction=reduction)

    CASES.append(
        Case(f"bce/{reduction}/w={int(weighted)}", ("binary_cross_entropy",), fn,
             ((5, 9), (5, 9)), ref, sample=(uniform(0.05, 0.95), uniform(0, 1)))
    )  # fmt: skip


def _bce_logits(reduction, weighted, pos):
    def fn(x, y):
        w = _on(x, WEIGHT) if weighted else None
        pw = _on(x, WEIGHT[::-1].copy()) if pos else None
        return F.binary_cross_entropy_with_logits(
            x, y, weight=w, pos_weight=pw, reduction=reduction
        )

    def ref(T, x, y):
        w = fixed(np.broadcast_to(WEIGHT, (5, 9))) if weighted else None
        pw = fixed(np.broadcast_to(WEIGHT[::-1], (5, 9))) if pos else None
        return T("binary_cross_entropy_with_logits", x, y, w, pw, reduction=reduction)

    CASES.append(
        Case(f"bce_logits/{reduction}/w={int(weighted)}/pw={int(pos)}",
             ("binary_cross_entropy_with_logits",), fn, ((5, 9), (5, 9)), ref,
             sample=(normal(1.0), uniform(0, 1)))
    )  # fmt: skip


def _pointwise(name, reduction, p):
    key = "beta" if name == "smooth_l1_loss" else "delta"
    CASES.append(
        Case(f"{name}/{reduction}/p={p}", (name,),
             lambda x, y: getattr(F, name)(x, y, reduction=reduction, **{key: p}),
             ((4, 33), (4, 33)), (name, {"reduction": reduction, "p": p}))
    )  # fmt: skip


for reduction in ("mean", "sum", "none"):
    for weighted in (False, True):
        _bce(reduction, weighted)
        for pos in (False, True):
            _bce_logits(reduction, weighted, pos)
    for name in ("smooth_l1_loss", "huber_loss"):
        for p in (1.0, 0.5):
            _pointwise(name, reduction, p)
