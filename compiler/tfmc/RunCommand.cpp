//===- RunCommand.cpp - `tfmc run`: generate with a model -------*- C++ -*-===//
//
// Builds the model from its config, loads (or generates) its weights and
// runs the generation loop on the reference interpreter.
//
//===----------------------------------------------------------------------===//

#include "compiler/StorageTypes.h"
#include "compiler/frontend/ModelBuilder.h"
#include "compiler/interpreter/Interpreter.h"
#include "passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "compiler/tfmc/Driver.h"
#include "runtime/Generate.h"


#include <chrono>
#include <cstdio>

using namespace tfm;

namespace {

/// The interpreter as the generation loop's model.
class InterpreterRunner : public rt::ModelRunner {
public:
  InterpreterRunner(Interpreter &interp, const ModelSpec &spec)
      : interp_(interp), spec_(spec) {}

  int64_t vocabSize() const override { return spec_.vocabSize; }
  int64_t maxSeqLen() const override { return spec_.maxSeqLen; }

  /// The reference computes every row, whatever `rows` asks.
  rt::Status prefill(const std::vector<int32_t> &ids, int64_t pos,
                     std::vector<float> &logits, rt::LogitRows) override {
    return call("prefill", ids, pos, logits);
  }
  rt::Status decode(int32_t id, int64_t pos,
                    std::vector<float> &logits) override {
    return call("decode", {id}, pos, logits);
  }

private:
  rt::Status call(llvm::StringRef entry, const std::vector<int32_t> &ids,
                  int64_t pos, std::vector<float> &logits) {
    auto out = interp_.run(entry, ids, pos);
    if (!out)
      return out.error();
    logits.assign(out->data, out->data + out->numel());
    return rt::Status::ok();
  }

  Interpreter &interp_;
  const ModelSpec &spec_;
};

} // namespace

int tfm::runCommand(int argc, char **argv) {
  rt::RunFlagSet flags;
  flags.configArgument = true;
  auto options = rt::parseRunOptions(argc, argv, 2, flags);
  if (!options) {
    std::fprintf(stderr, "tfmc run: error: %s\n",
                 options.error().message().c_str());
    return 2;
  }
  if (options->help) {
    std::printf("%s", rt::runHelp("tfmc run CONFIG [options]", flags).c_str());
    return 0;
  }

  std::optional<ModelSpec> spec = loadSpec(options->config);
  if (!spec)
    return 1;
  // --ctx within the model's positions: the model is built for that
  // context, as `tfmc compile --ctx` builds it (LongRoPE's factors depend
  // on it).
  if (options->ctx > 0 && options->ctx <= spec->maxSeqLen)
    spec->maxSeqLen = options->ctx;
  // --weight-type: every matrix kept in that type, the file's float
  // matrices converted as they load (what a program compiled with it and
  // run with it computes).
  StorageOverrides overrides;
  if (options->weightType)
    overrides.weightType = std::string(rt::storageName(*options->weightType));
  overrides.activations = options->activations;
  overrides.precision = options->precision;
  overrides.kvCache = options->kvCache;
  if (std::optional<std::string> error =
          applyStorageOverrides(*spec, overrides)) {
    std::fprintf(stderr, "tfmc run: error: %s\n", error->c_str());
    return 2;
  }

  std::unique_ptr<mlir::MLIRContext> context = makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildVerifiedModel(*context, *spec, "tfmc run");
  if (!module)
    return 1;
  // The interpreter runs the fused level: fused ops have reference
  // semantics too, and --disable-fusion=all gives the graph level.
  std::set<std::string> disabled;
  if (!parseDisabledFusions(options->disableFusion, "tfmc run", disabled))
    return 2;
  mlir::PassManager pm(context.get());
  mlir::tfm::buildGraphPipeline(pm);
  mlir::tfm::buildFusionPipeline(pm, disabled);
  if (mlir::failed(pm.run(*module)))
    return 1;

  // The command line is checked before the weights load.
  if (rt::Status s = rt::prepareTextRun(*options); !s) {
    std::fprintf(stderr, "tfmc run: error: %s\n", s.message().c_str());
    return rt::kExitFailure;
  }
  if (rt::Status s = rt::checkRun(*options, spec->vocabSize, spec->maxSeqLen);
      !s) {
    std::fprintf(stderr, "tfmc run: error: %s\n", s.message().c_str());
    return rt::kExitUsage;
  }
  std::vector<rt::WeightRequest> requests = collectWeightRequests(*module);
  auto start = std::chrono::steady_clock::now();
  rt::Expected<rt::WeightTable> weights =
      options->weights.empty()
          ? rt::randomWeights(requests, options->weightSeed)
          : rt::loadWeights(options->weights, requests, weightLayout(*spec),
                            options->weightType.has_value());
  // The interpreter reads f32: weights kept in a compact type are widened
  // (or dequantized) exactly, so it computes what a compiled program does.
  if (weights)
    if (rt::Status s = weights->widenToF32(); !s)
      weights = rt::Error(s.message());
  if (!weights) {
    std::fprintf(stderr, "tfmc run: error: %s\n",
                 weights.error().message().c_str());
    return 1;
  }
  double loadMs = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::fprintf(stderr, "tfmc run: %s: %zu weights from %s in %.1f ms; "
                       "running on the reference interpreter\n",
               spec->name.c_str(), weights->size(),
               weights->origin().c_str(), loadMs);

  Interpreter interp(*module, *weights);
  if (rt::Status s = interp.checkWeights(); !s) {
    std::fprintf(stderr, "tfmc run: error: %s\n", s.message().c_str());
    return 1;
  }
  InterpreterRunner runner(interp, *spec);
  if (options->chat)
    return rt::runChat(runner, *options, "tfmc run");
  return rt::runGeneration(runner, *options, "tfmc run");
}
