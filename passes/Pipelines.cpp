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

namespace {

/// A fusion pass by the name --disable-fusion takes.
struct Fusion {
  const char *name;
  std::unique_ptr<Pass> (*create)();
};

/// Every fusion, in the order they run. Attention first: the QKV fusion
/// then finds the cached attention's operands; the norm fusion last, so it
/// sees the fused projections that read the normalized value.
const Fusion kFusions[] = {
    {"attention-kvcache", [] { return tfm::createTfmFuseAttentionKvCache(); }},
    {"rope-qk", [] { return tfm::createTfmFuseRopeQk(); }},
    {"glu", [] { return tfm::createTfmFuseGlu(); }},
    {"norm-residual", [] { return tfm::createTfmFuseNormResidual(); }},
};

} // namespace

const std::vector<std::string> &tfm::fusionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const Fusion &f : kFusions)
      all.push_back(f.name);
    return all;
  }();
  return names;
}

void tfm::buildFusionPipeline(OpPassManager &pm,
                              const std::set<std::string> &disabled) {
  for (const Fusion &f : kFusions)
    if (!disabled.count(f.name))
      pm.addPass(f.create());
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
