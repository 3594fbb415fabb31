// tapegrad.compile's C++ half: a captured step (autograd/capture.h) with its inputs and
// outputs, checked against each call's arguments and replayed without Python.
#include "autograd/capture.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "autograd/autograd.h"
#include "kernels/kernels.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {

// Bumped by the Python side whenever a module's parameters, buffers or submodules may have been
// reassigned (nn.Module.__setattr__ and friends): a capture made before checks its modules again.
uint64_t g_module_epoch = 0;

// The storage versions of the inputs a running capture was given, at its start.
thread_local std::vector<std::pair<const TensorImpl*, uint32_t>> tl_input_versions;

struct Captured {
  std::unique_ptr<Program> prog;
  // What the step function names directly (its closure cells and globals), as it was at capture:
  // a holder (a cell, or the globals dict with a name) and the object it held. Rebinding one
  // (w = new_tensor) makes the capture stale, as does a module whose parameters were replaced
  // (module_epoch differs: the Python side checks them and calls set_epoch or recaptures).
  struct Dep {
    py::object holder, name, value;  // name: None for a cell
  };
  std::vector<Dep> deps;
  uint64_t module_epoch = 0;
  bool deps_hold() const {
    for (const Dep& d : deps) {
      PyObject* now = d.name.is_none() ? PyCell_GET(d.holder.ptr())
                                       : PyDict_GetItem(d.holder.ptr(), d.name.ptr());
      if (now != d.value.ptr()) return false;
    }
    return true;
  }
  // One replay at a time: a replay writes the program's fixed buffers (inputs, activations,
  // gradients), so two threads replaying one capture take turns, as two eager steps would.
  std::mutex mu;
  // Take `mu` without holding the GIL while waiting (the holder may need the GIL to finish).
  std::unique_lock<std::mutex> turn() {
    std::unique_lock<std::mutex> lk(mu, std::try_to_lock);
    if (!lk.owns_lock()) {
      py::gil_scoped_release release;
      lk.lock();
    }
    return lk;
  }
  std::vector<TensorPtr> inputs, outputs;
  // Inputs the captured step only read (no in-place write reached their storage): a replay may
  // read the caller's tensor where it lies instead of a copy of it.
  std::vector<bool> read_only;
  // Every buffer the program touches, as it was at capture: a replay is refused (and the Python
  // side re-captures) if one was since given other storage, dtype or shape (e.g. model.half()).
  struct Snap {
    TensorImpl* t;
    Storage* st;
    DType dt;
    Shape shape;
  };
  std::vector<Snap> snaps;

  bool valid() const {
    for (const Snap& s : snaps)
      if (s.t->st.get() != s.st || s.t->dt != s.dt || s.t->shape != s.shape) return false;
    for (const auto& [leaf, expected] : prog->grad_expect)
      if (grad_of(*leaf).get() != expected) return false;
    return true;
  }

  void load_inputs(const py::sequence& srcs) {
    if (size_t(py::len(srcs)) != inputs.size())
      throw py::value_error("compiled step: expected " + std::to_string(inputs.size()) +
                            " tensor inputs");
    for (size_t i = 0; i < inputs.size(); ++i) {
      const TensorPtr& src = arg(srcs[i], "input");
      TensorImpl& dst = *inputs[i];
      if (src->shape != dst.shape || src->dt != dst.dt)
        throw py::value_error("compiled step: input " + std::to_string(i) + " is " +
                              describe(*src) + ", the capture used " + describe(dst));
      if (input_requires[i] && src.get() != &dst)
        throw py::value_error("compiled step: input " + std::to_string(i) +
                              " requires grad and is bound by identity; it is not the tensor "
                              "the capture used");
      if (src.get() != &dst && dst.numel) convert_into(*src, dst);  // src may be a view
    }
  }

  // The signature a call must match to be replayed: per argument either a tensor (shape,
  // dtype and requires_grad of the captured input) or a constant compared with ==.
  std::vector<py::object> consts;  // null where the argument is a tensor
  std::vector<bool> input_requires;
  bool grad_mode = true;
  int out_kind = 1;  // 0 None, 1 one tensor, 2 tuple, 3 list

  // Replays if `args` match the capture; returns null (no Python error) if they do not.
  PyObject* try_run(PyObject* args) {
    const Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (size_t(n) != consts.size() || grad_enabled() != grad_mode || !valid()) return nullptr;
    if (module_epoch != g_module_epoch || !deps_hold()) return nullptr;
    size_t k = 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* a = PyTuple_GET_ITEM(args, i);
      if (!consts[size_t(i)]) {
        if (!is_tensor(a)) return nullptr;
        const TensorImpl &src = *T(a), &dst = *inputs[k];
        if (src.shape != dst.shape || src.dt != dst.dt || src.requires_grad != input_requires[k])
          return nullptr;
        if (input_requires[k] && &src != &dst) return nullptr;  // bound by identity
        ++k;
      } else {
        int eq = PyObject_RichCompareBool(a, consts[size_t(i)].ptr(), Py_EQ);
        if (eq < 0) PyErr_Clear();
        if (eq != 1) return nullptr;
      }
    }
    auto lk = turn();
    Borrowed borrowed;  // handed back when the outputs are copied, or on an exception
    k = 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (consts[size_t(i)]) continue;
      const TensorImpl& src = *T(PyTuple_GET_ITEM(args, i));
      const size_t at = k++;
      TensorImpl& dst = *inputs[at];
      if (&src == &dst || !dst.numel) continue;
      if (read_only[at] && borrowable(src, dst))
        borrowed.take(dst, src);
      else
        convert_into(src, dst);
    }
    replay(1, nullptr);
    if (out_kind == 0) Py_RETURN_NONE;
    if (out_kind == 1) return wrap(copy_of(*outputs[0]));
    PyObject* seq = out_kind == 2 ? PyTuple_New(Py_ssize_t(outputs.size()))
                                  : PyList_New(Py_ssize_t(outputs.size()));
    for (size_t i = 0; i < outputs.size(); ++i) {
      PyObject* t = wrap(copy_of(*outputs[i]));
      if (out_kind == 2)
        PyTuple_SET_ITEM(seq, Py_ssize_t(i), t);
      else
        PyList_SET_ITEM(seq, Py_ssize_t(i), t);
    }
    return seq;
  }

  int64_t work = 0;  // elements the program's buffers hold: small programs keep the GIL

  // The caller's data, read in place by one replay: the captured input's storage (which the
  // views made of it in the step share) points at it until the replay's outputs are copied.
  // Copying it instead cost a compiled MLP 784-1024-1024-10 step (batch 256) 90 us of its
  // 10.7 ms: the copy's source and destination had both left the caches since the last step.
  struct Borrowed {
    struct Lent {
      Storage* st;
      void* own;
      StoragePtr keep;  // the caller's storage stays alive, whatever another thread does to src
    };
    std::vector<Lent> lent;
    void take(TensorImpl& dst, const TensorImpl& src) {
      lent.push_back({dst.st.get(), dst.st->ptr, src.st});
      dst.st->ptr = src.data();
    }
    ~Borrowed() {
      for (const Lent& l : lent)
        l.st->ptr = l.own;
    }
  };
  // Same geometry and dtype (checked before), both dense, and the caller's data as aligned as
  // the buffers the kernels were captured with.
  static bool borrowable(const TensorImpl& src, const TensorImpl& dst) {
    return src.is_contiguous() && dst.is_contiguous() && dst.offset == 0 &&
           src.st.get() != dst.st.get() && reinterpret_cast<uintptr_t>(src.data()) % 64 == 0;
  }

  void replay(int64_t n, float* losses) {
    if (work * n < kNoGilElements) {
      for (int64_t i = 0; i < n; ++i) {
        prog->replay();
        if (losses) losses[i] = to_f32_any(*outputs[0]);
      }
      return;
    }
    without_gil([&] {
      for (int64_t i = 0; i < n; ++i) {
        prog->replay();
        if (losses) losses[i] = to_f32_any(*outputs[0]);
        check_interrupt();
      }
      return 0;
    });
  }
};

std::unique_ptr<Captured> finish_capture(py::sequence inputs, py::sequence outputs,
                                         py::sequence consts, int out_kind) {
  auto c = std::make_unique<Captured>();
  c->prog = capture_end();  // first: whatever fails below, the capture is over
  if (!c->prog) throw std::runtime_error("tapegrad.compile: no capture is running");
  c->grad_mode = grad_enabled();
  c->out_kind = out_kind;
  for (py::object h : consts)  // a tensor marks a tensor argument, anything else a constant
    c->consts.push_back(is_tensor(h.ptr()) ? py::object() : py::reinterpret_borrow<py::object>(h));
  for (py::object h : inputs) {
    c->inputs.push_back(arg(h, "input"));
    c->input_requires.push_back(c->inputs.back()->requires_grad);
    const TensorImpl* t = c->inputs.back().get();
    bool untouched = false;
    for (const auto& [seen, version] : tl_input_versions)
      if (seen == t) untouched = t->st->version == version;
    c->read_only.push_back(untouched && !t->requires_grad);
  }
  tl_input_versions.clear();
  for (py::object h : outputs)
    c->outputs.push_back(arg(h, "output"));
  std::vector<TensorImpl*> seen;
  auto snap = [&](const TensorPtr& t) {
    if (std::find(seen.begin(), seen.end(), t.get()) != seen.end()) return;
    seen.push_back(t.get());
    c->snaps.push_back({t.get(), t->st.get(), t->dt, t->shape});
    c->work += t->numel;
  };
  for (const auto& t : c->prog->keep)
    snap(t);
  for (const auto& t : c->inputs)
    snap(t);
  for (const auto& t : c->outputs)
    snap(t);
  return c;
}

}  // namespace

void register_capture(py::module_& m) {
  m.def("bump_module_epoch", [] { ++g_module_epoch; });
  m.def("module_epoch", [] { return g_module_epoch; });
  py::class_<Captured>(m, "Captured")
      .def("valid", &Captured::valid)
      .def("deps_hold", &Captured::deps_hold)
      .def_readwrite("module_epoch", &Captured::module_epoch)
      .def("set_deps",
           [](Captured& c, py::list deps) {
             c.deps.clear();
             for (py::handle d : deps) {
               py::tuple t = py::reinterpret_borrow<py::tuple>(d);
               c.deps.push_back({py::reinterpret_borrow<py::object>(t[0]),
                                 py::reinterpret_borrow<py::object>(t[1]),
                                 py::reinterpret_borrow<py::object>(t[2])});
             }
           })
      .def("try_run",
           [](Captured& c, py::args args) -> py::object {
             PyObject* r = c.try_run(args.ptr());
             if (!r) {
               if (PyErr_Occurred()) throw py::error_already_set();
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);  // a miss
             }
             return py::reinterpret_steal<py::object>(r);
           })
      .def_property_readonly("num_launches", [](const Captured& c) { return c.prog->steps.size(); })
      .def("run",
           [](Captured& c, py::sequence srcs) {
             auto lk = c.turn();
             c.load_inputs(srcs);
             c.replay(1, nullptr);
             py::list out;
             for (const auto& t : c.outputs)
               out.append(wrap_obj(copy_of(*t)));
             return out;
           })
      .def("run_n", [](Captured& c, int64_t n, py::sequence srcs) {
        if (n < 0) throw py::value_error("run: n must be >= 0");
        if (c.outputs.empty() || c.outputs[0]->numel != 1)
          throw py::value_error("run: the compiled function must return a 1-element tensor");
        auto lk = c.turn();
        c.load_inputs(srcs);
        py::array_t<float> losses(n);
        c.replay(n, losses.mutable_data());
        return losses;
      });
  m.def(
      "capture_begin",
      [](py::sequence inputs) {
        capture_begin();
        tl_input_versions.clear();
        for (py::handle h : inputs) {
          const TensorPtr& t = arg(h, "input");
          tl_input_versions.push_back({t.get(), t->st->version});
        }
      },
      py::arg("inputs") = py::tuple());
  m.def("capturing", &capturing);
  m.def("capture_abort", [] { capture_end(); });
  m.def("capture_end", &finish_capture);
}

}  // namespace tgpy
