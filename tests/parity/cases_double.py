"""Parity cases for second derivatives: autograd.functional's hvp, vhp, hessian, jacobian and jvp
of small functions (tanh, sin, a polynomial, an MLP Linear(3, 8)-Tanh-Linear(8, 1) with fixed
weights), a WGAN-GP gradient penalty backpropagated into the critic's weights, a custom
autograd.Function whose backward is made of differentiable ops, differentiated twice, and
backward(create_graph=True) with x.grad then used in a loss; float32 and float64 (float16 for
the elementwise functions).

The first-order values of a create_graph backward are the kernel's own bits; the second-order
ones come from the formulas' ops, in PyTorch's order where derivatives.yaml gives one.
"""

import numpy as np

DTYPES = {"f32": np.float32, "f64": np.float64, "f16": np.float16}


def _x(shape, dt, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale).astype(DTYPES[dt])


def _fns(T):
    return {
        "tanh": lambda x: x.tanh().sum(),
        "sin": lambda x: (x.sin() * x).sum(),
        "poly": lambda x: (x**3 * 0.5 - x * x * 2 + x).sum(),
    }


def _functional(which, fname, dt, n):
    def fn(T):
        F = T.autograd.functional
        f = _fns(T)[fname]
        x = T.tensor(_x(n, dt, 1))
        v = T.tensor(_x(n, dt, 2))
        if which == "hessian":
            return F.hessian(f, x)
        if which == "hvp":
            return list(F.hvp(f, x, v))
        if which == "vhp":
            return list(F.vhp(f, x, v))
        if which == "jacobian":
            return F.jacobian(lambda x: T.autograd.grad(f(x), x, create_graph=True)[0], x)
        return list(F.jvp(lambda x: x.tanh() * x.sin(), x, v))

    return fn


def _mlp(T, dt):
    torch_like = T.nn.Sequential(T.nn.Linear(3, 8), T.nn.Tanh(), T.nn.Linear(8, 1))
    with T.no_grad():
        for k, p in enumerate(torch_like.parameters()):
            p.copy_(T.tensor(_x(tuple(p.shape), dt, 10 + k, 0.7)))
    return torch_like.to(T.float64 if dt == "f64" else T.float32)


def _mlp_case(which, dt):
    def fn(T):
        F = T.autograd.functional
        net = _mlp(T, dt)
        x = T.tensor(_x(3, dt, 3))
        v = T.tensor(_x(3, dt, 4))

        def f(x):
            return net(x).sum()

        if which == "hessian":
            return F.hessian(f, x)
        if which == "hvp":
            return list(F.hvp(f, x, v))
        if which == "jacobian":
            return F.jacobian(lambda x: net(x.reshape(1, 3)), x)
        return list(F.jvp(net, x, v))

    return fn


def _gradient_penalty(dt, n):
    def fn(T):
        net = _mlp(T, dt)
        x = T.tensor(_x((n, 3), dt, 5), requires_grad=True)
        (g,) = T.autograd.grad(net(x).sum(), x, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        return [g, penalty] + [p.grad for p in net.parameters()]

    return fn


def _function_twice(dt, n):
    def fn(T):
        class Cube(T.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x * x  # differentiable: it records under create_graph

        x = T.tensor(_x(n, dt, 6), requires_grad=True)
        y = Cube.apply(x.sin())
        (g,) = T.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = T.autograd.grad(g.sum(), x, create_graph=True)
        (t,) = T.autograd.grad((h * h).sum(), x)
        return [g, h, t]

    return fn


def _backward_create_graph(dt, n):
    def fn(T):
        x = T.tensor(_x(n, dt, 7), requires_grad=True)
        w = T.tensor(_x(n, dt, 8), requires_grad=True)
        (x.tanh() * w).sum().backward(create_graph=True)
        gx = x.grad
        loss = (gx * gx).sum() + (w.grad * x).sum()
        x.grad = None
        w.grad = None
        loss.backward()
        return [gx, loss, x.grad, w.grad]

    return fn


def cases():
    for dt in ("f32", "f64", "f16"):
        for n in (1, 5, 40):
            tag = f"{dt}/n={n}"
            for which in ("hessian", "hvp", "vhp", "jacobian", "jvp"):
                for fname in ("tanh", "sin", "poly"):
                    if which == "jvp" and fname != "tanh":
                        continue
                    yield f"double/{which}/{fname}/{tag}", _functional(which, fname, dt, n)
            yield f"double/function_twice/{tag}", _function_twice(dt, n)
            yield f"double/backward_create_graph/{tag}", _backward_create_graph(dt, n)
    for dt in ("f32", "f64"):
        for which in ("hessian", "hvp", "jacobian", "jvp"):
            yield f"double/mlp/{which}/{dt}", _mlp_case(which, dt)
        for n in (1, 16):
            yield f"double/gradient_penalty/{dt}/n={n}", _gradient_penalty(dt, n)
