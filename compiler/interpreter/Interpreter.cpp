//===- Interpreter.cpp - the reference interpreter --------------*- C++ -*-===//
//
// Binds a block's arguments and runs each op by its family's rule
// (rules/): straightforward loops, written for clarity rather than speed,
// with formulas that follow the op descriptions in TfmOps.td.
//
//===----------------------------------------------------------------------===//

#include "compiler/interpreter/Interpreter.h"
#include "compiler/interpreter/rules/Rules.h"

#include "compiler/StorageTypes.h"
#include "dialects/Tfm/TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace ::tfm;
namespace ir = mlir::tfm;
using llvm::formatv;
using rt::Error;
using rt::Expected;
using rt::Status;

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Tensor Tensor::zeros(std::vector<int64_t> shape) {
  Tensor t;
  t.shape = std::move(shape);
  t.storage = std::make_shared<std::vector<float>>(size_t(t.numel()), 0.0f);
  t.data = t.storage->data();
  return t;
}

namespace {

using interp::Cache;
using interp::Frame;
using interp::Tokens;

/// Every op family's rules.
const interp::RuleTable &ruleTable() {
  static const interp::RuleTable table = [] {
    interp::RuleTable t;
    interp::addCoreRules(t);
    interp::addElementwiseRules(t);
    interp::addNormRules(t);
    interp::addPositionRules(t);
    interp::addLinearRules(t);
    interp::addAttentionRules(t);
    interp::addMoeRules(t);
    return t;
  }();
  return table;
}

/// Runs the ops of `block` but its terminator.
Status evalBlock(Block &block, Frame &frame) {
  for (Operation &op : block.without_terminator()) {
    const interp::RuleTable::Rule *rule = ruleTable().find(&op);
    if (!rule)
      return Error(
          formatv("interpreter: unsupported op '{0}'", op.getName()).str());
    if (Status s = (*rule)(&op, frame); !s)
      return s;
  }
  return Status::ok();
}

} // namespace

struct Interpreter::Impl {
  ModuleOp module;
  const rt::WeightTable &weights;
  std::vector<Cache> caches;
};

Interpreter::Interpreter(ModuleOp module, const rt::WeightTable &weights)
    : impl_(new Impl{module, weights, {}}) {
  reset();
}

Interpreter::~Interpreter() = default;

void Interpreter::reset() {
  impl_->caches.clear();
  auto prefill = impl_->module.lookupSymbol<func::FuncOp>("prefill");
  if (!prefill)
    return;
  for (Type t : prefill.getArgumentTypes())
    if (auto cacheType = dyn_cast<ir::KvCacheType>(t)) {
      auto cache = std::make_shared<KvBuffer>();
      cache->capacity = cacheType.getLen();
      cache->kvHeads = cacheType.getKvHeads();
      cache->headDim = cacheType.getHeadDim();
      cache->vHeadDim = cacheType.getVHeadDim();
      cache->storage = runtimeStorage(cacheType.getStorage());
      impl_->caches.push_back(cache);
    }
}

Status Interpreter::checkWeights() const {
  Status status;
  impl_->module.walk([&](ir::WeightOp op) {
    if (!status)
      return;
    const rt::WeightTable::Entry *e = impl_->weights.find(op.getName().str());
    auto shape = op.getResult().getType().getShape();
    if (!e)
      status = Error(formatv("{0}: no weight '{1}'", impl_->weights.origin(),
                             op.getName())
                         .str());
    else if (e->shape != std::vector<int64_t>(shape.begin(), shape.end()))
      status = Error(formatv("{0}: weight '{1}' has shape {2}, the model "
                             "expects {3}",
                             impl_->weights.origin(), op.getName(),
                             rt::shapeString(e->shape),
                             rt::shapeString({shape.begin(), shape.end()}))
                         .str());
  });
  return status;
}

Expected<Tensor> Interpreter::run(llvm::StringRef entry,
                                  const std::vector<int32_t> &tokens,
                                  int64_t pos) {
  auto fn = impl_->module.lookupSymbol<func::FuncOp>(entry);
  if (!fn)
    return Error(formatv("the module has no entry point @{0}", entry).str());
  Block &body = fn.getBody().front();
  auto tokenType = cast<RankedTensorType>(fn.getArgumentTypes()[0]);
  if (!tokenType.isDynamicDim(0) &&
      tokenType.getDimSize(0) != int64_t(tokens.size()))
    return Error(formatv("@{0} takes {1} tokens, got {2}", entry,
                         tokenType.getDimSize(0), tokens.size())
                     .str());
  if (body.getNumArguments() != 2 + impl_->caches.size())
    return Error(formatv("@{0} does not take (tokens, pos, caches...)", entry)
                     .str());

  Frame eval(impl_->weights);
  eval[body.getArgument(0)] = Tokens(tokens);
  eval[body.getArgument(1)] = pos;
  for (size_t i = 0; i < impl_->caches.size(); ++i)
    eval[body.getArgument(2 + i)] = impl_->caches[i];
  if (Status s = evalBlock(body, eval); !s)
    return Error(s.message());

  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (size_t i = 0; i < impl_->caches.size(); ++i)
    impl_->caches[i] = std::get<Cache>(eval[ret.getOperand(1 + i)]);
  return std::get<Tensor>(eval[ret.getOperand(0)]);
}

Expected<std::vector<Tensor>>
Interpreter::evaluate(Block &block, const std::vector<InterpreterValue> &args,
                      const rt::WeightTable &weights) {
  if (args.size() != block.getNumArguments())
    return Error(formatv("evaluate: {0} arguments for a block of {1}",
                         args.size(), block.getNumArguments())
                     .str());
  Frame eval(weights);
  for (auto [arg, value] : llvm::zip(block.getArguments(), args)) {
    switch (value.kind) {
    case InterpreterValue::Kind::Tensor:
      eval[arg] = value.tensor;
      break;
    case InterpreterValue::Kind::Tokens:
      eval[arg] = value.tokens;
      break;
    case InterpreterValue::Kind::Index:
      eval[arg] = value.index;
      break;
    case InterpreterValue::Kind::Cache:
      if (!value.cache)
        return Error("evaluate: a cache argument without a cache");
      eval[arg] = Cache(value.cache);
      break;
    }
  }
  if (Status s = evalBlock(block, eval); !s)
    return Error(s.message());
  std::vector<Tensor> results;
  for (Value v : block.getTerminator()->getOperands())
    results.push_back(std::get<Tensor>(eval[v]));
  return results;
}
