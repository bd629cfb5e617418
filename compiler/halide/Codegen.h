//===- Codegen.h - compile tfm.kernel ops to objects ------------*- C++ -*-===//
//
// The backend's entry point: each distinct kernel becomes one ahead-of-time
// object (plus its lowered statement and assembly on request), cached on
// disk by a hash of what determines its code.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_HALIDE_CODEGEN_H
#define TFM_COMPILER_HALIDE_CODEGEN_H

#include "dialects/Tfm/TfmOps.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace tfm::halide {

struct CodegenOptions {
  /// Where compiled kernels are cached; empty: no caching.
  std::string cacheDir;
  /// Also produce the lowered statement / the assembly of each kernel.
  bool wantStmt = false;
  bool wantAssembly = false;
  /// Called before each kernel compiles (index, count, kernel name).
  std::function<void(size_t, size_t, const std::string &, bool cached)>
      progress;
  /// Receives Halide's compile-time warnings (notes on schedules); without
  /// it they are dropped.
  std::function<void(const std::string &)> warning;
};

struct CompiledKernel {
  std::string symbol;   // the tfm.kernel's name
  std::string function; // the C symbol in the object
  std::string object;
  std::string stmt;     // path, when asked for
  std::string assembly; // path, when asked for
  std::string target; // the resolved Halide target of this kernel
  bool cached = false;
};

struct CompiledModule {
  std::vector<CompiledKernel> kernels;
  std::string runtimeObject;
  std::string target; // the resolved Halide target string
};

/// The default cache directory: $TFM_CACHE_DIR, else $XDG_CACHE_HOME/tfm,
/// else ~/.cache/tfm.
std::string defaultCacheDir();

/// The Halide target string of a kernel target on this machine: its CPU
/// with vector instructions up to the target's ISA.
std::string resolveTarget(mlir::tfm::TargetAttr target);

/// The wider ISA for the prefill products: avx512 when this machine has
/// AVX-512, else none (they stay on avx2).
std::optional<mlir::tfm::Isa> hostWideIsa();

/// The C symbol of a kernel's compiled function: a hash of everything that
/// determines its code (its target resolved), so equal kernels of
/// different models share objects.
std::string kernelFunctionName(mlir::tfm::KernelOp kernel);

/// Compiles every tfm.kernel of `module` into `workDir` (or the cache) and
/// the Halide runtime for the target. Errors are strings naming the kernel.
bool compileKernels(mlir::ModuleOp module, const CodegenOptions &options,
                    const std::string &workDir, CompiledModule &out,
                    std::string &error);

/// The lowered Halide statement of one kernel for its target (for
/// --emit=halide).
bool lowerKernel(mlir::tfm::KernelOp kernel, std::string &stmt,
                 std::string &error);

} // namespace tfm::halide

#endif // TFM_COMPILER_HALIDE_CODEGEN_H
