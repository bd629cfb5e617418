//===- Registration.cpp - register tfm dialects and passes ------*- C++ -*-===//

#include "compiler/Registration.h"

#include "dialects/Tfm/TfmDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void tfm::registerAllTfmDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::tfm::TfmDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::tensor::TensorDialect>();
}

void tfm::registerAllTfmPasses() {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  mlir::tfm::registerTfmPipelines();
}
