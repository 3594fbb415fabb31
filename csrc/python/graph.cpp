// The autograd graph as Python sees it: grad_fn objects (PyTorch's names, next_functions, what
// each node saved) and a node's own backward for the learner tools.
#include <algorithm>
#include <string>

#include "autograd/autograd.h"
#include "autograd/capture.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {

struct GradFn {
  NodePtr node;
  std::string name() const { return grad_fn_name(*node); }
};

// What an edge to a leaf looks like from Python (PyTorch's AccumulateGrad node).
struct AccumulateGrad {
  TensorPtr leaf;
};

py::tuple shape_tuple(const Shape& s) {
  py::tuple t(s.n);
  for (int i = 0; i < s.n; ++i)
    t[size_t(i)] = s.d[i];
  return t;
}

py::tuple next_functions(const Node& n) {
  py::tuple out(n.n_in);
  for (int i = 0; i < n.n_in; ++i) {
    const Edge& e = n.next[i];
    py::object f = e.node   ? py::cast(GradFn{e.node})
                   : e.leaf ? py::cast(AccumulateGrad{e.leaf})
                            : py::object(py::none());
    out[size_t(i)] = py::make_tuple(f, 0);
  }
  return out;
}

// The node's own backward on `grad`, nothing else: no accumulation, nothing freed.
py::tuple apply_node(const Node& n, py::handle grad) {
  const TensorPtr& g = arg(grad, "grad");
  if (g->shape != n.out_shape || g->dt != n.out_dt)
    throw py::value_error("apply: grad must be " + std::string(dtype_name(n.out_dt)) + " " +
                          n.out_shape.str() + ", got " + describe(*g));
  if (n.released && n.had_saved) n.unpack(0);  // raises PyTorch's second-backward error
  TensorPtr grads[kMaxInputs];
  bool prev = grad_enabled();
  set_grad_enabled(false);
  try {
    node_backward(const_cast<Node&>(n), g, grads);
  } catch (...) {
    set_grad_enabled(prev);
    throw;
  }
  set_grad_enabled(prev);
  py::tuple out(n.n_in);
  for (int i = 0; i < n.n_in; ++i)
    out[size_t(i)] = grads[i] ? wrap_obj(grads[i]) : py::object(py::none());
  return out;
}

py::list saved_info(const Node& n) {
  py::list out;
  for (int i = 0; i < kMaxInputs; ++i) {
    const SavedTensor& s = n.saved[i];
    if (!s.used) continue;
    py::dict d;
    d["index"] = i;
    d["freed"] = !s.st;
    if (s.st) {
      d["shape"] = shape_tuple(s.shape);
      d["dtype"] = dtype_name(s.dt);
      d["version"] = s.version;
      d["current_version"] = s.st->version;
      d["value"] = wrap_obj(n.as_saved(i));
    }
    out.append(d);
  }
  return out;
}

// The object's address as Python's id() in hex, as PyTorch's node reprs show it.
std::string address(py::handle self) {
  return py::str("{:#x}")
      .attr("format")(reinterpret_cast<uintptr_t>(self.ptr()))
      .cast<std::string>();
}

}  // namespace

py::object grad_fn_object(const NodePtr& node) {
  return py::cast(GradFn{node});
}

void register_graph(py::module_& m) {
  py::class_<GradFn>(m, "GradFn")
      .def("name", &GradFn::name)
      .def("__repr__",
           [](py::handle self) {
             return "<" + self.cast<const GradFn&>().name() + " object at " + address(self) + ">";
           })
      .def("__eq__",
           [](const GradFn& a, py::object b) {
             return py::isinstance<GradFn>(b) && b.cast<const GradFn&>().node == a.node;
           })
      .def("__hash__", [](const GradFn& g) { return std::hash<const Node*>()(g.node.get()); })
      .def_property_readonly("seq", [](const GradFn& g) { return g.node->seq; })
      .def_property_readonly("op",
                             [](const GradFn& g) {
                               const Node& n = *g.node;
                               return n.extra ? n.extra->op : std::string(n.op->name);
                             })
      .def_property_readonly("next_functions",
                             [](const GradFn& g) { return next_functions(*g.node); })
      .def_property_readonly("input_shapes",
                             [](const GradFn& g) {
                               py::list l;
                               for (int i = 0; i < g.node->n_in; ++i)
                                 l.append(shape_tuple(g.node->in_shape[i]));
                               return py::tuple(l);
                             })
      .def_property_readonly("input_dtypes",
                             [](const GradFn& g) {
                               py::list l;
                               for (int i = 0; i < g.node->n_in; ++i)
                                 l.append(dtype_name(g.node->in_dt[i]));
                               return py::tuple(l);
                             })
      .def_property_readonly("output_shape",
                             [](const GradFn& g) { return shape_tuple(g.node->out_shape); })
      .def_property_readonly("output_dtype",
                             [](const GradFn& g) { return dtype_name(g.node->out_dt); })
      .def_property_readonly("scalar",
                             [](const GradFn& g) -> py::object {
                               if (std::string(g.node->op->kind) != "scalar") return py::none();
                               return py::float_(g.node->s);
                             })
      .def_property_readonly("released", [](const GradFn& g) { return g.node->released; })
      .def("saved", [](const GradFn& g) { return saved_info(*g.node); })
      // For create_graph: the node's op-specific attributes, and its saved input i / output as
      // tensors with their history again (the leaf itself, or the saved values with the edge's
      // grad_fn), as PyTorch's SavedVariable unpacks; None where nothing was saved.
      .def_property_readonly("attrs",
                             [](const GradFn& g) {
                               const Node& n = *g.node;
                               py::dict d;
                               d["s"] = n.s;
                               d["s2"] = n.s2;
                               d["a1"] = shape_tuple(n.a1);
                               d["a2"] = shape_tuple(n.a2);
                               d["i1"] = n.i1;
                               return d;
                             })
      .def("input",
           [](const GradFn& g, int i) -> py::object {
             const Node& n = *g.node;
             if (i < 0 || i >= n.n_in) throw py::index_error("input index out of range");
             const Edge& e = n.next[i];
             if (e.leaf) return wrap_obj(e.leaf);
             bool out_in_0 = (n.op->saves & kSaveOut) != 0;
             if ((i == 0 && out_in_0) || !n.saved[i].used) return py::none();
             TensorPtr t = alias(*n.unpack(i));
             if (e.node) {
               t->grad_fn = e.node;
               t->requires_grad = true;
             }
             return wrap_obj(t);
           })
      .def("output",
           [](const GradFn& g) -> py::object {
             const Node& n = *g.node;
             if (!(n.op->saves & kSaveOut) || !n.saved[0].used) return py::none();
             TensorPtr t = alias(*n.unpack(0));
             t->grad_fn = g.node;
             t->requires_grad = true;
             return wrap_obj(t);
           })
      // The output tensor's hooks on `grad` (a tensor that may carry history): create_graph's
      // sweep runs in Python and calls them where the C++ sweep would.
      .def("run_hooks",
           [](const GradFn& g, py::handle grad) {
             return wrap_obj(run_hooks(g.node->hooks, arg(grad)));
           })
      // A tensor carrying input i's history (the leaf itself, or zeros with the edge's grad_fn;
      // None without an edge): a formula links a gradient to an input it does not read, so
      // that differentiating it gives zeros, as PyTorch's backward ops that take that input.
      .def("link",
           [](const GradFn& g, int i) -> py::object {
             const Node& n = *g.node;
             if (i < 0 || i >= n.n_in) throw py::index_error("input index out of range");
             const Edge& e = n.next[i];
             if (e.leaf) return wrap_obj(e.leaf);
             if (!e.node) return py::none();
             TensorPtr t = zeros(n.in_shape[i], n.in_dt[i]);
             t->grad_fn = e.node;
             t->requires_grad = true;
             return wrap_obj(t);
           })
      // A user's Function node's Python backward (None for an op of the list): create_graph
      // calls it itself, with grad mode on, so the gradients it returns keep their history.
      .def_property_readonly("backward_fn",
                             [](const GradFn& g) -> py::object {
                               const auto& x = g.node->extra;
                               if (!x || !x->user) return py::none();
                               return std::static_pointer_cast<PyFn>(x->user)->f;
                             })
      // mask (one bool per input, optional): the inputs whose gradient is wanted; the others
      // are skipped for this call (create_graph's sweep prunes what leads nowhere it needs).
      .def(
          "apply",
          [](const GradFn& g, py::handle grad, py::handle mask) {
            Node& n = *g.node;
            if (mask.is_none()) return apply_node(n, grad);
            bool saved[kMaxInputs];
            std::copy(n.in_requires, n.in_requires + kMaxInputs, saved);
            int i = 0;
            for (py::handle m : py::reinterpret_borrow<py::sequence>(mask)) {
              if (i < n.n_in && !m.cast<bool>()) n.in_requires[i] = false;
              ++i;
            }
            struct Restore {
              Node& n;
              const bool* saved;
              ~Restore() { std::copy(saved, saved + kMaxInputs, n.in_requires); }
            } restore{n, saved};
            return apply_node(n, grad);
          },
          py::arg("grad"), py::arg("mask") = py::none());
  py::class_<AccumulateGrad>(m, "AccumulateGrad")
      .def("name", [](const AccumulateGrad&) { return std::string("AccumulateGrad"); })
      .def("__repr__",
           [](py::handle self) { return "<AccumulateGrad object at " + address(self) + ">"; })
      .def_property_readonly("variable", [](const AccumulateGrad& a) { return wrap_obj(a.leaf); })
      .def_property_readonly("next_functions", [](const AccumulateGrad&) { return py::tuple(); });
}

}  // namespace tgpy
