#include "autograd/autograd.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "autograd/capture.h"
#include "autograd/views.h"
#include "core/interrupt.h"
#include "kernels/kernels.h"

namespace tg {

namespace {
thread_local bool tl_grad_enabled = true;
// One process-wide counter: a node is always numbered after the nodes of its inputs, so
// decreasing sequence order is a valid reverse topological order even across threads.
std::atomic<uint64_t> g_seq{0};
std::atomic<uint64_t> g_mark{0};

const char* kSecondBackward =
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.";

// Freeing a long chain of nodes must not recurse once per node: a node that dies while another
// is being torn down parks its inputs here, and the outermost destructor drains the list.
thread_local bool tl_tearing_down = false;
thread_local std::vector<NodePtr>* tl_graveyard = nullptr;
}  // namespace

bool grad_enabled() {
  return tl_grad_enabled;
}
void set_grad_enabled(bool on) {
  tl_grad_enabled = on;
}

std::string grad_fn_name(const Node& node) {
  return node.op->refine ? node.op->refine(node) : std::string(node.op->grad_name);
}

Node::~Node() {
  std::vector<NodePtr> local;
  bool outer = !tl_tearing_down;
  if (outer) {
    tl_tearing_down = true;
    tl_graveyard = &local;
  }
  for (auto& e : next)
    if (e.node && e.node.use_count() == 1) tl_graveyard->push_back(std::move(e.node));
  if (outer) {
    while (!local.empty()) {
      NodePtr n = std::move(local.back());
      local.pop_back();
      n.reset();  // its inputs land in `local`
    }
    tl_graveyard = nullptr;
    tl_tearing_down = false;
  }
}

TensorPtr Node::unpack(int i) const {
  const SavedTensor& s = saved[i];
  if (!s.used)  // the op's backward and its `saves` in the op list disagree
    throw std::logic_error(std::string("tapegrad internal error: the backward of ") + op->name +
                           " reads saved tensor " + std::to_string(i) +
                           ", which its row in the op list (python/tapegrad/_oplist.py) does not "
                           "save");
  if (!s.st) throw std::runtime_error(kSecondBackward);
  if (!s.untracked && s.st->version != s.version) {
    throw std::runtime_error(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [" +
        std::string(dtype_name(s.dt)) + " " + s.shape.str() + "] is at version " +
        std::to_string(s.st->version) + "; expected version " + std::to_string(s.version) +
        " instead. Hint: the operation that saved it is " + grad_fn_name(*this) +
        "; make a copy (.clone()) before changing it in place.");
  }
  return dense(as_saved(i));
}

TensorPtr Node::as_saved(int i) const {
  const SavedTensor& s = saved[i];
  auto t = std::make_shared<TensorImpl>();
  t->st = s.st;
  t->shape = s.shape;
  t->strides = s.strides ? *s.strides : contiguous_strides(s.shape);
  t->offset = s.offset;
  t->numel = s.shape.numel();
  t->dt = s.dt;
  return t;
}

uint64_t next_seq() {
  return g_seq.fetch_add(1, std::memory_order_relaxed) + 1;
}

Edge edge_to(const TensorImpl& t) {
  Edge e;
  set_edge(e, t);
  return e;
}

Node* record(const OpInfo& op, const TensorPtr& out,
             std::initializer_list<const TensorImpl*> inputs) {
  if (!tl_grad_enabled || !is_floating(out->dt)) return nullptr;  // only floats have gradients
  bool any = false;
  for (const TensorImpl* t : inputs) {
    if (t) refresh_view(const_cast<TensorImpl&>(*t));  // a stale view's history first
    any |= (t && t->requires_grad);
  }
  if (!any) return nullptr;
  auto node = std::make_shared<Node>();
  node->seq = next_seq();
  node->op = &op;
  int i = 0;
  for (const TensorImpl* t : inputs) {
    if (t) {
      node->in_shape[i] = t->shape;
      node->in_dt[i] = t->dt;
      node->in_requires[i] = t->requires_grad;
      set_edge(node->next[i], *t);
    }
    ++i;
  }
  node->n_in = uint8_t(i);
  node->out_shape = out->shape;
  node->out_dt = out->dt;
  const unsigned sv = op.saves;
  const TensorImpl* in0 = inputs.size() > 0 ? inputs.begin()[0] : nullptr;
  const TensorImpl* in1 = inputs.size() > 1 ? inputs.begin()[1] : nullptr;
  if ((sv & kSaveIn0) || ((sv & kSaveIn0ForGrad1) && in1 && in1->requires_grad))
    node->save(0, *in0);
  if ((sv & kSaveIn1) || ((sv & kSaveIn1ForGrad0) && in0 && in0->requires_grad))
    node->save(1, *in1);
  if (sv & kSaveOut) node->save(0, *out);
  out->requires_grad = true;
  out->grad_fn = node;
  return node.get();
}

// g after the tensor's hooks (the hooks are Python functions: a captured step cannot replay them)
TensorPtr run_hooks(const std::shared_ptr<GradHooks>& h, TensorPtr g) {
  if (!h || h->empty()) return g;
  if (tl_capture) capture_refuse("a tensor hook (register_hook / retain_grad)");
  for (auto& f : h->fns) {
    TensorPtr r = f(g);
    if (r) g = std::move(r);
  }
  if (h->retain) h->retain(g);
  return g;
}

namespace {
// Every read and write of a TensorImpl's .grad holds the lock of its stripe: backward accumulates
// into a leaf without the GIL, so several threads may reach one leaf at once, and Python reads and
// assigns .grad meanwhile. A striped table (keyed by the TensorImpl's address) costs one
// uncontended lock per access and nothing per tensor. Holders of a stripe lock never take another
// lock (a stripe, the GIL) while holding it.
constexpr int kGradStripeBits = 6;
struct alignas(64) GradStripe {
  std::mutex m;
};
GradStripe g_grad_stripes[1 << kGradStripeBits];

std::mutex& grad_lock(const void* t) {
  const uint64_t h = uint64_t(reinterpret_cast<uintptr_t>(t)) * 0x9E3779B97F4A7C15ull;
  return g_grad_stripes[h >> (64 - kGradStripeBits)].m;
}

// leaf.grad = g under the leaf's lock; the old gradient is handed back, to be freed unlocked.
TensorPtr swap_grad(TensorImpl& leaf, TensorPtr g) {
  std::lock_guard<std::mutex> lock(grad_lock(&leaf));
  std::swap(leaf.grad, g);
  return g;
}
}  // namespace

TensorPtr grad_of(const TensorImpl& t) {
  std::lock_guard<std::mutex> lock(grad_lock(&t));
  return t.grad;
}

void set_grad(TensorImpl& leaf, TensorPtr g) {
  swap_grad(leaf, g);  // the old gradient is freed here, unlocked
  if (tl_capture) {    // a replayed step makes the same assignment
    tl_capture->grad_event(&leaf, nullptr, true);
    capture_push([l = &leaf, g = std::move(g)] { swap_grad(*l, g); }, {&leaf});
  }
}

void check_inplace_leaf(const TensorImpl& a) {
  if (!tl_grad_enabled) return;
  if (a.view_base && a.view_base->requires_grad && !a.view_base->grad_fn)
    throw std::runtime_error(
        "a view of a leaf Variable that requires grad is being used in an in-place operation.");
  if (a.requires_grad && !a.grad_fn)
    throw std::runtime_error(
        "a leaf Variable that requires grad is being used in an in-place operation.");
}

namespace {
// No one else holds `t` or its storage. While a step is captured, the program's own references
// do not count: the buffer is as much the engine's as in an eager step, and treating it as shared
// would add a copy to every replay (a compiled MLP step copied each weight's gradient).
bool exclusive(const TensorPtr& t) {
  long refs = t.use_count();
  if (tl_capture) {
    auto it = tl_capture->kept.find(t.get());
    if (it != tl_capture->kept.end()) refs -= it->second;
  }
  return refs == 1 && t->st.use_count() == 1;
}

// add and sub take their gradient in any layout (their backward passes it on, or sums it with
// sum_to, which reads strides), as PyTorch's do: the expanded gradient of a sum reaches the
// broadcast reduction as a view and is summed in that layout's order. Every other backward
// gets a dense gradient.
bool takes_strided_grad(const Node& n) {
  return std::strcmp(n.op->name, "add") == 0 || std::strcmp(n.op->name, "sub") == 0;
}

// dst <- dst + g (dst owned by us), or a fresh sum when dst's buffer is shared.
void accumulate(TensorPtr& dst, TensorPtr g) {
  if (!dst) {
    dst = std::move(g);
    return;
  }
  if (g->dt != dst->dt) g = convert(*g, dst->dt);
  if (!exclusive(dst) || !dst->is_contiguous()) dst = copy_of(*dst);
  launch({dst.get(), g.get()}, [d = dst.get(), g = g.get()] { add_into(*d, *g); });
}
}  // namespace

void node_backward(Node& node, const TensorPtr& grad, TensorPtr* grads) {
  node.op->backward(node, grad, grads);
}

namespace {
// .grad = g, or .grad += g in place: one atomic step per leaf (as PyTorch's AccumulateGrad,
// which holds its node's mutex), so backward calls from several threads into one leaf add up.
void to_leaf(TensorImpl& leaf, TensorPtr g) {
  if (g->dt != leaf.dt) g = convert(*g, leaf.dt);
  std::lock_guard<std::mutex> lock(grad_lock(&leaf));
  if (!leaf.grad) {
    TensorPtr fresh = exclusive(g) && g->is_contiguous() ? std::move(g) : copy_of(*g);
    if (tl_capture) {  // a replayed step makes the same assignment
      tl_capture->grad_event(&leaf, nullptr, false);
      capture_push([l = &leaf, fresh] { swap_grad(*l, fresh); }, {&leaf});
    }
    leaf.grad = std::move(fresh);
  } else {
    TensorImpl* d = leaf.grad.get();
    add_into(*d, *g);
    if (tl_capture) tl_capture->grad_event(&leaf, d, false);
    if (tl_capture)  // replayed under the same lock (the address is only hashed, never read)
      capture_push(
          [l = static_cast<const void*>(&leaf), d, g = g.get()] {
            std::lock_guard<std::mutex> replay_lock(grad_lock(l));
            add_into(*d, *g);
          },
          {d, g.get(), &leaf});  // the leaf too: the program checks its .grad (grad_expect)
    d->bump_version();
  }
}

int index_of(const std::vector<const void*>& v, const void* p) {
  auto it = std::find(v.begin(), v.end(), p);
  return it == v.end() ? -1 : int(it - v.begin());
}
}  // namespace

namespace {
const OpInfo kFunctionOp = {
    "function",
    nullptr,
    [](const Node& n) { return n.extra->name; },
    "function",
    0,
    [](Node& n, const TensorPtr& grad, TensorPtr* grads) { n.extra->backward(grad, grads); },
};
}  // namespace

TensorPtr function_node(const TensorImpl& out, const std::vector<TensorPtr>& inputs,
                        std::shared_ptr<NodeExtra> extra, const std::vector<TensorPtr>& saved) {
  if (inputs.size() > size_t(kMaxInputs))
    throw std::runtime_error("autograd.Function: more than " + std::to_string(kMaxInputs) +
                             " tensor inputs that require grad are not supported yet");
  if (tl_capture) capture_refuse("a custom autograd.Function (its backward runs Python)");
  TensorPtr o = alias(out);
  auto node = std::make_shared<Node>();
  node->seq = next_seq();
  node->op = &kFunctionOp;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorImpl& t = *inputs[i];
    refresh_view(const_cast<TensorImpl&>(t));
    node->in_shape[i] = t.shape;
    node->in_dt[i] = t.dt;
    node->in_requires[i] = t.requires_grad;
    set_edge(node->next[i], t);
  }
  node->n_in = uint8_t(inputs.size());
  node->out_shape = o->shape;
  node->out_dt = o->dt;
  for (size_t i = 0; i < saved.size() && i < size_t(kMaxInputs); ++i)
    node->save(int(i), *saved[i]);
  node->had_saved = !saved.empty();
  node->extra = std::move(extra);
  o->requires_grad = true;
  o->grad_fn = std::move(node);
  return o;
}

GradHooks& hooks_of(TensorImpl& t) {
  std::shared_ptr<GradHooks>& h = t.grad_fn ? t.grad_fn->hooks : t.hooks;
  if (!h) h = std::make_shared<GradHooks>();
  return *h;
}

void backward(const TensorPtr& root, const TensorPtr& grad, bool retain_graph) {
  Sweep s;
  s.roots = {root};
  s.grads = {grad};
  s.retain_graph = retain_graph;
  run_backward(s);
}

std::vector<TensorPtr> run_backward(const Sweep& sw) {
  for (const TensorPtr& r : sw.roots) {
    refresh_view(*r);
    if (!r->requires_grad)
      throw std::runtime_error(
          "element 0 of tensors does not require grad and does not have a grad_fn");
  }
  for (const TensorPtr& t : sw.inputs)
    refresh_view(*t);
  bool prev_mode = tl_grad_enabled;
  tl_grad_enabled = false;
  struct Restore {
    bool m;
    ~Restore() { tl_grad_enabled = m; }
  } restore{prev_mode};

  // An input is its grad_fn (a non-leaf: the gradient reaching that node) or itself (a leaf).
  const bool all_leaves = sw.inputs.empty();
  std::vector<const void*> in_key;
  for (const TensorPtr& t : sw.inputs)
    in_key.push_back(t->grad_fn ? static_cast<const void*>(t->grad_fn.get()) : t.get());
  std::vector<TensorPtr> captured(sw.inputs.size());

  // Collect the nodes reachable from the roots, without recursion.
  uint64_t mark = g_mark.fetch_add(1, std::memory_order_relaxed) + 1;
  std::vector<Node*> order;
  std::vector<Node*> stack;
  for (const TensorPtr& r : sw.roots) {
    Node* n = r->grad_fn.get();
    if (n && n->mark != mark) {
      n->mark = mark;
      stack.push_back(n);
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (int i = 0; i < n->n_in; ++i) {
      Node* m = n->next[i].node.get();
      if (m && m->mark != mark) {
        m->mark = mark;
        stack.push_back(m);
      }
    }
  }
  std::sort(order.begin(), order.end(), [](Node* a, Node* b) { return a->seq > b->seq; });

  // With inputs named, only the nodes that lead to one of them run (inputs come first in
  // increasing sequence order, so one pass from the oldest node decides).
  std::vector<char> needed(order.size(), 1);
  if (!all_leaves) {
    std::vector<Node*> live;
    for (size_t k = order.size(); k-- > 0;) {
      Node* n = order[k];
      bool need = false;
      for (int i = 0; i < n->n_in && !need; ++i) {
        const Edge& e = n->next[i];
        if (e.node)
          need = std::binary_search(live.begin(), live.end(), e.node.get()) ||
                 index_of(in_key, e.node.get()) >= 0;
        else if (e.leaf)
          need = index_of(in_key, e.leaf.get()) >= 0;
      }
      needed[k] = need;
      if (need) live.insert(std::upper_bound(live.begin(), live.end(), n), n);
    }
  }

  std::vector<std::pair<TensorImpl*, TensorPtr>> leaves;  // pending leaf gradients
  struct Cleanup {  // pending grads must not outlive a failed sweep
    std::vector<Node*>& order;
    ~Cleanup() {
      for (Node* n : order)
        n->grad.reset();
    }
  } cleanup{order};
  auto to_pending_leaf = [&](TensorImpl* leaf, TensorPtr g) {
    auto it =
        std::find_if(leaves.begin(), leaves.end(), [&](const auto& l) { return l.first == leaf; });
    if (it == leaves.end())
      leaves.emplace_back(leaf, std::move(g));
    else
      accumulate(it->second, std::move(g));
  };
  // A leaf's gradient is final once the last node with an edge to it has run; it goes into
  // .grad then, as PyTorch's AccumulateGrad runs, so post-accumulate hooks (data-parallel
  // training's allreduce) start while the rest of the graph is still being swept.
  std::vector<std::vector<TensorImpl*>> flush_at(order.size());
  {
    std::unordered_map<TensorImpl*, size_t> last;
    for (size_t k = 0; k < order.size(); ++k)
      if (needed[k])
        for (int i = 0; i < order[k]->n_in; ++i)
          if (TensorImpl* l = order[k]->next[i].leaf.get()) last[l] = k;
    // in edge order, so that every process delivers a node's leaves in the same order (ranks
    // of data-parallel training must start their allreduces in the same order)
    for (size_t k = 0; k < order.size(); ++k)
      if (needed[k])
        for (int i = 0; i < order[k]->n_in; ++i) {
          TensorImpl* l = order[k]->next[i].leaf.get();
          auto& at = flush_at[k];
          if (l && last[l] == k && std::find(at.begin(), at.end(), l) == at.end()) at.push_back(l);
        }
  }
  auto finish_leaf = [&](TensorImpl* leaf, TensorPtr g) {
    int at = all_leaves ? -1 : index_of(in_key, leaf);
    if (!all_leaves && at < 0) return;
    TensorPtr h = run_hooks(leaf->hooks, std::move(g));
    if (at >= 0 && !sw.accumulate) {
      captured[at] = std::move(h);
      return;
    }
    to_leaf(*leaf, std::move(h));
    if (leaf->hooks && leaf->hooks->post) {
      if (tl_capture) capture_refuse("a post-accumulate-grad hook");
      leaf->hooks->post();
    }
  };
  auto flush = [&](const std::vector<TensorImpl*>& done) {
    for (TensorImpl* leaf : done) {
      auto it = std::find_if(leaves.begin(), leaves.end(),
                             [&](const auto& l) { return l.first == leaf; });
      if (it == leaves.end()) continue;  // no gradient reached it
      TensorPtr g = std::move(it->second);
      leaves.erase(it);
      finish_leaf(leaf, std::move(g));
    }
  };
  for (size_t k = 0; k < sw.roots.size(); ++k) {
    const TensorPtr& r = sw.roots[k];
    if (r->grad_fn)
      accumulate(r->grad_fn->grad, copy_of(*sw.grads[k]));
    else  // a leaf root: its gradient is the incoming one
      to_pending_leaf(r.get(), copy_of(*sw.grads[k]));
  }

  for (size_t k = 0; k < order.size(); ++k) {
    if (k > 0) flush(flush_at[k - 1]);
    Node* n = order[k];
    check_interrupt();
    if (!n->grad) continue;  // no gradient reached this node
    TensorPtr g = n->hooks ? run_hooks(n->hooks, std::move(n->grad)) : std::move(n->grad);
    int at = all_leaves ? -1 : index_of(in_key, n);
    if (at >= 0) {
      // backward(inputs=) fills a non-leaf's .grad too, unless retain_grad already did
      if (sw.accumulate && !(n->hooks && n->hooks->retain))
        to_leaf(*sw.inputs[at], g);
      else if (!sw.accumulate)
        captured[at] = g;
    }
    if (!needed[k]) continue;
    if (n->released && n->had_saved) throw std::runtime_error(kSecondBackward);
    if (!takes_strided_grad(*n)) g = dense(std::move(g));
    TensorPtr grads[kMaxInputs];
    n->op->backward(*n, g, grads);
    for (int i = 0; i < n->n_in; ++i) {
      if (!grads[i]) continue;
      Edge& e = n->next[i];
      if (e.node)
        accumulate(e.node->grad, std::move(grads[i]));
      else if (e.leaf)  // summed over all its uses first, added to .grad once (as PyTorch)
        to_pending_leaf(e.leaf.get(), std::move(grads[i]));
    }
    if (!sw.retain_graph) {
      for (auto& s : n->saved)
        s.st.reset();
      n->released = true;
    }
  }
  if (!order.empty()) flush(flush_at.back());
  for (auto& [leaf, g] : leaves)  // leaf roots
    finish_leaf(leaf, std::move(g));
  return captured;
}

}  // namespace tg
