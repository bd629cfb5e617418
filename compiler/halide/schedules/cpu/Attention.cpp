//===- Attention.cpp - attention over the KV cache --------------*- C++ -*-===//
//
// One task per (KV head group, query row): the heads that share a KV head
// (all of them for MQA, one for MHA) are computed together, so each key and
// value vector loaded from the cache serves the whole group. Scores are dot
// products over head_dim split into vector lanes (rfactor); values are
// accumulated vectorized along the head dimension, which is contiguous in
// the cache.
//
// A cached attention (tfm.cached_attention) splits the keys into chunks
// whose partial softmaxes are merged: in decode the chunks are tasks of
// their own (flash-decoding), each over all heads, so it streams whole
// cache rows: scores in tiles of a vector of keys (each tile's lane sums
// reduced to one vector of scores at once), the chunk's max and
// denominator in lanes, the weighted values key by key over every head.
// Its stages are internal buffers and keys past the end read the last
// one, so its vector tails round up, and it runs on AVX-512 where the
// heads are whole vectors. In prefill a task is a block of 32 (query
// row, head) pairs of one KV head; it walks only the chunks of 64 keys its
// rows can see (causal, window), transposes each chunk once, and computes
// it in tiles of 4 pairs: scores vectorized along the keys (a register
// tile of 16 keys × 4 pairs) and weighted values in a tile of 2 vectors
// of v_head_dim × 4 pairs, so each key and value loaded serves the tile.
//
// Measured (bench/RESULTS.md): decode over 2048 cached positions of the
// 110M model's shape, one thread, caches from memory: 0.25 ms a layer
// (q8_0), 0.39 (bf16), 0.40-0.46 (f16), 0.54-0.65 (f32, at the memory's
// speed). Chunked prefill of a 2048-token
// prompt, one thread: 4.3 s for the 110M model's 12 layers (about 18
// GFLOP/s counting only the keys each row can see), 3.2× the unfused
// kernel.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

#include <algorithm>
#include <optional>

using namespace Halide;

namespace tfm::halide::cpu {

/// Scores qk(t, h, s) = Σ_d q·k for one query row: lanes of the head
/// dimension; for every key, all heads of the group reuse the key vector
/// just loaded. The partial sums live at `at`'s loop `where`. With
/// `wholeRows` (the task holds every head), each key's heads are walked in
/// order, reading the cached row front to back.
static void scheduleScores(Func qk, RDom dims, int vec, int hd, int group,
                           Func at, Var where, bool wholeRows = false,
                           TailStrategy tail = TailStrategy::GuardWithIf) {
  Var qt = qk.args()[0];
  if (hd % vec == 0) {
    RVar dOuter("do"), dInner("di");
    Var lane("lane");
    Func partial = qk.update().split(dims.x, dOuter, dInner, vec)
                       .rfactor(dInner, lane);
    Var pt = partial.args()[0], ph = partial.args()[1],
        ps = partial.args()[2];
    partial.compute_at(at, where)
        .reorder_storage(lane, ph, pt, ps)
        .vectorize(lane);
    Stage update = partial.update();
    if (wholeRows)
      update.reorder(lane, dOuter, ph, pt).vectorize(lane);
    else
      update.reorder(lane, ph, dOuter, pt).vectorize(lane);
    if (group <= 8)
      update.unroll(ph, group, TailStrategy::GuardWithIf);
    // Independent sums for a few keys at once, so the FMA chains overlap.
    if (group < 4)
      update.unroll(pt, 4 / group, TailStrategy::GuardWithIf);
  }
  qk.vectorize(qt, vec, tail);
}

/// Scores qk(t, h, s) = Σ_d q·k from keys transposed to (key, dimension):
/// vectors along the keys, a register tile of 2 vectors of keys × the
/// group's heads × `rows` query rows, each query element broadcast.
static void scheduleScoresAlongKeys(Func qk, RDom dims, int vec, int group,
                                    int rows) {
  Var t = qk.args()[0], h = qk.args()[1], s = qk.args()[2];
  qk.vectorize(t, vec, TailStrategy::RoundUp);
  Var to("to"), ti("ti"), so("so"), si("si");
  Stage update = qk.update();
  update.split(t, to, ti, 2 * vec, TailStrategy::RoundUp)
      .split(s, so, si, rows, TailStrategy::RoundUp)
      .reorder(ti, h, si, dims.x, to, so)
      .vectorize(ti, vec)
      .unroll(ti)
      .unroll(si);
  if (group * rows <= 4)
    update.unroll(h, group, TailStrategy::GuardWithIf);
}

/// Flash-decoding's scores for one chunk: a tile of `vec` keys of one head
/// at a time, each key's dot product in lanes of the head dimension (the
/// key's row read whole), then the tile's `vec` × `vec` lane sums reduced
/// to one vector of scores at once (a tree of shuffles and adds) instead of
/// one key at a time.
static void scheduleScoresInTiles(Func qk, RDom dims, int vec) {
  Var qt = qk.args()[0], qh = qk.args()[1], ps = qk.args()[2];
  RVar dOuter("do"), dInner("di");
  Var lane("lane"), to("to"), ti("ti");
  Func partial =
      qk.update().split(dims.x, dOuter, dInner, vec).rfactor(dInner, lane);
  qk.vectorize(qt, vec, TailStrategy::RoundUp);
  qk.update()
      .split(qt, to, ti, vec, TailStrategy::RoundUp)
      .reorder(dInner, ti, qh, to)
      .atomic()
      .vectorize(dInner)
      .vectorize(ti);
  // A tile's lane sums for every head, each key's row read whole (the
  // cache streams front to back); stored head by head for the reduction.
  Var pt = partial.args()[0], ph = partial.args()[1];
  partial.compute_at(qk, to).reorder_storage(lane, pt, ph, ps).vectorize(lane);
  partial.update().reorder(lane, dOuter, ph, pt).vectorize(lane).unroll(dOuter);
}

/// A chunk's reduction over its keys, r(h, s, ch) = r ⊕ f(k, ...): lanes
/// of keys, then the lanes reduced.
static void scheduleKeyReduction(Func r, RVar keys, int vec) {
  RVar ko("ko"), ki("ki");
  Var lane("lane");
  Func partial = r.update().split(keys, ko, ki, vec, TailStrategy::GuardWithIf)
                     .rfactor(ki, lane);
  partial.compute_at(r, r.args()[0]).vectorize(lane);
  partial.update().vectorize(lane);
  r.update().atomic().vectorize(ki);
}

/// Weighted values acc(e, h, s, ...) += p·v: vectors along the head
/// dimension, the group's heads (and `rows` query rows) inside the loop
/// over keys so each value vector is loaded once for all of them.
static void scheduleWeighted(Func weighted, RVar keys, int vec, int vhd,
                             int group, int rows) {
  Var we = weighted.args()[0], wh = weighted.args()[1],
      ws = weighted.args()[2];
  weighted.bound(we, 0, vhd).vectorize(we, vec, TailStrategy::GuardWithIf);
  Stage update = weighted.update();
  if (rows > 1 && vhd % (2 * vec) == 0) {
    // 2 vectors of v_head_dim × rows × heads accumulators per pass over
    // the keys.
    Var weOuter("weo"), weInner("wei"), tiles("tiles"), tileRow("tile_row");
    update.split(we, weOuter, weInner, 2 * vec)
        .split(ws, tiles, tileRow, rows, TailStrategy::RoundUp)
        .reorder(weInner, wh, tileRow, keys, weOuter, tiles)
        .vectorize(weInner, vec)
        .unroll(weInner)
        .unroll(tileRow);
    if (group * rows <= 4)
      update.unroll(wh, group, TailStrategy::GuardWithIf);
    return;
  }
  update.reorder(we, wh, keys).vectorize(we, vec, TailStrategy::GuardWithIf);
  if (vhd % vec == 0 && (vhd / vec) * group <= 16)
    update.unroll(we).unroll(wh, group, TailStrategy::GuardWithIf);
}

/// The head geometry an attention schedule is parameterized by.
struct Heads {
  int vec, hd, vhd, group;
};

template <typename ScheduleAttr>
static Heads headsOf(ScheduleAttr s) {
  return {int(s.getVector()), int(s.getHeadDim()), int(s.getVHeadDim()),
          int(s.getHeads() / s.getKvHeads())};
}

/// One parallel task per (KV-head group, `rows` query rows) of `out`: a
/// group's output features are contiguous, [g·group·vhd, ...); vectors run
/// along v_head_dim. Consecutive tasks are consecutive rows of one group,
/// so the group's keys and values stay in cache from one task to the next.
/// Returns the task loop.
static Var taskPerGroupAndRows(Func out, Var c, Var row, const Heads &h,
                               int rows = 1) {
  Var g("g"), within("within"), hi("hi"), e("e"), task("task");
  out.split(c, g, within, h.group * h.vhd).split(within, hi, e, h.vhd);
  if (rows > 1) {
    Var rowTile("rt"), rowInner("ri");
    out.split(row, rowTile, rowInner, rows, TailStrategy::GuardWithIf)
        .reorder(e, hi, rowInner, rowTile, g)
        .fuse(rowTile, g, task);
  } else {
    out.reorder(e, hi, row, g).fuse(row, g, task);
  }
  out.parallel(task).vectorize(e, h.vec, TailStrategy::GuardWithIf);
  return task;
}

void scheduleAttention(KernelPipeline &p, ir::AttentionScheduleAttr s,
                       const Target &) {
  Heads h = headsOf(s);
  int vec = h.vec, hd = h.hd, vhd = h.vhd, group = h.group;
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  AttentionStages &a = p.stages.attention;
  Func &qk = need(a.qk, "qk"), &mx = need(a.max, "max"),
       &prob = need(a.prob, "prob"), &den = need(a.denom, "denom"),
       &weighted = need(a.weighted, "weighted");
  RDom keys = need(a.keys, "keys"), dims = need(a.headDim, "head_dim");

  Var task = taskPerGroupAndRows(out, c, row, h);
  for (Func *f : {&qk, &mx, &prob, &den, &weighted})
    f->compute_at(out, task);

  scheduleScores(qk, dims, vec, hd, group, out, task);
  prob.vectorize(prob.args()[0], vec, TailStrategy::GuardWithIf);

  scheduleWeighted(weighted, keys.x, vec, vhd, group, 1);
}

/// Attention in chunks of keys (the chunk length is the algorithm's): in
/// decode (no `tiles`) flash-decoding; in prefill, tasks of `tiles->second`
/// (query row, head) pairs in tiles of `tiles->first`.
static void scheduleChunked(KernelPipeline &p, const Heads &h,
                            std::optional<std::pair<int, int>> tiles) {
  int vec = h.vec, vhd = h.vhd, group = h.group;
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  AttentionStages &a = p.stages.attention;
  Func &qk = need(a.qk, "qk"), &prob = need(a.prob, "prob"),
       &cmax = need(a.chunkMax, "chunk_max"),
       &cden = need(a.chunkDenom, "chunk_denom"),
       &cacc = need(a.chunkWeighted, "chunk_weighted"),
       &partials = need(a.partials, "partials"), &mx = need(a.max, "max"),
       &den = need(a.denom, "denom"), &weighted = need(a.weighted, "weighted");
  RDom keys = need(a.keys, "keys"), dims = need(a.headDim, "head_dim"),
       chunks = need(a.chunks, "chunks");
  Var px = partials.args()[0], ph = partials.args()[1],
      ps = partials.args()[2], pc = partials.args()[3];
  // One chunk of one head group is computed at partials' loop `chunkLoop`,
  // for `rows` query rows.
  Var chunkLoop;
  int rows = 1;
  if (!tiles) {
    // Flash-decoding: every chunk of keys is a task of its own, for all
    // heads; the merge afterwards is O(chunks · heads · v_head_dim). With
    // the parallelism taken from the keys, a task walks each cached key
    // row whole, head after head: the cache streams front to back, where
    // a task per head group reads a few lines of every row.
    chunkLoop = pc;
    // Vector tails round up (every stage here is an internal buffer, and
    // keys past a chunk's end read its last key): AVX-512 runs this
    // schedule, and Halide 14 miscompiles predicated AVX-512 stores.
    partials.compute_root()
        .reorder(px, ph, ps, pc)
        .parallel(pc)
        .vectorize(px, vec, TailStrategy::RoundUp);
    out.vectorize(c, vec, TailStrategy::GuardWithIf);
    for (Func *f : {&mx, &den, &weighted})
      f->compute_at(out, row);
  } else {
    // Prefill: one task per (KV-head group, block of task_rows query
    // rows), walking the chunks of keys the block can see. Each chunk is
    // transposed once per task (keys_t); then each tile of `rows` query
    // rows computes its scores from it, vectorized along the keys, and its
    // weighted values, each value vector serving the whole tile.
    rows = std::max(1, tiles->first / group);
    int blockRows = std::max(1, tiles->second / group / rows) * rows;
    Var task = taskPerGroupAndRows(out, c, row, h, blockRows);
    for (Func *f : {&mx, &den, &weighted, &partials})
      f->compute_at(out, task);
    Var tile("tile"), tileRow("tile_row");
    partials.split(ps, tile, tileRow, rows, TailStrategy::GuardWithIf)
        .reorder(px, ph, tileRow, tile, pc)
        .vectorize(px, vec, TailStrategy::GuardWithIf);
    Func &keysT = need(a.keysT, "keys_t");
    keysT.compute_at(partials, pc)
        .vectorize(keysT.args()[0], vec, TailStrategy::RoundUp);
    chunkLoop = tile;
  }
  for (Func *f : {&qk, &prob, &cmax, &cden, &cacc})
    f->compute_at(partials, chunkLoop);
  if (!tiles) {
    scheduleScoresInTiles(qk, dims, vec);
    scheduleKeyReduction(cmax, keys.x, vec);
    scheduleKeyReduction(cden, keys.x, vec);
  } else {
    scheduleScoresAlongKeys(qk, dims, vec, group, rows);
  }
  prob.vectorize(prob.args()[0], vec,
                 tiles ? TailStrategy::GuardWithIf : TailStrategy::RoundUp);
  scheduleWeighted(cacc, keys.x, vec, vhd, group, rows);
  scheduleWeighted(weighted, chunks.x, vec, vhd, group, 1);
}

void scheduleFlashDecode(KernelPipeline &p, ir::FlashDecodeScheduleAttr s,
                         const Target &) {
  scheduleChunked(p, headsOf(s), std::nullopt);
}

void scheduleFlashPrefill(KernelPipeline &p, ir::FlashPrefillScheduleAttr s,
                          const Target &) {
  scheduleChunked(p, headsOf(s),
                  std::pair{int(s.getQueryRows()), int(s.getTaskRows())});
}

} // namespace tfm::halide::cpu
