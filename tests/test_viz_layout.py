"""tg.viz.draw's layout: read back from the SVG, no edge passes through a box but its own two
ends, and no two boxes overlap (an MLP, a CNN, random graphs)."""

import random
import re

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn.functional as F

_NUM = r"-?\d+(?:\.\d+)?"


def parse_svg(svg):
    """({id: (x0, y0, x1, y1)} of every box and ellipse, [(from, to, [(x, y), ...])] edges)."""
    boxes = {}
    for gid, body in re.findall(r'<g class="[a-z]+" id="([^"]+)">(.*?)</g>', svg, re.S):
        m = re.search(rf'<rect x="({_NUM})" y="({_NUM})" width="({_NUM})" height="({_NUM})"', body)
        if m:
            x, y, w, h = map(float, m.groups())
        else:
            m = re.search(
                rf'<ellipse cx="({_NUM})" cy="({_NUM})" rx="({_NUM})" ry="({_NUM})"', body
            )
            cx, cy, rx, ry = map(float, m.groups())
            x, y, w, h = cx - rx, cy - ry, 2 * rx, 2 * ry
        boxes[gid] = (x, y, x + w, y + h)
    edges = []
    for a, b, d in re.findall(
        r'<path class="edge" data-from="([^"]+)" data-to="([^"]+)" d="([^"]+)"', svg
    ):
        edges.append((a, b, _polyline(d)))
    return boxes, edges


def _polyline(d):
    """Path data (M, L, C) as points; a cubic is sampled finely."""
    tokens = re.findall(rf"[MLC]|{_NUM}", d)
    pts, i, cmd = [], 0, None
    while i < len(tokens):
        if tokens[i] in "MLC":
            cmd, i = tokens[i], i + 1
        n = 6 if cmd == "C" else 2
        v = [float(t) for t in tokens[i : i + n]]
        i += n
        if cmd == "C":
            p0 = np.array(pts[-1])
            c1, c2, p3 = np.array(v[0:2]), np.array(v[2:4]), np.array(v[4:6])
            for s in np.linspace(0, 1, 33)[1:]:
                q = (
                    (1 - s) ** 3 * p0
                    + 3 * (1 - s) ** 2 * s * c1
                    + 3 * (1 - s) * s**2 * c2
                    + s**3 * p3
                )
                pts.append(tuple(q))
        else:
            pts.append(tuple(v))
    return pts


def _hits(p, q, box, shrink=0.5):
    """Does segment p-q enter the box (shrunk a little, so touching an edge is no hit)?"""
    x0, y0, x1, y1 = box[0] + shrink, box[1] + shrink, box[2] - shrink, box[3] - shrink
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for num, den in ((p[0] - x0, -dx), (x1 - p[0], dx), (p[1] - y0, -dy), (y1 - p[1], dy)):
        if den == 0:
            if num < 0:
                return False
            continue
        t = num / den
        if den < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def check_layout(drawing):
    boxes, edges = parse_svg(drawing.svg)
    assert len(edges) == len(drawing.edges) and len(boxes) == len(drawing.boxes)
    ids = list(boxes)
    for i, a in enumerate(ids):  # no two boxes overlap
        for b in ids[i + 1 :]:
            A, B = boxes[a], boxes[b]
            assert A[2] <= B[0] or B[2] <= A[0] or A[3] <= B[1] or B[3] <= A[1], (a, b)
    for a, b, pts in edges:
        assert pts[0][0] == pytest.approx(boxes[a][2], abs=0.11)  # leaves its source ...
        assert pts[-1][0] == pytest.approx(boxes[b][0], abs=0.11)  # ... and reaches its target
        for p, q in zip(pts, pts[1:], strict=False):
            for k, box in boxes.items():
                if k not in (a, b):
                    assert not _hits(p, q, box), f"edge {a} -> {b} crosses {k}"
    return boxes, edges


def test_hit_test_itself():
    box = (10, 10, 20, 20)
    assert _hits((0, 15), (30, 15), box) and _hits((15, 0), (15, 30), box)
    assert not _hits((0, 0), (30, 5), box) and not _hits((0, 10), (30, 10), box)
    assert _polyline("M 0 0 C 1 0, 1 2, 2 2")[-1] == pytest.approx((2, 2))


@pytest.mark.parametrize("loss_fn", ["cross_entropy", "mse"])
def test_mlp(loss_fn):
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 2))
    x = tg.randn(5, 3)
    out = model(x)
    if loss_fn == "mse":
        loss = F.mse_loss(out, tg.zeros(5, 2))
    else:
        loss = F.cross_entropy(out, tg.tensor([0, 1, 0, 1, 1]))
    boxes, _ = check_layout(tg.viz.draw(loss))
    assert len(boxes) >= 10


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_cnn(backend):
    with tg.use_backend(backend):
        tg.manual_seed(0)
        conv, fc = tg.nn.Conv2d(1, 2, 3), tg.nn.Linear(2 * 3 * 3, 3)
        x = tg.randn(2, 1, 8, 8)
        h = F.max_pool2d(F.relu(conv(x)), 2)
        loss = F.cross_entropy(fc(h.flatten(1)), tg.tensor([0, 2]))
        check_layout(tg.viz.draw(loss))


def _random_graph(seed):
    """A random expression over a few leaves: values reused far downstream, leaves used twice."""
    rnd = random.Random(seed)
    leaves = [
        tg.tensor([rnd.uniform(-1, 1)] * 2, requires_grad=True) for _ in range(rnd.randint(1, 4))
    ]
    vals = list(leaves) + [tg.tensor([0.5, 2.0])]
    for _ in range(rnd.randint(2, 12)):
        kind = rnd.choice(["add", "mul", "tanh", "sub", "scale"])
        a, b = rnd.choice(vals), rnd.choice(vals)
        ops = {"add": a.__add__, "mul": a.__mul__, "sub": a.__sub__}
        if kind in ops:
            vals.append(ops[kind](b))
        else:
            vals.append(a.tanh() if kind == "tanh" else a * 3.0)
    out = vals[-1]
    for v in rnd.sample(vals, min(3, len(vals))):  # join a few branches at the end
        out = out + v
    return out.sum(), leaves


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs(seed):
    y, leaves = _random_graph(seed)
    if y.grad_fn is None:
        pytest.skip("the random expression used no leaf")
    check_layout(tg.viz.draw(y))


def test_the_neuron_stays_compact():
    x1, x2 = tg.tensor(2.0), tg.tensor(0.0)
    w1, w2 = tg.tensor(-3.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(0.5, requires_grad=True)
    d = tg.viz.draw((x1 * w1 + x2 * w2 + b).tanh())
    check_layout(d)
    assert d.width < 1200 and d.height < 400
