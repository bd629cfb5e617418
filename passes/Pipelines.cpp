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

const std::vector<std::string> &tfm::fusionNames() {
  // Attention first: the QKV fusion then finds the cached attention's
  // operands; the norm fusion last, so it sees the fused projections that
  // read the normalized value.
  static const std::vector<std::string> names{
      "attention-kvcache", "rope-qk", "glu", "norm-residual"};
  return names;
}

void tfm::buildFusionPipeline(OpPassManager &pm,
                              const std::set<std::string> &disabled) {
  for (const std::string &name : fusionNames()) {
    if (disabled.count(name))
      continue;
    if (name == "attention-kvcache")
      pm.addPass(createTfmFuseAttentionKvCache());
    else if (name == "rope-qk")
      pm.addPass(createTfmFuseRopeQk());
    else if (name == "glu")
      pm.addPass(createTfmFuseGlu());
    else if (name == "norm-residual")
      pm.addPass(createTfmFuseNormResidual());
  }
  pm.addPass(createCSEPass());
}

void tfm::buildKernelPipeline(OpPassManager &pm, const KernelTarget &target) {
  pm.addPass(createTfmFormKernels());
  TfmSelectSchedulesOptions options;
  options.target = target.kind;
  options.isa = target.isa;
  options.wideIsa = target.wideIsa;
  pm.addPass(createTfmSelectSchedules(options));
  pm.addPass(createCSEPass());
}

void tfm::registerTfmPipelines() {
  registerTfmPasses();
  PassPipelineRegistration<>("tfm-graph",
                             "Clean up graph-level tfm IR after the frontend",
                             buildGraphPipeline);
  PassPipelineRegistration<>(
      "tfm-fuse", "Every fusion pass, graph level to fused level",
      [](OpPassManager &pm) { buildFusionPipeline(pm); });
  PassPipelineRegistration<>(
      "tfm-kernels", "Graph level to kernel level for the CPU (AVX2)",
      [](OpPassManager &pm) {
        buildGraphPipeline(pm);
        buildFusionPipeline(pm);
        buildKernelPipeline(pm);
      });
}
