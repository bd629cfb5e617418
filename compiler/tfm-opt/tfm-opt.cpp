//===- tfm-opt.cpp - mlir-opt for the tfm dialect ---------------*- C++ -*-===//
//
// The opt-style driver used by lit tests: parses tfm IR, runs passes, prints.
// It links the dialect and the passes only (no frontend, no Halide).
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  tfm::registerAllTfmDialects(registry);
  tfm::registerAllTfmPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tfm optimizer driver\n", registry));
}
