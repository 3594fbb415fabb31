"""Where tapegrad's bits may differ from PyTorch's, and by how much: the only such list.

Each row is (pattern, limit, metric, where, why):
  pattern  a case-name pattern (fnmatch, as the cases_*.py modules name their cases);
  limit    the largest difference allowed;
  metric   "ulp": ulps of each element (the distance on the float line), or "norm": ulps of the
           result's largest magnitude (for results with cancellation, such as a matmul);
  where    "simd" (the C++ core's AVX2 path), "portable" (TAPEGRAD_NO_SIMD=1), "numpy" (the
           reference backend), or a tuple of these;
  why      one line.
docs/numerics.md explains every row with its measured figure, and a main-suite test checks that
the two list the same rows.
"""

import fnmatch

ALL = ("simd", "portable", "numpy")

_MKL_GEMM = (
    "PyTorch's float32/float64 matmul is MKL's gemm: its blocking, and so its order of "
    "additions, is MKL's own and changes with the CPU"
)
_MKL_SQRT = (
    "PyTorch's float32/float64 sqrt is MKL's vector math, not correctly rounded (1 ulp off on "
    "about 17 % of float32 and 1.3 % of float64 inputs); Adam's 50 steps carry the difference"
)
_MKL_VML = (
    "PyTorch computes float32/float64 exp, log, sin, cos, tanh and sqrt (x ** 0.5) with MKL's "
    "closed vector math library (the same bits for every CPU capability): 1-2 ulp from ours"
)
_TANH_GRAD = (
    "tanh's gradient 1 - y*y amplifies MKL's 1-2 ulp in y where y is near 1; normwise it stays "
    "small"
)
_F16_TRIG = (
    "float16 sin/cos of 300 and -300: PyTorch's SLEEF reduces large arguments with a table of "
    "2/pi that is not reproduced; one ulp on these two inputs"
)

_ONEDNN_GELU = (
    "PyTorch hands a contiguous float32 GELU (the erf form) to oneDNN, whose erf is off by up "
    "to 1e-4 relative in the negative tail; ours is PyTorch's own formula with the C library's erf"
)
_SLEEF_OTHER = (
    "PyTorch's AVX2 code uses SLEEF's expm1f/log1pf/tanhf and double exp/erf here; tapegrad "
    "uses the C library's (SLEEF's expf and powf are reproduced, these not yet): 1-2 ulp"
)
_REF_GEMM = (
    "the NumPy reference's float32 (1, k) @ (k, 1) products round in another order than "
    "PyTorch's MKL dot for some k; a training loop carries the difference"
)

_MKL_DOT = (
    "PyTorch's float32/float64 dot is MKL's sdot/ddot, whose order of additions is its own "
    "(not its gemm's, and CPU-dependent); tapegrad sums a dot as a 1 x K by K x 1 product, and "
    "the NumPy backend as NumPy's BLAS does (CPU-dependent too)"
)
_F16_ADDMM = "float16 linear's portable path against PyTorch's default kernels: one element"
_DOUBLE = (
    "second derivatives: tapegrad differentiates each op's recorded backward formula op by op, "
    "PyTorch its backward kernels' own derivatives (tanh_backward's is -2*y*g*gg), so roundings "
    "fall in another order; float32/float64 also carry MKL's tanh/sin/cos"
)
_DOUBLE_GEMM = (
    "second derivatives through Linear layers: MKL's gemm order (as the first-order matmul rows) "
    "on top of the formulas' own order"
)

_ONEDNN_CONV = (
    "PyTorch's float32 convolution is oneDNN's (its own blocking and order of additions, chosen "
    "by CPU); tapegrad's is im2col and its own GEMM, float32 accumulation"
)
_CONV_F64 = (
    "PyTorch's float64 convolution is im2col and MKL's dgemm (slow_conv2d), whose order is its "
    "own; the weight gradient sums over samples in another order again"
)
_NORM_STATS = (
    "batch_norm / layer_norm sum mean, variance and the gradients' per-channel sums in PyTorch's "
    "own vectorized order (and batch_norm's eval output as x * alpha + beta); a few normwise ulp"
)

EXCEPTIONS = [
    # before the matmul rows: the first row that matches a case applies
    ("matmul/float32/dot/*", 32, "norm", ALL, _MKL_DOT),
    ("matmul/float64/dot/*", 32, "norm", ALL, _MKL_DOT),
    ("shape/matmul/float16/addmm/*", 1, "ulp", ("portable",), _F16_ADDMM),
    ("matmul/float32/*", 16, "norm", ALL, _MKL_GEMM),
    ("matmul/float64/*", 16, "norm", ALL, _MKL_GEMM),
    ("linear/float32/*", 16, "norm", ALL, _MKL_GEMM),
    ("linear/float64/*", 16, "norm", ALL, _MKL_GEMM),
    ("views/t/float32", 16, "norm", ALL, _MKL_GEMM),
    ("views/t/float64", 16, "norm", ALL, _MKL_GEMM),
    ("optim/adam/*/f32/*", 8, "norm", ALL, _MKL_SQRT),
    ("optim/adam/*/f64/*", 16, "norm", ALL, _MKL_SQRT),
    ("math/exp/float32/*", 4, "ulp", ALL, _MKL_VML),
    ("math/exp/float64/*", 4, "ulp", ALL, _MKL_VML),
    ("math/log/float32/*", 2, "ulp", ALL, _MKL_VML),
    ("math/log/float64/*", 2, "ulp", ALL, _MKL_VML),
    ("math/sin/float32/*", 4, "ulp", ALL, _MKL_VML),
    ("math/sin/float64/*", 4, "ulp", ALL, _MKL_VML),
    ("math/cos/float32/*", 4, "ulp", ALL, _MKL_VML),
    ("math/cos/float64/*", 4, "ulp", ALL, _MKL_VML),
    ("math/pow=0.5/float32/*", 2, "ulp", ALL, _MKL_VML),
    ("math/pow=0.5/float64/*", 2, "ulp", ALL, _MKL_VML),
    ("scalar/pow/s=0.5/float32/*", 2, "ulp", ALL, _MKL_VML),
    ("scalar/pow/s=0.5/float64/*", 2, "ulp", ALL, _MKL_VML),
    ("math/tanh/float32/*", 4, "norm", ALL, _TANH_GRAD),
    ("math/tanh/float64/*", 4, "norm", ALL, _TANH_GRAD),
    ("math/sin/float16/special", 1, "ulp", ("simd", "numpy"), _F16_TRIG),
    ("math/cos/float16/special", 1, "ulp", ("simd", "numpy"), _F16_TRIG),
    # the ewise ops
    ("ewise/sqrt/float32/*", 2, "ulp", ALL, _MKL_VML),
    ("ewise/sqrt/float64/*", 2, "ulp", ALL, _MKL_VML),
    ("ewise/tan/float32/*", 8, "ulp", ALL, _MKL_VML),
    ("ewise/tan/float64/*", 4, "ulp", ALL, _MKL_VML),
    ("ewise/log2/float32/*", 1, "ulp", ALL, _MKL_VML),
    ("ewise/log2/float64/*", 1, "ulp", ALL, _MKL_VML),
    ("ewise/log10/float32/*", 1, "ulp", ALL, _MKL_VML),
    ("ewise/log10/float64/*", 2, "ulp", ALL, _MKL_VML),
    ("ewise/pow/float32/*", 1, "norm", ALL, _MKL_VML),
    ("ewise/pow/float64/*", 1, "norm", ALL, _MKL_VML),
    ("ewise/pow/float16-float32", 1, "norm", ALL, _MKL_VML),
    ("ewise/gelu/float32/*", 4, "norm", ALL, _ONEDNN_GELU),
    ("ewise/expm1/float32/*", 1, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/expm1/float64/*", 1, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/log1p/float32/*", 1, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/log1p/float64/*", 1, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/elu*/float32/*", 2, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/elu*/float64/*", 2, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/softplus*/float32/*", 2, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/softplus*/float64/*", 2, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/gelu=tanh/float32/*", 16, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/gelu=tanh/float64/*", 4, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/gelu=tanh/float16/*", 1, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/gelu/float64/*", 1, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/gelu/float16/*", 4, "ulp", ("simd", "numpy"), _SLEEF_OTHER),
    ("ewise/silu/float64/*", 2, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    # the reductions
    ("reduce/logsumexp/f32/*", 16, "norm", ALL, _MKL_VML),
    ("reduce/logsumexp/f64/*", 16, "norm", ALL, _MKL_VML),
    # the optimizers
    ("optim/adamw/*/f32/*", 8, "norm", ALL, _MKL_SQRT),
    ("optim/adamw/*/f64/*", 16, "norm", ALL, _MKL_SQRT),
    ("optim/rmsprop/*/f32/*", 128, "norm", ALL, _MKL_SQRT),
    ("optim/rmsprop/*/f64/*", 64, "norm", ALL, _MKL_SQRT),
    ("optim/adagrad/*/f32/*", 8, "norm", ALL, _MKL_SQRT),
    ("optim/adagrad/*/f64/*", 8, "norm", ALL, _MKL_SQRT),
    ("optim/resume/adam*/f32/*", 8, "norm", ALL, _MKL_SQRT),
    ("optim/resume/adam*/f64/*", 16, "norm", ALL, _MKL_SQRT),
    ("optim/resume/rmsprop/*/f32/*", 32, "norm", ALL, _MKL_SQRT),
    ("optim/resume/rmsprop/*/f64/*", 32, "norm", ALL, _MKL_SQRT),
    ("optim/resume/adagrad/*", 8, "norm", ALL, _MKL_SQRT),
    # the binary cross-entropies
    ("losses/bce/w=1/*/f32/*", 3, "ulp", ALL, _MKL_VML),
    ("losses/bce/w=1/*/f64/*", 2, "ulp", ALL, _MKL_VML),
    ("losses/bce_logits/*/f32/*", 2, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    ("losses/bce_logits/*/f64/*", 2, "norm", ("simd", "numpy"), _SLEEF_OTHER),
    # utils.data
    ("data/training_loop/*", 9, "ulp", ("numpy",), _REF_GEMM),
    # create_graph: second derivatives (cases_double.py)
    ("double/*/tanh/*", 2, "norm", ALL, _DOUBLE),
    ("double/*/sin/*", 4, "norm", ALL, _DOUBLE),
    ("double/function_twice/*", 4, "norm", ALL, _DOUBLE),
    ("double/backward_create_graph/*", 4, "norm", ALL, _DOUBLE),
    ("double/mlp/*", 16, "norm", ALL, _DOUBLE_GEMM),
    ("double/gradient_penalty/*", 16, "norm", ALL, _DOUBLE_GEMM),
    # float_power: float64 pow and its x ** 0.5
    ("ewise2/float_power/*", 1, "ulp", ALL, _MKL_VML),
    # norm's gradient for p = 1.5 and 2.5 takes |x| ** (p - 2) as a sqrt
    ("norm/grad/*/f32/p=1.5*", 4, "ulp", ALL, _MKL_VML),
    ("norm/grad/*/f64/p=1.5*", 3, "ulp", ALL, _MKL_VML),
    ("norm/grad/*/f32/p=2.5*", 4, "ulp", ALL, _MKL_VML),
    ("norm/grad/*/f64/p=2.5*", 3, "ulp", ALL, _MKL_VML),
    # the CNN ops (cases_conv.py)
    ("conv/conv*/f32/*", 40, "norm", ALL, _ONEDNN_CONV),
    ("conv/module/f32/*", 32, "norm", ALL, _ONEDNN_CONV),
    ("conv/lenet/f32", 4, "norm", ALL, _ONEDNN_CONV),
    ("conv/conv*/f64/*", 48, "norm", ALL, _CONV_F64),
    ("conv/module/f64/*", 32, "norm", ALL, _CONV_F64),
    ("conv/lenet/f64", 4, "norm", ALL, _CONV_F64),
    ("conv/batch_norm/f16/*", 4, "norm", ALL, _NORM_STATS),
    ("conv/batch_norm/f32/*", 8, "norm", ALL, _NORM_STATS),
    ("conv/batch_norm/f64/*", 40, "norm", ALL, _NORM_STATS),
    ("conv/batch_norm_eval/f16/*", 1, "ulp", ALL, _NORM_STATS),
    ("conv/batch_norm_eval/f32/*", 4, "norm", ALL, _NORM_STATS),
    ("conv/batch_norm_eval/f64/*", 16, "norm", ALL, _NORM_STATS),
    ("conv/layer_norm/f16/*", 16, "norm", ALL, _NORM_STATS),
    ("conv/layer_norm/f32/*", 16, "norm", ALL, _NORM_STATS),
    ("conv/layer_norm/f64/*", 12, "norm", ALL, _NORM_STATS),
]


def paths(where):
    return (where,) if isinstance(where, str) else tuple(where)


def allowed(name, path):
    """(row index, limit, metric) of the first row that covers case `name` on `path` ("cpp" is
    the SIMD path), else (None, 0, "ulp")."""
    path = "simd" if path == "cpp" else path
    for i, (pattern, limit, metric, where, _why) in enumerate(EXCEPTIONS):
        if path in paths(where) and fnmatch.fnmatchcase(name, pattern):
            return i, limit, metric
    return None, 0, "ulp"
