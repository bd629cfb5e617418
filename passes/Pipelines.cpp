//===- Pipelines.cpp - tfm pass pipelines -----------------------*- C++ -*-===//
//
// The pass pipelines between the driver's emit stages, assembled in one place.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void tfm::buildGraphPipeline(OpPassManager &pm) {
  pm.addPass(createTfmCanonicalize());
  pm.addPass(createCSEPass());
}

void tfm::registerTfmPipelines() {
  registerTfmPasses();
  PassPipelineRegistration<>("tfm-graph",
                             "Clean up graph-level tfm IR after the frontend",
                             buildGraphPipeline);
}
