//===- HostPlan.h - kernel-level IR → host plan -----------------*- C++ -*-===//

#ifndef TFM_COMPILER_LINK_HOSTPLAN_H
#define TFM_COMPILER_LINK_HOSTPLAN_H

#include "runtime/Plan.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>

namespace tfm::link {

/// Builds the plan of a kernel-level module: the host functions' index
/// math, buffers and steps, with every kernel result placed in one arena
/// (offsets planned once from first and last use, sized for `prefillChunk`
/// prefill tokens). The model's facts come from the module's `tfm.model`
/// attribute. `functionName` gives each kernel's C symbol.
bool buildPlan(mlir::ModuleOp module, int64_t prefillChunk,
               const std::function<std::string(mlir::Operation *kernel)>
                   &functionName,
               rt::Plan &plan, std::string &error);

} // namespace tfm::link

#endif // TFM_COMPILER_LINK_HOSTPLAN_H
