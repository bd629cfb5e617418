//===- Attention.cpp - attention and the KV cache ---------------*- C++ -*-===//
//
// tfm.kv_write, tfm.kv_read, tfm.attention, and tfm.cached_attention (the
// three of them at once).
//
//===----------------------------------------------------------------------===//

#include "compiler/interpreter/rules/Rules.h"
#include "runtime/Quant.h"

#include <cmath>

using llvm::formatv;

namespace tfm::interp {
namespace {

struct AttentionParams {
  int64_t heads = 0, kvHeads = 0, hd = 0, window = 0;
  double scale = 1;
  std::optional<double> cap;
  bool causal = false;
};

/// What tfm.attention and tfm.cached_attention share.
template <typename OpT> AttentionParams attentionParams(OpT a) {
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

Tensor attend(const Tensor &q, const Tensor &k, const Tensor &v,
              const Tensor *bias, int64_t pos, const AttentionParams &params) {
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

Expected<Cache> write(Cache cache, bool copy, const Tensor &k,
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
  // Each row as the cache stores it (and the programs' cache writes,
  // rt::storeValues, store it), read back.
  auto store = [&](const float *from, int64_t n, float *to) {
    if (cache->storage == rt::DType::F32) {
      std::copy_n(from, n, to);
      return;
    }
    std::vector<uint8_t> bytes(size_t(rt::storageSize(cache->storage, n)));
    rt::storeValues(cache->storage, from, n, bytes.data());
    rt::loadValues(cache->storage, bytes.data(), n, to);
  };
  store(k.data, seq * kw, cache->keys.data() + pos * kw);
  store(v.data, seq * vw, cache->values.data() + pos * vw);
  cache->filled = std::max(cache->filled, pos + seq);
  return cache;
}

/// The cache write of a tfm.kv_write or tfm.cached_attention. Value
/// semantics: the cache is updated in place only when nothing else reads
/// the old one.
template <typename OpT> Expected<Cache> writeOperands(OpT op, Frame &frame) {
  return write(std::get<Cache>(frame[op.getCache()]),
               !op.getCache().hasOneUse(), frame.tensor(op.getKey()),
               frame.tensor(op.getValue()), frame.index(op.getPos()));
}

Status read(const Cache &cache, int64_t len, Tensor &k, Tensor &v) {
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

Status kvWrite(ir::KvWriteOp w, Frame &frame) {
  Expected<Cache> cache = writeOperands(w, frame);
  if (!cache)
    return cache.error();
  frame.set(w.getResult(), cache.take());
  return Status::ok();
}

Status kvRead(ir::KvReadOp r, Frame &frame) {
  Tensor k, v;
  if (Status s = read(std::get<Cache>(frame[r.getCache()]),
                      frame.index(r.getLen()), k, v);
      !s)
    return s;
  frame.set(r.getKey(), std::move(k));
  frame.set(r.getValue(), std::move(v));
  return Status::ok();
}

Status attention(ir::AttentionOp a, Frame &frame) {
  frame.set(a.getResult(),
            attend(frame.tensor(a.getQuery()), frame.tensor(a.getKey()),
                   frame.tensor(a.getValue()), frame.optTensor(a.getBias()),
                   frame.index(a.getPos()), attentionParams(a)));
  return Status::ok();
}

Status cachedAttention(ir::CachedAttentionOp a, Frame &frame) {
  Expected<Cache> cache = writeOperands(a, frame);
  if (!cache)
    return cache.error();
  Tensor k, v;
  if (Status s = read(*cache, frame.index(a.getLen()), k, v); !s)
    return s;
  frame.set(a.getResult(),
            attend(frame.tensor(a.getQuery()), k, v,
                   frame.optTensor(a.getBias()), frame.index(a.getPos()),
                   attentionParams(a)));
  frame.set(a.getNewCache(), cache.take());
  return Status::ok();
}

} // namespace

void addAttentionRules(RuleTable &table) {
  table.add(kvWrite);
  table.add(kvRead);
  table.add(attention);
  table.add(cachedAttention);
}

} // namespace tfm::interp
