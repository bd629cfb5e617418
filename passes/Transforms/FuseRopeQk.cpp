//===- FuseRopeQk.cpp - the tfm-fuse-rope-qk pass ---------------*- C++ -*-===//
//
// Q = rope(norm?(linear(x, Wq))), K = rope(norm?(linear(x, Wk))),
// V = linear(x, Wv) → Q, K, V = qkv_rope(x, [Wq; Wk; Wv]). The attention
// the three feed tells which is which: its query, and the key and value it
// writes to the cache (or a cached_attention's operands).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/FusionUtils.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSEROPEQK
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// A projection, an optional norm, a rotation: each the only reader of the
/// one before.
struct RopeChain {
  LinearOp linear;
  NormOp norm;
  RopeOp rope;
};

std::optional<RopeChain> ropeChain(Value v) {
  RopeChain c;
  c.rope = v.getDefiningOp<RopeOp>();
  if (!c.rope)
    return std::nullopt;
  Value x = c.rope.getInput();
  if ((c.norm = x.getDefiningOp<NormOp>())) {
    // qkv_rope shares one gain vector among the heads: a gain per head, or
    // a bias, stays a norm of its own.
    auto gain = c.norm.getGain();
    if (!x.hasOneUse() || c.norm.getBias() || !gain ||
        cast<RankedTensorType>(gain.getType()).getDimSize(0) !=
            c.norm.getGroupSizeOrRow())
      return std::nullopt;
    x = c.norm.getInput();
  }
  c.linear = x.getDefiningOp<LinearOp>();
  if (!c.linear || !x.hasOneUse())
    return std::nullopt;
  return c;
}

bool sameRotation(RopeOp a, RopeOp b) {
  return a.getPos() == b.getPos() && a.getLayout() == b.getLayout() &&
         a.getHeadDim() == b.getHeadDim() &&
         a.getRotaryDim() == b.getRotaryDim() && a.getTheta() == b.getTheta() &&
         a.getScalingAttr() == b.getScalingAttr();
}

bool sameNorm(NormOp a, NormOp b) {
  if (!a || !b)
    return !a && !b;
  return a.getKind() == b.getKind() && a.getEps() == b.getEps() &&
         a.getGainOffset() == b.getGainOffset() && a.getGain() && b.getGain() &&
         bool(a.getGroupSize()) == bool(b.getGroupSize()) &&
         (!a.getGroupSize() || *a.getGroupSize() == *b.getGroupSize());
}

/// Fuses the projections feeding `attention` (a tfm.attention or a
/// tfm.cached_attention).
LogicalResult fuse(Operation *attention, PatternRewriter &rewriter) {
  Value q, k, v;
  int64_t heads, kvHeads, hd;
  if (auto c = dyn_cast<CachedAttentionOp>(attention)) {
    q = c.getQuery(), k = c.getKey(), v = c.getValue();
    heads = c.getNumHeads(), kvHeads = c.getNumKvHeads();
    hd = c.getHeadDim();
  } else {
    auto a = cast<AttentionOp>(attention);
    auto read = a.getKey().getDefiningOp<KvReadOp>();
    auto write =
        read ? read.getCache().getDefiningOp<KvWriteOp>() : KvWriteOp();
    if (!write)
      return failure();
    q = a.getQuery(), k = write.getKey(), v = write.getValue();
    heads = a.getNumHeads(), kvHeads = a.getNumKvHeads();
    hd = a.getHeadDim();
  }
  std::optional<RopeChain> qc = ropeChain(q), kc = ropeChain(k);
  auto vl = v.getDefiningOp<LinearOp>();
  if (!qc || !kc || !vl || !v.hasOneUse() || !k.hasOneUse())
    return failure();
  Value x = vl.getInput();
  LinearOp linears[] = {qc->linear, kc->linear, vl};
  for (LinearOp l : linears)
    if (l.getInput() != x || !isWeight(l.getWeight()) ||
        bool(l.getBias()) != bool(vl.getBias()) ||
        (l.getBias() && !isWeight(l.getBias())) ||
        l.getActQuantAttr() != vl.getActQuantAttr())
      return failure();
  if (!sameStorage({qc->linear.getWeight(), kc->linear.getWeight(),
                    vl.getWeight()}) ||
      (vl.getBias() && !sameStorage({qc->linear.getBias(),
                                     kc->linear.getBias(), vl.getBias()})))
    return failure();
  if (!sameRotation(qc->rope, kc->rope) || int64_t(qc->rope.getHeadDim()) != hd ||
      !sameNorm(qc->norm, kc->norm))
    return failure();
  int64_t vFeatures = cast<RankedTensorType>(v.getType()).getDimSize(1);
  if (vFeatures % kvHeads != 0)
    return failure();

  // Build after the last of the three results, before any of their users.
  Operation *point = qc->rope;
  for (Operation *op : {kc->rope.getOperation(), vl.getOperation()})
    if (point->isBeforeInBlock(op))
      point = op;
  for (Value r : {q, k, v})
    if (!usersAfter(r, point))
      return failure();
  rewriter.setInsertionPointAfter(point);
  Location loc = attention->getLoc();
  Value weight = concatRows(
      rewriter, loc,
      {qc->linear.getWeight(), kc->linear.getWeight(), vl.getWeight()});
  Value bias = vl.getBias() ? concatRows(rewriter, loc,
                                         {qc->linear.getBias(),
                                          kc->linear.getBias(), vl.getBias()})
                            : Value();
  RopeOp rope = qc->rope;
  NormOp qn = qc->norm, kn = kc->norm;
  auto fused = rewriter.create<QkvRopeOp>(
      loc, q.getType(), k.getType(), v.getType(), rope.getLayoutAttr(), x,
      weight, bias, qn ? qn.getGain() : Value(), kn ? kn.getGain() : Value(),
      rope.getPos(), rewriter.getI64IntegerAttr(heads),
      rewriter.getI64IntegerAttr(kvHeads), rewriter.getI64IntegerAttr(hd),
      rewriter.getI64IntegerAttr(vFeatures / kvHeads), rope.getRotaryDimAttr(),
      rope.getThetaAttr(), rope.getScalingAttr(),
      qn ? qn.getKindAttr() : NormKindAttr(),
      qn ? qn.getEpsAttr() : FloatAttr(),
      qn ? qn.getGroupSizeAttr() : IntegerAttr(),
      qn ? qn.getGainOffsetAttr() : rewriter.getF64FloatAttr(0.0),
      vl.getActQuantAttr());
  rewriter.replaceAllUsesWith(q, fused.getQuery());
  rewriter.replaceAllUsesWith(k, fused.getKey());
  rewriter.replaceAllUsesWith(v, fused.getValue());
  for (RopeChain *c : {&*qc, &*kc}) {
    rewriter.eraseOp(c->rope);
    if (c->norm)
      rewriter.eraseOp(c->norm);
    rewriter.eraseOp(c->linear);
  }
  rewriter.eraseOp(vl);
  return success();
}

template <typename AttentionT>
struct FuseRopeQk : OpRewritePattern<AttentionT> {
  using OpRewritePattern<AttentionT>::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionT attention,
                                PatternRewriter &rewriter) const override {
    return fuse(attention, rewriter);
  }
};

struct FuseRopeQkPass : tfm::impl::TfmFuseRopeQkBase<FuseRopeQkPass> {
  void runOnOperation() override {
    if (failed(applyFusion(getOperation(), populateFuseRopeQkPatterns)))
      signalPassFailure();
  }
};

} // namespace

void tfm::populateFuseRopeQkPatterns(RewritePatternSet &patterns) {
  patterns.add<FuseRopeQk<AttentionOp>, FuseRopeQk<CachedAttentionOp>>(
      patterns.getContext());
}
