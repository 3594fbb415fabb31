"""Writes the C++ X-macros of the op list (python/tapegrad/_oplist.py) to oplist.inc.

Run by CMake at build time: `python gen_oplist.py OPLIST_PY OUT_INC`. The output is written only
when it changes, so an unchanged list rebuilds nothing.
"""

import runpy
import sys
from pathlib import Path

SAVE_FLAGS = {
    "in0": "kSaveIn0",
    "in1": "kSaveIn1",
    "in0:g1": "kSaveIn0ForGrad1",
    "in1:g0": "kSaveIn1ForGrad0",
    "out": "kSaveOut",
}


def render(table):
    table["check"]()
    lines = [
        "// Generated from python/tapegrad/_oplist.py by csrc/ops/gen_oplist.py: do not edit.",
        "// X(name, grad_fn, kind, saves) for every op; TG_UNARY_OPS: X(name) for the unary ones.",
        "#pragma once",
        "",
        "#define TG_OPS(X) \\",
    ]
    for name, grad_fn, kind, saves, _domain in table["OPS"]:
        flags = " | ".join(SAVE_FLAGS[s] for s in saves.split()) or "0"
        lines.append(f'  X({name}, "{grad_fn}", {kind}, ({flags})) \\')
    lines += ["  /* end of TG_OPS */", "", "#define TG_UNARY_OPS(X) \\"]
    lines += [f"  X({row[0]}) \\" for row in table["OPS"] if row[2] == "unary"]
    lines += ["  /* end of TG_UNARY_OPS */", ""]
    return "\n".join(lines)


def main(src, out):
    text = render(runpy.run_path(src))
    path = Path(out)
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


if __name__ == "__main__":
    main(*sys.argv[1:3])
