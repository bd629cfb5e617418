//===- Attention.cpp - tfm.attention and tfm.cached_attention ---*- C++ -*-===//
//
// Scores, softmax and weighted values per (head, query row). A cached
// attention reads the KV cache in place, in chunks of keys whose partial
// softmaxes are merged (flash-decoding in decode, key tiles per query in
// prefill); its chunk length is the one choice of the schedule that
// shapes the algorithm (AlgorithmOptions).
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

using namespace Halide;

namespace tfm::halide {
namespace {

/// Scores of key t for head h and query row s: q·k (the stage "qk"),
/// scaled, soft-capped and biased, the lowest float where `masked`
/// (causal, window, or `outside`). Keys and bias are read at key row
/// `row`, queries and bias at query row `queryRow`.
template <typename AttentionT>
Func attentionLogits(Lowering &l, AttentionT a, Func key, Var t, Var h, Var s,
                     RDom rd, Expr row, Expr queryRow, Expr outside,
                     Expr &masked) {
  AttentionStages &stages = l.stages.attention;
  Func q = l.f(a.getQuery());
  int hd = int(a.getHeadDim());
  int group = int(a.getNumHeads() / a.getNumKvHeads());
  // The keys as (key, dimension, KV head): inlined, it is the cache read in
  // place; computed, a chunk of keys transposed so that the scores can be
  // vectorized along the keys.
  Var d("d"), g("g");
  Func keysT("keys_t");
  keysT(t, d, g) = key(g * hd + d, row);
  stages.keysT = keysT;
  Func qk("qk");
  qk(t, h, s) += q(h * hd + rd, queryRow) * keysT(t, rd, h / group);
  stages.qk = qk;
  Expr score = qk(t, h, s) * float(a.getScale().convertToDouble());
  if (auto cap = a.getSoftcap()) {
    float capf = float(cap->convertToDouble());
    score = capf * tanh(score / capf);
  }
  if (a.getBias())
    score = score + l.f(a.getBias())(row, queryRow, h);
  Expr p = l.scalar(a.getPos()) + s;
  masked = outside;
  if (a.getCausal())
    masked = masked || t > p;
  if (auto w = a.getWindow())
    masked = masked || t <= p - int(*w);
  Func logits("logits");
  logits(t, h, s) = select(masked, Float(32).min(), score);
  stages.logits = logits;
  return logits;
}

void lowerAttention(ir::AttentionOp a, Lowering &l) {
  Var c("c"), s("s"), t("t"), h("h"), e("e");
  AttentionStages &stages = l.stages.attention;
  Func value = l.f(a.getValue());
  int heads = int(a.getNumHeads()), kvHeads = int(a.getNumKvHeads());
  int hd = int(a.getHeadDim());
  int vhd = int(Lowering::size(a.getValue(), 1)) / kvHeads;
  int group = heads / kvHeads;
  Expr len = l.extent(a.getKey(), 0);

  RDom rd(0, hd, "dd");
  Expr masked;
  Func logits = attentionLogits(l, a, l.f(a.getKey()), t, h, s, rd, t, s,
                                Internal::const_false(), masked);

  RDom rt(0, len, "tt");
  stages.keys = rt;
  stages.headDim = rd;
  Func mx("max"), den("denom"), weighted("weighted");
  mx(h, s) = maximum(logits(rt, h, s));
  Func prob("prob");
  prob(t, h, s) = select(masked, 0.0f, exp(logits(t, h, s) - mx(h, s)));
  den(h, s) += prob(rt, h, s);
  weighted(e, h, s) += prob(rt, h, s) * value((h / group) * vhd + e, rt);
  Func out("attention");
  out(c, s) = weighted(c % vhd, c / vhd, s) / den(c / vhd, s);
  stages.max = mx;
  stages.prob = prob;
  stages.denom = den;
  stages.weighted = weighted;
  l.define(a.getResult(), out);
}

/// tfm.cached_attention: attention over the cache in place, in chunks of
/// kv_chunk keys: each chunk's softmax is computed on its own (its max,
/// denominator and weighted values: the "partials" stage), then the chunks
/// are merged, rescaled to the global max. No score row longer than a
/// chunk exists.
void lowerCachedAttention(ir::CachedAttentionOp a, Lowering &l) {
  Var c("c"), s("s"), t("t"), h("h"), e("e"), x("x"), ch("ch");
  AttentionStages &stages = l.stages.attention;
  // The cache in place: the host (or the QKV kernel, for an f32 cache) has
  // written this call's keys and values into it (see tfm.kernel), so rows
  // [0, len) are all there, each element read as f32 (widened or
  // dequantized from the cache's storage).
  auto [key, value] = l.cache(a.getCache());
  ir::KvCacheType cache = a.getCache().getType();
  int heads = int(a.getNumHeads()), kvHeads = int(a.getNumKvHeads());
  int hd = int(a.getHeadDim());
  int vhd = int(cache.getVHeadDim());
  int group = heads / kvHeads;
  int chunk = l.options().kvChunk;
  Expr len = l.scalar(a.getLen());
  Expr last = len - 1;

  RDom rd(0, hd, "dd");
  // Chunks run past the last key: those rows read the last key and are
  // masked. A tile of query rows may run past the last row: it reads the
  // last row, and its results are never stored.
  Expr masked;
  Expr lastRow = l.rowsOf(a.getQuery()) - 1;
  Func logits = attentionLogits(l, a, key, t, h, s, rd, min(t, last),
                                min(s, lastRow), t > last, masked);

  // In decode, a cache shorter than a chunk is one chunk of its own
  // length. In prefill chunks are short and always whole (keys past the
  // last are masked), so a tile's scores have a constant size.
  Expr chunkLen = l.decode() ? min(chunk, len) : Expr(chunk);
  RDom rk(0, chunkLen, "kk");
  Expr tk = ch * chunkLen + rk;
  // Each chunk's max, probabilities (key k of chunk ch: key ch · chunkLen
  // + k, so a chunk's keys need no division to find their chunk),
  // denominator and weighted values. The max is an explicit update, so a
  // schedule can vectorize it.
  Var k("k");
  Func isMasked("is_masked");
  isMasked(t, s) = masked;
  Func cmax("chunk_max"), prob("prob"), cden("chunk_denom"),
      cacc("chunk_weighted");
  cmax(h, s, ch) = Float(32).min();
  cmax(h, s, ch) = max(cmax(h, s, ch), logits(tk, h, s));
  Expr tc = ch * chunkLen + k;
  prob(k, h, s, ch) = select(isMasked(tc, s), 0.0f,
                             exp(logits(tc, h, s) - cmax(h, s, ch)));
  cden(h, s, ch) += prob(rk, h, s, ch);
  cacc(e, h, s, ch) +=
      prob(rk, h, s, ch) * value((h / group) * vhd + e, min(tk, last));
  // Per chunk: vhd weighted values, then the denominator, then the max.
  Func partials("partials");
  partials(x, h, s, ch) =
      select(x < vhd, cacc(min(x, vhd - 1), h, s, ch),
             select(x == vhd, cden(h, s, ch), cmax(h, s, ch)));

  // Chunks a query row cannot see at all (every key after it, or before
  // its window) are left out of the merge, and bounds inference then never
  // computes them: causal prefill does about half the work of a full
  // square. The tests use the constant chunk length: they are exact when
  // the cache is at least a chunk long, and hold for the single chunk of a
  // shorter one. (Written with the dynamic length, the compiled kernel
  // gave wrong results once a task had several rows.)
  RDom rc(0, (len + chunkLen - 1) / chunkLen, "cc");
  Expr p = l.scalar(a.getPos()) + s;
  if (a.getCausal())
    rc.where(rc * chunk <= p);
  if (auto w = a.getWindow())
    rc.where((rc + 1) * chunk > p - int(*w) + 1);
  Func mx("max"), scaleOf("chunk_scale"), den("denom"), weighted("weighted");
  mx(h, s) = maximum(partials(vhd + 1, h, s, rc));
  scaleOf(h, s, ch) = exp(partials(vhd + 1, h, s, ch) - mx(h, s));
  den(h, s) += partials(vhd, h, s, rc) * scaleOf(h, s, rc);
  weighted(e, h, s) += partials(e, h, s, rc) * scaleOf(h, s, rc);
  Func out("attention");
  out(c, s) = weighted(c % vhd, c / vhd, s) / den(c / vhd, s);
  stages.keys = rk;
  stages.headDim = rd;
  stages.chunks = rc;
  stages.chunkMax = cmax;
  stages.prob = prob;
  stages.chunkDenom = cden;
  stages.chunkWeighted = cacc;
  stages.partials = partials;
  stages.max = mx;
  stages.chunkScale = scaleOf;
  stages.denom = den;
  stages.weighted = weighted;
  l.define(a.getResult(), out);
}

} // namespace

void addAttentionLowerings(LoweringTable &table) {
  table.add(lowerAttention);
  table.add(lowerCachedAttention);
}

} // namespace tfm::halide
