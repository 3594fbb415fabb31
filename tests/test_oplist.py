"""The op list (python/tapegrad/_oplist.py) against everything derived from it.

Each piece of docs/adding-an-op.md that can be forgotten without a build error is caught here:
the C++ table the extension was built from, the NumPy reference's kernels, the backend
functions, the generated Tensor methods and functions, and the tools' op tables.
"""

import pytest
import tapegrad as tg
from tapegrad import _oplist
from tapegrad.autograd import _graph, _hooks
from tapegrad.backends import cpp, numpy_ref


def test_the_list_is_well_formed():
    _oplist.check()
    assert len(set(_oplist.NAMES)) == len(_oplist.NAMES)


def test_the_extension_was_built_from_this_list():
    from tapegrad import _core

    want = tuple((n, g, k, " ".join(sorted(s.split()))) for n, g, k, s, _ in _oplist.OPS)
    got = tuple((n, g, k, " ".join(sorted(s.split()))) for n, g, k, s in _core.OP_TABLE)
    assert got == want, "rebuild the extension (pip install .): _core is stale"


@pytest.mark.parametrize("be", [cpp, numpy_ref], ids=lambda m: m.name)
def test_each_backend_has_a_function_per_op(be):
    assert tuple(be.OPS) == _oplist.NAMES
    missing = [n for n in _oplist.NAMES if not callable(getattr(be, n, None))]
    assert not missing, f"{be.name} backend lacks {missing}"


def test_the_reference_implements_every_op():
    missing = sorted(set(_oplist.NAMES) - set(numpy_ref.KERNELS))
    extra = sorted(set(numpy_ref.KERNELS) - set(_oplist.NAMES))
    assert not missing, f"no NumPy reference kernel for {missing}"
    assert not extra, f"reference kernels not in the op list: {extra}"
    for name in _oplist.NAMES:
        k = numpy_ref.KERNELS[name]
        assert callable(k.forward) and callable(k.backward), name


@pytest.mark.parametrize("name", _oplist.UNARY)
def test_unary_ops_are_methods_and_functions(name):
    x = tg.tensor([0.5, 1.5], requires_grad=True)
    assert getattr(x, name)().grad_fn.name() == _oplist.GRAD_FN[name]
    assert getattr(tg, name)(x).grad_fn.name() == _oplist.GRAD_FN[name]


def test_tool_tables_follow_the_list():
    assert tuple(_hooks.OP_FUNCS) == _oplist.NAMES
    assert _graph.SCALAR_OPS == {n for n in _oplist.NAMES if _oplist.KIND[n] == "scalar"}
