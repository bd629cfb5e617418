//===- tfmc.cpp - the tfm compiler driver -----------------------*- C++ -*-===//
//
//   tfmc CONFIG --emit=spec|graph [-o FILE] [--dump-dir DIR]
//   tfmc run CONFIG [generation flags]      (see tfmc run --help)
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/frontend/ModelBuilder.h"
#include "compiler/tfmc/Driver.h"
#include "passes/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>

using namespace tfm;
namespace cl = llvm::cl;

namespace {

enum class Emit { Spec, Graph };

cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model config>"),
                               cl::Required);
cl::opt<Emit> emit("emit", cl::desc("The stage to stop at and print"),
                   cl::init(Emit::Graph),
                   cl::values(clEnumValN(Emit::Spec, "spec",
                                         "the resolved model spec (JSON)"),
                              clEnumValN(Emit::Graph, "graph",
                                         "graph-level tfm IR")));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"));
cl::opt<std::string> dumpDir("dump-dir",
                             cl::desc("Also write every stage into DIR"),
                             cl::value_desc("DIR"));

/// Writes `text` to DIR/name, reporting failures.
bool writeDump(const std::string &name, llvm::StringRef text) {
  llvm::SmallString<256> path(dumpDir.getValue());
  llvm::sys::path::append(path, name);
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

int compileMain(int argc, char **argv) {
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "tfm model compiler\n\n"
      "  tfmc CONFIG --emit=spec|graph [-o FILE] [--dump-dir DIR]\n"
      "  tfmc run CONFIG [options]   generate tokens (see tfmc run --help)\n\n"
      "CONFIG is a tfm JSON spec, a Hugging Face config.json or a .gguf "
      "file.\n");

  std::optional<ModelSpec> spec = loadSpec(inputPath);
  if (!spec)
    return 1;
  if (!dumpDir.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(dumpDir)) {
      llvm::errs() << "tfmc: error: " << dumpDir
                   << ": cannot create directory: " << ec.message() << "\n";
      return 1;
    }
  }
  std::string specText =
      llvm::formatv("{0:2}\n", specToJson(*spec)).str();
  if (!dumpDir.empty() && !writeDump("00-spec.json", specText))
    return 1;

  std::string error;
  auto output = mlir::openOutputFile(outputPath, &error);
  if (!output) {
    llvm::errs() << "tfmc: error: " << error << "\n";
    return 1;
  }
  if (emit == Emit::Spec) {
    output->os() << specText;
    output->keep();
    return 0;
  }

  std::unique_ptr<mlir::MLIRContext> context = makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildVerifiedModel(*context, *spec, "tfmc");
  if (!module)
    return 1;
  if (!dumpDir.empty() && !writeDump("01-built.mlir", printModule(*module)))
    return 1;

  mlir::PassManager pm(context.get());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return 1;
  if (!dumpDir.empty())
    pm.addInstrumentation(std::make_unique<DumpAfterPass>(2));
  mlir::tfm::buildGraphPipeline(pm);
  if (mlir::failed(pm.run(*module)))
    return 1;
  std::string graph = printModule(*module);
  if (!dumpDir.empty() && !writeDump("graph.mlir", graph))
    return 1;
  output->os() << graph;
  output->keep();
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
  if (mlir::failed(mlir::verify(*module))) {
    llvm::errs() << tool
                 << ": error: internal: the module built for this spec does "
                    "not verify (a tfm bug; the verifier said why above)\n";
    return nullptr;
  }
  return module;
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
  if (argc >= 2 && std::strcmp(argv[1], "run") == 0)
    return runCommand(argc, argv);
  return compileMain(argc, argv);
}
