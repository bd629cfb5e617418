//===- Interpreter.cpp - the reference interpreter --------------*- C++ -*-===//
//
// Straightforward loops, one function per op, written for clarity rather
// than speed. Formulas follow the op descriptions in TfmOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/interpreter/Interpreter.h"

#include "dialects/Tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <variant>

using namespace mlir;
using namespace ::tfm;
namespace ir = mlir::tfm;
using llvm::formatv;
using rt::Error;
using rt::Expected;
using rt::Status;

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::zeros(std::vector<int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  t.storage = std::make_shared<std::vector<float>>(size_t(t.numel()), 0.0f);
  t.data = t.storage->data();
  return t;
}

namespace {

using Tokens = std::vector<int32_t>;
using Cache = std::shared_ptr<KvBuffer>;
using RtValue = std::variant<std::monostate, Tensor, Tokens, int64_t, Cache>;

//===----------------------------------------------------------------------===//
// Math helpers
//===----------------------------------------------------------------------===//

double activate(ir::ActKind kind, double x) {
  switch (kind) {
  case ir::ActKind::relu:
    return x > 0 ? x : 0;
  case ir::ActKind::gelu:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case ir::ActKind::gelu_tanh:
    return 0.5 * x *
           (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case ir::ActKind::silu:
    return x / (1.0 + std::exp(-x));
  }
  return x;
}

//===----------------------------------------------------------------------===//
// The evaluator
//===----------------------------------------------------------------------===//

struct AttentionParams {
  int64_t heads = 0, kvHeads = 0, hd = 0, window = 0;
  double scale = 1;
  std::optional<double> cap;
  bool causal = false;
};

class Evaluator {
public:
  Evaluator(const rt::WeightTable &weights) : weights_(weights) {}

  RtValue &operator[](Value v) { return values_[v]; }

  Status eval(Operation *op) {
    return llvm::TypeSwitch<Operation *, Status>(op)
        .Case([&](arith::ConstantOp c) -> Status {
          auto attr = dyn_cast<IntegerAttr>(c.getValue());
          if (!attr || !c.getType().isIndex())
            return unsupported(op);
          set(c.getResult(), attr.getInt());
          return Status::ok();
        })
        .Case([&](arith::AddIOp a) -> Status {
          if (!a.getType().isIndex())
            return unsupported(op);
          set(a.getResult(), index(a.getLhs()) + index(a.getRhs()));
          return Status::ok();
        })
        .Case([&](tensor::DimOp d) -> Status {
          int64_t i = index(d.getIndex());
          RtValue &src = values_[d.getSource()];
          int64_t size = std::holds_alternative<Tokens>(src)
                             ? int64_t(std::get<Tokens>(src).size())
                             : std::get<Tensor>(src).shape.at(size_t(i));
          set(d.getResult(), size);
          return Status::ok();
        })
        .Case([&](ir::WeightOp w) { return weight(w); })
        .Case([&](ir::EmbedOp e) { return embed(e); })
        .Case([&](ir::PositionOp p) { return position(p); })
        .Case([&](ir::NormOp n) { return norm(n); })
        .Case([&](ir::LinearOp l) {
          set(l.getResult(), linear(tensor(l.getInput()),
                                    tensor(l.getWeight()),
                                    optTensor(l.getBias())));
          return Status::ok();
        })
        .Case([&](ir::ActivationOp a) {
          Tensor x = tensor(a.getInput());
          Tensor y = Tensor::zeros(x.shape);
          for (int64_t i = 0; i < x.numel(); ++i)
            y.mutableData()[i] = float(activate(a.getKind(), x.data[i]));
          set(a.getResult(), std::move(y));
          return Status::ok();
        })
        .Case([&](ir::GluOp g) {
          Tensor gate = tensor(g.getGate()), up = tensor(g.getUp());
          Tensor y = Tensor::zeros(gate.shape);
          for (int64_t i = 0; i < gate.numel(); ++i)
            y.mutableData()[i] =
                float(activate(g.getAct(), gate.data[i]) * double(up.data[i]));
          set(g.getResult(), std::move(y));
          return Status::ok();
        })
        .Case([&](ir::RopeOp r) { return rope(r); })
        .Case([&](ir::AttentionOp a) { return attention(a); })
        .Case([&](ir::AlibiOp a) { return alibi(a); })
        .Case([&](ir::RelativeBiasOp r) { return relativeBias(r); })
        .Case([&](ir::KvWriteOp w) { return kvWrite(w); })
        .Case([&](ir::KvReadOp r) { return kvRead(r); })
        .Case([&](ir::MoeOp m) { return moe(m); })
        .Case([&](ir::ConcatOp c) { return concat(c); })
        .Case([&](ir::AddNormOp a) { return addNorm(a); })
        .Case([&](ir::QkvRopeOp q) { return qkvRope(q); })
        .Case([&](ir::CachedAttentionOp a) { return cachedAttention(a); })
        .Case([&](ir::LinearGluOp g) { return linearGlu(g); })
        .Case([&](ir::AddOp a) {
          double alpha = a.getAlpha().convertToDouble();
          return elementwise(a.getResult(), a.getLhs(), a.getRhs(),
                             [alpha](double x, double y) {
                               return alpha * x + y;
                             });
        })
        .Case([&](ir::MulOp m) {
          return elementwise(m.getResult(), m.getLhs(), m.getRhs(),
                             [](double x, double y) { return x * y; });
        })
        .Case([&](ir::ScaleOp s) {
          double factor = s.getFactor().convertToDouble();
          return unary(s.getResult(), s.getInput(),
                       [factor](double x) { return x * factor; });
        })
        .Case([&](ir::SoftcapOp s) {
          double cap = s.getCap().convertToDouble();
          return unary(s.getResult(), s.getInput(), [cap](double x) {
            return cap * std::tanh(x / cap);
          });
        })
        .Case([&](ir::LmHeadOp l) {
          set(l.getResult(),
              linear(tensor(l.getInput()), tensor(l.getWeight()), nullptr));
          return Status::ok();
        })
        .Default([&](Operation *op) { return unsupported(op); });
  }

private:
  Status unsupported(Operation *op) {
    return Error(formatv("interpreter: unsupported op '{0}'", op->getName())
                     .str());
  }

  void set(Value v, RtValue value) { values_[v] = std::move(value); }
  int64_t index(Value v) { return std::get<int64_t>(values_[v]); }
  const Tensor &tensor(Value v) { return std::get<Tensor>(values_[v]); }
  const Tensor *optTensor(Value v) { return v ? &tensor(v) : nullptr; }

  Status weight(ir::WeightOp w) {
    const rt::WeightTable::Entry *e = weights_.find(w.getName().str());
    if (!e)
      return Error(formatv("{0}: no weight '{1}'", weights_.origin(),
                           w.getName())
                       .str());
    Tensor t;
    t.shape = e->shape;
    t.data = e->data;
    set(w.getResult(), std::move(t));
    return Status::ok();
  }

  Status embed(ir::EmbedOp e) {
    const Tensor &table = tensor(e.getTable());
    const Tokens &tokens = std::get<Tokens>(values_[e.getTokens()]);
    int64_t vocab = table.shape[0], dim = table.shape[1];
    Tensor y = Tensor::zeros({int64_t(tokens.size()), dim});
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] < 0 || tokens[i] >= vocab)
        return Error(formatv("token id {0} is out of range for a vocabulary "
                             "of {1}",
                             tokens[i], vocab)
                         .str());
      std::copy_n(table.data + tokens[i] * dim, dim,
                  y.mutableData() + int64_t(i) * dim);
    }
    set(e.getResult(), std::move(y));
    return Status::ok();
  }

  Status position(ir::PositionOp p) {
    const Tensor &x = tensor(p.getInput());
    int64_t seq = x.shape[0], dim = x.shape[1], pos = index(p.getPos());
    Tensor y = Tensor::zeros(x.shape);
    const Tensor *table = optTensor(p.getTable());
    if (table && pos + seq > table->shape[0])
      return Error(formatv("position {0} is beyond the {1} learned positions",
                           pos + seq - 1, table->shape[0])
                       .str());
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t f = 0; f < dim; ++f) {
        double pe;
        if (table) {
          pe = table->data[(pos + i) * dim + f];
        } else {
          double angle = double(pos + i) /
                         std::pow(10000.0, double(f - f % 2) / double(dim));
          pe = f % 2 == 0 ? std::sin(angle) : std::cos(angle);
        }
        y.mutableData()[i * dim + f] = float(x.data[i * dim + f] + pe);
      }
    set(p.getResult(), std::move(y));
    return Status::ok();
  }

  Status norm(ir::NormOp n) {
    set(n.getResult(),
        normalize(tensor(n.getInput()), optTensor(n.getGain()),
                  optTensor(n.getBias()), n.getKind(),
                  n.getEps().convertToDouble(), n.getGroupSizeOrRow(),
                  n.getGainOffset().convertToDouble()));
    return Status::ok();
  }

  /// tfm.norm over groups of `group` features.
  static Tensor normalize(const Tensor &x, const Tensor *gain,
                          const Tensor *bias, ir::NormKind kind,
                          double eps, int64_t group, double offset) {
    bool rms = !ir::subtractsMean(kind);
    Tensor y = Tensor::zeros(x.shape);
    for (int64_t g = 0; g < x.numel() / group; ++g) {
      const float *in = x.data + g * group;
      float *out = y.mutableData() + g * group;
      double mean = 0;
      if (!rms) {
        for (int64_t i = 0; i < group; ++i)
          mean += in[i];
        mean /= double(group);
      }
      double var = 0;
      for (int64_t i = 0; i < group; ++i)
        var += (in[i] - mean) * (in[i] - mean);
      double inv = 1.0 / std::sqrt(var / double(group) + eps);
      for (int64_t i = 0; i < group; ++i) {
        double v = (in[i] - mean) * inv;
        if (gain)
          v *= double(gain->data[i]) + offset;
        if (bias)
          v += bias->data[i];
        out[i] = float(v);
      }
    }
    return y;
  }

  /// Columns [from, from + count) of a seq x features tensor.
  static Tensor columns(const Tensor &x, int64_t from, int64_t count) {
    int64_t seq = x.shape[0], features = x.shape[1];
    Tensor y = Tensor::zeros({seq, count});
    for (int64_t i = 0; i < seq; ++i)
      std::copy_n(x.data + i * features + from, count,
                  y.mutableData() + i * count);
    return y;
  }

  static Tensor linear(const Tensor &x, const Tensor &w, const Tensor *b) {
    int64_t seq = x.shape[0], k = x.shape[1], n = w.shape[0];
    Tensor y = Tensor::zeros({seq, n});
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = b ? double(b->data[j]) : 0.0;
        const float *xr = x.data + i * k, *wr = w.data + j * k;
        for (int64_t c = 0; c < k; ++c)
          acc += double(xr[c]) * double(wr[c]);
        y.mutableData()[i * n + j] = float(acc);
      }
    return y;
  }

  Status rope(ir::RopeOp r) {
    set(r.getResult(),
        rotate(tensor(r.getInput()), index(r.getPos()), r.getHeadDim(),
               r.getRotaryDim(), r.getLayout() == ir::RopeLayout::interleaved,
               r.getInverseFrequencies()));
    return Status::ok();
  }

  /// tfm.rope: heads of `hd` features, the first `rd` of each rotated.
  static Tensor rotate(const Tensor &x, int64_t pos, int64_t hd, int64_t rd,
                       bool interleaved, ArrayRef<double> inv) {
    int64_t seq = x.shape[0], features = x.shape[1], half = rd / 2;
    Tensor y = Tensor::zeros(x.shape);
    std::copy_n(x.data, x.numel(), y.mutableData());
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t h = 0; h < features / hd; ++h) {
        const float *in = x.data + i * features + h * hd;
        float *out = y.mutableData() + i * features + h * hd;
        for (int64_t k = 0; k < half; ++k) {
          double angle = double(pos + i) * inv[k];
          double c = std::cos(angle), s = std::sin(angle);
          int64_t a = interleaved ? 2 * k : k;
          int64_t b = interleaved ? 2 * k + 1 : k + half;
          out[a] = float(in[a] * c - in[b] * s);
          out[b] = float(in[b] * c + in[a] * s);
        }
      }
    return y;
  }

  /// What tfm.attention and tfm.cached_attention share.
  template <typename OpT> static AttentionParams attentionParams(OpT a) {
    AttentionParams p;
    p.heads = a.getNumHeads();
    p.kvHeads = a.getNumKvHeads();
    p.hd = a.getHeadDim();
    p.scale = a.getScale().convertToDouble();
    if (auto c = a.getSoftcap())
      p.cap = c->convertToDouble();
    p.window = a.getWindow() ? int64_t(*a.getWindow()) : 0;
    p.causal = a.getCausal();
    return p;
  }

  Status attention(ir::AttentionOp a) {
    set(a.getResult(),
        attend(tensor(a.getQuery()), tensor(a.getKey()), tensor(a.getValue()),
               optTensor(a.getBias()), index(a.getPos()), attentionParams(a)));
    return Status::ok();
  }

  static Tensor attend(const Tensor &q, const Tensor &k, const Tensor &v,
                       const Tensor *bias, int64_t pos,
                       const AttentionParams &params) {
    int64_t seq = q.shape[0], len = k.shape[0];
    int64_t heads = params.heads, kvHeads = params.kvHeads, hd = params.hd,
            vhd = v.shape[1] / kvHeads;
    int64_t group = heads / kvHeads;
    double scale = params.scale;
    std::optional<double> cap = params.cap;
    int64_t window = params.window;
    bool causal = params.causal;
    Tensor y = Tensor::zeros({seq, heads * vhd});
    std::vector<double> scores(static_cast<size_t>(len));
    std::vector<bool> keep(static_cast<size_t>(len));
    for (int64_t h = 0; h < heads; ++h) {
      int64_t g = h / group;
      for (int64_t i = 0; i < seq; ++i) {
        int64_t p = pos + i;
        const float *qi = q.data + i * heads * hd + h * hd;
        double maxScore = -INFINITY;
        for (int64_t j = 0; j < len; ++j) {
          keep[j] = !(causal && j > p) && !(window > 0 && j <= p - window);
          if (!keep[j])
            continue;
          const float *kj = k.data + j * kvHeads * hd + g * hd;
          double s = 0;
          for (int64_t c = 0; c < hd; ++c)
            s += double(qi[c]) * double(kj[c]);
          s *= scale;
          if (cap)
            s = *cap * std::tanh(s / *cap);
          if (bias)
            s += bias->data[(h * seq + i) * len + j];
          scores[j] = s;
          maxScore = std::max(maxScore, s);
        }
        double sum = 0;
        for (int64_t j = 0; j < len; ++j)
          if (keep[j]) {
            scores[j] = std::exp(scores[j] - maxScore);
            sum += scores[j];
          }
        float *out = y.mutableData() + i * heads * vhd + h * vhd;
        for (int64_t c = 0; c < vhd; ++c) {
          double acc = 0;
          for (int64_t j = 0; j < len; ++j)
            if (keep[j])
              acc += scores[j] * double(v.data[j * kvHeads * vhd + g * vhd + c]);
          out[c] = sum > 0 ? float(acc / sum) : 0.0f;
        }
      }
    }
    return y;
  }

  Status alibi(ir::AlibiOp a) {
    int64_t heads = a.getNumHeads(), pos = index(a.getPos()),
            seq = index(a.getQueryLen()), len = index(a.getKeyLen());
    SmallVector<double> slopes = ir::AlibiOp::getSlopes(heads);
    Tensor y = Tensor::zeros({heads, seq, len});
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < seq; ++i)
        for (int64_t j = 0; j < len; ++j)
          y.mutableData()[(h * seq + i) * len + j] =
              float(slopes[h] * double(j - (pos + i)));
    set(a.getResult(), std::move(y));
    return Status::ok();
  }

  Status relativeBias(ir::RelativeBiasOp r) {
    const Tensor &table = tensor(r.getTable());
    int64_t heads = table.shape[1], pos = index(r.getPos()),
            seq = index(r.getQueryLen()), len = index(r.getKeyLen());
    Tensor y = Tensor::zeros({heads, seq, len});
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t j = 0; j < len; ++j) {
        int64_t bucket = ir::RelativeBiasOp::getBucket(
            j - (pos + i), r.getBidirectional(), r.getNumBuckets(),
            r.getMaxDistance());
        for (int64_t h = 0; h < heads; ++h)
          y.mutableData()[(h * seq + i) * len + j] =
              table.data[bucket * heads + h];
      }
    set(r.getResult(), std::move(y));
    return Status::ok();
  }

  Status kvWrite(ir::KvWriteOp w) {
    Expected<Cache> cache = writeOperands(w);
    if (!cache)
      return cache.error();
    set(w.getResult(), cache.take());
    return Status::ok();
  }

  /// The cache write of a tfm.kv_write or tfm.cached_attention. Value
  /// semantics: the cache is updated in place only when nothing else reads
  /// the old one.
  template <typename OpT> Expected<Cache> writeOperands(OpT op) {
    return write(std::get<Cache>(values_[op.getCache()]),
                 !op.getCache().hasOneUse(), tensor(op.getKey()),
                 tensor(op.getValue()), index(op.getPos()));
  }

  static Expected<Cache> write(Cache cache, bool copy, const Tensor &k,
                               const Tensor &v, int64_t pos) {
    if (copy)
      cache = std::make_shared<KvBuffer>(*cache);
    int64_t seq = k.shape[0];
    if (pos + seq > cache->capacity)
      return Error(formatv("the KV cache holds {0} positions (max_seq_len); "
                           "writing positions [{1}, {2}) overflows it",
                           cache->capacity, pos, pos + seq)
                       .str());
    int64_t kw = cache->kvHeads * cache->headDim,
            vw = cache->kvHeads * cache->vHeadDim;
    if (cache->filled < pos + seq) {
      cache->keys.resize(size_t((pos + seq) * kw));
      cache->values.resize(size_t((pos + seq) * vw));
    }
    std::copy_n(k.data, seq * kw, cache->keys.data() + pos * kw);
    std::copy_n(v.data, seq * vw, cache->values.data() + pos * vw);
    cache->filled = std::max(cache->filled, pos + seq);
    return cache;
  }

  Status kvRead(ir::KvReadOp r) {
    Tensor k, v;
    if (Status s = read(std::get<Cache>(values_[r.getCache()]),
                        index(r.getLen()), k, v);
        !s)
      return s;
    set(r.getKey(), std::move(k));
    set(r.getValue(), std::move(v));
    return Status::ok();
  }

  static Status read(const Cache &cache, int64_t len, Tensor &k, Tensor &v) {
    if (len > cache->filled)
      return Error(formatv("reading {0} cache positions, but only {1} were "
                           "written",
                           len, cache->filled)
                       .str());
    int64_t kw = cache->kvHeads * cache->headDim,
            vw = cache->kvHeads * cache->vHeadDim;
    k = Tensor::zeros({len, kw});
    v = Tensor::zeros({len, vw});
    std::copy_n(cache->keys.data(), len * kw, k.mutableData());
    std::copy_n(cache->values.data(), len * vw, v.mutableData());
    return Status::ok();
  }

  //===--------------------------------------------------------------------===//
  // Fused ops: the same arithmetic as the ops they replace, op by op.
  //===--------------------------------------------------------------------===//

  Status concat(ir::ConcatOp c) {
    std::vector<int64_t> shape =
        std::get<Tensor>(values_[c.getInputs().front()]).shape;
    shape[0] = 0;
    for (Value v : c.getInputs())
      shape[0] += tensor(v).shape[0];
    Tensor y = Tensor::zeros(shape);
    float *out = y.mutableData();
    for (Value v : c.getInputs()) {
      const Tensor &t = tensor(v);
      out = std::copy_n(t.data, t.numel(), out);
    }
    set(c.getResult(), std::move(y));
    return Status::ok();
  }

  Status addNorm(ir::AddNormOp a) {
    const Tensor &lhs = tensor(a.getLhs()), &rhs = tensor(a.getRhs());
    double alpha = a.getAlpha().convertToDouble();
    Tensor sum = Tensor::zeros(lhs.shape);
    for (int64_t i = 0; i < lhs.numel(); ++i)
      sum.mutableData()[i] = float(alpha * lhs.data[i] + double(rhs.data[i]));
    set(a.getNormed(),
        normalize(sum, optTensor(a.getGain()), optTensor(a.getBias()),
                  a.getKind(),
                  a.getEps().convertToDouble(), lhs.shape[1],
                  a.getGainOffset().convertToDouble()));
    set(a.getSum(), std::move(sum));
    return Status::ok();
  }

  Status qkvRope(ir::QkvRopeOp op) {
    Tensor all = linear(tensor(op.getInput()), tensor(op.getWeight()),
                        optTensor(op.getBias()));
    int64_t hd = op.getHeadDim(), qw = op.getNumHeads() * hd,
            kw = op.getNumKvHeads() * hd,
            vw = op.getNumKvHeads() * op.getVHeadDim();
    Tensor q = columns(all, 0, qw), k = columns(all, qw, kw),
           v = columns(all, qw + kw, vw);
    if (auto kind = op.getNorm()) {
      double eps = op.getNormEps()->convertToDouble(),
             offset = op.getNormGainOffset().convertToDouble();
      auto group = op.getNormGroup();
      q = normalize(q, &tensor(op.getQGain()), nullptr, *kind, eps,
                    group ? int64_t(*group) : qw, offset);
      k = normalize(k, &tensor(op.getKGain()), nullptr, *kind, eps,
                    group ? int64_t(*group) : kw, offset);
    }
    int64_t pos = index(op.getPos());
    bool interleaved = op.getLayout() == ir::RopeLayout::interleaved;
    SmallVector<double> inv = op.getInverseFrequencies();
    set(op.getQuery(),
        rotate(q, pos, hd, op.getRotaryDim(), interleaved, inv));
    set(op.getKey(), rotate(k, pos, hd, op.getRotaryDim(), interleaved, inv));
    set(op.getValue(), std::move(v));
    return Status::ok();
  }

  Status cachedAttention(ir::CachedAttentionOp a) {
    Expected<Cache> cache = writeOperands(a);
    if (!cache)
      return cache.error();
    Tensor k, v;
    if (Status s = read(*cache, index(a.getLen()), k, v); !s)
      return s;
    set(a.getResult(), attend(tensor(a.getQuery()), k, v,
                              optTensor(a.getBias()), index(a.getPos()),
                              attentionParams(a)));
    set(a.getNewCache(), cache.take());
    return Status::ok();
  }

  Status linearGlu(ir::LinearGluOp g) {
    Tensor all = linear(tensor(g.getInput()), tensor(g.getWeight()),
                        optTensor(g.getBias()));
    int64_t f = all.shape[1] / 2;
    Tensor gate = columns(all, 0, f), up = columns(all, f, f);
    Tensor y = Tensor::zeros(gate.shape);
    for (int64_t i = 0; i < gate.numel(); ++i)
      y.mutableData()[i] =
          float(activate(g.getAct(), gate.data[i]) * double(up.data[i]));
    set(g.getResult(), std::move(y));
    return Status::ok();
  }

  /// down · (act(gate · x) ⊙ (up · x)) for one token; weights are rows of
  /// `ffn` x `dim` (gate, up) and `dim` x `ffn` (down).
  static void gatedMlp(ir::ActKind act, const float *x, const float *gate,
                       const float *up, const float *down, int64_t dim,
                       int64_t ffn, double weight, std::vector<double> &out) {
    std::vector<double> hidden(static_cast<size_t>(ffn));
    for (int64_t f = 0; f < ffn; ++f) {
      double g = 0, u = 0;
      for (int64_t c = 0; c < dim; ++c) {
        g += double(gate[f * dim + c]) * double(x[c]);
        u += double(up[f * dim + c]) * double(x[c]);
      }
      // Round like an f32 model storing its intermediate activations.
      hidden[f] = double(float(activate(act, float(g)) * double(float(u))));
    }
    for (int64_t c = 0; c < dim; ++c) {
      double acc = 0;
      for (int64_t f = 0; f < ffn; ++f)
        acc += double(down[c * ffn + f]) * hidden[f];
      out[c] += weight * double(float(acc));
    }
  }

  Status moe(ir::MoeOp m) {
    const Tensor &x = tensor(m.getInput()), &router = tensor(m.getRouter()),
                 &gate = tensor(m.getGate()), &up = tensor(m.getUp()),
                 &down = tensor(m.getDown());
    int64_t seq = x.shape[0], dim = x.shape[1], experts = m.getNumExperts(),
            topK = m.getTopK(), ffn = gate.shape[1];
    bool softmax = m.getScoring() == ir::MoeScoring::softmax;
    double routedScale = m.getRoutedScale().convertToDouble();
    Tensor y = Tensor::zeros(x.shape);
    std::vector<double> scores(static_cast<size_t>(experts)), out(static_cast<size_t>(dim));
    std::vector<int64_t> order(static_cast<size_t>(experts));
    for (int64_t i = 0; i < seq; ++i) {
      const float *xi = x.data + i * dim;
      for (int64_t e = 0; e < experts; ++e) {
        double acc = 0;
        for (int64_t c = 0; c < dim; ++c)
          acc += double(router.data[e * dim + c]) * double(xi[c]);
        scores[e] = double(float(acc));
      }
      if (softmax) {
        double mx = *std::max_element(scores.begin(), scores.end()), sum = 0;
        for (double &s : scores)
          sum += (s = std::exp(s - mx));
        for (double &s : scores)
          s /= sum;
      } else {
        for (double &s : scores)
          s = 1.0 / (1.0 + std::exp(-s));
      }
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return scores[a] > scores[b];
      });
      double chosen = 0;
      for (int64_t t = 0; t < topK; ++t)
        chosen += scores[order[t]];
      std::fill(out.begin(), out.end(), 0.0);
      for (int64_t t = 0; t < topK; ++t) {
        int64_t e = order[t];
        double w = scores[e] * routedScale;
        if (m.getNormTopk())
          w = scores[e] / chosen * routedScale;
        gatedMlp(m.getAct(), xi, gate.data + e * ffn * dim,
                 up.data + e * ffn * dim, down.data + e * dim * ffn, dim, ffn,
                 double(float(w)), out);
      }
      if (m.getSharedGate()) {
        const Tensor &sg = tensor(m.getSharedGate()),
                     &su = tensor(m.getSharedUp()),
                     &sd = tensor(m.getSharedDown());
        double w = 1.0;
        if (const Tensor *sr = optTensor(m.getSharedRouter())) {
          double acc = 0;
          for (int64_t c = 0; c < dim; ++c)
            acc += double(sr->data[c]) * double(xi[c]);
          w = 1.0 / (1.0 + std::exp(-acc));
        }
        gatedMlp(m.getAct(), xi, sg.data, su.data, sd.data, dim, sg.shape[0],
                 w, out);
      }
      for (int64_t c = 0; c < dim; ++c)
        y.mutableData()[i * dim + c] = float(out[c]);
    }
    set(m.getResult(), std::move(y));
    return Status::ok();
  }

  template <typename F>
  Status elementwise(Value result, Value lhs, Value rhs, F f) {
    const Tensor &a = tensor(lhs), &b = tensor(rhs);
    if (a.shape != b.shape)
      return Error("elementwise operands differ in shape at run time");
    Tensor y = Tensor::zeros(a.shape);
    for (int64_t i = 0; i < a.numel(); ++i)
      y.mutableData()[i] = float(f(double(a.data[i]), double(b.data[i])));
    set(result, std::move(y));
    return Status::ok();
  }

  template <typename F> Status unary(Value result, Value input, F f) {
    const Tensor &x = tensor(input);
    Tensor y = Tensor::zeros(x.shape);
    for (int64_t i = 0; i < x.numel(); ++i)
      y.mutableData()[i] = float(f(double(x.data[i])));
    set(result, std::move(y));
    return Status::ok();
  }

  const rt::WeightTable &weights_;
  llvm::DenseMap<Value, RtValue> values_;
};

} // namespace

struct Interpreter::Impl {
  ModuleOp module;
  const rt::WeightTable &weights;
  std::vector<Cache> caches;
};

Interpreter::Interpreter(ModuleOp module, const rt::WeightTable &weights)
    : impl_(new Impl{module, weights, {}}) {
  reset();
}

Interpreter::~Interpreter() = default;

void Interpreter::reset() {
  impl_->caches.clear();
  auto prefill = impl_->module.lookupSymbol<func::FuncOp>("prefill");
  if (!prefill)
    return;
  for (Type t : prefill.getArgumentTypes())
    if (auto cacheType = dyn_cast<ir::KvCacheType>(t)) {
      auto cache = std::make_shared<KvBuffer>();
      cache->capacity = cacheType.getLen();
      cache->kvHeads = cacheType.getKvHeads();
      cache->headDim = cacheType.getHeadDim();
      cache->vHeadDim = cacheType.getVHeadDim();
      impl_->caches.push_back(cache);
    }
}

Status Interpreter::checkWeights() const {
  Status status;
  impl_->module.walk([&](ir::WeightOp op) {
    if (!status)
      return;
    const rt::WeightTable::Entry *e = impl_->weights.find(op.getName().str());
    auto shape = op.getResult().getType().getShape();
    if (!e)
      status = Error(formatv("{0}: no weight '{1}'", impl_->weights.origin(),
                             op.getName())
                         .str());
    else if (e->shape != std::vector<int64_t>(shape.begin(), shape.end()))
      status = Error(formatv("{0}: weight '{1}' has shape {2}, the model "
                             "expects {3}",
                             impl_->weights.origin(), op.getName(),
                             rt::shapeString(e->shape),
                             rt::shapeString({shape.begin(), shape.end()}))
                         .str());
  });
  return status;
}

Expected<Tensor> Interpreter::run(llvm::StringRef entry,
                                  const std::vector<int32_t> &tokens,
                                  int64_t pos) {
  auto fn = impl_->module.lookupSymbol<func::FuncOp>(entry);
  if (!fn)
    return Error(formatv("the module has no entry point @{0}", entry).str());
  Block &body = fn.getBody().front();
  auto tokenType = cast<RankedTensorType>(fn.getArgumentTypes()[0]);
  if (!tokenType.isDynamicDim(0) &&
      tokenType.getDimSize(0) != int64_t(tokens.size()))
    return Error(formatv("@{0} takes {1} tokens, got {2}", entry,
                         tokenType.getDimSize(0), tokens.size())
                     .str());
  if (body.getNumArguments() != 2 + impl_->caches.size())
    return Error(formatv("@{0} does not take (tokens, pos, caches...)", entry)
                     .str());

  Evaluator eval(impl_->weights);
  eval[body.getArgument(0)] = Tokens(tokens);
  eval[body.getArgument(1)] = pos;
  for (size_t i = 0; i < impl_->caches.size(); ++i)
    eval[body.getArgument(2 + i)] = impl_->caches[i];

  for (Operation &op : body.without_terminator())
    if (Status s = eval.eval(&op); !s)
      return Error(s.message());

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (size_t i = 0; i < impl_->caches.size(); ++i)
    impl_->caches[i] = std::get<Cache>(eval[ret.getOperand(1 + i)]);
  return std::get<Tensor>(eval[ret.getOperand(0)]);
}

Expected<std::vector<Tensor>>
Interpreter::evaluate(Block &block, const std::vector<InterpreterValue> &args,
                      const rt::WeightTable &weights) {
  if (args.size() != block.getNumArguments())
    return Error(formatv("evaluate: {0} arguments for a block of {1}",
                         args.size(), block.getNumArguments())
                     .str());
  Evaluator eval(weights);
  for (auto [arg, value] : llvm::zip(block.getArguments(), args)) {
    switch (value.kind) {
    case InterpreterValue::Kind::Tensor:
      eval[arg] = value.tensor;
      break;
    case InterpreterValue::Kind::Tokens:
      eval[arg] = value.tokens;
      break;
    case InterpreterValue::Kind::Index:
      eval[arg] = value.index;
      break;
    case InterpreterValue::Kind::Cache:
      if (!value.cache)
        return Error("evaluate: a cache argument without a cache");
      eval[arg] = Cache(value.cache);
      break;
    }
  }
  for (Operation &op : block.without_terminator())
    if (Status s = eval.eval(&op); !s)
      return Error(s.message());
  std::vector<Tensor> results;
  for (Value v : block.getTerminator()->getOperands())
    results.push_back(std::get<Tensor>(eval[v]));
  return results;
}
