//===- Moe.cpp - mixture of experts -----------------------------*- C++ -*-===//
//
// Routing is cheap and computed per row; the chosen experts' gated MLPs
// run per row, parallel over rows, each expert's hidden layer vectorized.
//
// Not benchmarked yet: correct (test/numeric, the mixtral fixture) but
// untuned; decode runs the row on one thread.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide::cpu {

void scheduleMoe(KernelPipeline &p, ir::MoeScheduleAttr s, const Target &) {
  int vec = int(s.getVector());
  Func &out = p.output;
  Var c = p.vars[0], row = p.vars[1];
  out.vectorize(c, vec, TailStrategy::GuardWithIf);
  if (!p.decode)
    out.parallel(row);
  MoeStages &moe = p.stages.moe;
  for (Func f : moe.all())
    f.compute_at(out, row);
  for (Func f : {moe.expertGate, moe.expertUp, moe.sharedGate, moe.sharedUp})
    if (f.defined()) {
      f.vectorize(f.args()[0], vec, TailStrategy::GuardWithIf);
      // Decode has one row: its experts' hidden features are split among
      // the threads instead.
      if (p.decode) {
        Var outer, inner;
        f.update()
            .split(f.args()[0], outer, inner, 16, TailStrategy::GuardWithIf)
            .parallel(outer);
      }
    }
  if (p.decode)
    for (Func f : {moe.expertOut, moe.sharedOut})
      if (f.defined()) {
        Var outer, inner;
        f.update()
            .split(f.args()[0], outer, inner, 64, TailStrategy::GuardWithIf)
            .parallel(outer);
      }
}

} // namespace tfm::halide::cpu
