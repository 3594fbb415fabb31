"""Op cases of the CNN slice: conv1d/conv2d (convolution), max_pool2d, avg_pool2d,
adaptive_avg_pool2d, batch_norm (native_batch_norm) and layer_norm (native_layer_norm), each as
the public call and the reference kernel call it amounts to (see oracle.Case)."""

import numpy as np
import tapegrad as tg
import tapegrad.nn.functional as F
from oracle import Case, fixed

CASES = []


def _on(x, arr):
    return tg.tensor(arr.astype(x.dtype.np), backend=x.backend)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _same_padding(k, d):
    """PyTorch's padding='same': total d*(k-1), the odd one extra on the right/bottom."""
    total = d * (k - 1)
    return total // 2, total - total // 2


# ---------------------------------------------------------------- convolution


def _conv_padding(padding, kernel, dilation):
    """(pt, pl, pb, pr) of a conv call's padding argument (2-D sizes)."""
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        (pt, pb), (pl, pr) = (_same_padding(k, d) for k, d in zip(kernel, dilation))
        return (pt, pl, pb, pr)
    ph, pw = _pair(padding)
    return (ph, pw, ph, pw)


def _conv2d(tag, x, w, bias=True, stride=1, padding=0, dilation=1, groups=1):
    st, dil = _pair(stride), _pair(dilation)
    attrs = {"stride": st, "padding": _conv_padding(padding, w[2:], dil), "dilation": dil,
             "groups": groups}  # fmt: skip

    def fn(x, w, b=None):
        return F.conv2d(x, w, b, stride, padding, dilation, groups)

    def ref(T, x, w, b=None):
        return T("convolution", x, w, b, **attrs)

    shapes = (x, w) + (((w[0],),) if bias else ())
    CASES.append(
        Case(
            f"conv2d/{tag}",
            ("convolution",),
            fn,
            shapes,
            ref,
            k=w[1] * w[2] * w[3],
            multilinear=True,
        )
    )


def _conv1d(tag, x, w, bias=True, stride=1, padding=0, dilation=1, groups=1):
    if padding == "same":
        pl, pr = _same_padding(w[2], dilation)
    else:
        pl = pr = 0 if padding == "valid" else padding
    attrs = {"stride": (1, stride), "padding": (0, pl, 0, pr), "dilation": (1, dilation),
             "groups": groups}  # fmt: skip

    def fn(x, w, b=None):
        return F.conv1d(x, w, b, stride, padding, dilation, groups)

    def ref(T, x, w, b=None):
        return T("convolution", x, w, b, **attrs)

    shapes = (x, w) + (((w[0],),) if bias else ())
    CASES.append(
        Case(f"conv1d/{tag}", ("convolution",), fn, shapes, ref, k=w[1] * w[2], multilinear=True)
    )


_conv2d("basic", (2, 3, 6, 5), (4, 3, 3, 3))
_conv2d("nobias", (2, 3, 6, 5), (4, 3, 3, 3), bias=False)
_conv2d("stride2", (1, 2, 7, 8), (3, 2, 3, 2), stride=2)
_conv2d("stride(2,1)/pad(1,2)", (1, 2, 7, 8), (3, 2, 3, 3), stride=(2, 1), padding=(1, 2))
_conv2d("pad1", (2, 2, 5, 5), (3, 2, 3, 3), padding=1)
_conv2d("dilation2", (1, 2, 8, 9), (2, 2, 3, 3), dilation=2, padding=2)
_conv2d("dilation(1,2)", (1, 2, 6, 9), (2, 2, 2, 3), dilation=(1, 2))
_conv2d("groups2", (2, 4, 5, 6), (6, 2, 3, 3), groups=2, padding=1)
_conv2d("depthwise", (1, 3, 6, 6), (3, 1, 3, 3), groups=3, stride=2, padding=1, bias=False)
_conv2d("same/odd", (1, 2, 5, 6), (3, 2, 3, 3), padding="same")
_conv2d("same/even", (1, 2, 5, 6), (3, 2, 4, 2), padding="same")
_conv2d("same/dilation2", (1, 2, 7, 6), (2, 2, 2, 3), padding="same", dilation=2)
_conv2d("valid", (1, 2, 5, 6), (3, 2, 3, 2), padding="valid", bias=False)
_conv2d("1x1", (2, 8, 4, 4), (5, 8, 1, 1))
_conv2d("big", (2, 16, 12, 12), (8, 16, 3, 3), padding=1)  # 4608 inputs, K = 144
_conv1d("basic", (2, 3, 10), (4, 3, 3))
_conv1d("nobias", (2, 3, 10), (4, 3, 3), bias=False)
_conv1d("stride2/pad1", (2, 3, 11), (4, 3, 3), stride=2, padding=1)
_conv1d("dilation3/groups", (1, 4, 16), (6, 2, 3), dilation=3, groups=2)
_conv1d("same/even", (2, 2, 9), (3, 2, 4), padding="same")
_conv1d("valid", (2, 2, 9), (3, 2, 4), padding="valid")
_conv1d("big", (4, 8, 40), (8, 8, 5), padding=2)  # 1280 inputs


def _unbatched(x, w, b):
    return F.conv2d(x, w, b, padding=1)


def _unbatched_ref(T, x, w, b):
    y = T("convolution", T("reshape", x, shape=(1,) + x.shape), w, b, stride=(1, 1),
          padding=(1, 1, 1, 1), dilation=(1, 1), groups=1)  # fmt: skip
    return T("reshape", y, shape=y.shape[1:])


CASES.append(Case("conv2d/unbatched", ("convolution",), _unbatched, ((2, 5, 5), (3, 2, 3, 3),
                  (3,)), _unbatched_ref, k=18, multilinear=True))  # fmt: skip


# ---------------------------------------------------------------- pools


def _max_pool(tag, shape, kernel, stride=None, padding=0, dilation=1, ceil_mode=False,
              indices=False):  # fmt: skip
    attrs = {
        "kernel": _pair(kernel),
        "stride": _pair(stride or kernel),
        "padding": _pair(padding),
        "dilation": _pair(dilation),
        "ceil_mode": ceil_mode,
    }

    def fn(x):
        out = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode, indices)
        return out[0] if indices else out

    # overlapping windows: an input's gradient is up to kh*kw float16 additions, which may cancel
    # (the oracle divides k by the input-to-output size ratio, about sh*sw); the forward is exact
    (kh, kw), (sh, sw) = attrs["kernel"], attrs["stride"]
    k = 8 * kh * kw * sh * sw
    CASES.append(Case(f"max_pool2d/{tag}", ("max_pool2d",), fn, (shape,), ("max_pool2d", attrs),
                      k=k))  # fmt: skip


_max_pool("k2", (2, 3, 6, 6), 2)
_max_pool("k3s2p1", (2, 2, 7, 7), 3, 2, 1)
_max_pool("k(3,2)s(1,2)", (1, 2, 6, 7), (3, 2), (1, 2))
_max_pool("dilation2", (1, 2, 9, 9), 3, 1, 1, 2)
_max_pool("ceil", (1, 2, 7, 8), 2, 2, 0, 1, True)
_max_pool("ceil/pad/dil", (2, 11, 12), 3, (3, 2), (1, 0), (2, 1), True)
_max_pool("indices", (2, 2, 6, 6), 3, 2, 1, indices=True)
_max_pool("unbatched", (3, 8, 8), 2)
_max_pool("big", (2, 8, 16, 16), 3, 2, 1)  # 4096 inputs
# windows inside the image: 8 windows of a row at a time, and a row's last few
_max_pool("k2/28x30", (2, 3, 28, 30), 2, indices=True)
_max_pool("k3s3/inside", (1, 2, 12, 31), 3, indices=True)
_max_pool("k3s2/inside", (1, 2, 11, 21), 3, 2)


def _avg_pool(tag, shape, kernel, stride=None, padding=0, ceil_mode=False, cip=True, div=None):
    kh, kw = _pair(kernel)
    attrs = {
        "kernel": (kh, kw),
        "stride": _pair(stride or kernel),
        "padding": _pair(padding),
        "ceil_mode": ceil_mode,
        "count_include_pad": cip,
        "divisor_override": div or 0,
    }

    def fn(x):
        return F.avg_pool2d(x, kernel, stride, padding, ceil_mode, cip, div)

    CASES.append(Case(f"avg_pool2d/{tag}", ("avg_pool2d",), fn, (shape,), ("avg_pool2d", attrs),
                      k=kh * kw, multilinear=True))  # fmt: skip


_avg_pool("k2", (2, 3, 6, 6), 2)
_avg_pool("k3s2p1", (2, 2, 7, 7), 3, 2, 1)
_avg_pool("k3s2p1/exclude_pad", (2, 2, 7, 7), 3, 2, 1, cip=False)
_avg_pool("ceil", (1, 2, 7, 8), (3, 2), 2, 1, True)
_avg_pool("ceil/exclude_pad", (1, 2, 7, 8), (3, 2), 2, 1, True, False)
_avg_pool("divisor5", (2, 11, 12), 3, (3, 2), (1, 0), True, False, 5)
_avg_pool("divisor3/pad", (1, 2, 6, 6), 2, 1, 1, div=3)
_avg_pool("big", (2, 4, 16, 16), 4, 4)  # 2048 inputs


def _adaptive(tag, shape, out):
    oh, ow = _pair(out)
    h, w = shape[-2:]
    k = (-(-h // oh) + 1) * (-(-w // ow) + 1)

    def fn(x):
        return F.adaptive_avg_pool2d(x, out)

    ref = ("adaptive_avg_pool2d", {"output_size": (oh, ow)})
    CASES.append(Case(f"adaptive_avg_pool2d/{tag}", ("adaptive_avg_pool2d",), fn, (shape,), ref,
                      k=k, multilinear=True))  # fmt: skip


_adaptive("divides", (2, 3, 8, 6), (4, 3))
_adaptive("uneven", (2, 3, 9, 10), (4, 3))
_adaptive("7x7to(3,5)", (3, 7, 7), (3, 5))
_adaptive("upsample", (1, 2, 5, 5), (7, 6))
_adaptive("int", (2, 2, 10, 10), 3)
_adaptive("big", (2, 8, 13, 11), (5, 7))  # 2288 inputs


def _global(x):
    return F.adaptive_avg_pool2d(x, 1)


CASES.append(Case("adaptive_avg_pool2d/1x1 (mean)", ("mean",), _global, ((2, 3, 5, 4),),
                  ("mean", {"dims": (2, 3), "keepdim": True}), k=20))  # fmt: skip


# ---------------------------------------------------------------- norms


def _batch_norm(tag, shape, affine, training, stats):
    c = shape[1]
    rm, rv = np.linspace(-0.5, 0.5, c), np.linspace(0.5, 2.0, c)
    attrs = {"training": training, "momentum": 0.1, "eps": 1e-5}

    def fn(x, w=None, b=None):
        m, v = (_on(x, rm), _on(x, rv)) if stats else (None, None)
        return F.batch_norm(x, m, v, w, b, training, 0.1, 1e-5)

    def ref(T, x, w=None, b=None):
        m, v = (None, None) if training else (fixed(rm), fixed(rv))
        return T("native_batch_norm", x, w, b, m, v, **attrs)

    shapes = (shape,) + (((c,), (c,)) if affine else ())
    n = int(np.prod(shape)) // c
    CASES.append(Case(f"batch_norm/{tag}", ("native_batch_norm",), fn, shapes, ref, k=n))


_batch_norm("train/affine", (8, 3), True, True, True)
_batch_norm("train/3d", (4, 3, 7), True, True, False)
_batch_norm("train/4d/no_affine", (4, 3, 5, 4), False, True, True)
_batch_norm("eval/affine", (4, 3, 5, 4), True, False, True)
_batch_norm("eval/no_affine", (6, 5), False, False, True)
_batch_norm("train/big", (8, 4, 8, 8), True, True, True)  # 2048 inputs


def _layer_norm(tag, shape, ndim, affine):
    ns = shape[-ndim:]
    attrs = {"normalized_ndim": ndim, "eps": 1e-5}

    def fn(x, w=None, b=None):
        return F.layer_norm(x, ns, w, b, 1e-5)

    def ref(T, x, w=None, b=None):
        return T("native_layer_norm", x, w, b, **attrs)

    shapes = (shape,) + ((ns, ns) if affine else ())
    k = int(np.prod(ns))
    CASES.append(Case(f"layer_norm/{tag}", ("native_layer_norm",), fn, shapes, ref, k=k))


_layer_norm("affine", (4, 10), 1, True)
_layer_norm("no_affine", (4, 10), 1, False)
_layer_norm("2 dims", (3, 4, 5), 2, True)
_layer_norm("3 dims/no_affine", (2, 3, 4, 5), 3, False)
_layer_norm("big", (16, 8, 16), 1, True)  # 2048 inputs
