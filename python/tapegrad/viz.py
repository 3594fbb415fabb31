"""`tg.viz.draw(tensor)`: the graph behind a tensor as a picture, with no system dependency.

micrograd's `draw_dot`, for tensors, built in: every op is an ellipse, every value a box showing
its name (a leaf's label, `%seq` for an op's output), dtype and shape, and for small tensors (at
most 6 elements) its data and grad. The layout is our own (pure Python, no Graphviz): values in
columns by depth, ops between the values they read and the value they make, rows ordered to
cross few edges, and edges routed so that none passes through a box. The result renders in
Jupyter (`_repr_svg_`), saves as `.svg` (`.save(path)`),
and `.dot` / `.to_dot()` give the same graph as Graphviz DOT text.

What each box can show:

- leaves: data, and `.grad` when it is set;
- op outputs: data when known (the root; ops run inside `tg.autograd.record_values()`; outputs
  the op saved for its backward are not guessed), and grad, the gradient of the drawn tensor
  with respect to that value, computed by running the graph's nodes (as `backward_steps` does,
  leaving every `.grad` untouched) when the graph is still alive: draw before `backward()`, or
  after `backward(retain_graph=True)`;
- constants (inputs that need no gradient): dtype and shape.

In the graph of a gradient made with create_graph=True, the ops its backward formulas recorded
are drawn dashed, and their tooltip names the node whose backward made them.
"""

from html import escape

from ._viz_layout import layout
from .autograd import _graph as G
from .autograd._double import origin
from .autograd._labels import graph_names
from .tensor import Tensor

_FONT = 12
_CHAR_W = 7.0
_LINE_H = 16
_PAD = 8
_COL_GAP = 46
_ROW_GAP = 18


class _Box:
    __slots__ = ("id", "kind", "lines", "col", "order", "x", "y", "w", "h", "title", "dashed")

    def __init__(self, id_, kind, lines, title=""):
        self.id, self.kind, self.lines, self.title = id_, kind, lines, title
        self.dashed = False
        self.col, self.order = 0, 0.0
        self.x = self.y = 0.0
        longest = max(len(s) for s in lines)
        if kind == "op":
            self.w = max(44.0, longest * _CHAR_W + 2.5 * _PAD)
            self.h = 30.0
        else:
            self.w = longest * _CHAR_W + 2 * _PAD
            self.h = len(lines) * _LINE_H + _PAD


class Drawing:
    """A drawn graph: `_repr_svg_()`, `svg`, `save(path)`, `dot`, `to_dot()`."""

    def __init__(self, boxes, edges, title):
        self.boxes, self.edges, self.title = boxes, edges, title
        self._layout()
        self.svg = self._to_svg()
        self.dot = self.to_dot()

    # ---- layout: columns by depth, edges routed around the boxes (_viz_layout)

    def _layout(self):
        self.width, height, self.paths = layout(self.boxes, self.edges, _COL_GAP, _ROW_GAP)
        self.height = height + (_LINE_H if self.title else 0)

    # ---- SVG

    def _to_svg(self):
        top = _LINE_H if self.title else 0
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" '
            f'height="{self.height:.0f}" viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'font-family="monospace" font-size="{_FONT}">',
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
            '<rect width="100%" height="100%" fill="white"/>',
        ]
        if self.title:
            out.append(f'<text x="10" y="{_LINE_H - 2}" fill="#333">{escape(self.title)}</text>')
        out.append(f'<g transform="translate(0,{top})">')
        for (a, b), d in zip(self.edges, self.paths, strict=True):
            out.append(
                f'<path class="edge" data-from="{escape(a)}" data-to="{escape(b)}" d="{d}" '
                f'fill="none" stroke="#555" marker-end="url(#arrow)"/>'
            )
        for b in self.boxes.values():
            out.append(f'<g class="{b.kind}" id="{escape(b.id)}">')
            if b.title:
                out.append(f"<title>{escape(b.title)}</title>")
            if b.kind == "op":
                cx, cy = b.x + b.w / 2, b.y + b.h / 2
                style = (
                    'fill="#fdeee0" stroke="#c8671f" stroke-dasharray="4 2"'
                    if b.dashed
                    else 'fill="#e8f0fe" stroke="#3b6fd8"'
                )
                out.append(
                    f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}" '
                    f"{style}/>"
                )
                out.append(
                    f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle">'
                    f"{escape(b.lines[0])}</text>"
                )
            else:
                fill = {"leaf": "#fff4d6", "const": "#f2f2f2", "root": "#e3f6e3"}.get(
                    b.kind, "#ffffff"
                )
                out.append(
                    f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" '
                    f'rx="4" fill="{fill}" stroke="#444"/>'
                )
                for k, line in enumerate(b.lines):
                    y = b.y + _PAD / 2 + (k + 1) * _LINE_H - 4
                    weight = ' font-weight="bold"' if k == 0 else ""
                    out.append(
                        f'<text x="{b.x + _PAD:.1f}" y="{y:.1f}"{weight}>{escape(line)}</text>'
                    )
            out.append("</g>")
        out.append("</g></svg>")
        return "\n".join(out)

    def _repr_svg_(self):
        return self.svg

    def save(self, path):
        """Write the picture: `.svg` (or `.dot` for the DOT text)."""
        path = str(path)
        text = self.dot if path.endswith(".dot") else self.svg
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # ---- DOT

    def to_dot(self):
        """Return the graph as Graphviz DOT text: ops as ellipses, tensors as record boxes (their
        lines: name, dtype and shape, values), edges in data-flow order, left to right.

        Render it with Graphviz (e.g. `dot -Tpng`); tapegrad itself draws SVG without it."""
        lines = ["digraph tapegrad {", "  rankdir=LR;", '  node [fontname="monospace"];']
        for b in self.boxes.values():
            if b.kind == "op":
                lines.append(f'  "{b.id}" [label="{_dot_escape(b.lines[0])}", shape=ellipse];')
            else:
                label = " | ".join(_dot_escape(s) for s in b.lines)
                lines.append(f'  "{b.id}" [label="{{ {label} }}", shape=record];')
        for a, b in self.edges:
            lines.append(f'  "{a}" -> "{b}";')
        lines.append("}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<tapegrad.viz.Drawing: {len(self.boxes)} boxes, {len(self.edges)} edges>"


def _dot_escape(s):
    out = s.replace("\\", "\\\\").replace('"', '\\"')
    for ch in "{}|<>":
        out = out.replace(ch, "\\" + ch)
    return out


def _value_lines(head, dtype, shape, data, grad, small):
    lines = [f"{head}  {G.type_str(dtype, shape)}"]
    n = 1
    for s in shape or ():
        n *= s
    if n <= small:
        if data is not None:
            lines.append(f"data {G.fmt_array(data, small)}")
        if grad is not None:
            lines.append(f"grad {G.fmt_array(grad, small)}")
    return lines


def _sweep_grads(t, root, gradient):
    """{node: gradient arriving at it} and {leaf key: gradient}, without touching .grad."""
    from ._grad_mode import no_grad

    if gradient is None:
        if t.numel() != 1 or not t.requires_grad:
            return {}, {}
        from .tensor import ones_like

        gradient = ones_like(t)
    at_node, at_leaf = {}, {}
    pending = {root: gradient}
    with no_grad():
        for node in G.nodes(root):
            g = pending.pop(node, None)
            if g is None:
                continue
            if node.released:
                return {}, {}
            at_node[node] = G.array_of(g)
            for (kind, obj), gi in zip(G.edges(node), node.apply(g), strict=False):
                if gi is None or kind == "const":
                    continue
                if kind == "node":
                    prev = pending.get(obj)
                    pending[obj] = gi if prev is None else prev + gi
                else:
                    k = G.leaf_key(obj)
                    prev = at_leaf.get(k)
                    at_leaf[k] = gi if prev is None else prev + gi
    return at_node, {k: G.array_of(v) for k, v in at_leaf.items()}


def draw(t, names=None, gradient=None, small=G.SMALL, title=None):
    """Draw the graph behind tensor `t` (module docstring). names: {label: leaf tensor}."""
    if not isinstance(t, Tensor):
        raise TypeError(f"draw expects a tapegrad tensor, got {type(t).__name__}")
    from .autograd._record import value_of

    labels = graph_names(t, names)
    boxes, edges = {}, []
    root = t.grad_fn
    if title is None:
        title = f"{t._be.name} backend"
    if root is None:
        label = labels.leaf(t) if t.requires_grad else "tensor"
        grad = None if t.grad is None else G.array_of(t.grad)
        lines = _value_lines(label, t.dtype.name, t.shape, G.array_of(t), grad, small)
        boxes["v_root"] = _Box("v_root", "root", lines)
        return Drawing(boxes, edges, title)

    at_node, at_leaf = _sweep_grads(t, root, gradient)
    order = list(reversed(G.nodes(root)))  # increasing seq
    depth = {}
    leaf_box = {}
    n_const = 0
    for node in order:
        ins = [
            (pos, kind, obj, dt, sh)
            for pos, ((kind, obj), dt, sh) in enumerate(
                zip(G.edges(node), node.input_dtypes, node.input_shapes, strict=False)
            )
            if not (kind == "const" and sh is None)  # an absent optional input
        ]
        d = max([depth[obj] for _, kind, obj, _, _ in ins if kind == "node"], default=0)
        in_ids = []
        for pos, kind, obj, dt, sh in ins:
            if kind == "node":
                in_ids.append(f"v{obj.seq}")
                continue
            if kind == "leaf":
                k = G.leaf_key(obj)
                bid = leaf_box.get(k)
                if bid is None:
                    bid = leaf_box[k] = f"leaf{len(leaf_box)}"
                    grad = G.array_of(obj.grad) if obj.grad is not None else at_leaf.get(k)
                    lines = _value_lines(
                        labels.leaf(obj), obj.dtype.name, obj.shape, G.array_of(obj), grad, small
                    )
                    b = _Box(bid, "leaf", lines, "leaf tensor (requires grad)")
                    b.col, b.order = 2 * d, node.seq - 0.5
                    boxes[bid] = b
                else:  # used again: stay left of every op that reads it
                    boxes[bid].col = min(boxes[bid].col, 2 * d)
            else:
                bid = f"const{n_const}"
                n_const += 1
                label, val = labels.const(node, pos)
                lines = _value_lines(label.split(" ")[0], dt, sh, val, None, small)
                b = _Box(bid, "const", lines, "an input that needs no gradient")
                b.col, b.order = 2 * d, node.seq - 0.5
                boxes[bid] = b
            in_ids.append(bid)
        depth[node] = d + 1
        s = G.scalar_of(node)
        op_label = node.op if s is None else f"{node.op} {G.fmt_array(s)}"
        title = f"{node.name()}  (seq {node.seq})"
        made_by = origin(node)  # an op a create_graph backward recorded: drawn dashed
        ob = _Box(f"op{node.seq}", "op", [op_label], title + (f", {made_by}" if made_by else ""))
        ob.dashed = made_by is not None
        ob.col, ob.order = 2 * d + 1, node.seq
        boxes[ob.id] = ob
        data = G.array_of(t) if node == root else value_of(node)
        kind = "root" if node == root else "value"
        lines = _value_lines(
            f"%{node.seq}", node.output_dtype, node.output_shape, data, at_node.get(node), small
        )
        vb = _Box(f"v{node.seq}", kind, lines, f"output of {node.name()}")
        vb.col, vb.order = 2 * d + 2, node.seq
        boxes[vb.id] = vb
        for i in in_ids:
            edges.append((i, ob.id))
        edges.append((ob.id, vb.id))
    return Drawing(boxes, edges, title)
