"""Every public function, class, method and property of tapegrad has a docstring.

"Public" is what a user reaches without an underscore: the names a public module exports
(`__all__`, or else its names without a leading underscore) that tapegrad defines, and the
methods and properties those classes define or inherit from tapegrad's own bases. A pybind11
docstring that is only the generated signature does not count.
"""

import importlib
import inspect
import pkgutil

import pytest
import tapegrad

# Modules that are public by name but hold no API of their own to document here.
SKIP_MODULES = {"tapegrad.__main__"}


def public_modules():
    names = ["tapegrad"]
    for info in pkgutil.walk_packages(tapegrad.__path__, "tapegrad."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts[1:]) or info.name in SKIP_MODULES:
            continue
        if ".backends.numpy_ref" in info.name or info.name.startswith("tapegrad.backends."):
            continue  # the reference backend's internals are reached through tapegrad's ops
        names.append(info.name)
    return names


def ours(obj):
    mod = getattr(obj, "__module__", None) or ""
    return mod == "tapegrad" or mod.startswith("tapegrad.")


def has_doc(obj):
    # The object's own __doc__: inspect.getdoc would lend a class its base class's text and a
    # method the text of the method it overrides.
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    doc = inspect.cleandoc(doc) if isinstance(doc, str) else None
    if not doc:
        return False
    lines = [ln for ln in doc.strip().splitlines() if ln.strip()]
    if inspect.isbuiltin(obj) and lines and lines[0].startswith(obj.__name__ + "("):
        lines = lines[1:]  # pybind11's generated signature
    return bool(lines) and len(" ".join(lines)) >= 10


def exported(mod):
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    for name in names:
        obj = getattr(mod, name, None)
        if inspect.ismodule(obj) or obj is None:
            continue
        if (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)) and (
            ours(obj) or inspect.isbuiltin(obj) and "tapegrad" in (obj.__module__ or "")
        ):
            yield name, obj


def members(cls):
    seen = set()
    for klass in cls.__mro__:
        if klass is object or not ours(klass):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property) or inspect.isfunction(value):
                yield f"{klass.__module__}.{klass.__qualname__}.{name}", value


def public_names():
    """{qualified name: object}, each function, class, method and property once."""
    found = {}
    for modname in public_modules():
        mod = importlib.import_module(modname)
        for name, obj in exported(mod):
            found.setdefault(f"{obj.__module__}.{getattr(obj, '__qualname__', name)}", obj)
            if inspect.isclass(obj):
                for where, value in members(obj):
                    found.setdefault(where, value)
    return found


def undocumented():
    return sorted(where for where, obj in public_names().items() if not has_doc(obj))


def test_every_public_name_has_a_docstring():
    missing = undocumented()
    if missing:
        pytest.fail(f"{len(missing)} public names have no docstring:\n" + "\n".join(missing))


if __name__ == "__main__":
    missing = undocumented()
    total = len(public_names())
    print("\n".join(missing))
    print(f"{total - len(missing)} of {total} public names have a docstring")
