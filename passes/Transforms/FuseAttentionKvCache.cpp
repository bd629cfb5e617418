//===- FuseAttentionKvCache.cpp - tfm-fuse-attention-kvcache ----*- C++ -*-===//
//
// kv_write + kv_read + attention → cached_attention. The fused op is what
// lets the backend pick an attention algorithm for a cache: compiled code
// attends over the cache buffers in place and splits the cache length into
// chunks whose partial softmaxes are merged (flash-decoding in decode, key
// tiles per query in prefill).
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"
#include "passes/Transforms/FusionUtils.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFUSEATTENTIONKVCACHE
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

struct FuseAttentionKvCache : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp a,
                                PatternRewriter &rewriter) const override {
    auto read = a.getKey().getDefiningOp<KvReadOp>();
    if (!read || a.getValue() != read.getValue() ||
        !read.getKey().hasOneUse() || !read.getValue().hasOneUse())
      return failure();
    auto write = read.getCache().getDefiningOp<KvWriteOp>();
    if (!write || write.getPos() != a.getPos() ||
        !usersAfter(write.getResult(), a, read))
      return failure();
    auto fused = rewriter.create<CachedAttentionOp>(
        a.getLoc(), a.getType(), write.getType(), a.getQuery(), write.getKey(),
        write.getValue(), write.getCache(), write.getPos(), read.getLen(),
        a.getBias(), a.getNumHeadsAttr(), a.getNumKvHeadsAttr(),
        a.getHeadDimAttr(), a.getScaleAttr(), a.getCausalAttr(),
        a.getWindowAttr(), a.getSoftcapAttr());
    rewriter.replaceOp(a, fused.getResult());
    rewriter.eraseOp(read);
    rewriter.replaceOp(write, fused.getNewCache());
    return success();
  }
};

struct FuseAttentionKvCachePass
    : tfm::impl::TfmFuseAttentionKvCacheBase<FuseAttentionKvCachePass> {
  void runOnOperation() override {
    if (failed(
            applyFusion(getOperation(), populateFuseAttentionKvCachePatterns)))
      signalPassFailure();
  }
};

} // namespace

void tfm::populateFuseAttentionKvCachePatterns(RewritePatternSet &patterns) {
  patterns.add<FuseAttentionKvCache>(patterns.getContext());
}
