//===- Attention.cpp - attention over the KV cache --------------*- C++ -*-===//
//
// One task per (head, query row): the scores of that head against every
// cached key, their softmax, and the weighted sum of values, all in the
// task's buffers. Scores are dot products over head_dim split into vector
// lanes (rfactor), four keys at a time; values are accumulated vectorized
// along the head dimension, which is contiguous in the cache.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                       const Target &) {
  int vec = param(s, "vector", 8);
  int vhd = param(s, "v_head_dim", 0);
  int hd = param(s, "head_dim", 0);
  if (vhd <= 0 || hd <= 0)
    throw CompileError("attention schedule needs head_dim and v_head_dim");
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  Func &qk = stage(p, "qk"), &mx = stage(p, "max"), &prob = stage(p, "prob"),
       &den = stage(p, "denom"), &weighted = stage(p, "weighted");
  RDom keys = p.rdoms.at("keys"), dims = p.rdoms.at("head_dim");

  Var head("head"), e("e"), task("task");
  out.split(c, head, e, vhd).fuse(head, row, task).parallel(task);
  out.vectorize(e, vec, TailStrategy::GuardWithIf);
  for (Func *f : {&qk, &mx, &prob, &den, &weighted})
    f->compute_at(out, task);

  // Scores: lanes of the head dimension, four keys at a time.
  Var qt = qk.args()[0];
  if (hd % vec == 0) {
    RVar dOuter("do"), dInner("di");
    Var lane("lane");
    Func partial = qk.update().split(dims.x, dOuter, dInner, vec)
                       .rfactor(dInner, lane);
    Var pt = partial.args()[0], ph = partial.args()[1],
        ps = partial.args()[2];
    partial.compute_at(out, task)
        .reorder_storage(lane, pt, ph, ps)
        .vectorize(lane);
    partial.update()
        .reorder(lane, dOuter, pt)
        .vectorize(lane)
        .unroll(pt, 4, TailStrategy::GuardWithIf);
  }
  qk.vectorize(qt, vec, TailStrategy::GuardWithIf);
  prob.vectorize(prob.args()[0], vec, TailStrategy::GuardWithIf);

  // Weighted values: vectors along the head dimension, all of them kept in
  // registers while the keys stream by.
  Var we = weighted.args()[0];
  weighted.bound(we, 0, vhd).vectorize(we, vec, TailStrategy::GuardWithIf);
  weighted.update()
      .reorder(we, keys.x)
      .vectorize(we, vec, TailStrategy::GuardWithIf);
  if (vhd % vec == 0 && vhd / vec <= 16)
    weighted.update().unroll(we);
}

} // namespace tfm::halide::cpu
