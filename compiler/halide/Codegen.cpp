//===- Codegen.cpp - compile tfm.kernel ops to objects ----------*- C++ -*-===//
//
// Halide reports errors by throwing; this file is built with exceptions and
// catches them here, so nothing Halide throws crosses into MLIR code.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Codegen.h"
#include "compiler/halide/Pipeline.h"
#include "runtime/Parallel.h"

#include "mlir/IR/OperationSupport.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

using namespace Halide;
namespace ir = mlir::tfm;

namespace tfm::halide {
namespace {

/// Identifies the code generator: kernels compiled by another build of tfm
/// are not reused (a schedule may have changed).
std::string generatorStamp() {
  struct stat st;
  std::string stamp = "tfm-halide";
  if (stat("/proc/self/exe", &st) == 0)
    stamp += llvm::formatv("-{0}-{1}", st.st_size, st.st_mtime).str();
  return stamp;
}

/// A content hash of everything that determines a kernel's code.
std::string kernelHash(ir::KernelOp kernel, const std::string &target) {
  std::string text;
  llvm::raw_string_ostream os(text);
  mlir::OpPrintingFlags flags;
  flags.printGenericOpForm();
  // The symbol name does not change the code; print a copy without it.
  mlir::Operation *clone = kernel->clone();
  clone->removeAttr("sym_name");
  clone->print(os, flags);
  clone->erase();
  os << "\n" << target << "\n" << generatorStamp();
  llvm::SHA256 sha;
  sha.update(text);
  auto digest = sha.final();
  return llvm::toHex(llvm::ArrayRef<uint8_t>(digest.data(), 12), true);
}

Target kernelTarget(const std::string &resolved) {
  return Target(resolved).with_feature(Target::NoRuntime);
}

bool exists(const std::string &path) {
  return llvm::sys::fs::exists(path);
}

/// The kernel's algorithm with its schedule for the target.
KernelPipeline scheduledPipeline(ir::KernelOp kernel, const Target &target) {
  KernelPipeline pipeline = buildPipeline(kernel, algorithmOptions(kernel));
  scheduleCpu(pipeline, kernel.getScheduleAttr(), target);
  return pipeline;
}

/// The Halide target of a kernel; throws for a kernel without one.
std::string kernelTargetString(ir::KernelOp kernel) {
  if (!kernel.getTargetAttr())
    throw CompileError("kernel @" + kernel.getSymName().str() +
                       " has no target (run tfm-select-schedules)");
  return resolveTarget(kernel.getTargetAttr());
}

/// Compiles one kernel to the files in `outputs` (written aside, then
/// renamed into place so the cache never holds half a file).
void compileOne(ir::KernelOp kernel, const std::string &target,
                const std::string &function,
                const std::map<OutputFileType, std::string> &outputs) {
  Target t = kernelTarget(target);
  KernelPipeline pipeline = scheduledPipeline(kernel, t);
  std::map<OutputFileType, std::string> temporary;
  std::string suffix = llvm::formatv(".tmp{0}", ::getpid()).str();
  for (const auto &[type, path] : outputs)
    temporary[type] = path + suffix;
  Pipeline(pipeline.outputs)
      .compile_to(temporary, pipeline.arguments, function, t);
  for (const auto &[type, path] : outputs)
    if (std::rename(temporary[type].c_str(), path.c_str()) != 0)
      throw CompileError("cannot move " + temporary[type] + " to " + path);
}

} // namespace

std::string kernelFunctionName(ir::KernelOp kernel) {
  return "tfm_k_" + kernelHash(kernel, kernelTargetString(kernel));
}

std::string defaultCacheDir() {
  if (const char *dir = std::getenv("TFM_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/tfm";
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/tfm";
  return "";
}

std::string resolveTarget(ir::TargetAttr target) {
  switch (target.getKind()) {
  case ir::TargetKind::cpu:
    break;
  }
  // This machine's CPU with vector instructions up to the ISA. Halide 14
  // (LLVM 14) miscompiles predicated vector stores for AVX-512 targets (the
  // guarded tails of vectorized loops write past small allocations and
  // crash), so only kernels whose schedule has no vector tails get avx512:
  // tfm-select-schedules gives it to the prefill products that fit.
  Target host = get_host_target();
  for (Target::Feature f :
       {Target::AVX512, Target::AVX512_KNL, Target::AVX512_Skylake,
        Target::AVX512_Cannonlake, Target::AVX512_SapphireRapids})
    host = host.without_feature(f);
  switch (target.getIsa()) {
  case ir::Isa::avx2:
    break;
  case ir::Isa::avx512:
    host = host.with_feature(Target::AVX512).with_feature(
        Target::AVX512_Skylake);
    break;
  }
  return host.to_string();
}

std::optional<ir::Isa> hostWideIsa() {
  if (get_host_target().has_feature(Target::AVX512_Skylake))
    return ir::Isa::avx512;
  return std::nullopt;
}

bool lowerKernel(ir::KernelOp kernel, std::string &stmt, std::string &error) {
  try {
    std::string resolved = kernelTargetString(kernel);
    llvm::SmallString<128> path;
    if (auto ec = llvm::sys::fs::createTemporaryFile("tfm-kernel", "stmt",
                                                     path)) {
      error = "cannot create a temporary file: " + ec.message();
      return false;
    }
    Target t = kernelTarget(resolved);
    KernelPipeline pipeline = scheduledPipeline(kernel, t);
    Pipeline(pipeline.outputs)
        .compile_to({{OutputFileType::stmt, path.str().str()}},
                    pipeline.arguments, kernel.getSymName().str(), t);
    auto buffer = llvm::MemoryBuffer::getFile(path);
    llvm::sys::fs::remove(path);
    if (!buffer) {
      error = "cannot read the lowered statement";
      return false;
    }
    stmt = (*buffer)->getBuffer().str();
    return true;
  } catch (const Halide::Error &e) {
    error = llvm::formatv("kernel @{0}: Halide: {1}", kernel.getSymName(),
                          e.what())
                .str();
    return false;
  }
}

namespace {

/// Halide's compile-time warnings ("update definition 0 of function ... has
/// not been scheduled") are notes for whoever writes schedules, not for
/// the user: they go to the caller's sink (tfmc prints them with
/// --verbose). Errors throw, as Halide's own reporter does.
class Reporter : public CompileTimeErrorReporter {
public:
  static Reporter &get() {
    static Reporter reporter;
    return reporter;
  }
  void setSink(std::function<void(const std::string &)> sink) {
    std::lock_guard<std::mutex> lock(mutex_);
    sink_ = std::move(sink);
  }
  void warning(const char *msg) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (sink_)
      sink_(msg);
  }
  void error(const char *msg) override { throw CompileError(msg); }

private:
  std::mutex mutex_;
  std::function<void(const std::string &)> sink_;
};

} // namespace

bool compileKernels(mlir::ModuleOp module, const CodegenOptions &options,
                    const std::string &workDir, CompiledModule &out,
                    std::string &error) {
  Reporter::get().setSink(options.warning);
  set_custom_compile_time_error_reporter(&Reporter::get());
  std::string dir = options.cacheDir.empty() ? workDir : options.cacheDir;
  if (auto ec = llvm::sys::fs::create_directories(dir)) {
    error = dir + ": cannot create directory: " + ec.message();
    return false;
  }
  if (!llvm::sys::fs::is_directory(dir)) {
    error = dir + ": not a folder (the kernel cache must be one)";
    return false;
  }
  std::string target;
  try {
    target = resolveTarget(ir::TargetAttr::get(module.getContext(),
                                               ir::TargetKind::cpu,
                                               ir::Isa::avx2));
    out.target = target;
    out.runtimeObject =
        (llvm::Twine(dir) + "/halide-runtime-" +
         llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(target)))
             .substr(0, 16) +
         ".o")
            .str();
    if (!exists(out.runtimeObject)) {
      std::string tmp = out.runtimeObject + llvm::formatv(".tmp{0}", getpid()).str();
      compile_standalone_runtime(tmp, Target(target));
      std::rename(tmp.c_str(), out.runtimeObject.c_str());
    }
  } catch (const Halide::Error &e) {
    error = std::string("Halide runtime: ") + e.what();
    return false;
  }

  std::vector<ir::KernelOp> kernels(module.getOps<ir::KernelOp>().begin(),
                                    module.getOps<ir::KernelOp>().end());
  out.kernels.resize(kernels.size());
  for (size_t i = 0; i < kernels.size(); ++i) {
    CompiledKernel &k = out.kernels[i];
    k.symbol = kernels[i].getSymName().str();
    try {
      k.target = kernelTargetString(kernels[i]);
    } catch (const Halide::Error &e) {
      error = e.what();
      return false;
    }
    k.function = kernelFunctionName(kernels[i]);
    std::string base = dir + "/" + k.function;
    k.object = base + ".o";
    if (options.wantStmt)
      k.stmt = base + ".stmt";
    if (options.wantAssembly)
      k.assembly = base + ".s";
    k.cached = exists(k.object) && (k.stmt.empty() || exists(k.stmt)) &&
               (k.assembly.empty() || exists(k.assembly));
  }

  // Compile what is not cached, on as many threads as there are cores.
  std::vector<size_t> todo;
  for (size_t i = 0; i < kernels.size(); ++i)
    if (!out.kernels[i].cached)
      todo.push_back(i);
  std::mutex mutex;
  std::string firstError;
  size_t done = 0;
  if (options.progress)
    for (size_t i = 0; i < kernels.size(); ++i)
      if (out.kernels[i].cached)
        options.progress(++done, kernels.size(), out.kernels[i].symbol, true);
  rt::parallelFor(todo.size(), [&](size_t n) {
    size_t i = todo[n];
    CompiledKernel &k = out.kernels[i];
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!firstError.empty())
        return; // stop early: one error is enough
      if (options.progress)
        options.progress(++done, kernels.size(), k.symbol, false);
    }
    std::map<OutputFileType, std::string> outputs{
        {OutputFileType::object, k.object}};
    if (!k.stmt.empty())
      outputs[OutputFileType::stmt] = k.stmt;
    if (!k.assembly.empty())
      outputs[OutputFileType::assembly] = k.assembly;
    try {
      compileOne(kernels[i], k.target, k.function, outputs);
    } catch (const Halide::Error &e) {
      std::lock_guard<std::mutex> lock(mutex);
      if (firstError.empty())
        firstError =
            llvm::formatv("kernel @{0}: Halide: {1}", k.symbol, e.what())
                .str();
    }
  });
  if (!firstError.empty()) {
    error = firstError;
    return false;
  }
  return true;
}

} // namespace tfm::halide
