"""Op cases of the ewise2 slice: clamp/clip/clamp_min/clamp_max with tensor bounds and
round(decimals=). Each: the public call and the reference kernel call it amounts to
(oracle.Case)."""

import tapegrad as tg
from oracle import Case, normal, uniform

CASES = []


def _clamp(api, lo=True, hi=True):
    def ref(T, x, *bounds):
        it = iter(bounds)
        return T("clamp_tensor", x, next(it) if lo else None, next(it) if hi else None, api=api)

    return ref


BOTH = [
    ("clamp(lo,hi)", lambda x, lo, hi: x.clamp(lo, hi)),
    ("tg.clip(lo,hi)", lambda x, lo, hi: tg.clip(x, lo, hi)),
]
ONE = [
    ("clamp(min=lo)", lambda x, b: tg.clamp(x, min=b), _clamp(0, hi=False)),
    ("clip(max=hi)", lambda x, b: x.clip(max=b), _clamp(0, lo=False)),
    ("clamp_min(lo)", lambda x, b: x.clamp_min(b), _clamp(1, hi=False)),
    ("tg.clamp_max(hi)", lambda x, b: tg.clamp_max(x, b), _clamp(2, lo=False)),
]
SAMPLE3 = (normal(2), uniform(-2, -0.1), uniform(0.1, 2))
for cid, fn in BOTH:
    for shapes in [
        ((5, 6), (5, 6), (5, 6)),
        ((3, 4), (4,), (3, 1)),
        ((), (3,), ()),
        ((1003,),) * 3,
    ]:
        label = "x".join(str(s) for s in shapes)
        CASES.append(Case(f"{cid}{label}", ("clamp_tensor",), fn, shapes, _clamp(0), SAMPLE3))
for cid, fn, ref in ONE:
    for shapes in [((5, 6), (5, 6)), ((3, 4), (4,)), ((), (3,)), ((1003,), (1,))]:
        label = "x".join(str(s) for s in shapes)
        CASES.append(Case(f"{cid}{label}", ("clamp_tensor",), fn, shapes, ref, (normal(2),) * 2))
for d in (0, 1, 2, -1):
    for shape in [(5, 6), (), (1003,)]:
        CASES.append(
            Case(
                f"round(decimals={d}){shape}",
                ("round_decimals",),
                lambda x, d=d: tg.round(x, decimals=d),
                (shape,),
                ("round_decimals", {"decimals": d}),
                (normal(30),),
            )
        )
for which, (name, part) in enumerate(
    [("var_mean", 0), ("std_mean", 0), ("var_mean", 1), ("std_mean", 1)]
):
    for dims, keep, shape in [
        (None, False, (5, 6)),
        ((1,), True, (5, 6)),
        ((0,), False, (1003, 2)),
    ]:
        attrs = {"dims": dims, "correction": 1.0, "keepdim": keep, "which": which}

        def call(x, n=name, d=dims, k=keep, p=part):
            return getattr(tg, n)(x, *([] if d is None else [d[0]]), keepdim=k)[p]

        CASES.append(
            Case(
                f"{name}[{part}]{dims},{keep}{shape}",
                ("var_mean",),
                call,
                (shape,),
                ("var_mean", attrs),
            )
        )
# mean 0 and std 0: the sample is known (zeros) and, as the node's gradient, independent of m
for shape in [(5, 6), (1003,)]:
    CASES.append(
        Case(
            f"normal(mean_tensor * 0, 0){shape}",
            ("random_grad", "mul_scalar"),
            lambda m: tg.normal(m * 0.0, 0.0),
            (shape,),
            lambda T, m: T("random_grad", *[T("mul_scalar", m, s=0.0)] * 2, None, kind=1),
        )
    )
