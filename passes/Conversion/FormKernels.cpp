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

/// Ops that run on the host, between kernels.
bool isHostOp(Operation *op) {
  return isa<WeightOp, KvWriteOp, KvReadOp, func::ReturnOp>(op) ||
         op->getDialect()->getNamespace() != TfmDialect::getDialectNamespace();
}

/// Elementwise ops that can run in the epilogue of their operand's kernel.
bool isEpilogueOp(Operation *op) {
  return isa<AddOp, MulOp, ScaleOp, SoftcapOp, ActivationOp, GluOp>(op);
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
  if (isa<LinearOp, LmHeadOp>(anchor)) {
    tmpl = decode ? "gemv" : "gemm";
    if (decode) {
      // Each task computes a block of output rows; the reduction over the
      // input features is vectorized.
      add("rows_per_task", b.getI64IntegerAttr(4 * vector));
    } else {
      // A (3·vector) × 4 register tile: 3 vectors of outputs times 4 rows.
      add("tile_cols", b.getI64IntegerAttr(3 * vector));
      add("tile_rows", b.getI64IntegerAttr(4));
      add("k_block", b.getI64IntegerAttr(256));
    }
  } else if (auto attention = dyn_cast<AttentionOp>(anchor)) {
    tmpl = "attention";
    // One task per (head, query row); the head geometry sizes the tasks.
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
    auto type = cast<RankedTensorType>(launch.getType());
    if (type.isDynamicDim(0))
      return launch.getDims().front();
  }
  if (auto read = v.getDefiningOp<KvReadOp>())
    return read.getLen();
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  return b.create<tensor::DimOp>(loc, v, zero);
}

struct Group {
  SmallVector<Operation *> ops;
  Value output() { return ops.back()->getResult(0); }
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

    // Group ops: an epilogue op joins the group whose output it consumes
    // when that output has no other use.
    std::vector<Group> groups;
    DenseMap<Value, size_t> groupOfOutput;
    for (Operation &op : fn.getBody().front()) {
      if (isHostOp(&op))
        continue;
      if (isEpilogueOp(&op)) {
        std::optional<size_t> target;
        for (Value operand : op.getOperands()) {
          auto it = groupOfOutput.find(operand);
          if (it != groupOfOutput.end() && operand.hasOneUse() &&
              (!target || it->second > *target))
            target = it->second;
        }
        if (target) {
          groupOfOutput.erase(groups[*target].output());
          groups[*target].ops.push_back(&op);
          groupOfOutput[groups[*target].output()] = *target;
          continue;
        }
      }
      groups.push_back({{&op}});
      groupOfOutput[groups.back().output()] = groups.size() - 1;
    }

    for (Group &group : groups)
      outline(group, phase, decode, byBody, counters);
    return success();
  }

  void outline(Group &group, const std::string &phase, bool decode,
               llvm::StringMap<KernelOp> &byBody,
               llvm::StringMap<int> &counters) {
    MLIRContext *ctx = &getContext();
    Operation *anchor = group.ops.front();
    Operation *last = group.ops.back();
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
    auto kernel = b.create<KernelOp>(anchor->getLoc(), name, phase, target,
                                   chooseSchedule(anchor, decode, vectorWidth,
                                                  b));
    Block &body = kernel.getBlock();
    IRMapping mapping;
    for (Value v : inputs)
      mapping.map(v, body.addArgument(v.getType(), v.getLoc()));
    b.setInsertionPointToEnd(&body);
    for (Operation *op : group.ops)
      b.clone(*op, mapping);
    b.create<YieldOp>(anchor->getLoc(),
                      ValueRange{mapping.lookup(group.output())});

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
    auto resultType = cast<RankedTensorType>(group.output().getType());
    // The size of each dimension of the result that is not static.
    SmallVector<Value> perDim(resultType.getRank());
    if (auto alibi = dyn_cast<AlibiOp>(anchor)) {
      perDim = {Value(), alibi.getQueryLen(), alibi.getKeyLen()};
    } else if (auto rel = dyn_cast<RelativeBiasOp>(anchor)) {
      perDim = {Value(), rel.getQueryLen(), rel.getKeyLen()};
    } else if (resultType.isDynamicDim(0)) {
      perDim[0] = sizeOfDim0(sequenceSource(anchor), b, last->getLoc());
    }
    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < resultType.getRank(); ++i)
      if (resultType.isDynamicDim(i)) {
        assert(perDim[i] && "a dynamic dimension with no known size");
        dynamicDims.push_back(perDim[i]);
      }
    auto launch = b.create<LaunchOp>(last->getLoc(), resultType,
                                     symbol.getSymName(), inputs.getArrayRef(),
                                     dynamicDims);
    group.output().replaceAllUsesWith(launch.getResult());
    for (Operation *op : llvm::reverse(group.ops))
      op->erase();
  }
};

} // namespace
