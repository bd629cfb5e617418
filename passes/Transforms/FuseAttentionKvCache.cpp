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

struct FuseAttentionKvCachePass
    : tfm::impl::TfmFuseAttentionKvCacheBase<FuseAttentionKvCachePass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp a) { attentions.push_back(a); });
    for (AttentionOp a : attentions)
      fuse(a);
  }

  static void fuse(AttentionOp a) {
    auto read = a.getKey().getDefiningOp<KvReadOp>();
    if (!read || a.getValue() != read.getValue() ||
        !read.getKey().hasOneUse() || !read.getValue().hasOneUse())
      return;
    auto write = read.getCache().getDefiningOp<KvWriteOp>();
    if (!write || write.getPos() != a.getPos() ||
        !usersAfter(write.getResult(), a, read))
      return;
    OpBuilder b(a);
    auto fused = b.create<CachedAttentionOp>(
        a.getLoc(), a.getType(), write.getType(), a.getQuery(),
        write.getKey(), write.getValue(), write.getCache(), write.getPos(),
        read.getLen(), a.getBias(), a.getNumHeadsAttr(),
        a.getNumKvHeadsAttr(), a.getHeadDimAttr(), a.getScaleAttr(),
        a.getCausalAttr(), a.getWindowAttr(), a.getSoftcapAttr());
    a.getResult().replaceAllUsesWith(fused.getResult());
    a->erase();
    read->erase();
    write.getResult().replaceAllUsesWith(fused.getNewCache());
    write->erase();
  }
};

} // namespace
