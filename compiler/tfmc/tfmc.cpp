//===- tfmc.cpp - the tfm compiler driver -----------------------*- C++ -*-===//
//
//   tfmc CONFIG --emit=spec|graph|fused|kernels|halide|host [-o FILE]
//   tfmc compile CONFIG -o OUT [--emit=exe|lib|obj]
//   tfmc quantize IN.gguf OUT.gguf --type TYPE
//   tfmc run CONFIG [generation flags]      (see tfmc run --help)
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/frontend/ModelBuilder.h"
#include "compiler/halide/Codegen.h"
#include "compiler/link/HostPlan.h"
#include "compiler/link/Link.h"
#include "compiler/tfmc/Driver.h"
#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <set>
#include <cstring>

using namespace tfm;
namespace cl = llvm::cl;

namespace {

enum class Emit { Spec, Graph, Fused, Kernels, Halide, Host, Obj, Exe, Lib };

/// argv[0], to find tfmc's own folder (and what it links programs with).
const char *executableArg0 = "tfmc";

// Named to sort before LLVM's categories in --help.
cl::OptionCategory tfmcCategory("Compiler options");

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model config>"),
                               cl::Required, cl::cat(tfmcCategory));
cl::opt<Emit> emit(
    "emit", cl::desc("The stage to stop at and print or write"),
    cl::init(Emit::Graph),
    cl::values(clEnumValN(Emit::Spec, "spec", "the resolved model spec (JSON)"),
               clEnumValN(Emit::Graph, "graph", "graph-level tfm IR"),
               clEnumValN(Emit::Fused, "fused",
                          "tfm IR after the fusion passes (fused ops)"),
               clEnumValN(Emit::Kernels, "kernels", "kernel-level tfm IR"),
               clEnumValN(Emit::Halide, "halide",
                          "Halide's lowered statement of each kernel"),
               clEnumValN(Emit::Host, "host", "the host plan of the program"),
               clEnumValN(Emit::Obj, "obj",
                          "objects (kernels, runtime, glue) "
                          "into the directory -o"),
               clEnumValN(Emit::Exe, "exe", "an executable (tfmc compile)"),
               clEnumValN(Emit::Lib, "lib",
                          "a shared library with tfm/runtime.h")),
    cl::cat(tfmcCategory));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(tfmcCategory));
cl::opt<std::string> dumpDir("dump-dir",
                             cl::desc("Also write every stage into DIR"),
                             cl::value_desc("DIR"), cl::cat(tfmcCategory));
cl::opt<std::string> target("target",
                            cl::desc("Code generation target: host (this "
                                     "machine's CPU)"),
                            cl::init("host"), cl::cat(tfmcCategory));
cl::opt<int64_t> prefillChunk(
    "prefill-chunk",
    cl::desc("Longest prompt piece one prefill call processes (default 256)"),
    cl::init(256), cl::cat(tfmcCategory));
cl::opt<std::string>
    cacheDir("cache-dir",
             cl::desc("Compiled-kernel cache (default $XDG_CACHE_HOME/tfm)"),
             cl::value_desc("DIR"), cl::cat(tfmcCategory));
cl::opt<std::string> disableFusion(
    "disable-fusion",
    cl::desc("Fusions to leave out: all, or a comma-separated list of "
             "attention-kvcache, rope-qk, glu, norm-residual"),
    cl::value_desc("LIST"), cl::init("none"), cl::cat(tfmcCategory));
cl::opt<int64_t> ctx(
    "ctx",
    cl::desc("KV cache positions to compile for, instead of the config's "
             "max_seq_len (a model that maps a million positions can be "
             "compiled for the context it is used with)"),
    cl::value_desc("N"), cl::init(0), cl::cat(tfmcCategory));
cl::opt<std::string> weightType(
    "weight-type",
    cl::desc("How the program keeps matrices, in memory and in the weights "
             "file it takes: f32, f16, bf16 or a GGUF block format (q8_0, "
             "q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K) "
             "(default: the config's storage; for a GGUF, each matrix as "
             "the file stores it)"),
    cl::value_desc("TYPE"), cl::cat(tfmcCategory));
cl::opt<std::string> activations(
    "activations",
    cl::desc("How products over q8_0, q4_0, q5_0 and K-quant matrices take "
             "their activations: int8 (rounded per block as llama.cpp "
             "rounds them; the decode products then run in integers) or f32 "
             "(default: the config's storage.activations, else int8)"),
    cl::value_desc("int8|f32"), cl::cat(tfmcCategory));
cl::opt<std::string> precision(
    "precision",
    cl::desc("The precision of products over f32, f16 and bf16 matrices: "
             "bf16 rounds both operands of each to bf16 (what AMX tiles "
             "compute), f32 keeps them, auto rounds the activations of "
             "products over bf16 matrices only, as llama.cpp does "
             "(default: the config's storage.precision, else auto)"),
    cl::value_desc("auto|bf16|f32"), cl::cat(tfmcCategory));
cl::opt<std::string> kvCache(
    "kv-cache",
    cl::desc("How the KV cache stores keys and values: f32, f16, bf16 or "
             "q8_0 (default: the config's storage.kv_cache, else f32)"),
    cl::value_desc("TYPE"), cl::cat(tfmcCategory));
cl::opt<bool> noCache("no-cache", cl::desc("Compile every kernel afresh"),
                      cl::init(false), cl::cat(tfmcCategory));
cl::opt<bool> verbose("verbose",
                      cl::desc("Also print the Halide compiler's warnings "
                               "about kernel schedules"),
                      cl::init(false), cl::cat(tfmcCategory));

enum class Avx512 { Auto, On, Off };
cl::opt<Avx512> avx512(
    "avx512", cl::desc("AVX-512 for the prefill matrix products"),
    cl::init(Avx512::Auto),
    cl::values(clEnumValN(Avx512::Auto, "auto", "when this machine has it"),
               clEnumValN(Avx512::On, "on", "always"),
               clEnumValN(Avx512::Off, "off", "never: AVX2 throughout")),
    cl::cat(tfmcCategory));

/// What tfm-select-schedules targets: this machine's CPU with AVX2, the
/// prefill products that fit with AVX-512 as --avx512 says.
mlir::tfm::KernelTarget kernelTarget() {
  mlir::tfm::KernelTarget t;
  bool wide = avx512 == Avx512::On ||
              (avx512 == Avx512::Auto && halide::hostWideIsa());
  if (wide)
    t.wideIsa = mlir::tfm::stringifyIsa(mlir::tfm::Isa::avx512).str();
  return t;
}

/// Writes `text` to DIR/name, reporting failures.
bool writeDump(const std::string &name, llvm::StringRef text) {
  llvm::SmallString<256> path(dumpDir.getValue());
  llvm::sys::path::append(path, name);
  if (auto ec = llvm::sys::fs::create_directories(
          llvm::sys::path::parent_path(path))) {
    llvm::errs() << "tfmc: error: " << path << ": " << ec.message() << "\n";
    return false;
  }
  std::string error;
  auto file = mlir::openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return false;
  }
  file->os() << text;
  file->keep();
  return true;
}

/// Dumps the module after every pass as NN-<pass>.mlir.
class DumpAfterPass : public mlir::PassInstrumentation {
public:
  explicit DumpAfterPass(int firstIndex) : next_(firstIndex) {}
  void runAfterPass(mlir::Pass *pass, mlir::Operation *op) override {
    std::string text;
    llvm::raw_string_ostream os(text);
    op->print(os);
    writeDump(llvm::formatv("{0:2}-{1}.mlir", next_++, pass->getArgument())
                  .str(),
              text);
  }

private:
  int next_;
};

std::string printModule(mlir::ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  return text;
}

/// Writes a text result to -o (or stdout).
int writeText(llvm::StringRef text) {
  std::string error;
  auto output = mlir::openOutputFile(outputPath, &error);
  if (!output) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return 1;
  }
  output->os() << text;
  output->keep();
  return 0;
}

/// Parses and verifies a tfm IR file; the parser and verifier report
/// errors with the file and line.
mlir::OwningOpRef<mlir::ModuleOp> parseIr(mlir::MLIRContext &context,
                                          const std::string &path) {
  if (std::optional<std::string> error = checkInputFile(path)) {
    llvm::errs() << "tfmc: error: " << path << ": " << *error << "\n";
    return nullptr;
  }
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file =
      mlir::openInputFile(path, &error);
  if (!file) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return nullptr;
  }
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  mlir::SourceMgrDiagnosticHandler handler(sources, &context);
  return mlir::parseSourceFile<mlir::ModuleOp>(sources, &context);
}

double seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       since)
      .count();
}

int compileMain(int argc, char **argv, bool compileCommand) {
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  // --help lists tfmc's own options and MLIR's IR-printing ones; the code
  // generators' options linked in with LLVM stay behind --help-hidden.
  for (auto &[name, option] : cl::getRegisteredOptions()) {
    bool ours = option->Categories.size() == 1 &&
                option->Categories.front() == &tfmcCategory;
    if (!ours && !name.starts_with("mlir-") && name != "help" &&
        name != "help-hidden" && name != "version")
      option->setHiddenFlag(cl::ReallyHidden);
  }
  cl::ParseCommandLineOptions(
      argc, argv,
      "tfm model compiler\n\n"
      "  tfmc CONFIG --emit=spec|graph|fused|kernels|halide|host [-o FILE]\n"
      "  tfmc compile CONFIG -o OUT [--emit=exe|lib|obj]\n"
      "  tfmc run CONFIG [options]   generate tokens (see tfmc run --help)\n"
      "  tfmc quantize IN.gguf OUT.gguf --type TYPE   store the matrices as "
      "TYPE\n"
      "  tfmc tokenize SOURCE < text   token ids (detokenize: the reverse)\n\n"
      "CONFIG is a tfm JSON spec, a Hugging Face config.json or a .gguf "
      "file;\nfor every --emit but spec it may also be tfm IR (.mlir) at "
      "graph, fused\nor kernel level.\n");
  if (compileCommand && emit.getNumOccurrences() == 0)
    emit = Emit::Exe;
  bool binary = emit == Emit::Obj || emit == Emit::Exe || emit == Emit::Lib;
  if (binary && outputPath == "-") {
    llvm::errs() << "tfmc: error: writing a program needs -o OUTPUT\n";
    return 1;
  }
  if (binary) {
    llvm::StringRef parent = llvm::sys::path::parent_path(outputPath);
    if (!parent.empty() && !llvm::sys::fs::is_directory(parent)) {
      llvm::errs() << "tfmc: error: " << outputPath << ": directory '"
                   << parent << "' does not exist\n";
      return 1;
    }
  }
  if (target != "host") {
    llvm::errs() << "tfmc: error: --target: unknown target '" << target
                 << "' (known: host)\n";
    return 1;
  }
  if (prefillChunk < 1) {
    llvm::errs() << "tfmc: error: --prefill-chunk must be >= 1\n";
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  link::LinkResources resources;
  if (binary) {
    std::string error;
    std::string self = llvm::sys::fs::getMainExecutable(
        executableArg0, reinterpret_cast<void *>(&makeContext));
    if (!link::LinkResources::find(self, resources, error)) {
      llvm::errs() << "tfmc: error: " << error << "\n";
      return 1;
    }
  }

  std::unique_ptr<mlir::MLIRContext> context = makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> module;
  // A .mlir input is tfm IR at graph, fused or kernel level (tfm-opt's
  // output, say); it enters the pipeline at its own level.
  bool irInput = llvm::StringRef(inputPath).ends_with(".mlir");
  bool kernelLevel = false;
  if (!dumpDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpDir)) {
      llvm::errs() << "tfmc: error: " << dumpDir
                   << ": cannot create directory: " << ec.message() << "\n";
      return 1;
    }
  }
  if (irInput) {
    if (emit == Emit::Spec) {
      llvm::errs() << "tfmc: error: " << inputPath
                   << ": --emit=spec needs a model config, not tfm IR\n";
      return 1;
    }
    module = parseIr(*context, inputPath);
    if (!module)
      return 1;
    kernelLevel = !module->getOps<mlir::tfm::KernelOp>().empty();
    if (kernelLevel && (emit == Emit::Graph || emit == Emit::Fused)) {
      llvm::errs() << "tfmc: error: " << inputPath
                   << ": the IR is at kernel level; it cannot be emitted at "
                      "graph or fused level\n";
      return 1;
    }
  } else {
    std::optional<ModelSpec> spec = loadSpec(inputPath);
    if (!spec)
      return 1;
    if (ctx.getNumOccurrences()) {
      if (ctx < 1 || ctx > (int64_t(1) << 24)) {
        llvm::errs() << "tfmc: error: --ctx must be from 1 to 16777216, got "
                     << ctx << "\n";
        return 2;
      }
      spec->maxSeqLen = ctx;
    }
    if (std::optional<std::string> error = applyStorageOverrides(
            *spec, {weightType, activations, kvCache, precision})) {
      llvm::errs() << "tfmc: error: " << *error << "\n";
      return 2;
    }
    std::string specText = llvm::formatv("{0:2}\n", specToJson(*spec)).str();
    if (!dumpDir.empty() && !writeDump("00-spec.json", specText))
      return 1;
    if (emit == Emit::Spec)
      return writeText(specText);
    module = buildVerifiedModel(*context, *spec, "tfmc");
    if (!module)
      return 1;
  }
  if (!dumpDir.empty() && !writeDump("01-built.mlir", printModule(*module)))
    return 1;

  mlir::PassManager pm(context.get());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return 1;
  if (!dumpDir.empty())
    pm.addInstrumentation(std::make_unique<DumpAfterPass>(2));
  std::set<std::string> disabled;
  if (!parseDisabledFusions(disableFusion, "tfmc", disabled))
    return 1;
  if (!kernelLevel) {
    mlir::tfm::buildGraphPipeline(pm);
    if (emit != Emit::Graph)
      mlir::tfm::buildFusionPipeline(pm, disabled);
    if (emit != Emit::Graph && emit != Emit::Fused)
      mlir::tfm::buildKernelPipeline(pm, kernelTarget());
  }
  if (mlir::failed(pm.run(*module)))
    return 1;
  std::string ir = printModule(*module);
  if (emit == Emit::Graph || emit == Emit::Fused) {
    if (!dumpDir.empty() &&
        !writeDump(emit == Emit::Graph ? "graph.mlir" : "fused.mlir", ir))
      return 1;
    return writeText(ir);
  }
  if (!dumpDir.empty() && !writeDump("kernels.mlir", ir))
    return 1;
  if (emit == Emit::Kernels)
    return writeText(ir);

  if (emit == Emit::Halide) {
    std::string all;
    for (mlir::tfm::KernelOp k : module->getOps<mlir::tfm::KernelOp>()) {
      std::string stmt, error;
      if (!halide::lowerKernel(k, stmt, error)) {
        llvm::errs() << "tfmc: error: " << error << "\n";
        return 1;
      }
      all += llvm::formatv("// kernel @{0}\n{1}\n", k.getSymName(), stmt);
    }
    return writeText(all);
  }

  rt::Plan plan;
  std::string error;
  if (!link::buildPlan(
          *module, prefillChunk,
          [&](mlir::Operation *k) {
            return halide::kernelFunctionName(
                mlir::cast<mlir::tfm::KernelOp>(k));
          },
          plan, error)) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return 1;
  }
  std::string planText = rt::printPlan(plan);
  if (!dumpDir.empty() && !writeDump("host.plan", planText))
    return 1;
  if (emit == Emit::Host)
    return writeText(planText);

  // Compile the kernels (cached), then link.
  llvm::SmallString<128> work;
  if (auto ec = llvm::sys::fs::createUniqueDirectory("tfmc", work)) {
    llvm::errs() << "tfmc: error: cannot create a work directory: "
                 << ec.message() << "\n";
    return 1;
  }
  halide::CodegenOptions options;
  options.cacheDir = noCache ? "" : (cacheDir.empty()
                                         ? halide::defaultCacheDir()
                                         : cacheDir.getValue());
  options.wantStmt = options.wantAssembly = !dumpDir.empty();
  if (verbose)
    options.warning = [](const std::string &message) {
      llvm::errs() << "tfmc: halide: " << llvm::StringRef(message).rtrim()
                   << "\n";
    };
  size_t cachedCount = 0;
  options.progress = [&](size_t i, size_t n, const std::string &name,
                         bool cached) {
    cachedCount += cached;
    llvm::errs() << llvm::formatv("[{0}/{1}] {2} {3}\n", i, n,
                                  cached ? "cached   " : "compiling", name);
  };
  halide::CompiledModule compiled;
  bool ok = halide::compileKernels(*module, options, work.str().str(),
                                   compiled, error);
  if (ok && !dumpDir.empty())
    for (const halide::CompiledKernel &k : compiled.kernels) {
      for (auto [from, ext] : {std::pair{k.stmt, "stmt"},
                               std::pair{k.assembly, "s"}}) {
        auto text = llvm::MemoryBuffer::getFile(from);
        if (text)
          writeDump(("kernels/" + k.symbol + "." + ext),
                    (*text)->getBuffer());
      }
    }
  if (ok) {
    link::OutputKind kind = emit == Emit::Exe   ? link::OutputKind::Executable
                            : emit == Emit::Lib ? link::OutputKind::SharedLibrary
                                                : link::OutputKind::Objects;
    ok = link::linkProgram(plan, compiled, resources, kind, work.str().str(),
                           outputPath,
                           error);
    if (!dumpDir.empty()) {
      auto glue = llvm::MemoryBuffer::getFile(work + "/glue.cpp");
      if (glue)
        writeDump("glue.cpp", (*glue)->getBuffer());
    }
  }
  llvm::sys::fs::remove_directories(work);
  if (!ok) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return 1;
  }
  size_t wide = 0;
  for (const halide::CompiledKernel &k : compiled.kernels)
    wide += k.target != compiled.target;
  llvm::errs() << llvm::formatv(
      "tfmc: {0}: {1} kernels ({2} cached) for {3}{4}, linked {5} in "
      "{6:f1} s\n",
      module->getSymName().value_or("model"), compiled.kernels.size(), cachedCount, compiled.target,
      wide ? llvm::formatv(" ({0} with AVX-512)", wide).str() : "",
      outputPath.getValue(), seconds(start));
  // What a position of context costs, every layer's keys and values.
  std::string features =
      plan.valuesInKeys()
          ? llvm::formatv("{0} features, values within the keys",
                          plan.kvHeads * plan.headDim)
                .str()
          : llvm::formatv("{0} key + {1} value features",
                          plan.kvHeads * plan.headDim,
                          plan.kvHeads * plan.vHeadDim)
                .str();
  llvm::errs() << llvm::formatv(
      "tfmc: KV cache: {0}, {1:f1} KiB per position ({2} layers x {3})\n",
      rt::storageName(plan.kvStorage),
      double(rt::cacheBytesPerPosition(plan)) / 1024, plan.layers, features);
  return 0;
}

} // namespace

std::unique_ptr<mlir::MLIRContext> tfm::makeContext() {
  mlir::DialectRegistry registry;
  registerAllTfmDialects(registry);
  return std::make_unique<mlir::MLIRContext>(registry);
}

mlir::OwningOpRef<mlir::ModuleOp>
tfm::buildVerifiedModel(mlir::MLIRContext &context, const ModelSpec &spec,
                        const char *tool) {
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModel(context, spec);
  // Storage the spec names must fit the weights it names: each one exists,
  // and a block format divides its rows.
  std::set<std::string> named;
  bool fits = true;
  module->walk([&](mlir::tfm::WeightOp op) {
    std::string name = op.getName().str();
    auto type = mlir::cast<mlir::RankedTensorType>(op.getType());
    if (type.getRank() >= 2)
      named.insert(name);
    mlir::tfm::Storage storage = mlir::tfm::storageOf(type);
    int64_t block = mlir::tfm::blockElements(storage);
    if (block > 1 && type.getShape().back() % block != 0) {
      llvm::errs() << tool << ": error: weight '" << name << "' has rows of "
                   << type.getShape().back() << " elements, which "
                   << mlir::tfm::stringifyStorage(storage)
                   << " cannot store (it needs a multiple of " << block
                   << "); choose another storage type for it\n";
      fits = false;
    }
  });
  for (const auto &[name, storage] : spec.weightStorage)
    if (!named.count(name)) {
      llvm::errs() << tool << ": error: storage.weights names '" << name
                   << "', which is not a matrix of this model\n";
      fits = false;
    }
  if (!fits)
    return nullptr;
  if (mlir::failed(mlir::verify(*module))) {
    llvm::errs() << tool
                 << ": error: internal: the module built for this spec does "
                    "not verify (a tfm bug; the verifier said why above)\n";
    return nullptr;
  }
  return module;
}

bool tfm::parseDisabledFusions(const std::string &list, const char *tool,
                               std::set<std::string> &disabled) {
  const std::vector<std::string> &names = mlir::tfm::fusionNames();
  if (list == "all") {
    disabled.insert(names.begin(), names.end());
    return true;
  }
  if (list == "none" || list.empty())
    return true;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(list).split(parts, ',');
  for (llvm::StringRef part : parts) {
    if (llvm::find(names, part.str()) == names.end()) {
      llvm::errs() << tool << ": error: --disable-fusion: unknown fusion '"
                   << part << "' (known: all, none, "
                   << llvm::join(names, ", ") << ")\n";
      return false;
    }
    disabled.insert(part.str());
  }
  return true;
}

std::optional<ModelSpec> tfm::loadSpec(const std::string &path) {
  SpecDiagnostics diags(path);
  std::optional<ModelSpec> spec = readModelConfig(path, diags);
  for (const std::string &message : diags.messages())
    llvm::errs() << message << "\n";
  return spec;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  executableArg0 = argv[0];
  if (argc >= 2 && std::strcmp(argv[1], "run") == 0)
    return runCommand(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "quantize") == 0)
    return quantizeCommand(argc, argv);
  if (argc >= 2 && (std::strcmp(argv[1], "tokenize") == 0 ||
                    std::strcmp(argv[1], "detokenize") == 0))
    return tokenizeCommand(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "compile") == 0) {
    // Drop the subcommand word; the rest are ordinary options.
    std::vector<char *> args(argv, argv + argc);
    args.erase(args.begin() + 1);
    return compileMain(int(args.size()), args.data(), true);
  }
  return compileMain(argc, argv, false);
}
