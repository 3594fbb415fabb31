"""Parity cases for float16 matrix products (mm, matmul, linear), forward and backward.

PyTorch's CPU float16 products (no AVX512-FP16) run ATen's own kernels, each with its own
summation order; the inputs here spread over several binades so that a dot product's float32
rounding errors reach the float16 result and any difference in that order shows."""

import zlib

import numpy as np

MATMUL = (((1, 1), (1, 1)), ((7, 16), (16, 33)), ((33, 100), (100, 7)), ((64, 64), (64, 64)),
          ((16,), (16,)), ((33,), (33, 7)), ((7, 33), (33,)), ((3, 7, 16), (16, 5)),
          ((100, 257), (257, 31)))  # fmt: skip
# linear's forward sums in 64 block lanes, 8 tail lanes over blocks of 16, then one by one: the
# in-features cover each part present or absent (784: blocks and tail lanes; 130 and 200: blocks
# and the last few; 1000: all three; 33: tail lanes and the last; 10: the last only).
LINEAR = ((64, 784, 256), (64, 10, 32), (5, 33, 7), (3, 130, 5), (4, 200, 9), (2, 1000, 19))
# Operands passed transposed (w.t(), k.transpose(-2, -1)): ATen picks its kernel, and with it the
# summation order, from the layout, in the forward and in mm's and bmm's backward; stacks of the
# same batch shape, small ones (bmm's naive loop below 400 multiply-adds) and large; a stack @ a
# matrix (one mm over the stacked rows: a stack of several is copied dense, a stack of one is a
# view).
TRANSPOSED = (((33, 100), (100, 7)), ((64, 64), (64, 64)), ((100, 257), (257, 31)),
              ((1, 64), (64, 40)), ((40, 64), (64, 1)), ((2, 20, 30), (2, 30, 20)),
              ((4, 33, 40), (4, 40, 50)), ((3, 5, 7), (3, 7, 9)),
              ((3, 33, 40), (40, 50)), ((1, 40, 50), (50, 30)))  # fmt: skip
# PyTorch's matmul picks its route by which operand requires grad: a stack @ a matrix that does
# not is bmm when the stack's batch does not fold (a transposed stack); a matrix @ a stack is bmm
# when the matrix does not, else one transposed mm. (shapes, a transposed, b transposed, which
# require grad); the outputs compared are the product and the gradients of those operands,
# except a's on the transposed route of a stack of several (not followed: docs/numerics.md).
ROUTES = (((3, 33, 40), (40, 50), True, False, (True, False)),
          ((3, 33, 40), (40, 50), True, True, (True, False)),
          ((33, 40), (3, 40, 50), False, False, (False, True)),
          ((33, 40), (3, 40, 50), True, True, (False, True)),
          ((33, 40), (1, 40, 50), False, False, (True, True)),
          ((33, 40), (1, 40, 50), True, False, (True, True)),
          ((33, 40), (3, 40, 50), False, True, (True, True)),
          ((5, 7), (2, 7, 9), True, False, (False, True)))  # fmt: skip
SPREADS = {"normal": (0, 0), "spread": (-5, 3)}


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def values(rng, shape, spread):
    lo, hi = SPREADS[spread]
    scale = 2.0 ** rng.integers(lo, hi + 1, shape)
    return (rng.standard_normal(shape) * scale).astype(np.float16)


def fwd_bwd(T, fn, arrays, name, spread):
    leaves = [T.tensor(a).requires_grad_(True) for a in arrays]
    out = fn(T, *leaves)
    g = T.tensor(values(rng_for(name + "/upstream"), tuple(out.shape), spread))
    out.backward(g)
    return [out] + [leaf.grad for leaf in leaves]


def cases():
    for spread in SPREADS:
        for sa, sb in MATMUL:
            for op in ("matmul", "mm"):
                if op == "mm" and (len(sa) != 2 or len(sb) != 2):
                    continue
                name = f"matmul16/{op}/{spread}/{sa}@{sb}"

                def case(T, sa=sa, sb=sb, op=op, spread=spread, name=name):
                    rng = rng_for(name)
                    a, b = values(rng, sa, spread), values(rng, sb, spread)
                    f = (lambda T, x, y: x @ y) if op == "matmul" else (lambda T, x, y: T.mm(x, y))
                    return fwd_bwd(T, f, [a, b], name, spread)

                yield name, case
        for sa, sb in TRANSPOSED:
            for ta, tb in ((True, False), (False, True), (True, True)):
                name = f"matmul16/transposed/{spread}/{sa}@{sb}/ta={ta}/tb={tb}"

                def case(T, sa=sa, sb=sb, ta=ta, tb=tb, spread=spread, name=name):
                    rng = rng_for(name)
                    swap = lambda s, t: s[:-2] + (s[-1], s[-2]) if t else s  # noqa: E731
                    a, b = values(rng, swap(sa, ta), spread), values(rng, swap(sb, tb), spread)

                    def f(T, x, y):
                        return (x.transpose(-2, -1) if ta else x) @ (
                            y.transpose(-2, -1) if tb else y
                        )

                    return fwd_bwd(T, f, [a, b], name, spread)

                yield name, case
        for sa, sb, ta, tb, req in ROUTES:
            name = f"matmul16/route/{spread}/{sa}@{sb}/ta={ta}/tb={tb}/requires={req}"

            def case(T, sa=sa, sb=sb, ta=ta, tb=tb, req=req, spread=spread, name=name):
                rng = rng_for(name)
                swap = lambda s, t: s[:-2] + (s[-1], s[-2]) if t else s  # noqa: E731
                a = T.tensor(values(rng, swap(sa, ta), spread)).requires_grad_(req[0])
                b = T.tensor(values(rng, swap(sb, tb), spread)).requires_grad_(req[1])
                x = a.transpose(-2, -1) if ta else a
                out = x @ (b.transpose(-2, -1) if tb else b)
                out.backward(
                    T.tensor(values(rng_for(name + "/upstream"), tuple(out.shape), spread))
                )
                kept_a = req[0] and not (len(sa) == 2 and len(sb) > 2 and sb[0] > 1)
                return [out] + ([a.grad] if kept_a else []) + ([b.grad] if req[1] else [])

            yield name, case
        for batch, fin, fout in LINEAR:
            for bias in (True, False):
                name = f"matmul16/linear/{spread}/bias={bias}/{batch}x{fin}->{fout}"

                def case(T, batch=batch, fin=fin, fout=fout, bias=bias, spread=spread, name=name):
                    rng = rng_for(name)
                    arrays = [values(rng, (batch, fin), spread), values(rng, (fout, fin), spread)]
                    if bias:
                        arrays.append(values(rng, (fout,), spread))
                    F = T.nn.functional
                    return fwd_bwd(T, lambda T, *xs: F.linear(*xs), arrays, name, spread)

                yield name, case
