"""Op cases of addmv, baddbmm and addbmm: the public call and the reference kernel call it
amounts to (see oracle.Case). Inputs are in the kernels' order (the product's operands, then the
input added to it)."""

import tapegrad as tg
from oracle import Case

CASES = []

SCALARS = ((1, 1), (0.5, 1), (1, -0.3), (0.7, 0.3), (0, 2))


def _case(cid, op, fn, shapes, k, beta, alpha):
    attrs = {"beta": float(beta), "alpha": float(alpha)}
    CASES.append(Case(cid, (op,), fn, shapes, (op, attrs), k=k, multilinear=True))


for m, k, ishape in ((4, 3, (4,)), (7, 13, (1,)), (33, 16, (33,)), (1, 1, ())):
    for beta, alpha in SCALARS:
        _case(
            f"addmv{(m, k)},{ishape},beta={beta},alpha={alpha}",
            "addmv",
            lambda a, v, i, b=beta, al=alpha: tg.addmv(i, a, v, beta=b, alpha=al),
            ((m, k), (k,), ishape),
            k,
            beta,
            alpha,
        )
_case("addmv-method", "addmv", lambda a, v, i: i.addmv(a, v), ((3, 5), (5,), (3,)), 5, 1, 1)

for b, m, k, n in ((2, 3, 4, 5), (3, 16, 8, 17), (1, 1, 1, 1)):
    for beta, alpha in SCALARS:
        for ishape in ((b, m, n), (n,)):
            _case(
                f"baddbmm{(b, m, k, n)},{ishape},beta={beta},alpha={alpha}",
                "baddbmm",
                lambda x, y, i, be=beta, al=alpha: tg.baddbmm(i, x, y, beta=be, alpha=al),
                ((b, m, k), (b, k, n), ishape),
                k,
                beta,
                alpha,
            )
        for ishape in ((m, n), (n,)):
            _case(
                f"addbmm{(b, m, k, n)},{ishape},beta={beta},alpha={alpha}",
                "addbmm",
                lambda x, y, i, be=beta, al=alpha: tg.addbmm(i, x, y, beta=be, alpha=al),
                ((b, m, k), (b, k, n), ishape),
                b * k,
                beta,
                alpha,
            )
_B1, _B2 = (2, 3, 4), (2, 4, 5)
_case("baddbmm-method", "baddbmm", lambda x, y, i: i.baddbmm(x, y), (_B1, _B2, (2, 3, 5)), 4, 1, 1)
_case("addbmm-method", "addbmm", lambda x, y, i: i.addbmm(x, y), (_B1, _B2, (3, 5)), 8, 1, 1)
