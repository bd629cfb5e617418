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
  for (auto &[role, f] : p.stages)
    f.compute_at(out, row);
  for (const char *role : {"expert_gate", "expert_up", "shared_gate",
                           "shared_up"})
    if (p.stages.count(role)) {
      Func &f = p.stages[role];
      f.vectorize(f.args()[0], vec, TailStrategy::GuardWithIf);
    }
}

} // namespace tfm::halide::cpu
