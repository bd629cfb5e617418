//===- Driver.h - pieces shared by tfmc's subcommands -----------*- C++ -*-===//

#ifndef TFM_COMPILER_TFMC_DRIVER_H
#define TFM_COMPILER_TFMC_DRIVER_H

#include "compiler/frontend/Frontend.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>

#include <optional>
#include <set>
#include <string>

namespace tfm {

/// Reads and validates a model config, printing its diagnostics (warnings
/// too) to stderr. Empty on error.
std::optional<ModelSpec> loadSpec(const std::string &path);

/// A context with every dialect tfm IR uses.
std::unique_ptr<mlir::MLIRContext> makeContext();

/// The graph-level module of `spec`, verified; null (after a message naming
/// `tool`) if the builder produced invalid IR, which is a tfm bug.
mlir::OwningOpRef<mlir::ModuleOp> buildVerifiedModel(mlir::MLIRContext &context,
                                                     const ModelSpec &spec,
                                                     const char *tool);

/// Parses `--disable-fusion`'s value: "all", "none" or a comma-separated
/// list of fusion names (mlir::tfm::fusionNames()). Prints an error naming
/// the unknown name and returns false.
bool parseDisabledFusions(const std::string &list, const char *tool,
                          std::set<std::string> &disabled);

/// `tfmc run CONFIG ...`: argv[0] is "tfmc", argv[1] is "run".
int runCommand(int argc, char **argv);

/// `tfmc quantize IN OUT --type T`: argv[1] is "quantize".
int quantizeCommand(int argc, char **argv);
/// `tfmc tokenize SOURCE` and `tfmc detokenize SOURCE` (argv[1] says which).
int tokenizeCommand(int argc, char **argv);

} // namespace tfm

#endif // TFM_COMPILER_TFMC_DRIVER_H
