//===- Rules.h - the interpreter's rule for each op family ------*- C++ -*-===//
//
// Each op family's file (Core, Elementwise, Norm, Position, Linear,
// Attention, Moe) defines one rule per op: it reads its operands' values
// and sets its results'. A family adds its rules to the table with its
// add…Rules function; Interpreter.cpp calls each of those once.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_INTERPRETER_RULES_RULES_H
#define TFM_COMPILER_INTERPRETER_RULES_RULES_H

#include "compiler/interpreter/Interpreter.h"

#include "dialects/Tfm/TfmOpTable.h"
#include "dialects/Tfm/TfmOps.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <variant>

namespace tfm::interp {

namespace ir = mlir::tfm;
using rt::Error;
using rt::Expected;
using rt::Status;

using Tokens = std::vector<int32_t>;
using Cache = std::shared_ptr<KvBuffer>;
using RtValue = std::variant<std::monostate, Tensor, Tokens, int64_t, Cache>;

/// The values of one block's evaluation, by SSA value.
class Frame {
public:
  explicit Frame(const rt::WeightTable &weights) : weights_(weights) {}

  RtValue &operator[](mlir::Value v) { return values_[v]; }
  void set(mlir::Value v, RtValue value) { values_[v] = std::move(value); }
  int64_t index(mlir::Value v) { return std::get<int64_t>(values_[v]); }
  const Tensor &tensor(mlir::Value v) { return std::get<Tensor>(values_[v]); }
  const Tensor *optTensor(mlir::Value v) { return v ? &tensor(v) : nullptr; }
  const rt::WeightTable &weights() const { return weights_; }

private:
  const rt::WeightTable &weights_;
  llvm::DenseMap<mlir::Value, RtValue> values_;
};

/// The rule of every op the interpreter runs, by op.
using RuleTable = mlir::tfm::OpTable<Status, Frame>;

/// The families (one file each under rules/).
void addCoreRules(RuleTable &table);
void addElementwiseRules(RuleTable &table);
void addNormRules(RuleTable &table);
void addPositionRules(RuleTable &table);
void addLinearRules(RuleTable &table);
void addAttentionRules(RuleTable &table);
void addMoeRules(RuleTable &table);

// Formulas one family lends another.

/// The activation `kind` of `x` (Elementwise.cpp).
double activate(ir::ActKind kind, double x);
/// tfm.norm over groups of `group` features (Norm.cpp).
Tensor normalize(const Tensor &x, const Tensor *gain, const Tensor *bias,
                 ir::NormKind kind, double eps, int64_t group, double offset);
/// tfm.rope: heads of `hd` features, the first `rd` of each rotated
/// (Position.cpp).
Tensor rotate(const Tensor &x, int64_t pos, int64_t hd, int64_t rd,
              double attentionFactor,
              ir::RopeLayout layout, llvm::ArrayRef<double> inv);
/// x · wᵀ + b (Linear.cpp).
Tensor linear(const Tensor &x, const Tensor &w, const Tensor *b);

} // namespace tfm::interp

#endif // TFM_COMPILER_INTERPRETER_RULES_RULES_H
