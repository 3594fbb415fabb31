"""`_core.pyi` cannot drift from the compiled module: every public name of `tapegrad._core` is in
the stub, the stub names nothing the module lacks, and every signature is the one the module's
docstrings give now. Regenerate with `python -m tapegrad._stubgen > python/tapegrad/_core.pyi`
and `ruff format` that file."""

import ast
import inspect
from pathlib import Path

import tapegrad
from tapegrad import _core, _stubgen

STUB = Path(tapegrad.__file__).with_name("_core.pyi")
REGENERATE = "regenerate: python -m tapegrad._stubgen > python/tapegrad/_core.pyi"


def top_level(tree):
    """{name: node} of the stub's definitions, not its imports or private helpers."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return {k: v for k, v in out.items() if not k.startswith("_")}


def members(cls_node):
    return {n.name for n in cls_node.body if isinstance(n, ast.FunctionDef)}


def module_members(cls):
    names = set()
    for attr, v in vars(cls).items():
        if attr in _stubgen.SKIP:
            continue
        if attr == "__init__" and not (v.__doc__ or "").startswith("__init__("):
            continue  # pybind11 gave it no constructor
        if isinstance(v, property) or callable(v):
            names.add(attr)
    return names


def test_stub_names_match_the_module():
    stub = top_level(ast.parse(STUB.read_text()))
    module = set(_stubgen.public_names(_core))
    assert not module - set(stub), f"missing from the stub ({REGENERATE})"
    assert not set(stub) - module, f"in the stub but not in _core ({REGENERATE})"
    for name, node in stub.items():
        obj = getattr(_core, name)
        if inspect.isclass(obj):
            assert isinstance(node, ast.ClassDef), name
            assert members(node) == module_members(obj), f"{name}'s members ({REGENERATE})"
        elif callable(obj):
            assert isinstance(node, ast.FunctionDef), name
        else:
            assert isinstance(node, ast.AnnAssign), name


def test_stub_signatures_are_current():
    # the AST ignores layout, so the formatted file compares equal to the raw output
    now = ast.parse(_stubgen.generate())
    on_disk = ast.parse(STUB.read_text())
    assert ast.dump(now) == ast.dump(on_disk), f"the stub is out of date ({REGENERATE})"


def test_stub_ships_with_the_package():
    assert STUB.is_file()
    assert STUB.with_name("py.typed").is_file()
