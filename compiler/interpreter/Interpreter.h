//===- Interpreter.h - the reference interpreter ----------------*- C++ -*-===//
//
// Executes graph-level (and fused-level) tfm IR op by op with plain loops,
// accumulating in double and storing f32 between ops, the way an f32 model
// does. It is the oracle the compiler's passes and kernels are checked
// against, so it shares no code with them: it uses the dialect and the
// runtime's weight table, nothing else.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_INTERPRETER_INTERPRETER_H
#define TFM_COMPILER_INTERPRETER_INTERPRETER_H

#include "runtime/Weights.h"

#include "mlir/IR/BuiltinOps.h"

#include <memory>

namespace tfm {

/// A row-major f32 tensor; a view of weight memory or owned storage.
struct Tensor {
  std::vector<int64_t> shape;
  const float *data = nullptr;
  std::shared_ptr<std::vector<float>> storage;

  int64_t numel() const;
  /// A zero-filled tensor that owns its storage.
  static Tensor zeros(std::vector<int64_t> shape);
  float *mutableData() { return storage->data(); }
};

/// Keys and values of one layer, grown as positions are written. They are
/// kept as f32, each rounded as `storage` stores it when written.
struct KvBuffer {
  int64_t capacity = 0, kvHeads = 0, headDim = 0, vHeadDim = 0;
  rt::DType storage = rt::DType::F32;
  int64_t filled = 0; // positions [0, filled) hold data
  std::vector<float> keys, values;
};

/// An argument of Interpreter::evaluate: an f32 tensor, i32 token ids, an
/// index, or a KV cache.
struct InterpreterValue {
  enum class Kind { Tensor, Tokens, Index, Cache } kind = Kind::Tensor;
  Tensor tensor;
  std::vector<int32_t> tokens;
  int64_t index = 0;
  std::shared_ptr<KvBuffer> cache;
};

class Interpreter {
public:
  /// Runs the ops of `block` (a kernel body, say) on `args`, bound to the
  /// block's arguments in order, and returns the terminator's operands.
  /// Weight ops, if any, read `weights`.
  static rt::Expected<std::vector<Tensor>>
  evaluate(mlir::Block &block, const std::vector<InterpreterValue> &args,
           const rt::WeightTable &weights);

  /// `module` must hold @prefill and @decode built by the ModelBuilder (or
  /// passes applied to it); `weights` must outlive the interpreter.
  Interpreter(mlir::ModuleOp module, const rt::WeightTable &weights);
  ~Interpreter();

  /// Every `tfm.weight` of the module is in the table with its shape.
  rt::Status checkWeights() const;

  /// Runs entry point `entry` on `tokens` at positions [pos, pos + n) and
  /// returns its logits (n x vocab). The KV caches persist across calls.
  rt::Expected<Tensor> run(llvm::StringRef entry,
                           const std::vector<int32_t> &tokens, int64_t pos);

  /// Empties the KV caches.
  void reset();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace tfm

#endif // TFM_COMPILER_INTERPRETER_INTERPRETER_H
