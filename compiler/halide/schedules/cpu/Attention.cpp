//===- Attention.cpp - attention over the KV cache --------------*- C++ -*-===//
//
// One task per (query row, head): the scores of that head against every
// cached key, their softmax, and the weighted sum of values, all kept in
// the task's buffers. Values are accumulated vectorized along the head
// dimension (contiguous in the cache).
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleAttention(KernelPipeline &p, mlir::DictionaryAttr s,
                       const Target &) {
  int vec = param(s, "vector", 8);
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  Func &qk = stage(p, "qk"), &mx = stage(p, "max"), &prob = stage(p, "prob"),
       &den = stage(p, "denom"), &weighted = stage(p, "weighted");
  int headWidth = int(p.extents[0]) / int(p.stages.size() ? 1 : 1);
  (void)headWidth;
  RDom keys = p.rdoms.at("keys");

  // Tasks: (head, row) pairs. The head of output feature c is c / v_head_dim;
  // weighted(e, h, s) carries v_head_dim in its bounds, so split on it.
  Var ho("ho"), e("e"), task("task");
  int vhd = param(s, "v_head_dim", 0);
  if (vhd > 0) {
    out.split(c, ho, e, vhd).fuse(ho, row, task).parallel(task);
    out.vectorize(e, vec, TailStrategy::GuardWithIf);
  } else {
    out.parallel(row);
  }
  Var at = vhd > 0 ? task : row;
  for (Func *f : {&qk, &mx, &prob, &den, &weighted})
    f->compute_at(out, at);
  Var we = weighted.args()[0];
  weighted.update().reorder(we, keys.x).vectorize(we, vec,
                                                  TailStrategy::GuardWithIf);
  weighted.vectorize(we, vec, TailStrategy::GuardWithIf);
  prob.vectorize(prob.args()[0], vec, TailStrategy::GuardWithIf);
}

} // namespace tfm::halide::cpu
