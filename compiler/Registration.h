//===- Registration.h - register tfm dialects and passes --------*- C++ -*-===//
//
// One place that knows every dialect and pass tfm uses, for tfm-opt and tfmc.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_REGISTRATION_H
#define TFM_COMPILER_REGISTRATION_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace tfm {

/// Adds tfm and the upstream dialects that tfm IR uses (func, arith, tensor).
void registerAllTfmDialects(mlir::DialectRegistry &registry);

/// Registers tfm's passes and pipelines plus the upstream ones they use.
void registerAllTfmPasses();

} // namespace tfm

#endif // TFM_COMPILER_REGISTRATION_H
