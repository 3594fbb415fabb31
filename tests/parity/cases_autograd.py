"""Parity cases for the autograd API: autograd.grad against .backward's results (non-leaf and
leaf inputs, several outputs, grad_outputs), tensor hooks that replace the gradient,
retain_grad, backward(inputs=), custom autograd.Functions (PyTorch's Legendre tutorial and
a two-input one), and module forward / full backward hooks, in float16, float32 and float64,
bit for bit.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f16": np.float16, "f64": np.float64}
SIZES = (1, 7, 33, 100)


def _x(n, dt, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(n) * scale).astype(DTYPES[dt])


def _grad_mlp(dt, n):
    def fn(T):
        x = T.tensor(_x((n, 5), dt, 1), requires_grad=True)
        w = T.tensor(_x((1, 5), dt, 2, 0.5), requires_grad=True)
        h = (x * w).sigmoid()  # elementwise only: PyTorch's float32 gemm and tanh are MKL's
        y = (h * h).sum()
        gh, gw = T.autograd.grad(y, [h, w], retain_graph=True)
        (gx,) = T.autograd.grad([y, h.sum()], x, [T.ones_like(y), T.full_like(y, 0.5)])
        return [gh, gw, gx]

    return fn


def _hooks(dt, n):
    def fn(T):
        x = T.tensor(_x(n, dt, 3), requires_grad=True)
        w = T.tensor(_x(n, dt, 4), requires_grad=True)
        h = x * w
        h.register_hook(lambda g: g * 3)
        h.retain_grad()
        x.register_hook(lambda g: g + 1)
        (h.sigmoid() * w).sum().backward()
        return [x.grad, w.grad, h.grad]

    return fn


def _backward_inputs(dt, n):
    def fn(T):
        x = T.tensor(_x(n, dt, 5), requires_grad=True)
        w = T.tensor(_x(n, dt, 6), requires_grad=True)
        y = (x * w).sigmoid()
        loss = (y * y).sum()
        loss.backward(inputs=[y, w])
        return [y.grad, w.grad]

    return fn


def _legendre(dt, n):
    def fn(T):
        class P3(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return 0.5 * (5 * x**3 - 3 * x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 1.5 * (5 * x**2 - 1)

        x = T.tensor(_x(n, dt, 7), requires_grad=True)
        c = T.tensor(_x(1, dt, 8), requires_grad=True)
        y = P3.apply(c + x * 0.5)
        (y * y).sum().backward()
        return [y, x.grad, c.grad]

    return fn


def _two_inputs(dt, n):
    def fn(T):
        class MulAdd(T.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, k):
                ctx.save_for_backward(a, b)
                ctx.k = k
                return a * b + k

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return g * b, (g * a).sum(0, keepdim=True), None

        a = T.tensor(_x((n, 3), dt, 9), requires_grad=True)
        b = T.tensor(_x((1, 3), dt, 10), requires_grad=True)
        MulAdd.apply(a, b, 0.25).sigmoid().sum().backward()
        return [a.grad, b.grad]

    return fn


def _module_hooks(dt, n):
    def fn(T):
        class Affine(T.nn.Module):  # elementwise: PyTorch's float32 gemm (nn.Linear) is MKL's
            def __init__(self):
                super().__init__()
                self.w = T.nn.Parameter(T.tensor(_x((1, 4), dt, 11, 0.5)))
                self.b = T.nn.Parameter(T.tensor(_x(4, dt, 12, 0.5)))

            def forward(self, x):
                return x * self.w + self.b

        mod = Affine()
        seen = []
        mod.register_forward_pre_hook(lambda m, a: (a[0] * 2,))
        mod.register_forward_hook(lambda m, a, out: out.relu())
        mod.register_full_backward_hook(lambda m, gi, go: seen.extend([gi[0], go[0]]))
        x = T.tensor(_x((n, 4), dt, 13), requires_grad=True)
        out = mod(x)
        (out * out).sum().backward()
        return [out, x.grad, mod.w.grad] + seen

    return fn


def cases():
    for dt in DTYPES:
        for n in SIZES:
            tag = f"{dt}/n={n}"
            yield f"autograd/grad_mlp/{tag}", _grad_mlp(dt, n)
            yield f"autograd/hooks/{tag}", _hooks(dt, n)
            yield f"autograd/backward_inputs/{tag}", _backward_inputs(dt, n)
            yield f"autograd/function_legendre/{tag}", _legendre(dt, n)
            yield f"autograd/function_two_inputs/{tag}", _two_inputs(dt, n)
            yield f"autograd/module_hooks/{tag}", _module_hooks(dt, n)
