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
// their own (flash-decoding), in prefill a query row's task walks them.
//
// Measured (bench/RESULTS.md): 4-5% of decode time for the 110M model at
// 128-192 cached positions, ~8 GB/s.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

/// Scores qk(t, h, s) = Σ_d q·k: lanes of the head dimension; for every
/// key, all heads of the group reuse the key vector just loaded. The
/// partial sums live at `at`'s loop `where`.
static void scheduleScores(Func qk, RDom dims, int vec, int hd, int group,
                           Func at, Var where) {
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
    partial.update().reorder(lane, ph, dOuter, pt).vectorize(lane);
    if (group <= 8)
      partial.update().unroll(ph, group, TailStrategy::GuardWithIf);
    if (group < 4)
      partial.update().unroll(pt, 4 / group, TailStrategy::GuardWithIf);
  }
  qk.vectorize(qt, vec, TailStrategy::GuardWithIf);
}

/// Weighted values acc(e, h, ...) += p·v: vectors along the head
/// dimension, the group's heads inside the loop over keys so each value
/// vector is loaded once.
static void scheduleWeighted(Func weighted, RVar keys, int vec, int vhd,
                             int group) {
  Var we = weighted.args()[0], wh = weighted.args()[1];
  weighted.bound(we, 0, vhd).vectorize(we, vec, TailStrategy::GuardWithIf);
  weighted.update()
      .reorder(we, wh, keys)
      .vectorize(we, vec, TailStrategy::GuardWithIf);
  if (vhd % vec == 0 && (vhd / vec) * group <= 16)
    weighted.update().unroll(we).unroll(wh, group, TailStrategy::GuardWithIf);
}

/// The head geometry an attention schedule is parameterized by.
struct Heads {
  int vec, hd, vhd, group;
};

static Heads headsOf(mlir::DictionaryAttr s) {
  int vhd = param(s, "v_head_dim", 0), hd = param(s, "head_dim", 0);
  int heads = param(s, "heads", 0), kvHeads = param(s, "kv_heads", 0);
  if (vhd <= 0 || hd <= 0 || heads <= 0 || kvHeads <= 0)
    throw CompileError("attention schedule needs head_dim, v_head_dim, heads "
                       "and kv_heads");
  return {param(s, "vector", 8), hd, vhd, heads / kvHeads};
}

/// One parallel task per (KV-head group, query row) of `out`: a group's
/// output features are contiguous, [g·group·vhd, ...); vectors run along
/// v_head_dim. Returns the task loop.
static Var taskPerGroupAndRow(Func out, Var c, Var row, const Heads &h) {
  Var g("g"), within("within"), hi("hi"), e("e"), task("task");
  out.split(c, g, within, h.group * h.vhd)
      .split(within, hi, e, h.vhd)
      .fuse(g, row, task)
      .parallel(task)
      .vectorize(e, h.vec, TailStrategy::GuardWithIf);
  return task;
}

void scheduleAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                       const Target &) {
  Heads h = headsOf(s);
  int vec = h.vec, hd = h.hd, vhd = h.vhd, group = h.group;
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  Func &qk = stage(p, "qk"), &mx = stage(p, "max"), &prob = stage(p, "prob"),
       &den = stage(p, "denom"), &weighted = stage(p, "weighted");
  RDom keys = p.rdoms.at("keys"), dims = p.rdoms.at("head_dim");

  Var task = taskPerGroupAndRow(out, c, row, h);
  for (Func *f : {&qk, &mx, &prob, &den, &weighted})
    f->compute_at(out, task);

  scheduleScores(qk, dims, vec, hd, group, out, task);
  prob.vectorize(prob.args()[0], vec, TailStrategy::GuardWithIf);

  scheduleWeighted(weighted, keys.x, vec, vhd, group);
}

void scheduleFlashAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                            const Target &) {
  Heads h = headsOf(s);
  int vec = h.vec, hd = h.hd, vhd = h.vhd, group = h.group;
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  Func &qk = stage(p, "qk"), &prob = stage(p, "prob"),
       &cmax = stage(p, "chunk_max"), &cden = stage(p, "chunk_denom"),
       &cacc = stage(p, "chunk_weighted"), &partials = stage(p, "partials"),
       &mx = stage(p, "max"), &den = stage(p, "denom"),
       &weighted = stage(p, "weighted");
  RDom keys = p.rdoms.at("keys"), dims = p.rdoms.at("head_dim"),
       chunks = p.rdoms.at("chunks");
  Var px = partials.args()[0], ph = partials.args()[1],
      ps = partials.args()[2], pc = partials.args()[3];
  // One chunk of one head group is computed at partials' loop `chunkLoop`.
  Var chunkLoop;
  if (p.decode) {
    // Flash-decoding: every (chunk, KV-head group) is a task of its own;
    // the merge afterwards is O(chunks · heads · v_head_dim).
    Var g("g"), hi("hi");
    chunkLoop = Var("task");
    partials.compute_root()
        .split(ph, g, hi, group)
        .reorder(px, hi, g, pc, ps)
        .fuse(g, pc, chunkLoop)
        .parallel(chunkLoop)
        .vectorize(px, vec, TailStrategy::GuardWithIf);
    out.vectorize(c, vec, TailStrategy::GuardWithIf);
    for (Func *f : {&mx, &den, &weighted})
      f->compute_at(out, row);
  } else {
    // Prefill: one task per (KV-head group, query row), walking the chunks
    // of keys; a chunk's scores never outlive it.
    Var task = taskPerGroupAndRow(out, c, row, h);
    for (Func *f : {&mx, &den, &weighted, &partials})
      f->compute_at(out, task);
    partials.vectorize(px, vec, TailStrategy::GuardWithIf);
    chunkLoop = pc;
  }
  for (Func *f : {&qk, &prob, &cmax, &cden, &cacc})
    f->compute_at(partials, chunkLoop);
  scheduleScores(qk, dims, vec, hd, group, partials, chunkLoop);
  prob.vectorize(prob.args()[0], vec, TailStrategy::GuardWithIf);
  scheduleWeighted(cacc, keys.x, vec, vhd, group);
  scheduleWeighted(weighted, chunks.x, vec, vhd, group);
}

} // namespace tfm::halide::cpu
