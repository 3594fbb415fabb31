// The ops as module functions, one binding per op of the list (a loop over TG_OPS), plus the
// in-place entry points and the optimizer kernels. `_core.OPS` reports the list back.
#include <string>

#include "autograd/capture.h"
#include "kernels/optim.h"
#include "ops/inplace.h"
#include "python/module.h"

namespace tgpy {

using namespace tg;

namespace {

// A forward as a module function: tensors in and out through the type casters (module.h), and
// the GIL released when the tensors are large (work() below estimates how large).
template <class T>
int64_t work(const T&) {
  return 0;
}
int64_t work(const TensorPtr& t) {
  return t->numel;
}

template <auto F>
struct Bound;
template <class... A, TensorPtr (*F)(A...)>
struct Bound<F> {
  static TensorPtr call(A... a) {
    const int64_t w = (int64_t(0) + ... + work(a));
    return nogil_if(w >= kNoGilElements, [&] { return F(a...); });
  }
};
// Products cost more than their operands' sizes say.
template <>
struct Bound<&op::matmul> {
  static TensorPtr call(const TensorPtr& a, const TensorPtr& b) {
    const int64_t n = b->shape.n ? b->shape.d[b->shape.n - 1] : 1;
    return nogil_if(a->numel * n >= kNoGilElements, [&] { return op::matmul(a, b); });
  }
};
template <>
struct Bound<&op::linear> {
  static TensorPtr call(const TensorPtr& x, const TensorPtr& w, const std::optional<TensorPtr>& b) {
    const int64_t n = w->shape.n ? w->shape.d[0] : 1;
    return nogil_if(x->numel * n >= kNoGilElements, [&] { return op::linear(x, w, b); });
  }
};

// squeeze's grad_fn name says how dims were given: none, one int, or a sequence (PyTorch's
// SqueezeBackward0/1/2).
template <>
struct Bound<&op::squeeze> {
  static TensorPtr call(const TensorPtr& a, py::object dims) {
    std::optional<Shape> d;
    if (!dims.is_none()) d = to_shape(dims);
    TensorPtr out = op::squeeze(a, d);
    if (out->grad_fn && out->grad_fn->op == &info(OpCode::squeeze) && d)
      out->grad_fn->i1 = PyLong_Check(dims.ptr()) ? 1 : 2;
    return out;
  }
};

// cat takes a Python sequence of tensors. Each item is held (py::object) while its tensor is
// read: a sequence may make its items afresh (a tensor's rows), and a handle would dangle.
template <>
struct Bound<&op::cat> {
  static TensorPtr call(py::sequence seq, int64_t dim, bool stack) {
    std::vector<TensorPtr> ts;
    int64_t w = 0;
    for (py::object h : seq) {
      ts.push_back(arg(h, "tensors"));
      w += ts.back()->numel;
    }
    return nogil_if(w >= kNoGilElements, [&] { return op::cat(ts, dim, stack); });
  }
};

Binary to_binary(const std::string& n) {
  if (n == "add") return Binary::add;
  if (n == "sub") return Binary::sub;
  if (n == "mul") return Binary::mul;
  if (n == "div") return Binary::div;
  throw py::value_error("unknown in-place op " + n);
}

// The saves column of the op list, as its words.
std::string saves_words(unsigned s) {
  static const std::pair<unsigned, const char*> words[] = {{kSaveIn0, "in0"},
                                                           {kSaveIn1, "in1"},
                                                           {kSaveIn0ForGrad1, "in0:g1"},
                                                           {kSaveIn1ForGrad0, "in1:g0"},
                                                           {kSaveOut, "out"}};
  std::string r;
  for (const auto& [flag, word] : words)
    if (s & flag) r += (r.empty() ? "" : " ") + std::string(word);
  return r;
}

// The optimizer kernels update parameters as flat buffers.
const TensorPtr& contiguous_param(py::handle p) {
  const TensorPtr& t = arg(p, "parameter");
  if (!t->is_contiguous())
    throw py::value_error(
        "tapegrad's optimizers update contiguous parameters; this one is a "
        "strided view (use .contiguous() when you make it)");
  return t;
}

// An optimizer group's hyperparameters as a captured step reads them at every replay (written
// by the Python optimizer before each replay: tapegrad.compile). SGD: lr, momentum, dampening,
// weight_decay; Adam(W): lr, beta1, beta2, eps, weight_decay; RMSprop: lr, alpha, eps,
// weight_decay, momentum; Adagrad: lr, lr_decay, weight_decay, eps.
struct Hyper {
  double v[5] = {};
};
using HyperPtr = std::shared_ptr<Hyper>;

}  // namespace

void register_ops(py::module_& m) {
  py::class_<Hyper, HyperPtr>(m, "Hyper")
      .def(py::init<>())
      .def("set",
           [](Hyper& h, double a, double b, double c, double d, double e) {
             const double v[5] = {a, b, c, d, e};
             std::copy(v, v + 5, h.v);
           })
      .def_property_readonly("values", [](const Hyper& h) {
        return py::make_tuple(h.v[0], h.v[1], h.v[2], h.v[3], h.v[4]);
      });
#define TG_BIND(name, grad_name, kind, saves) m.def(#name, &Bound<&op::name>::call);
  TG_OPS(TG_BIND)
#undef TG_BIND

  py::tuple names(int(OpCode::count)), table(int(OpCode::count));
  for (int i = 0; i < int(OpCode::count); ++i) {
    const OpInfo& o = kOps[i];
    names[size_t(i)] = o.name;
    table[size_t(i)] = py::make_tuple(o.name, o.grad_name, o.kind, saves_words(o.saves));
  }
  m.attr("OPS") = names;
  m.attr("OP_TABLE") = table;  // (name, grad_fn, kind, saves) per op, as in _oplist.py

  m.def("iop", [](const std::string& name, py::handle a, const TensorOrScalar& other) {
    inplace_binary(to_binary(name), arg(a), other.t, other.s);
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("sub_scalar", [](const TensorPtr& a, const Scalar& s) { return sub_scalar(a, s); });
  // Names t's add/mul/div-by-a-number node as ATen's Scalar overload (AddBackward1, ...).
  m.def("scalar_overload", [](const TensorPtr& t) {
    const OpInfo* op = t->grad_fn ? t->grad_fn->op : nullptr;
    if (op == &info(OpCode::add_scalar) || op == &info(OpCode::mul_scalar) ||
        op == &info(OpCode::div_scalar))
      t->grad_fn->i1 = 2;
    return t;
  });
  m.def("fill_", [](py::handle a, const Scalar& v) {
    fill(arg(a), v);
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("index_put_", [](py::handle a, const TensorPtr& idx, const TensorPtr& v, bool acc) {
    index_put_(arg(a), idx, v, acc);
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("put_", [](py::handle a, const TensorPtr& idx, const TensorPtr& v, bool acc, bool value) {
    put_(arg(a), idx, v, acc, value);
    return py::reinterpret_borrow<py::object>(a);
  });
  m.def("set_default_dtype", [](DType d) { set_default_float(d); });
  // a.masked_fill(mask, value): where(mask, value, a), named as PyTorch names it.
  m.def("masked_fill", [](const TensorPtr& a, const TensorPtr& mask, const TensorOrScalar& v) {
    TensorOrScalar self;
    self.t = a;
    TensorPtr out = op::where(mask, v, self);
    if (out->grad_fn && out->grad_fn->op == &info(OpCode::where)) out->grad_fn->i1 = v.t ? 2 : 1;
    return out;
  });
  m.def("copy_", [](py::handle a, py::handle src) {
    copy_into(arg(a), arg(src, "src"));
    return py::reinterpret_borrow<py::object>(a);
  });

  m.def("sgd_update",
        [](py::handle p, py::handle g, py::handle buf, double lr, double momentum, double dampening,
           double weight_decay, bool nesterov, bool maximize, py::handle cell_obj) {
          const TensorPtr& pt = contiguous_param(p);
          const TensorPtr gt = dense(arg(g, "grad"));
          TensorPtr b = buf.is_none() ? TensorPtr() : arg(buf, "momentum buffer");
          const SgdOpts o{lr, momentum, dampening, weight_decay, nesterov, maximize};
          TensorPtr nb = sgd_update(*pt, *gt, b, o);
          if (tl_capture) {  // a replay finds the buffer the captured (first) step made
            // (the cell is converted only here: a holder cast costs more than a small update)
            const HyperPtr cell = cell_obj.is_none() ? nullptr : cell_obj.cast<HyperPtr>();
            capture_push(
                [pt = pt.get(), gt = gt.get(), nb, o, cell] {
                  SgdOpts now = o;  // the group's hyperparameters at this replay
                  if (cell) {
                    now.lr = cell->v[0];
                    now.momentum = cell->v[1];
                    now.dampening = cell->v[2];
                    now.weight_decay = cell->v[3];
                  }
                  sgd_update(*pt, *gt, nb, now);
                },
                {pt.get(), gt.get()});
          }
          if (!nb) return py::object(py::none());
          if (nb == b) return py::reinterpret_borrow<py::object>(buf);
          return wrap_obj(nb);
        });  // positional only: keyword handling would cost more than the update of a small layer
  m.def("adam_update", [](py::handle p, py::handle g, py::handle m1, py::handle m2, py::handle mx,
                          py::handle step, double lr, double beta1, double beta2, double eps,
                          double weight_decay, bool maximize, bool decoupled, py::handle cell_obj) {
    const TensorPtr gd = dense(arg(g, "grad"));
    TensorImpl *pt = contiguous_param(p).get(), *gt = gd.get(), *mt = arg(m1).get(),
               *vt = arg(m2).get(), *st = arg(step, "step").get();
    TensorImpl* xt = mx.is_none() ? nullptr : arg(mx, "max_exp_avg_sq").get();
    const AdamOpts o{lr, beta1, beta2, eps, weight_decay, maximize, decoupled};
    adam_update(*pt, *gt, *mt, *vt, xt, *st, o);
    if (!tl_capture) return;
    const HyperPtr cell = cell_obj.is_none() ? nullptr : cell_obj.cast<HyperPtr>();
    capture_push(  // a replay reads the group's hyperparameters at that time
        [=] {
          AdamOpts now = o;
          if (cell) {
            now.lr = cell->v[0];
            now.beta1 = cell->v[1];
            now.beta2 = cell->v[2];
            now.eps = cell->v[3];
            now.weight_decay = cell->v[4];
          }
          adam_update(*pt, *gt, *mt, *vt, xt, *st, now);
        },
        {pt, gt, mt, vt, xt, st});
  });
  m.def("rmsprop_update",
        [](py::handle p, py::handle g, py::handle sq, py::handle ga, py::handle buf,
           py::handle step, double lr, double alpha, double eps, double weight_decay,
           double momentum, bool maximize, py::handle cell_obj) {
          const TensorPtr gd = dense(arg(g, "grad"));
          TensorImpl *pt = contiguous_param(p).get(), *gt = gd.get(), *qt = arg(sq).get(),
                     *st = arg(step, "step").get();
          TensorImpl* at = ga.is_none() ? nullptr : arg(ga, "grad_avg").get();
          TensorImpl* bt = buf.is_none() ? nullptr : arg(buf, "momentum_buffer").get();
          const RmspropOpts o{lr, alpha, eps, weight_decay, momentum, maximize};
          rmsprop_update(*pt, *gt, *qt, at, bt, *st, o);
          if (!tl_capture) return;
          const HyperPtr cell = cell_obj.is_none() ? nullptr : cell_obj.cast<HyperPtr>();
          capture_push(
              [=] {
                RmspropOpts now = o;
                if (cell) {
                  now.lr = cell->v[0];
                  now.alpha = cell->v[1];
                  now.eps = cell->v[2];
                  now.weight_decay = cell->v[3];
                  now.momentum = cell->v[4];
                }
                rmsprop_update(*pt, *gt, *qt, at, bt, *st, now);
              },
              {pt, gt, qt, at, bt, st});
        });
  m.def("adagrad_update",
        [](py::handle p, py::handle g, py::handle sum, py::handle step, double lr, double lr_decay,
           double weight_decay, double eps, bool maximize, py::handle cell_obj) {
          const TensorPtr gd = dense(arg(g, "grad"));
          TensorImpl *pt = contiguous_param(p).get(), *gt = gd.get(), *qt = arg(sum).get(),
                     *st = arg(step, "step").get();
          const AdagradOpts o{lr, lr_decay, weight_decay, eps, maximize};
          adagrad_update(*pt, *gt, *qt, *st, o);
          if (!tl_capture) return;
          const HyperPtr cell = cell_obj.is_none() ? nullptr : cell_obj.cast<HyperPtr>();
          capture_push(
              [=] {
                AdagradOpts now = o;
                if (cell) {
                  now.lr = cell->v[0];
                  now.lr_decay = cell->v[1];
                  now.weight_decay = cell->v[2];
                  now.eps = cell->v[3];
                }
                adagrad_update(*pt, *gt, *qt, *st, now);
              },
              {pt, gt, qt, st});
        });
}

}  // namespace tgpy
