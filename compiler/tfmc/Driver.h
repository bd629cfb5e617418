//===- Driver.h - pieces shared by tfmc's subcommands -----------*- C++ -*-===//

#ifndef TFM_COMPILER_TFMC_DRIVER_H
#define TFM_COMPILER_TFMC_DRIVER_H

#include "compiler/frontend/Frontend.h"

#include <optional>
#include <string>

namespace tfm {

/// Reads and validates a model config, printing its diagnostics (warnings
/// too) to stderr. Empty on error.
std::optional<ModelSpec> loadSpec(const std::string &path);

/// `tfmc run CONFIG ...`: argv[0] is "tfmc", argv[1] is "run".
int runCommand(int argc, char **argv);

} // namespace tfm

#endif // TFM_COMPILER_TFMC_DRIVER_H
