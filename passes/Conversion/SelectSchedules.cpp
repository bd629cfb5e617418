//===- SelectSchedules.cpp - the tfm-select-schedules pass ------*- C++ -*-===//
//
// Kernel level: gives every tfm.kernel its target and the typed parameters
// of the schedule template that tiles it. All schedule policy is here, one
// selection function per target kind; the templates only read what it
// chose, and the attributes' definitions hold the defaults.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMSELECTSCHEDULES
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// The op a kernel's schedule is chosen for: its first, or the projection
/// after a prologue norm.
Operation *anchorOf(KernelOp kernel) {
  Block &body = kernel.getBlock();
  Operation *first = &body.front();
  Operation *second = first->getNextNode();
  if (isa<NormOp, AddNormOp>(first) && second && isProjection(second) &&
      second->getNumOperands() > 0 &&
      second->getOperand(0).getDefiningOp() == first)
    return second;
  return first;
}

/// The weight (outputs x inputs) of a product op: its operand 1.
RankedTensorType productWeight(Operation *product) {
  return cast<RankedTensorType>(product->getOperand(1).getType());
}

/// Whether a prefill product's outputs and inputs are whole vectors of
/// `lanes`, with at least one register tile (3 vectors) of outputs; for a
/// QKV product, also each half head (its rotation tables). The AVX-512
/// schedule needs this: it has no vector tails, because Halide 14
/// miscompiles predicated AVX-512 stores.
bool fitsVectors(Operation *anchor, int64_t lanes, bool decode = false) {
  if (!isProjection(anchor))
    return false;
  if (auto qkv = dyn_cast<QkvRopeOp>(anchor))
    if (qkv.getHeadDim() % (2 * lanes) != 0)
      return false;
  RankedTensorType weight = productWeight(anchor);
  int64_t outputs = weight.getDimSize(0), inputs = weight.getDimSize(1);
  if (isa<LinearGluOp>(anchor))
    outputs /= 2; // the gate and the up half are tiled alike
  return outputs % lanes == 0 && inputs % lanes == 0 &&
         (decode || outputs >= 3 * lanes);
}

/// A product's schedule: in decode, blocks of 4 vectors' worth of output
/// rows per task; in prefill, a (3 vectors) × 4 register tile with the sum
/// over k in blocks of at most 256 (a divisor of k, so every block is
/// whole; none when k is short or has no such divisor).
Attribute productSchedule(Operation *anchor, bool decode, int64_t lanes) {
  MLIRContext *ctx = anchor->getContext();
  if (decode)
    return GemvScheduleAttr::get(ctx, lanes, 4 * lanes);
  int64_t k = productWeight(anchor).getDimSize(1), kBlock = 0;
  for (int64_t block = 256; block >= 32 && k > 256; --block)
    if (k % block == 0) {
      kBlock = block;
      break;
    }
  return GemmScheduleAttr::get(ctx, lanes, 3 * lanes, /*tile_rows=*/4,
                               kBlock);
}

/// The CPU policy. Every kernel gets `baseIsa`'s vectors, except prefill
/// products that fit `wideIsa`'s (when given).
std::pair<TargetAttr, Attribute>
selectCpuSchedule(KernelOp kernel, Isa baseIsa, std::optional<Isa> wideIsa) {
  MLIRContext *ctx = kernel.getContext();
  Operation *anchor = anchorOf(kernel);
  bool decode = kernel.isDecode();
  // A prefill's LM head runs on the prompt's last row only (unless every
  // row's logits are asked for): a one-row product, tiled as in decode.
  bool oneRow = decode || isa<LmHeadOp>(anchor);
  auto target = TargetAttr::get(ctx, TargetKind::cpu, baseIsa);
  if (wideIsa) {
    auto wide = TargetAttr::get(ctx, TargetKind::cpu, *wideIsa);
    // A decode product over weights stored in 16 bits or in blocks is
    // bound by widening or dequantizing them (not by memory): twice the
    // lanes, half the work per weight, where its rows (and a QKV
    // product's heads) are whole vectors too. (110M decode, one thread:
    // f16 60 -> 108 tokens/s, bf16 100 -> 150.)
    bool stored = isProjection(anchor) &&
                  storageOf(productWeight(anchor)) != Storage::f32;
    if ((!oneRow || stored) &&
        fitsVectors(anchor, wide.getVectorLanes(), oneRow))
      target = wide;
    // Flash-decoding over heads of whole vectors: bound by the arithmetic
    // on each cached element (widening it, the two dot products), which
    // twice the lanes halves.
    if (auto cached = dyn_cast<CachedAttentionOp>(anchor);
        cached && decode &&
        cached.getHeadDim() % wide.getVectorLanes() == 0 &&
        cached.getCache().getType().getVHeadDim() % wide.getVectorLanes() ==
            0)
      target = wide;
  }
  int64_t lanes = target.getVectorLanes();

  Attribute schedule;
  if (auto qkv = dyn_cast<QkvRopeOp>(anchor)) {
    // Tiled as any projection; the three outputs (with their norms and
    // rotation) are then written row by row.
    schedule = QkvScheduleAttr::get(
        ctx, productSchedule(anchor, decode, lanes), qkv.getHeadDim());
  } else if (isProjection(anchor)) {
    schedule = productSchedule(anchor, oneRow, lanes);
  } else if (auto attention = dyn_cast<AttentionOp>(anchor)) {
    // Attention over keys and values given as whole rows.
    int64_t kvHeads = attention.getNumKvHeads();
    int64_t vHeadDim =
        cast<RankedTensorType>(attention.getValue().getType()).getDimSize(1) /
        kvHeads;
    schedule = AttentionScheduleAttr::get(ctx, lanes, attention.getHeadDim(),
                                          vHeadDim, attention.getNumHeads(),
                                          kvHeads);
  } else if (auto cached = dyn_cast<CachedAttentionOp>(anchor)) {
    // Attention over the cache in place, in chunks of keys whose partial
    // softmaxes are merged: in decode each chunk is a task over every head
    // (flash-decoding); in prefill a task of 32 (query row, head) pairs
    // walks the chunks of 64 its rows can see, in tiles of 4 pairs.
    KvCacheType cache = cached.getCache().getType();
    int64_t heads = cached.getNumHeads(), kvHeads = cached.getNumKvHeads();
    int64_t headDim = cached.getHeadDim(), vHeadDim = cache.getVHeadDim();
    if (decode)
      schedule = FlashDecodeScheduleAttr::get(ctx, lanes, /*kv_chunk=*/256,
                                              headDim, vHeadDim, heads,
                                              kvHeads);
    else
      schedule = FlashPrefillScheduleAttr::get(
          ctx, lanes, /*kv_chunk=*/64, /*query_rows=*/4, /*task_rows=*/32,
          headDim, vHeadDim, heads, kvHeads);
  } else if (isa<MoeOp>(anchor)) {
    schedule = MoeScheduleAttr::get(ctx, lanes);
  } else if (isa<NormOp, AddNormOp, EmbedOp, PositionOp, RopeOp,
                 AttentionBiasOpInterface>(anchor)) {
    schedule = RowsScheduleAttr::get(ctx, lanes);
  } else {
    schedule = ElementwiseScheduleAttr::get(ctx, lanes);
  }
  return {target, schedule};
}

struct SelectSchedulesPass
    : tfm::impl::TfmSelectSchedulesBase<SelectSchedulesPass> {
  using TfmSelectSchedulesBase::TfmSelectSchedulesBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Isa> base = symbolizeIsa(isa);
    if (!base) {
      module.emitError() << "tfm-select-schedules: unknown isa '" << isa
                         << "' (known: avx2, avx512)";
      return signalPassFailure();
    }
    std::optional<Isa> wide;
    if (!wideIsa.empty() && wideIsa != "none") {
      wide = symbolizeIsa(wideIsa);
      if (!wide) {
        module.emitError() << "tfm-select-schedules: unknown wide-isa '"
                           << wideIsa << "' (known: none, avx2, avx512)";
        return signalPassFailure();
      }
    }
    if (target != "cpu") {
      module.emitError() << "tfm-select-schedules: unknown target '"
                         << target << "' (known: cpu)";
      return signalPassFailure();
    }
    for (KernelOp kernel : module.getOps<KernelOp>()) {
      auto [kernelTarget, schedule] = selectCpuSchedule(kernel, *base, wide);
      kernel.setTargetAttr(kernelTarget);
      kernel.setScheduleAttr(cast<ScheduleAttrInterface>(schedule));
    }
  }
};

} // namespace
