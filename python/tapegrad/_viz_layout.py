"""The layered layout behind `tg.viz.draw`, and edge routes that never cross a box.

Boxes sit in columns (`box.col`, set by the caller; every edge goes from a lower column to a
higher one). An edge that skips columns gets a waypoint in each column it crosses: a thin slot
stacked with that column's boxes like a box of its own. Within a column nothing overlaps
vertically, so a horizontal run at the height of a box (or a slot) meets only that box, and the
bends happen in the empty gaps between columns. Hence an edge touches no box but its two ends.
The order within each column comes from barycentre sweeps (fewer crossings), and the heights
from a least-squares placement that keeps that order (straighter edges).
"""

_SLOT_H = 6.0  # height of an edge's waypoint in a column it crosses
_SWEEPS = 4


class _Slot:
    __slots__ = ("col", "order", "x", "y", "w", "h")

    def __init__(self, col, order):
        self.col, self.order = col, order
        self.x = self.y = self.w = 0.0
        self.h = _SLOT_H


def layout(boxes, edges, col_gap, row_gap, margin=10.0):
    """Place `boxes` ({id: box with col, order, w, h}); returns (width, height, paths): paths[i]
    is edge i as SVG path data, from the right side of its source to the left side of its
    target."""
    routes = []
    for a, b in edges:
        s, d = boxes[a], boxes[b]
        if d.col <= s.col:
            raise ValueError(f"edge {a} -> {b} does not go to a later column")
        chain = [s] + [_Slot(c, s.order) for c in range(s.col + 1, d.col)] + [d]
        routes.append(chain)
    items = list(boxes.values()) + [x for r in routes for x in r[1:-1]]
    preds, succs = {}, {}
    for r in routes:
        for u, v in zip(r, r[1:], strict=False):
            preds.setdefault(id(v), []).append(u)
            succs.setdefault(id(u), []).append(v)
    ncols = max(x.col for x in items) + 1 if items else 0
    cols = [[] for _ in range(ncols)]
    for x in sorted(items, key=lambda x: x.order):
        cols[x.col].append(x)
    _order(cols, preds, succs)
    _heights(cols, preds, succs, row_gap)
    top = min((x.y for x in items), default=0.0)
    x0, bounds = margin, []
    for col in cols:
        width = max((x.w for x in col), default=0.0)
        for x in col:
            x.y += margin - top
            x.x = x0 + (width - x.w) / 2
        bounds.append((x0, x0 + width))
        x0 += width + col_gap
    bottom = max((x.y + x.h for x in items), default=0.0)
    return x0 - col_gap + margin, bottom + margin, [_path(r, bounds) for r in routes]


def _path(route, bounds):
    """Straight runs across columns at the height of the box or slot there; S-bends in gaps."""
    s = route[0]
    y = s.y + s.h / 2
    parts = [f"M {s.x + s.w:.1f} {y:.1f}"]
    for k, t in enumerate(route[1:], 1):
        right = bounds[route[k - 1].col][1]
        left, far = bounds[t.col]
        if k == 1 and right - (s.x + s.w) > 0.05:
            parts.append(f"L {right:.1f} {y:.1f}")
        ty = t.y + t.h / 2
        mid = (right + left) / 2
        parts.append(f"C {mid:.1f} {y:.1f}, {mid:.1f} {ty:.1f}, {left:.1f} {ty:.1f}")
        y = ty
        end = far if k < len(route) - 1 else t.x
        if end - left > 0.05:
            parts.append(f"L {end:.1f} {y:.1f}")
    return " ".join(parts)


def _order(cols, preds, succs):
    pos = {}

    def index(col):
        for i, x in enumerate(col):
            pos[id(x)] = i

    for col in cols:
        index(col)
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        seq = range(1, len(cols)) if forward else range(len(cols) - 2, -1, -1)
        near = preds if forward else succs
        for c in seq:

            def key(x, near=near):
                ns = near.get(id(x))
                return sum(pos[id(n)] for n in ns) / len(ns) if ns else pos[id(x)]

            cols[c].sort(key=key)
            index(cols[c])


def _heights(cols, preds, succs, gap):
    """Centre each item on its neighbours, keeping the column's order and `gap` between items."""
    for col in cols:  # first guess: stacked
        y = 0.0
        for x in col:
            x.y, y = y, y + x.h + gap
    for sweep in range(_SWEEPS):
        forward = sweep % 2 == 0
        near = preds if forward else succs
        for col in cols if forward else reversed(cols):
            want = []
            for x in col:
                ns = near.get(id(x))
                c = sum(n.y + n.h / 2 for n in ns) / len(ns) if ns else x.y + x.h / 2
                want.append(c - x.h / 2)
            _place(col, want, gap)


def _place(col, want, gap):
    """Tops closest (least squares) to `want` with the order kept: merge overlapping blocks."""
    blocks = []  # [first index, last index, top of the block, sum of offsets-adjusted wants, n]
    offs, off = [], 0.0
    for x in col:
        offs.append(off)
        off += x.h + gap
    for i in range(len(col)):
        blocks.append([i, i, want[i] - offs[i], 1])
        while len(blocks) > 1:
            (a0, _, at, an), (_, b1, bt, bn) = blocks[-2], blocks[-1]
            if at <= bt:  # block tops in "offset" space must not decrease
                break
            blocks[-2:] = [[a0, b1, (at * an + bt * bn) / (an + bn), an + bn]]
    for first, last, t, _ in blocks:
        for i in range(first, last + 1):
            col[i].y = t + offs[i]
