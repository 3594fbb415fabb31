"""Op cases of the ewise slice: clamp and its forms, maximum/minimum, pow with a tensor exponent
and the activations of nn.functional (the unary math ops come with the op list's generated
cases). Each: the public call and the reference kernel call it amounts to (oracle.Case)."""

import tapegrad as tg
import tapegrad.nn.functional as F
from oracle import Case, normal, uniform

CASES = []


def add(*cases):
    CASES.extend(cases)


def _clamp(lo, hi, api=0):
    return ("clamp", {"lo": lo, "hi": hi, "api": api})


CLAMP = [
    ("clamp(-0.5,0.5)", lambda x: x.clamp(-0.5, 0.5), _clamp(-0.5, 0.5)),
    ("tg.clamp(min=0)", lambda x: tg.clamp(x, min=0), _clamp(0.0, None)),
    ("clip(max=0.3)", lambda x: x.clip(max=0.3), _clamp(None, 0.3)),
    ("clamp_min(0.1)", lambda x: x.clamp_min(0.1), _clamp(0.1, None, 1)),
    ("clamp_max(-0.2)", lambda x: tg.clamp_max(x, -0.2), _clamp(None, -0.2, 2)),
]
ACT = [
    ("leaky_relu", lambda x: F.leaky_relu(x), ("leaky_relu", {"slope": 0.01})),
    ("leaky_relu(0.2)", lambda x: F.leaky_relu(x, 0.2), ("leaky_relu", {"slope": 0.2})),
    ("elu", lambda x: F.elu(x), ("elu", {"alpha": 1.0})),
    ("elu(0.5)", lambda x: F.elu(x, 0.5), ("elu", {"alpha": 0.5})),
    ("gelu", lambda x: F.gelu(x), ("gelu", {"approximate": 0})),
    ("gelu(tanh)", lambda x: F.gelu(x, approximate="tanh"), ("gelu", {"approximate": 1})),
    ("silu", lambda x: F.silu(x), ("silu", {})),
    ("softplus", lambda x: F.softplus(x), ("softplus", {"beta": 1.0, "threshold": 20.0})),
    ("softplus(2,1)", lambda x: F.softplus(x, 2, 1), ("softplus", {"beta": 2.0, "threshold": 1.0})),
    ("hardtanh", lambda x: F.hardtanh(x), ("hardtanh", {"lo": -1.0, "hi": 1.0})),
    ("relu6", lambda x: F.relu6(x * 4), None),
]

for cid, fn, ref in CLAMP + ACT:
    for shape in [(5, 6), (), (1003,)]:
        if cid == "relu6":
            add(
                Case(
                    f"{cid}{shape}",
                    ("mul_scalar", "hardtanh"),
                    fn,
                    (shape,),
                    lambda T, x: T("hardtanh", T("mul_scalar", x, s=4.0), lo=0.0, hi=6.0),
                    (normal(2),),
                )
            )
        else:
            add(Case(f"{cid}{shape}", (ref[0],), fn, (shape,), ref, (normal(2),)))

for name, f in (("maximum", tg.maximum), ("minimum", tg.minimum)):
    for sa, sb in [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((), (3,))]:
        add(Case(f"{name}{sa}x{sb}", (name,), f, (sa, sb), (name, {})))
for sa, sb in [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((5,), ())]:
    add(
        Case(
            f"pow{sa}x{sb}",
            ("pow",),
            lambda a, b: a**b,
            (sa, sb),
            ("pow", {}),
            (uniform(1.2, 2), uniform(-2, 2)),  # log(x) > 0: no cancelling sum
        )
    )
