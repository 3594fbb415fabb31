"""tape, backward_steps and viz.draw label each leaf the same way, and a gradient line names the
leaf that receives it (values from first principles)."""

import re

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import _graph as G


@pytest.fixture(params=["cpp", "numpy"])
def backend(request):
    with tg.use_backend(request.param):
        yield request.param


def _labels_everywhere(y, names=None):
    """(tape's leaf labels, {label: grad sent by backward_steps}, {label: grad line in the SVG})
    with each label mapped to its leaf's storage key, so a label naming two leaves shows up."""
    tp = tg.autograd.tape(y, names=names)
    tape_labels = {label: G.leaf_key(leaf) for label, leaf in tp.leaves}
    svg = tg.viz.draw(y, names=names).svg
    steps = list(tg.autograd.backward_steps(y, names=names))
    sent = {}
    for st in steps[:-1]:
        for label, g in st.grads_out:
            if label in tape_labels and g is not None:
                sent[label] = sent.get(label, 0) + G.array_of(g)
    accumulated = {
        label: (G.leaf_key(leaf), G.array_of(g)) for label, leaf, g, _ in steps[-1].leaf_grads
    }
    drawn = {}
    for body in re.findall(r'<g class="leaf" id="[^"]+">(.*?)</g>', svg, re.S):
        texts = re.findall(r"<text[^>]*>([^<]*)</text>", body)
        label = texts[0].split("  ")[0]
        drawn[label] = next((s[5:] for s in texts if s.startswith("grad ")), None)
    return tape_labels, sent, accumulated, drawn


def _neuron():
    x1, x2 = tg.tensor(2.0), tg.tensor(0.0)
    w1, w2 = tg.tensor(-3.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(6.8813735870195432, requires_grad=True)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    return o, (w1, w2, b)


def test_readme_snippet_labels_agree(backend):
    x1, x2 = tg.tensor(2.0), tg.tensor(0.0)
    w1, w2 = tg.tensor(-3.0, requires_grad=True), tg.tensor(1.0, requires_grad=True)
    b = tg.tensor(6.8813735870195432, requires_grad=True)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    tape_labels, sent, accumulated, drawn = _labels_everywhere(o)
    assert list(tape_labels) == ["w1", "w2", "b"]  # the caller's variable names
    for name, leaf in (("w1", w1), ("w2", w2), ("b", b)):
        assert tape_labels[name] == G.leaf_key(leaf)
        assert accumulated[name][0] == G.leaf_key(leaf)
    # o = tanh(0.8814) = 1/sqrt(2): do/dw1 = (1 - 1/2) * x1 = 1, do/dw2 = 0.5 * x2 = 0, do/db = 0.5
    want = {"w1": 1.0, "w2": 0.0, "b": 0.5}
    for name, v in want.items():
        assert float(sent[name]) == pytest.approx(v, abs=1e-6)
        assert float(accumulated[name][1]) == pytest.approx(v, abs=1e-6)
        assert float(drawn[name]) == pytest.approx(v, abs=1e-4)
    assert w1.grad.item() == pytest.approx(1.0) and b.grad.item() == pytest.approx(0.5)
    listing = str(tg.autograd.tape(o))
    assert "b: leaf f32[] = 6.8814" in listing and "add(%" in listing and ", b: f32[])" in listing


def test_unbound_leaves_are_numbered_in_recording_order(backend):
    o, (w1, w2, b) = _neuron()  # the leaves live only in a tuple the tools are not shown
    del w1, w2, b
    tape_labels, sent, accumulated, drawn = _labels_everywhere(o)
    assert list(tape_labels) == ["leaf0", "leaf1", "leaf2"]
    assert float(sent["leaf0"]) == pytest.approx(1.0)  # leaf0 is w1 everywhere
    assert float(sent["leaf2"]) == pytest.approx(0.5)  # leaf2 is b everywhere
    assert float(accumulated["leaf2"][1]) == pytest.approx(0.5)
    assert float(drawn["leaf0"]) == pytest.approx(1.0) and float(drawn["leaf2"]) == 0.5


def test_given_names_win_and_the_rest_are_still_labelled(backend):
    o, params = _neuron()
    w1, w2, b = params
    tape_labels, _, accumulated, drawn = _labels_everywhere(o, names={"bias": b})
    assert set(tape_labels) == {"w1", "w2", "bias"}
    assert set(accumulated) == set(tape_labels) == set(drawn)
    assert tape_labels["bias"] == G.leaf_key(b)
    assert float(accumulated["bias"][1]) == pytest.approx(0.5)


def test_mlp_parameters_are_named_after_the_module(backend):
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.Tanh(), tg.nn.Linear(4, 2))
    x = tg.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
    target = tg.tensor([0, 1, 0, 1, 1])
    loss = tg.nn.functional.cross_entropy(model(x), target)
    tape_labels, sent, accumulated, drawn = _labels_everywhere(loss)
    params = dict(model.named_parameters())
    assert set(tape_labels) == {f"model.{n}" for n in params}
    assert set(accumulated) == set(tape_labels) == set(drawn)
    for n, p in params.items():
        label = f"model.{n}"
        assert tape_labels[label] == accumulated[label][0] == G.leaf_key(p)
        np.testing.assert_array_equal(G.array_of(p.grad), accumulated[label][1])
        np.testing.assert_allclose(sent[label], accumulated[label][1], rtol=1e-6, atol=1e-7)
    # first principles for the last bias: the mean over the batch of softmax(logits) - onehot
    logits = G.array_of(model(x).detach()).astype(np.float64)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(5), [0, 1, 0, 1, 1]] -= 1
    np.testing.assert_allclose(G.array_of(params["2.bias"].grad), p.mean(0), atol=1e-6)


def test_list_items_and_leaf_roots(backend):
    params = [tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor(3.0, requires_grad=True)]
    y = (params[0] * params[1]).sum()
    tape_labels, sent, _, _ = _labels_everywhere(y)
    assert list(tape_labels) == ["params[0]", "params[1]"]
    assert float(sent["params[1]"]) == pytest.approx(3.0)  # d/dp1 sum(p0 * p1) = sum(p0)
    w = tg.tensor(2.0, requires_grad=True)
    assert "w  f32[]" in tg.viz.draw(w).svg
    (step,) = tg.autograd.backward_steps(w)
    assert step.leaf_grads[0][0] == "w"
