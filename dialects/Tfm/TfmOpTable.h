//===- TfmOpTable.h - a rule per op, looked up by the op's type -*- C++ -*-===//
//
// The backends keep one rule per op (the Halide lowering, the interpreter),
// each family registering its own; this is the table both use. The dialect
// knows nothing of the rules.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECTS_TFM_TFMOPTABLE_H
#define TFM_DIALECTS_TFM_TFMOPTABLE_H

#include "mlir/IR/Operation.h"

#include "llvm/ADT/DenseMap.h"

#include <functional>

namespace mlir::tfm {

/// Rules `Result(Op, Context &)` by op type.
template <typename Result, typename Context> class OpTable {
public:
  using Rule = std::function<Result(Operation *, Context &)>;

  template <typename OpT> void add(Result (*rule)(OpT, Context &)) {
    rules_[TypeID::get<OpT>()] = [rule](Operation *op, Context &context) {
      return rule(cast<OpT>(op), context);
    };
  }

  /// The rule for `op`, or null.
  const Rule *find(Operation *op) const {
    auto it = rules_.find(op->getName().getTypeID());
    return it == rules_.end() ? nullptr : &it->second;
  }

private:
  llvm::DenseMap<TypeID, Rule> rules_;
};

} // namespace mlir::tfm

#endif // TFM_DIALECTS_TFM_TFMOPTABLE_H
