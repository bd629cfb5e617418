//===- FormKernels.cpp - the tfm-form-kernels pass --------------*- C++ -*-===//
//
// Graph level → kernel level: groups ops into tfm.kernel symbols (one Halide
// pipeline each), deduplicates identical kernels across layers, and leaves
// the host functions with launches, weights, cache ops and index math.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::tfm {
#define GEN_PASS_DEF_TFMFORMKERNELS
#include "passes/Passes.h.inc"
} // namespace mlir::tfm

using namespace mlir;
using namespace mlir::tfm;

namespace {

/// Marks an attention that came from tfm.cached_attention (the kernel reads
/// the cache in place, chunked) and a norm that runs in the prologue of the
/// projection reading it. Both are dropped once the kernel is formed.
constexpr StringLiteral kFlashMarker = "tfm.cached";
constexpr StringLiteral kPrologueMarker = "tfm.prologue";

/// Projections that can normalize their input in a prologue stage.
bool takesPrologueNorm(Operation *op) {
  return isa<LinearOp, LinearGluOp, QkvRopeOp, LmHeadOp>(op);
}

/// Fused ops the kernel level spells with graph ops: add_norm becomes the
/// add (an epilogue of its rhs's producer) and the norm (a prologue of its
/// single projection reader when there is one, otherwise a kernel of its
/// own); cached_attention becomes the host's cache write and read and an
/// attention kernel marked to read the cache in chunks.
void expandFusedOps(func::FuncOp fn) {
  SmallVector<Operation *> fused;
  fn.walk([&](Operation *op) {
    if (isa<AddNormOp, CachedAttentionOp>(op))
      fused.push_back(op);
  });
  for (Operation *op : fused) {
    OpBuilder b(op);
    if (auto an = dyn_cast<AddNormOp>(op)) {
      auto add = b.create<AddOp>(an.getLoc(), an.getLhs(), an.getRhs(),
                                 an.getAlphaAttr());
      auto norm = b.create<NormOp>(
          an.getLoc(), an.getType(0), an.getKindAttr(), add.getResult(),
          an.getGain(), an.getBias(), an.getEpsAttr(), IntegerAttr(),
          an.getGainOffsetAttr());
      Value normed = an.getNormed();
      if (normed.hasOneUse()) {
        OpOperand &use = *normed.getUses().begin();
        if (takesPrologueNorm(use.getOwner()) && use.getOperandNumber() == 0)
          norm->setAttr(kPrologueMarker, b.getUnitAttr());
      }
      an.getSum().replaceAllUsesWith(add.getResult());
      normed.replaceAllUsesWith(norm.getResult());
    } else {
      auto ca = cast<CachedAttentionOp>(op);
      auto write = b.create<KvWriteOp>(ca.getLoc(), ca.getCache().getType(),
                                       ca.getCache(), ca.getKey(),
                                       ca.getValue(), ca.getPos());
      auto cache = ca.getCache().getType();
      auto rows = [&](int64_t width) {
        return RankedTensorType::get({ShapedType::kDynamic, width},
                                     b.getF32Type());
      };
      auto read = b.create<KvReadOp>(
          ca.getLoc(), rows(cache.getKvHeads() * cache.getHeadDim()),
          rows(cache.getKvHeads() * cache.getVHeadDim()), write.getResult(),
          ca.getLen());
      auto attention = b.create<AttentionOp>(
          ca.getLoc(), ca.getType(0), ca.getQuery(), read.getKey(),
          read.getValue(), ca.getPos(), ca.getBias(), ca.getNumHeadsAttr(),
          ca.getNumKvHeadsAttr(), ca.getHeadDimAttr(), ca.getScaleAttr(),
          ca.getCausalAttr(), ca.getWindowAttr(), ca.getSoftcapAttr());
      attention->setAttr(kFlashMarker, b.getUnitAttr());
      ca.getResult().replaceAllUsesWith(attention.getResult());
      ca.getNewCache().replaceAllUsesWith(write.getResult());
    }
    op->erase();
  }
}

/// Ops that run on the host, between kernels.
bool isHostOp(Operation *op) {
  return isa<WeightOp, ConcatOp, KvWriteOp, KvReadOp, func::ReturnOp>(op) ||
         op->getDialect()->getNamespace() != TfmDialect::getDialectNamespace();
}

/// Elementwise ops that can run in the epilogue of their operand's kernel.
bool isEpilogueOp(Operation *op) {
  return isa<AddOp, MulOp, ScaleOp, SoftcapOp, ActivationOp, GluOp>(op);
}

/// The weight (outputs x inputs) of a product op: its operand 1.
RankedTensorType productWeight(Operation *product) {
  return cast<RankedTensorType>(product->getOperand(1).getType());
}

/// Whether a prefill product's outputs and inputs are whole vectors of
/// `vector` lanes, with at least one register tile (3 vectors) of outputs;
/// for a QKV product, also each half head (its rotation tables).
bool fitsVectors(Operation *anchor, int64_t vector) {
  if (!isa<LinearOp, LmHeadOp, LinearGluOp, QkvRopeOp>(anchor))
    return false;
  if (auto qkv = dyn_cast<QkvRopeOp>(anchor))
    if (qkv.getHeadDim() % (2 * vector) != 0)
      return false;
  RankedTensorType weight = productWeight(anchor);
  int64_t outputs = weight.getDimSize(0), inputs = weight.getDimSize(1);
  if (isa<LinearGluOp>(anchor))
    outputs /= 2; // the gate and the up half are tiled alike
  return outputs % vector == 0 && inputs % vector == 0 &&
         outputs >= 3 * vector;
}

/// The schedule template of a kernel and its parameters, chosen from the
/// op that anchors it (the first op) and the phase.

DictionaryAttr chooseSchedule(Operation *anchor, bool decode, int64_t vector,
                              Builder &b) {
  SmallVector<NamedAttribute> params;
  auto add = [&](StringRef name, Attribute value) {
    params.push_back(b.getNamedAttr(name, value));
  };
  StringRef tmpl = "elementwise";
  if (isa<LinearOp, LmHeadOp, LinearGluOp, QkvRopeOp>(anchor)) {
    tmpl = decode ? "gemv" : "gemm";
    if (auto qkv = dyn_cast<QkvRopeOp>(anchor)) {
      // The product is tiled as any projection; the three outputs (with
      // their norms and rotation) are then written row by row.
      add("product", b.getStringAttr(tmpl));
      tmpl = "qkv";
      add("head_dim", b.getI64IntegerAttr(qkv.getHeadDim()));
    }
    if (decode) {
      // Each task computes a block of output rows; the reduction over the
      // input features is vectorized.
      add("rows_per_task", b.getI64IntegerAttr(4 * vector));
    } else {
      // A (3·vector) × 4 register tile: 3 vectors of outputs times 4 rows.
      add("tile_cols", b.getI64IntegerAttr(3 * vector));
      add("tile_rows", b.getI64IntegerAttr(4));
      // The sum over k in blocks of at most 256 (a divisor of k, so every
      // block is whole); none when k is short or has no such divisor.
      int64_t k = productWeight(anchor).getDimSize(1);
      for (int64_t block = 256; block >= 32 && k > 256; --block)
        if (k % block == 0) {
          add("k_block", b.getI64IntegerAttr(block));
          break;
        }
    }
  } else if (auto attention = dyn_cast<AttentionOp>(anchor)) {
    tmpl = "attention";
    if (anchor->hasAttr(kFlashMarker)) {
      // Keys in chunks whose partial softmaxes are merged: in decode the
      // chunks are tasks of their own (flash-decoding); in prefill a task
      // of 32 (query row, head) pairs of one KV head walks them, in tiles
      // of 4 pairs.
      tmpl = "flash_attention";
      add("kv_chunk", b.getI64IntegerAttr(decode ? 256 : 64));
      if (!decode) {
        add("query_rows", b.getI64IntegerAttr(4));
        add("task_rows", b.getI64IntegerAttr(32));
      }
    }
    // The head geometry sizes the tasks.
    int64_t heads = attention.getNumHeads();
    auto valueType = cast<RankedTensorType>(attention.getValue().getType());
    add("head_dim", b.getI64IntegerAttr(attention.getHeadDim()));
    add("v_head_dim", b.getI64IntegerAttr(valueType.getDimSize(1) /
                                          attention.getNumKvHeads()));
    add("heads", b.getI64IntegerAttr(heads));
    add("kv_heads", b.getI64IntegerAttr(attention.getNumKvHeads()));
  } else if (isa<NormOp>(anchor)) {
    tmpl = "rows";
  } else if (isa<MoeOp>(anchor)) {
    tmpl = "moe";
  } else if (isa<EmbedOp, PositionOp, RopeOp>(anchor)) {
    tmpl = "rows";
  } else if (isa<AlibiOp, RelativeBiasOp>(anchor)) {
    tmpl = "bias";
  }
  add("template", b.getStringAttr(tmpl));
  add("vector", b.getI64IntegerAttr(vector));
  return b.getDictionaryAttr(params);
}

/// The value whose dimension 0 is the sequence dimension of `anchor`'s
/// result.
Value sequenceSource(Operation *anchor) {
  if (auto embed = dyn_cast<EmbedOp>(anchor))
    return embed.getTokens();
  return anchor->getOperand(0);
}

/// The size of dimension 0 of `v`, reusing the size a launch or cache read
/// was given rather than asking the tensor again.
Value sizeOfDim0(Value v, OpBuilder &b, Location loc) {
  if (auto launch = v.getDefiningOp<LaunchOp>()) {
    // The launch's dims list the dynamic sizes result by result.
    size_t at = 0;
    for (OpResult r : launch->getResults()) {
      auto type = cast<RankedTensorType>(r.getType());
      if (r == v) {
        if (type.isDynamicDim(0))
          return launch.getDims()[at];
        break;
      }
      at += size_t(type.getNumDynamicDims());
    }
  }
  if (auto read = v.getDefiningOp<KvReadOp>())
    return read.getLen();
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  return b.create<tensor::DimOp>(loc, v, zero);
}

struct Group {
  SmallVector<Operation *> ops;
  /// The op that picks the schedule (ops before it form a prologue).
  size_t anchor = 0;
  Operation *anchorOp() const { return ops[anchor]; }
  /// The group's value that epilogue ops may extend: the last op's single
  /// result (none for a multi-result group).
  Value tail() const {
    Operation *last = ops.back();
    return last->getNumResults() == 1 ? last->getResult(0) : Value();
  }
  /// Values computed in the group and read outside it.
  SmallVector<Value> outputs() const {
    llvm::SmallPtrSet<Operation *, 8> in(ops.begin(), ops.end());
    SmallVector<Value> out;
    for (Operation *op : ops)
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(),
                         [&](Operation *u) { return !in.contains(u); }))
          out.push_back(r);
    return out;
  }
};

struct FormKernelsPass : tfm::impl::TfmFormKernelsBase<FormKernelsPass> {
  using TfmFormKernelsBase::TfmFormKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    llvm::StringMap<KernelOp> byBody;
    llvm::StringMap<int> counters;
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : funcs)
      if (failed(formKernels(fn, byBody, counters)))
        return signalPassFailure();
  }

  LogicalResult formKernels(func::FuncOp fn, llvm::StringMap<KernelOp> &byBody,
                            llvm::StringMap<int> &counters) {
    bool decode = fn.getName() == "decode";
    std::string phase = decode ? "decode" : "prefill";
    expandFusedOps(fn);

    // Group ops: an epilogue op joins the group whose output it consumes
    // when that output has no other use; a prologue norm joins the
    // projection that reads it.
    std::vector<Group> groups;
    DenseMap<Value, size_t> groupOfTail;
    for (Operation &op : fn.getBody().front()) {
      if (isHostOp(&op) || op.hasAttr(kPrologueMarker))
        continue;
      if (isEpilogueOp(&op)) {
        std::optional<size_t> target;
        for (Value operand : op.getOperands()) {
          auto it = groupOfTail.find(operand);
          if (it != groupOfTail.end() && operand.hasOneUse() &&
              (!target || it->second > *target))
            target = it->second;
        }
        if (target) {
          groupOfTail.erase(groups[*target].tail());
          groups[*target].ops.push_back(&op);
          groupOfTail[groups[*target].tail()] = *target;
          continue;
        }
      }
      Group group{{&op}};
      if (op.getNumOperands() > 0)
        if (Operation *norm = op.getOperand(0).getDefiningOp())
          if (norm->hasAttr(kPrologueMarker)) {
            group.ops.insert(group.ops.begin(), norm);
            group.anchor = 1;
          }
      groups.push_back(group);
      if (Value tail = groups.back().tail())
        groupOfTail[tail] = groups.size() - 1;
    }

    for (Group &group : groups)
      outline(group, phase, decode, byBody, counters);
    return success();
  }

  void outline(Group &group, const std::string &phase, bool decode,
               llvm::StringMap<KernelOp> &byBody,
               llvm::StringMap<int> &counters) {
    MLIRContext *ctx = &getContext();
    Operation *anchor = group.anchorOp();
    Operation *last = group.ops.back();
    SmallVector<Value> outputs = group.outputs();
    llvm::SmallPtrSet<Operation *, 8> inGroup(group.ops.begin(),
                                              group.ops.end());

    // Inputs: operands defined outside the group, in order of first use.
    llvm::SetVector<Value> inputs;
    for (Operation *op : group.ops)
      for (Value v : op->getOperands())
        if (!inGroup.contains(v.getDefiningOp()))
          inputs.insert(v);

    // Build the kernel body in a detached kernel op.
    OpBuilder b(ctx);
    std::string name = phase;
    for (Operation *op : group.ops)
      name += "_" + op->getName().stripDialect().str();
    bool wide = !decode && !wideTarget.empty() &&
                fitsVectors(anchor, wideVectorWidth);
    auto kernel = b.create<KernelOp>(
        anchor->getLoc(), name, phase, wide ? wideTarget : target,
        chooseSchedule(anchor, decode, wide ? wideVectorWidth : vectorWidth,
                       b));
    Block &body = kernel.getBlock();
    IRMapping mapping;
    for (Value v : inputs)
      mapping.map(v, body.addArgument(v.getType(), v.getLoc()));
    b.setInsertionPointToEnd(&body);
    for (Operation *op : group.ops) {
      Operation *clone = b.clone(*op, mapping);
      clone->removeAttr(kFlashMarker);
      clone->removeAttr(kPrologueMarker);
    }
    SmallVector<Value> yielded;
    for (Value v : outputs)
      yielded.push_back(mapping.lookup(v));
    b.create<YieldOp>(anchor->getLoc(), yielded);

    // Identical bodies (and schedules) share one symbol.
    std::string key;
    {
      llvm::raw_string_ostream os(key);
      OpPrintingFlags flags;
      flags.printGenericOpForm();
      kernel->print(os, flags);
      // The name is not part of what the kernel computes.
      size_t at = key.find("sym_name");
      if (at != std::string::npos)
        key.erase(at, key.find_first_of(",}", at) - at);
    }
    auto found = byBody.find(key);
    KernelOp symbol;
    if (found != byBody.end()) {
      symbol = found->second;
      kernel->erase();
    } else {
      int n = counters[name]++;
      kernel.setSymName(name + "_" + std::to_string(n));
      ModuleOp module = getOperation();
      auto fn = last->getParentOfType<func::FuncOp>();
      module.getBody()->getOperations().insert(Block::iterator(fn),
                                               kernel.getOperation());
      symbol = kernel;
      byBody[key] = kernel;
    }

    // The launch replaces the group where its last op was.
    b.setInsertionPoint(last);
    SmallVector<Value> dynamicDims;
    SmallVector<Type> resultTypes;
    for (Value output : outputs) {
      auto resultType = cast<RankedTensorType>(output.getType());
      resultTypes.push_back(resultType);
      // The size of each dimension of the result that is not static.
      SmallVector<Value> perDim(resultType.getRank());
      if (auto alibi = dyn_cast<AlibiOp>(anchor)) {
        perDim = {Value(), alibi.getQueryLen(), alibi.getKeyLen()};
      } else if (auto rel = dyn_cast<RelativeBiasOp>(anchor)) {
        perDim = {Value(), rel.getQueryLen(), rel.getKeyLen()};
      } else if (resultType.isDynamicDim(0)) {
        perDim[0] = sizeOfDim0(sequenceSource(group.ops.front()), b,
                                last->getLoc());
      }
      for (int64_t i = 0; i < resultType.getRank(); ++i)
        if (resultType.isDynamicDim(i)) {
          assert(perDim[i] && "a dynamic dimension with no known size");
          dynamicDims.push_back(perDim[i]);
        }
    }
    auto launch = b.create<LaunchOp>(last->getLoc(), resultTypes,
                                     symbol.getSymName(), inputs.getArrayRef(),
                                     dynamicDims);
    for (auto [output, result] : llvm::zip(outputs, launch.getResults()))
      output.replaceAllUsesWith(result);
    for (Operation *op : llvm::reverse(group.ops))
      op->erase();
  }
};

} // namespace
