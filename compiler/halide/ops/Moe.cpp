//===- Moe.cpp - tfm.moe ----------------------------------------*- C++ -*-===//
//
// Routing (scores, top-k by rank, mixing weights) and the chosen experts'
// gated MLPs per row, plus the shared experts every row takes.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"

using namespace Halide;

namespace tfm::halide {
namespace {

void lowerMoe(ir::MoeOp m, Lowering &l) {
  Var c("c"), s("s"), e("e"), j("j"), f_("f");
  MoeStages &stages = l.stages.moe;
  Func x = l.f(m.getInput()), router = l.f(m.getRouter());
  Func gate = l.f(m.getGate()), up = l.f(m.getUp()), down = l.f(m.getDown());
  int dim = int(Lowering::size(m.getInput(), 1)),
      experts = int(m.getNumExperts()), topK = int(m.getTopK()),
      ffn = int(Lowering::size(m.getGate(), 1));
  ir::ActKind act = m.getAct();

  RDom rdim(0, dim, "dm");
  Func logits("router_logits");
  logits(e, s) += router(rdim, e) * x(rdim, s);
  RDom re(0, experts, "ex");
  Func score("router_score");
  switch (m.getScoring()) {
  case ir::MoeScoring::softmax: {
    Func mx("router_max"), den("router_denom");
    mx(s) = maximum(logits(re, s));
    den(s) += exp(logits(re, s) - mx(s));
    score(e, s) = exp(logits(e, s) - mx(s)) / den(s);
    stages.routerMax = mx;
    stages.routerDenom = den;
    break;
  }
  case ir::MoeScoring::sigmoid:
    score(e, s) = 1.0f / (1.0f + exp(-logits(e, s)));
    break;
  }
  stages.routerScore = score;
  // Group-limited routing: experts outside the top_groups groups (by their
  // best expert's score, lower group winning ties) score 0.
  int groups = int(m.getNumGroups());
  if (groups > 1) {
    int size = experts / groups;
    Var gv("g");
    RDom rm(0, size, "gm"), rg(0, groups, "gr");
    Func best("group_best"), groupRank("group_rank"), limited("limited");
    best(gv, s) = maximum(score(gv * size + rm, s));
    groupRank(gv, s) += select(best(rg, s) > best(gv, s) ||
                                   (best(rg, s) == best(gv, s) && rg < gv),
                               1, 0);
    limited(e, s) = select(groupRank(e / size, s) < int(m.getTopGroups()),
                           score(e, s), 0.0f);
    stages.groupBest = best;
    stages.groupRank = groupRank;
    stages.limited = limited;
    score = limited;
  }
  // Rank of expert e: how many score higher (lower index wins ties).
  Func rank("rank");
  rank(e, s) += select(score(re, s) > score(e, s) ||
                           (score(re, s) == score(e, s) && re < e),
                       1, 0);
  Func chosen("chosen"), weight("weight");
  chosen(j, s) += select(rank(re, s) == j, re, 0);
  weight(j, s) += select(rank(re, s) == j, score(re, s), 0.0f);
  RDom rk(0, topK, "kk");
  Func total("total");
  total(s) += weight(rk, s);
  float routed = float(m.getRoutedScale().convertToDouble());
  Expr w = weight(j, s);
  if (m.getNormTopk())
    w = w / total(s);
  Func mix("mix");
  mix(j, s) = w * routed;

  Expr idx = clamp(chosen(j, s), 0, experts - 1);
  Func hidden("expert_hidden");
  Func g("expert_gate"), u("expert_up");
  g(f_, j, s) += gate(rdim, f_, idx) * x(rdim, s);
  u(f_, j, s) += up(rdim, f_, idx) * x(rdim, s);
  hidden(f_, j, s) = activate(act, g(f_, j, s)) * u(f_, j, s);
  RDom rf(0, ffn, "ff");
  Func expertOut("expert_out");
  expertOut(c, j, s) +=
      down(rf, c, clamp(chosen(j, s), 0, experts - 1)) * hidden(rf, j, s);
  Func routedSum("routed");
  routedSum(c, s) += mix(rk, s) * expertOut(c, rk, s);
  stages.routerLogits = logits;
  stages.rank = rank;
  stages.chosen = chosen;
  stages.weight = weight;
  stages.total = total;
  stages.expertGate = g;
  stages.expertUp = u;
  stages.expertOut = expertOut;
  stages.routed = routedSum;

  Func out("moe");
  if (m.getSharedGate()) {
    Func sg = l.f(m.getSharedGate()), su = l.f(m.getSharedUp()),
         sd = l.f(m.getSharedDown());
    int sffn = int(Lowering::size(m.getSharedGate(), 0));
    Func sgo("shared_gate"), suo("shared_up"), sh("shared_hidden"),
        so("shared_out");
    sgo(f_, s) += sg(rdim, f_) * x(rdim, s);
    suo(f_, s) += su(rdim, f_) * x(rdim, s);
    sh(f_, s) = activate(act, sgo(f_, s)) * suo(f_, s);
    RDom rs(0, sffn, "sf");
    so(c, s) += sd(rs, c) * sh(rs, s);
    Expr shared = so(c, s);
    if (m.getSharedRouter()) {
      Func sr = l.f(m.getSharedRouter()), srl("shared_router");
      srl(s) += sr(rdim, 0) * x(rdim, s);
      shared = shared / (1.0f + exp(-srl(s)));
      stages.sharedRouter = srl;
    }
    stages.sharedGate = sgo;
    stages.sharedUp = suo;
    stages.sharedOut = so;
    out(c, s) = routedSum(c, s) + shared;
  } else {
    out(c, s) = routedSum(c, s);
  }
  l.define(m.getResult(), out);
}

} // namespace

std::vector<Func> MoeStages::all() const {
  std::vector<Func> all;
  for (const Func &f :
       {routerLogits, routerScore, routerMax, routerDenom, groupBest,
        groupRank, limited, rank, chosen,
        weight, total, expertGate, expertUp, expertOut, routed, sharedRouter,
        sharedGate, sharedUp, sharedOut})
    if (f.defined())
      all.push_back(f);
  return all;
}

void addMoeLowerings(LoweringTable &table) { table.add(lowerMoe); }

} // namespace tfm::halide
