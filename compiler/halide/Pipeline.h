//===- Pipeline.h - a tfm.kernel as a Halide pipeline -----------*- C++ -*-===//
//
// The algorithm half of the backend: one Halide Func per op of a kernel,
// composed (elementwise ops inline into their producer). The schedule half
// lives in schedules/<target>/ and finds the stages it tiles by name.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_HALIDE_PIPELINE_H
#define TFM_COMPILER_HALIDE_PIPELINE_H

#include "dialects/Tfm/TfmOps.h"

#include "Halide.h"

#include <map>
#include <string>
#include <vector>

namespace tfm::halide {

/// The Halide form of one kernel. Coordinates are innermost first: element
/// (s, c) of a `seq x features` tensor is func(c, s).
struct KernelPipeline {
  /// The kernel's block arguments in order, then nothing else: the output
  /// buffer comes last in the compiled function's signature.
  std::vector<Halide::Argument> arguments;
  /// The same arguments as objects a caller can bind values to (for JIT
  /// tests): images (tensors) and scalars (indices), by argument position.
  std::map<size_t, Halide::ImageParam> images;
  std::map<size_t, Halide::Param<int32_t>> scalars;
  /// KV caches: their keys and values, every position (two arguments).
  std::map<size_t, std::pair<Halide::ImageParam, Halide::ImageParam>> caches;
  /// The kernel's results, in yield order; `output` is the first.
  std::vector<Halide::Func> outputs;
  Halide::Func output;
  /// Outputs computed row by row beside the anchor's (by position in
  /// `outputs`): the results of a tfm.add_norm.
  std::vector<size_t> rowOutputs;
  /// The output at whose rows per-row statistics (stages "stats", "mean")
  /// are computed, for row-wise kernels.
  Halide::Func statsOwner;
  /// The number of rows (the sequence extent) of the kernel's input.
  Halide::Expr rows;
  /// The op that anchors the kernel ("linear", "attention", ...).
  std::string anchor;
  bool decode = false;
  /// Stages the schedule templates refer to, by role: "dot" (a projection's
  /// reduction), "scores", "max", "denom", "sum" (attention), "stats"
  /// (norms), ...
  std::map<std::string, Halide::Func> stages;
  /// The reduction domains of those stages, by the same roles.
  std::map<std::string, Halide::RDom> rdoms;
  /// The pure coordinates of the output, innermost first.
  std::vector<Halide::Var> vars;
  /// Static extents of the output, innermost first (-1: dynamic).
  std::vector<int64_t> extents;
};

/// The one choice of a schedule that shapes the algorithm itself: the
/// length of the key chunks a cached attention merges.
struct AlgorithmOptions {
  int kvChunk = 256;
};

/// The algorithm options the kernel's schedule asks for.
AlgorithmOptions algorithmOptions(mlir::tfm::KernelOp kernel);

/// Builds the algorithm of `kernel`. Throws Halide::Error (or
/// CompileError) on internal inconsistencies.
KernelPipeline buildPipeline(mlir::tfm::KernelOp kernel,
                             const AlgorithmOptions &options);

/// Applies the CPU schedule template the kernel's schedule attribute is
/// for, with its parameters.
void scheduleCpu(KernelPipeline &pipeline,
                 mlir::tfm::ScheduleAttrInterface schedule,
                 const Halide::Target &target);

} // namespace tfm::halide

#endif // TFM_COMPILER_HALIDE_PIPELINE_H
