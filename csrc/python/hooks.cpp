// The autograd API's entry points into the tape: tensor hooks, retain_grad, and sweeps that
// name their roots and inputs (autograd.backward / autograd.grad / backward(inputs=)).
#include <mutex>
#include <vector>

#include "autograd/autograd.h"
#include "autograd/capture.h"
#include "kernels/kernels.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {
std::vector<TensorPtr> tensor_list(py::handle seq, const char* what) {
  std::vector<TensorPtr> out;
  for (py::object h : py::reinterpret_borrow<py::sequence>(seq))
    out.push_back(arg(h, what));
  return out;
}
}  // namespace

void register_hooks(py::module_& m) {
  // fn(grad) -> replacement or None, run on every gradient that reaches t; None removes it.
  // The front end keeps the user's hooks in order and checks what each hands back.
  m.def("set_grad_hook", [](py::handle t, py::handle fn) {
    TensorImpl& x = *arg(t);
    GradHooks& h = hooks_of(x);
    h.fns.clear();
    if (fn.is_none()) return;
    auto keep = std::make_shared<PyFn>(fn);
    h.fns.push_back([keep](const TensorPtr& g) -> TensorPtr {
      py::gil_scoped_acquire gil;
      py::object r = keep->f(wrap_obj(g));
      return r.is_none() ? nullptr : arg(r, "hook result");
    });
  });
  // fn() once a leaf's .grad holds a sweep's gradient (register_post_accumulate_grad_hook);
  // None removes it. The front end keeps the user's hooks and passes them the tensor.
  m.def("set_post_accumulate_hook", [](py::handle t, py::handle fn) {
    TensorImpl& x = *arg(t);
    if (x.grad_fn) throw std::invalid_argument("set_post_accumulate_hook: t is not a leaf");
    GradHooks& h = hooks_of(x);
    h.post = nullptr;
    if (fn.is_none()) return;
    auto keep = std::make_shared<PyFn>(fn);
    h.post = [keep] {
      py::gil_scoped_acquire gil;
      keep->f();
    };
  });
  // retain_grad(): t.grad = the gradient reaching t (a copy), or t.grad + it (out of place).
  m.def("retain_grad", [](py::handle t) {
    TensorPtr x = arg(t);
    if (!x->grad_fn) return;  // a leaf keeps its .grad anyway
    GradHooks& h = hooks_of(*x);
    if (h.retain) return;
    std::weak_ptr<TensorImpl> weak = x;
    h.retain = [weak](const TensorPtr& g) {
      TensorPtr x = weak.lock();
      if (!x) return;
      TensorPtr old = grad_of(*x);
      TensorPtr sum = copy_of(*g);
      if (old) {
        sum = copy_of(*old);
        add_into(*sum, *g);
      }
      set_grad(*x, sum);
    };
  });
  m.def("retains_grad", [](py::handle t) {
    const TensorImpl& x = *arg(t);
    return bool(x.grad_fn && x.grad_fn->hooks && x.grad_fn->hooks->retain);
  });
  // A user's autograd.Function: out' = out with a node whose backward calls
  // backward_fn(grad) -> one gradient (or None) per input; `saved` its saved tensors.
  m.def("function_node", [](py::handle out, py::handle inputs, const std::string& cls,
                            py::handle backward_fn, py::handle saved) {
    auto extra = std::make_shared<NodeExtra>();
    extra->op = cls;
    extra->name = cls + "Backward";
    auto keep = std::make_shared<PyFn>(backward_fn);
    extra->user = keep;
    extra->backward = [keep](const TensorPtr& g, TensorPtr* grads) {
      py::gil_scoped_acquire gil;
      py::object r = keep->f(wrap_obj(g));
      size_t i = 0;
      for (py::object h : py::reinterpret_borrow<py::sequence>(r)) {
        if (i == size_t(kMaxInputs)) break;
        grads[i++] = h.is_none() ? nullptr : arg(h, "gradient");
      }
    };
    return wrap_obj(function_node(*arg(out), tensor_list(inputs, "inputs"), extra,
                                  tensor_list(saved, "saved tensors")));
  });
  // `values` (a tensor without history) as a tensor with like's history: a double-backward
  // sweep keeps the first-order kernels' bits and records the formula's graph.
  m.def("with_history", [](py::handle values, py::handle like) {
    const TensorPtr& v = arg(values);
    const TensorPtr& l = arg(like);
    if (v->shape != l->shape || v->dt != l->dt)
      throw std::invalid_argument("with_history: values and like differ in shape or dtype");
    TensorPtr t = alias(*v);
    t->grad_fn = l->grad_fn;
    t->requires_grad = l->requires_grad;
    return wrap_obj(t);
  });
  // t takes like's history in place (a Function that marked t dirty: the caller's tensor
  // object is the output, its history now the Function's node). Not for a view (its base's
  // history would have to change too).
  m.def("set_history", [](py::handle t, py::handle like) {
    TensorImpl& x = *arg(t);
    const TensorPtr& l = arg(like);
    if (x.view_base) throw std::invalid_argument("set_history: t is a view");
    x.grad_fn = l->grad_fn;
    x.requires_grad = l->requires_grad;
  });
  // One more in-place change counted on t (PyTorch's mark_dirty bumps the version).
  m.def("bump_version", [](py::handle t) { arg(t)->bump_version(); });
  // A leaf's hooks on `grad`, for create_graph's sweep (see GradFn.run_hooks).
  m.def("run_leaf_hooks", [](py::handle t, py::handle grad) {
    return wrap_obj(run_hooks(arg(t)->hooks, arg(grad)));
  });
  // One sweep; returns one gradient (or None) per input when accumulate is false.
  m.def("run_backward",
        [](py::handle roots, py::handle grads, py::handle inputs, bool retain, bool accumulate) {
          Sweep s;
          s.roots = tensor_list(roots, "tensors");
          s.grads = tensor_list(grads, "grad_tensors");
          s.inputs = tensor_list(inputs, "inputs");
          s.retain_graph = retain;
          s.accumulate = accumulate;
          for (size_t k = 0; k < s.roots.size(); ++k)
            if (s.grads[k]->shape != s.roots[k]->shape || s.grads[k]->dt != s.roots[k]->dt)
              throw std::runtime_error("backward: the gradient is " + describe(*s.grads[k]) +
                                       ", the tensor is " + describe(*s.roots[k]));
          std::vector<TensorPtr> got = without_gil([&] { return run_backward(s); });
          py::list out;
          for (TensorPtr& g : got)
            out.append(g ? wrap_obj(std::move(g)) : py::none());
          return out;
        });
}

}  // namespace tgpy
