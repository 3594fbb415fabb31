"""The op list: the one table every other list of ops is derived from (docs/adding-an-op.md).

The C++ build turns it into csrc's X-macro (csrc/ops/gen_oplist.py writes `oplist.inc`), from
which come the C++ enum, the backward table, what each op saves, the unary kernel dispatch and
the Python bindings; `tapegrad._core.OPS` reports that table back. On the Python side it gives
the backends' op names, the plain `Tensor` methods and `tapegrad.*` functions of the unary ops,
and the op tables of the anomaly and lockstep tools. The NumPy reference must implement every op
listed here (a registry test checks both backends against this table).

Columns:
  name     the backend function and the C++ op (`tg::OpCode::name`, `tg::Op_name`)
  grad_fn  PyTorch's node name for `.grad_fn` (some ops refine it by shape at run time); "-" for
           an op with no gradient (its result never requires grad)
  kind     how the op is called and bound:
             unary   f(a)                generic forward; a method and function `Tensor.name`
             binary  f(a, b)             broadcasting, PyTorch's type promotion
             scalar  f(a, s)             a Python number s (bool, int or float)
             compare f(a, b)             b a tensor or a Python number; a bool result with no
                                         gradient (grad_fn "-": none)
             reduce  f(a, dims, keepdim) dims None: all
             view    its own signature   the result shares the input's storage
                                         (docs/design.md, Tensors and the tape)
             custom  its own signature   (its forward is written by hand in csrc/ops)
  saves    what the forward keeps for backward: `in0`, `in1` (always), `in0:g1` (input 0, only
           when input 1 requires grad), `in1:g0`, `out` (the output); "" for nothing
  domain   unary ops: where the tests sample inputs (`real`, `positive`, `nonzero`, `unit`:
           |x| a little above 1 at most, away from tan's poles)
"""

# fmt: off
OPS = (
    # name          grad_fn               kind      saves            domain
    ("add",         "AddBackward0",       "binary", "",              None),
    ("sub",         "SubBackward0",       "binary", "",              None),
    ("mul",         "MulBackward0",       "binary", "in0:g1 in1:g0", None),
    ("div",         "DivBackward0",       "binary", "in0:g1 in1",    None),
    ("add_scalar",  "AddBackward0",       "scalar", "",              None),
    ("mul_scalar",  "MulBackward0",       "scalar", "",              None),
    ("div_scalar",  "DivBackward0",       "scalar", "",              None),
    ("rsub_scalar", "RsubBackward1",      "scalar", "",              None),
    ("rdiv_scalar", "MulBackward0",       "scalar", "in0",           None),
    ("pow_scalar",  "PowBackward0",       "scalar", "in0",           None),
    ("rpow_scalar", "PowBackward2",       "scalar", "out",           None),
    ("neg",         "NegBackward0",       "unary",  "",              "real"),
    ("abs",         "AbsBackward0",       "unary",  "in0",           "nonzero"),
    ("exp",         "ExpBackward0",       "unary",  "out",           "real"),
    ("log",         "LogBackward0",       "unary",  "in0",           "positive"),
    ("tanh",        "TanhBackward0",      "unary",  "out",           "real"),
    ("relu",        "ReluBackward0",      "unary",  "out",           "nonzero"),
    ("sigmoid",     "SigmoidBackward0",   "unary",  "out",           "real"),
    ("sin",         "SinBackward0",       "unary",  "in0",           "real"),
    ("cos",         "CosBackward0",       "unary",  "in0",           "real"),
    ("matmul",      "MmBackward0",        "custom", "in0:g1 in1:g0", None),
    ("linear",      "AddmmBackward0",     "custom", "in0:g1 in1:g0", None),
    ("sum",         "SumBackward1",       "reduce", "",              None),
    ("mean",        "MeanBackward1",      "reduce", "",              None),
    ("reshape",     "ViewBackward0",      "custom", "",              None),
    ("view",        "ViewBackward0",      "view",   "",              None),
    ("permute",     "PermuteBackward0",   "view",   "",              None),
    ("transpose",   "TransposeBackward0", "view",   "",              None),
    ("t",           "TBackward0",         "view",   "",              None),
    ("select",      "SelectBackward0",    "view",   "",              None),
    ("slice",       "SliceBackward0",     "view",   "",              None),
    ("unsqueeze",   "UnsqueezeBackward0", "view",   "",              None),
    ("squeeze",     "SqueezeBackward0",   "view",   "",              None),
    ("expand",      "ExpandBackward0",    "view",   "",              None),
    ("as_strided",  "AsStridedBackward0", "view",   "",              None),
    ("mse_loss",    "MseLossBackward0",   "custom", "in0 in1",       None),
    ("l1_loss",     "L1LossBackward0",    "custom", "in0 in1",       None),
    ("cast",        "ToCopyBackward0",    "custom", "",              None),
    ("eq",          "-",                  "compare", "",             None),
    ("ne",          "-",                  "compare", "",             None),
    ("lt",          "-",                  "compare", "",             None),
    ("le",          "-",                  "compare", "",             None),
    ("gt",          "-",                  "compare", "",             None),
    ("ge",          "-",                  "compare", "",             None),
    ("logical_and", "-",                  "compare", "",             None),
    ("logical_or",  "-",                  "compare", "",             None),
    ("logical_xor", "-",                  "compare", "",             None),
    ("logical_not", "-",                  "custom", "",              None),
    ("where",       "WhereBackward0",     "custom", "",              None),
    ("index",       "IndexBackward0",     "custom", "",              None),
    ("index_put",   "IndexPutBackward0",  "custom", "",              None),
    # ---- // and % ----
    # PyTorch has no derivative for floor_divide: its node raises when backward reaches it.
    ("floor_divide", "NotImplemented",     "custom", "",             None),
    ("remainder",   "RemainderBackward1", "custom", "in0:g1 in1",    None),
    ("remainder_scalar", "RemainderBackward0", "custom", "",         None),
    # ---- ewise ----
    ("sqrt",        "SqrtBackward0",      "unary",  "out",           "positive"),
    ("rsqrt",       "RsqrtBackward0",     "unary",  "out",           "positive"),
    ("tan",         "TanBackward0",       "unary",  "out",           "unit"),
    ("expm1",       "Expm1Backward0",     "unary",  "out",           "real"),
    ("log2",        "Log2Backward0",      "unary",  "in0",           "positive"),
    ("log10",       "Log10Backward0",     "unary",  "in0",           "positive"),
    ("log1p",       "Log1PBackward0",     "unary",  "in0",           "positive"),
    ("reciprocal",  "ReciprocalBackward0", "unary", "out",           "nonzero"),
    ("floor",       "FloorBackward0",     "unary",  "",              "real"),
    ("ceil",        "CeilBackward0",      "unary",  "",              "real"),
    ("round",       "RoundBackward0",     "unary",  "",              "real"),
    ("trunc",       "TruncBackward0",     "unary",  "",              "real"),
    ("sign",        "SignBackward0",      "unary",  "",              "real"),
    ("clamp",       "ClampBackward1",     "custom", "in0",           None),
    ("maximum",     "MaximumBackward0",   "custom", "in0 in1",       None),
    ("minimum",     "MinimumBackward0",   "custom", "in0 in1",       None),
    ("pow",         "PowBackward1",       "custom", "in0 in1",       None),
    ("leaky_relu",  "LeakyReluBackward0", "custom", "in0",           None),
    ("elu",         "EluBackward0",       "custom", "in0",           None),
    ("gelu",        "GeluBackward0",      "custom", "in0",           None),
    ("silu",        "SiluBackward0",      "custom", "in0",           None),
    ("softplus",    "SoftplusBackward0",  "custom", "in0",           None),
    ("hardtanh",    "HardtanhBackward0",  "custom", "in0",           None),
    # ---- reduce ----
    ("amax",        "AmaxBackward0",      "custom", "in0",           None),
    ("amin",        "AminBackward0",      "custom", "in0",           None),
    ("max_all",     "MaxBackward1",       "custom", "in0",           None),
    ("min_all",     "MinBackward1",       "custom", "in0",           None),
    ("max_dim",     "MaxBackward0",       "custom", "in0",           None),
    ("min_dim",     "MinBackward0",       "custom", "in0",           None),
    ("argmax",      "-",                  "custom", "",              None),
    ("argmin",      "-",                  "custom", "",              None),
    ("cumsum",      "CumsumBackward0",    "custom", "",              None),
    ("logsumexp",   "LogsumexpBackward0", "custom", "in0",           None),
    ("var",         "VarBackward0",       "custom", "in0",           None),
    ("std_dev",     "StdBackward0",       "custom", "in0",           None),
    # ---- nnloss ----
    ("softmax",     "SoftmaxBackward0",   "custom", "out",           None),
    ("log_softmax", "LogSoftmaxBackward0", "custom", "out",          None),
    ("nll_loss",    "NllLossBackward0",   "custom", "in1",           None),
    ("nll_loss2d",  "NllLoss2DBackward0", "custom", "in1",           None),
    ("embedding",   "EmbeddingBackward0", "custom", "in1",           None),
    # ---- shape ----
    ("cat",         "CatBackward0",       "custom", "",              None),
    ("repeat",      "RepeatBackward0",    "custom", "",              None),
    ("take",        "GatherBackward0",    "custom", "",              None),
    ("put",         "ScatterBackward0",   "custom", "",              None),
    # ---- losses ----
    ("binary_cross_entropy", "BinaryCrossEntropyBackward0", "custom", "in0 in1", None),
    ("binary_cross_entropy_with_logits", "BinaryCrossEntropyWithLogitsBackward0", "custom",
     "in0 in1", None),
    ("smooth_l1_loss", "SmoothL1LossBackward0", "custom", "in0 in1", None),
    ("huber_loss",  "HuberLossBackward0", "custom", "in0 in1",       None),
    # ---- prodnorm ----
    ("prod_all",    "ProdBackward0",      "custom", "in0",           None),
    ("prod_dim",    "ProdBackward1",      "custom", "in0",           None),
    # ---- mm2 ----
    # inputs (b1, b2, input): the products' operands first, saved as matmul saves them
    ("addmv",       "AddmvBackward0",     "custom", "in0:g1 in1:g0", None),
    ("baddbmm",     "BaddbmmBackward0",   "custom", "in0:g1 in1:g0", None),
    ("addbmm",      "AddbmmBackward0",    "custom", "in0:g1 in1:g0", None),
    # ---- norm ----
    ("vector_norm", "LinalgVectorNormBackward0", "custom", "in0",   None),
    # ---- ewise2 ----
    # clamp_tensor and random_grad save their tensors themselves (up to three; absent bounds).
    ("clamp_tensor", "ClampBackward0",    "custom", "",              None),
    ("round_decimals", "RoundBackward1",  "custom", "",              None),
    ("random_grad", "NormalBackward1",    "custom", "",              None),
    ("var_mean",    "VarMeanBackward0",   "custom", "in0",           None),
    # ---- conv ----
    # convolution: 1-D (N, C, L) or 2-D (N, C, H, W); the pools: (C, H, W) or (N, C, H, W)
    ("convolution", "ConvolutionBackward0", "custom", "in0:g1 in1:g0", None),
    ("max_pool2d",  "MaxPool2DWithIndicesBackward0", "custom", "in0", None),
    ("max_pool2d_indices", "-",           "custom", "",              None),
    ("avg_pool2d",  "AvgPool2DBackward0", "custom", "in0",           None),
    ("adaptive_avg_pool2d", "AdaptiveAvgPool2DBackward0", "custom", "in0", None),
    # the norms save their statistics themselves (slot 2: batch norm's mean and invstd)
    ("native_batch_norm", "NativeBatchNormBackward0", "custom", "", None),
    ("native_layer_norm", "NativeLayerNormBackward0", "custom", "", None),
)
# fmt: on

KINDS = ("unary", "binary", "scalar", "reduce", "view", "custom", "compare")
SAVES = ("in0", "in1", "in0:g1", "in1:g0", "out")
DOMAINS = ("real", "positive", "nonzero", "unit")

NAMES = tuple(row[0] for row in OPS)
GRAD_FN = {row[0]: row[1] for row in OPS}
KIND = {row[0]: row[2] for row in OPS}
SAVED = {row[0]: tuple(row[3].split()) for row in OPS}
DOMAIN = {row[0]: row[4] for row in OPS if row[4]}
UNARY = tuple(n for n in NAMES if KIND[n] == "unary")

# What each unary op computes: the docstrings of its generated method and function say it.
UNARY_DOC = {
    "neg": "negation -x",
    "abs": "absolute value |x|",
    "exp": "exponential e ** x",
    "log": "natural logarithm ln(x)",
    "tanh": "hyperbolic tangent",
    "relu": "rectified linear unit max(x, 0)",
    "sigmoid": "logistic sigmoid 1 / (1 + exp(-x))",
    "sin": "sine (radians)",
    "cos": "cosine (radians)",
    "sqrt": "square root",
    "rsqrt": "reciprocal square root 1 / sqrt(x)",
    "tan": "tangent (radians)",
    "expm1": "value exp(x) - 1 (accurate near 0)",
    "log2": "base-2 logarithm",
    "log10": "base-10 logarithm",
    "log1p": "value ln(1 + x) (accurate near 0)",
    "reciprocal": "reciprocal 1 / x",
    "floor": "floor (the largest integer <= x)",
    "ceil": "ceiling (the smallest integer >= x)",
    "round": "nearest integer (halves to even)",
    "trunc": "truncation toward zero",
    "sign": "sign (-1, 0 or 1)",
}


def check():
    """Raise ValueError on a malformed row (the C++ generator calls this too)."""
    seen = set()
    for row in OPS:
        if len(row) != 5:
            raise ValueError(f"op list: row {row!r} needs 5 columns")
        name, grad_fn, kind, saves, domain = row
        if not name.isidentifier() or name in seen:
            raise ValueError(f"op list: bad or repeated name {name!r}")
        seen.add(name)
        if kind not in KINDS:
            raise ValueError(f"op list: {name}: kind {kind!r} is not one of {KINDS}")
        if kind == "compare" and grad_fn != "-":
            raise ValueError(f"op list: {name}: compare ops have no gradient (grad_fn '-')")
        if grad_fn != "-" and not grad_fn.isidentifier():
            raise ValueError(f"op list: {name}: bad grad_fn name {grad_fn!r}")
        bad = [s for s in saves.split() if s not in SAVES]
        if bad:
            raise ValueError(f"op list: {name}: unknown saves {bad}; choose from {SAVES}")
        if "out" in saves.split() and any(s.startswith("in0") for s in saves.split()):
            raise ValueError(f"op list: {name}: `out` and input 0 share saved slot 0")
        if (kind == "unary") != (domain is not None) or (domain and domain not in DOMAINS):
            raise ValueError(f"op list: {name}: unary ops (only) name a domain from {DOMAINS}")
        if kind == "unary" and name not in UNARY_DOC:
            raise ValueError(f"op list: {name}: unary ops need a UNARY_DOC entry (their docstring)")
