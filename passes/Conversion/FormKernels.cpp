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

/// A tfm.add_norm whose normalized value only a projection reads (as its
/// input) runs in that projection's kernel, as its prologue: the
/// normalized rows never go to memory.
bool isPrologue(Operation *op) {
  auto addNorm = dyn_cast<AddNormOp>(op);
  if (!addNorm || !addNorm.getNormed().hasOneUse())
    return false;
  OpOperand &use = *addNorm.getNormed().getUses().begin();
  return isProjection(use.getOwner()) && use.getOperandNumber() == 0;
}

/// Kernels are pure, so the host does the cache write of a
/// tfm.cached_attention, and the op, in its kernel, reads the cache the
/// host wrote: writing the same keys and values again changes nothing, so
/// the op computes what it did before, over the cache in place.
void hoistCacheWrites(func::FuncOp fn) {
  SmallVector<CachedAttentionOp> fused;
  fn.walk([&](CachedAttentionOp op) { fused.push_back(op); });
  for (CachedAttentionOp ca : fused) {
    OpBuilder b(ca);
    auto write = b.create<KvWriteOp>(ca.getLoc(), ca.getCache().getType(),
                                     ca.getCache(), ca.getKey(),
                                     ca.getValue(), ca.getPos());
    ca.getNewCache().replaceAllUsesWith(write.getResult());
    ca.getCacheMutable().assign(write.getResult());
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

/// Two kernels compute the same thing: the same phase and bodies equal op
/// by op (names, attributes, types, and operands that correspond).
bool sameKernel(KernelOp a, KernelOp b) {
  if (a.getPhase() != b.getPhase())
    return false;
  return OperationEquivalence::isRegionEquivalentTo(
      &a.getBody(), &b.getBody(), OperationEquivalence::IgnoreLocations);
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
  /// Values computed in the group and read outside it: the anchor's and
  /// its epilogue's first, then a prologue's (a residual sum).
  SmallVector<Value> outputs() const {
    llvm::SmallPtrSet<Operation *, 8> in(ops.begin(), ops.end());
    SmallVector<Value> out;
    auto collect = [&](Operation *op) {
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(),
                         [&](Operation *u) { return !in.contains(u); }))
          out.push_back(r);
    };
    for (size_t i = anchor; i < ops.size(); ++i)
      collect(ops[i]);
    for (size_t i = 0; i < anchor; ++i)
      collect(ops[i]);
    return out;
  }
};

struct FormKernelsPass : tfm::impl::TfmFormKernelsBase<FormKernelsPass> {
  using TfmFormKernelsBase::TfmFormKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<KernelOp> kernels;
    llvm::StringMap<int> counters;
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : funcs)
      if (failed(formKernels(fn, kernels, counters)))
        return signalPassFailure();
  }

  LogicalResult formKernels(func::FuncOp fn, SmallVector<KernelOp> &kernels,
                            llvm::StringMap<int> &counters) {
    Phase phase = fn.getName() == "decode" ? Phase::decode : Phase::prefill;
    hoistCacheWrites(fn);

    // Group ops: an epilogue op joins the group whose output it consumes
    // when that output has no other use; a prologue add_norm joins the
    // projection that reads it.
    std::vector<Group> groups;
    DenseMap<Value, size_t> groupOfTail;
    for (Operation &op : fn.getBody().front()) {
      if (isHostOp(&op) || isPrologue(&op))
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
      if (isProjection(&op))
        if (auto norm = op.getOperand(0).getDefiningOp<AddNormOp>())
          if (isPrologue(norm) && op.getOperand(0) == norm.getNormed()) {
            group.ops.insert(group.ops.begin(), norm);
            group.anchor = 1;
          }
      groups.push_back(group);
      if (Value tail = groups.back().tail())
        groupOfTail[tail] = groups.size() - 1;
    }

    for (Group &group : groups)
      outline(group, phase, kernels, counters);
    return success();
  }

  void outline(Group &group, Phase phase, SmallVector<KernelOp> &kernels,
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
    std::string name = stringifyPhase(phase).str();
    for (Operation *op : group.ops)
      name += "_" + op->getName().stripDialect().str();
    auto kernel = b.create<KernelOp>(anchor->getLoc(), name, phase);
    Block &body = kernel.getBlock();
    IRMapping mapping;
    for (Value v : inputs)
      mapping.map(v, body.addArgument(v.getType(), v.getLoc()));
    b.setInsertionPointToEnd(&body);
    for (Operation *op : group.ops)
      b.clone(*op, mapping);
    SmallVector<Value> yielded;
    for (Value v : outputs)
      yielded.push_back(mapping.lookup(v));
    b.create<YieldOp>(anchor->getLoc(), yielded);

    // Kernels that compute the same thing (the same phase and a
    // structurally equal body) share one symbol.
    KernelOp symbol;
    for (KernelOp existing : kernels)
      if (sameKernel(existing, kernel)) {
        symbol = existing;
        break;
      }
    if (symbol) {
      kernel->erase();
    } else {
      int n = counters[name]++;
      kernel.setSymName(name + "_" + std::to_string(n));
      ModuleOp module = getOperation();
      auto fn = last->getParentOfType<func::FuncOp>();
      module.getBody()->getOperations().insert(Block::iterator(fn),
                                               kernel.getOperation());
      symbol = kernel;
      kernels.push_back(kernel);
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
      if (auto bias = dyn_cast<AttentionBiasOpInterface>(anchor)) {
        perDim = {Value(), bias.getQueryLen(), bias.getKeyLen()};
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
