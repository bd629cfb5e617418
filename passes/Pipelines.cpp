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

void tfm::buildKernelPipeline(OpPassManager &pm, const std::string &target) {
  TfmFormKernelsOptions options;
  options.target = target;
  pm.addPass(createTfmFormKernels(options));
  pm.addPass(createCSEPass());
}

void tfm::registerTfmPipelines() {
  registerTfmPasses();
  PassPipelineRegistration<>("tfm-graph",
                             "Clean up graph-level tfm IR after the frontend",
                             buildGraphPipeline);
  PassPipelineRegistration<>(
      "tfm-kernels", "Graph level to kernel level for the host CPU",
      [](OpPassManager &pm) {
        buildGraphPipeline(pm);
        buildKernelPipeline(pm, "host");
      });
}
