"""Fuzz the Python entry points: random calls with random argument types and values.

    python tests/fuzz_entry_points.py --count 20000 [--seed 0] [--backend cpp|numpy] [--verbose]

Each call picks an entry point (a tapegrad function, a Tensor method or operator, nn, optim,
save/load, or a backend-protocol function of docs/backends.md) and arguments drawn from a pool
of good and bad values: tensors of random shapes (zero-size and 0-d included), dtypes and
requires_grad, tensors produced by earlier calls, Python and NumPy scalars (NaN, Inf, huge ints),
NumPy arrays of every dtype and odd layouts, shapes with negative or absurd sizes, slices, None,
strings, objects.

The only assertions: the process does not crash (the pytest wrapper, test_fuzz.py, runs this in
a subprocess, so a segfault fails the test instead of killing pytest), and every exception is
one of ALLOWED (for the backend-protocol functions, which expect arguments the front end has
already normalised, any exception is accepted: there only memory safety is asserted).
The run is a deterministic function of --seed and --count. Exit status 0 when clean; 1 with the
offending calls listed otherwise.
"""

import argparse
import io
import operator
import random
import sys
import traceback

import numpy as np

# OverflowError: PyTorch's answer to a Python int beyond 64 bits ("int too big to convert");
# KeyError: PyTorch's answer to an optimizer param group without "params" (KeyError: 'params')
ALLOWED = (
    KeyError,
    TypeError,
    ValueError,
    RuntimeError,
    IndexError,
    MemoryError,
    NotImplementedError,
    OverflowError,
    AssertionError,  # PyTorch's type for a CUDA device ("Torch not compiled with CUDA enabled")
)

# Sizes: tiny, or absurd (refused before allocating). Nothing in between, so that an accepted
# call never allocates more than a few MB.
INTS = [-(2**63), -5, -1, 0, 1, 2, 3, 4, 5, 2**40, 2**62, 2**63, 2**64]
SMALL_INTS = [0, 1, 2, 3, 4, -1, -2]
FLOATS = [0.0, -0.0, 1.5, -2.5, 0.1, float("nan"), float("inf"), float("-inf"), 1e-45, 65504.0,
          1e300, -1e-300]  # fmt: skip
NP_DTYPES = [np.float32, np.float16, np.float64, np.int32, np.int64, np.uint8, np.bool_,
             np.complex64, object, ">f4", ">f2", "<U2", "M8[D]"]  # fmt: skip


class Fuzzer:
    def __init__(self, seed, backend):
        import tapegrad as tg

        self.tg = tg
        self.r = random.Random(seed)
        self.backend = backend
        tg.set_backend(backend)
        tg.manual_seed(seed)
        self.pool = []  # tensors made by earlier calls
        self.entry_points = self._entry_points()

    # ---------------------------------------------------------------- values

    def shape(self, small=True):
        r = self.r
        n = r.choice([0, 1, 1, 2, 2, 3, 4])
        if small or r.random() < 0.8:
            return tuple(r.choice([0, 1, 1, 2, 3, 4]) for _ in range(n))
        return tuple(r.choice(INTS) for _ in range(n))

    def array(self):
        r = self.r
        dt = r.choice(NP_DTYPES)
        shape = self.shape()
        base = np.asarray(np.random.default_rng(r.getrandbits(32)).standard_normal(shape) * 3)
        if r.random() < 0.3 and base.size:
            base.flat[r.randrange(base.size)] = r.choice(FLOATS)
        try:
            with np.errstate(all="ignore"):
                a = base.astype(dt)
        except (TypeError, ValueError):
            a = np.array(["x"] * base.size).reshape(shape)
        kind = r.random()
        if kind < 0.1 and a.ndim:
            a = a[..., ::-1] if a.shape[-1] else a  # negative strides
        elif kind < 0.2 and a.ndim:
            a = np.repeat(a, 2, axis=-1)[..., ::2]  # strided
        elif kind < 0.3:
            a = a.copy()
            a.flags.writeable = False
        elif kind < 0.35 and a.ndim:
            a = np.asfortranarray(a)
        return a

    def tensor(self):
        r, tg = self.r, self.tg
        if self.pool and r.random() < 0.4:
            return r.choice(self.pool)
        dt = r.choice([tg.float32, tg.float16])
        a = np.asarray(np.random.default_rng(r.getrandbits(32)).standard_normal(self.shape()) * 2)
        if r.random() < 0.2 and a.size:
            a.flat[r.randrange(a.size)] = r.choice(FLOATS)
        be = self.backend if r.random() < 0.95 else ("numpy" if self.backend == "cpp" else "cpp")
        t = tg.tensor(a, dtype=dt, requires_grad=r.random() < 0.4, backend=be)
        if t.requires_grad and r.random() < 0.3:
            t = t * 2.0  # a non-leaf
        return t

    def value(self, depth=0):
        r = self.r
        k = r.random()
        if k < 0.35:
            return self.tensor()
        if k < 0.45:
            return r.choice(INTS + SMALL_INTS * 3)
        if k < 0.55:
            return r.choice(FLOATS)
        if k < 0.62:
            return self.array()
        if k < 0.68:
            return self.shape(small=False)
        if k < 0.72 and depth < 2:
            return [self.value(depth + 1) for _ in range(r.randrange(3))]
        if k < 0.76:
            return slice(r.choice([None, *SMALL_INTS, 2**70]), r.choice([None, *SMALL_INTS]),
                         r.choice([None, 1, 2, 0, -1, 2**70]))  # fmt: skip
        if k < 0.79:
            return r.choice([self.tg.float32, self.tg.float16, "float64", "int32", np.float64])
        if k < 0.82:
            return r.choice([None, Ellipsis, True, False])
        if k < 0.85:
            return r.choice(["abc", "", "mean", "sum", "none", "cpu", "cuda", b"\x80\x02"])
        if k < 0.88:
            return r.choice([1j, object(), {}, {"a": 1}, set(), len])
        if k < 0.91:
            with np.errstate(over="ignore"):
                f = np.float32(r.choice(FLOATS))
            return f if r.random() < 0.5 else np.int64(r.choice(INTS[1:-3]))
        return self.tensor()

    def args(self, n):
        return [self.value() for _ in range(n)]

    # ---------------------------------------------------------------- entry points

    def _entry_points(self):
        tg = self.tg
        import tapegrad.nn.functional as F
        from tapegrad import nn, optim

        ep = {}

        def add(name, fn, arity):
            ep[name] = (fn, arity)

        for name in ("tensor", "as_tensor", "from_numpy", "zeros", "ones", "rand", "randn"):
            add(f"tg.{name}", getattr(tg, name), (1, 3))
        for name in ("full", "arange", "linspace"):
            add(f"tg.{name}", getattr(tg, name), (1, 3))
        for name in ("zeros_like", "ones_like", "relu", "tanh", "sigmoid", "exp", "log", "abs",
                     "neg", "sqrt", "sum", "mean", "is_tensor"):  # fmt: skip
            add(f"tg.{name}", getattr(tg, name), (1, 3))
        for name in ("matmul", "mm", "pow", "add", "mul", "reshape", "transpose", "permute"):
            add(f"tg.{name}", getattr(tg, name), (2, 3))
        for name in ("relu", "tanh", "sigmoid", "linear", "mse_loss", "l1_loss"):
            add(f"F.{name}", getattr(F, name), (1, 4))
        ops = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow,
               operator.matmul, operator.iadd, operator.isub, operator.imul, operator.itruediv,
               operator.getitem, operator.neg, operator.abs, operator.pos]  # fmt: skip

        def with_tensor(op):
            def call(*a):  # one operand (at random) is a tensor: the call reaches tapegrad
                a = list(a)
                a[0 if op is operator.getitem else self.r.randrange(len(a))] = self.tensor()
                return op(*a)

            return call

        for op in ops:
            unary = op in (operator.neg, operator.abs, operator.pos)
            add(f"operator.{op.__name__}", with_tensor(op), (1, 1) if unary else (2, 2))
        methods = ["view", "reshape", "permute", "transpose", "sum", "mean", "to", "half", "float",
                   "backward", "item", "tolist", "numpy", "clone", "detach", "requires_grad_",
                   "fill_", "copy_", "add_", "sub_", "mul_", "div_", "zero_", "add", "sub", "mul",
                   "div", "pow", "matmul", "unsqueeze", "squeeze", "flatten", "size", "t",
                   "view_as", "type_as", "exp", "log", "relu", "sigmoid", "tanh", "abs", "sqrt",
                   "square", "__repr__", "__format__", "__float__", "__int__", "__bool__",
                   "__len__", "__array__", "numel", "dim"]  # fmt: skip

        def method(name):
            def call(*a):
                return getattr(self.tensor(), name)(*a)

            return call

        for m in methods:
            add(f"Tensor.{m}", method(m), (0, 2))

        def set_attr(name, v):
            setattr(self.tensor(), name, v)

        for attr in ("grad", "data", "requires_grad"):
            add(f"Tensor.{attr}=", lambda v, attr=attr: set_attr(attr, v), (1, 1))

        add("nn.Linear", lambda *a: nn.Linear(*a)(self.tensor()), (1, 3))
        add("nn.MSELoss", lambda *a: nn.MSELoss()(*a), (2, 2))
        add("nn.Sequential", lambda *a: nn.Sequential(*a), (0, 3))
        add("nn.Parameter", lambda *a: nn.Parameter(*a), (0, 2))
        add("Module.load_state_dict", self._load_state_dict, (1, 2))
        add("optim.SGD", lambda *a: self._optim(optim.SGD, *a), (1, 4))
        add("optim.Adam", lambda *a: self._optim(optim.Adam, *a), (1, 4))
        add("optim.AdamW", lambda *a: self._optim(optim.AdamW, *a), (1, 4))
        add("optim.RMSprop", lambda *a: self._optim(optim.RMSprop, *a), (1, 4))
        add("optim.Adagrad", lambda *a: self._optim(optim.Adagrad, *a), (1, 4))
        add("tg.save/load", self._save_load, (1, 2))
        add("tg.load(bytes)", self._load_bytes, (1, 1))
        add("tg.no_grad", self._no_grad, (1, 2))
        # the backend protocol (docs/backends.md) with random arguments: memory safety
        be = tg._backend.load(self.backend)
        protocol = ["from_numpy", "to_numpy", "item", "detach", "backward", "iop", "fill_",
                    "copy_", "sgd_update", "adam_update", "rmsprop_update",
                    "adagrad_update"]  # fmt: skip
        for name in sorted(be.OPS) + protocol:
            add(f"backend.{name}", getattr(be, name), (1, 14 if "update" in name else 4))
        return ep

    def _load_state_dict(self, sd, strict=True):
        from tapegrad import nn

        m = nn.Linear(2, 3)
        if isinstance(sd, (list, tuple)) and self.r.random() < 0.7:
            sd = {k: v for k, v in zip(("weight", "bias", "extra"), sd)}
        return m.load_state_dict(sd, strict=strict)

    def _optim(self, cls, params, *a):
        r = self.r
        if r.random() < 0.7:
            from tapegrad import nn

            params = [nn.Parameter(self.tensor().detach()) for _ in range(r.randrange(1, 3))]
        opt = cls(params, *a)
        for p in opt.param_groups[0]["params"]:
            if r.random() < 0.8:
                p.grad = self.tg.ones_like(p) if r.random() < 0.7 else self.tensor()
        opt.step()
        opt.zero_grad(r.random() < 0.5)
        return opt.state_dict()

    def _save_load(self, sd, cut=None):
        buf = io.BytesIO()
        self.tg.save(sd, buf)
        data = buf.getvalue()
        if isinstance(cut, int) and cut > 0:
            data = data[: cut % (len(data) + 1)]
        return self.tg.load(io.BytesIO(data))

    def _load_bytes(self, x):
        data = bytes(self.r.getrandbits(8) for _ in range(self.r.randrange(64)))
        if self.r.random() < 0.5:
            data = b"PK\x03\x04" + data
        return self.tg.load(io.BytesIO(data))

    def _no_grad(self, t, *a):
        with self.tg.no_grad():
            return t * 2.0 if hasattr(t, "shape") else t

    # ---------------------------------------------------------------- the loop

    def step(self, i, verbose):
        r = self.r
        name = r.choice(sorted(self.entry_points))
        fn, (lo, hi) = self.entry_points[name]
        args = self.args(r.randint(lo, hi))
        desc = f"#{i} {name}({', '.join(_short(a) for a in args)})"
        if verbose:
            print(desc, flush=True)
        try:
            with np.errstate(all="ignore"):
                out = fn(*args)
        except ALLOWED:
            return None
        except Exception:  # noqa: BLE001 - reported
            if name.startswith("backend."):
                # the protocol takes arguments the front end has normalised (docs/backends.md):
                # any exception is fine there, only memory safety (no crash) is asserted
                return None
            return desc + "\n" + traceback.format_exc(limit=4)
        if isinstance(out, self.tg.Tensor):
            if len(self.pool) < 64:
                self.pool.append(out)
            else:
                self.pool[r.randrange(64)] = out
            if out.requires_grad and r.random() < 0.3:
                try:
                    (out.sum() if out.numel() != 1 else out).backward()
                except ALLOWED:
                    pass
                except Exception:  # noqa: BLE001
                    return desc + " then backward\n" + traceback.format_exc(limit=4)
        return None


def _short(a):
    import tapegrad as tg

    if isinstance(a, (np.ndarray, tg.Tensor)):
        s = f"<{type(a).__name__} {a.dtype} {tuple(a.shape)}>"
    else:
        s = repr(a)
    return s if len(s) < 60 else s[:57] + "..."


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backend", default="cpp", choices=["cpp", "numpy"])
    ap.add_argument("--verbose", action="store_true", help="print each call before making it")
    args = ap.parse_args(argv)
    fz = Fuzzer(args.seed, args.backend)
    bad = []
    for i in range(args.count):
        err = fz.step(i, args.verbose)
        if err:
            bad.append(err)
    print(f"fuzz: {args.count} calls over {len(fz.entry_points)} entry points on {args.backend} "
          f"(seed {args.seed}): {len(bad)} unexpected exceptions, 0 crashes")  # fmt: skip
    for b in bad[:20]:
        print("\n" + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
