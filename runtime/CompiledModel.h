//===- CompiledModel.h - running a compiled model ---------------*- C++ -*-===//
//
// A compiled program holds its host plan (text) and a table of its kernels'
// entry points. CompiledModel loads the weights the plan names; a Session
// owns a KV cache and an arena and executes the plan's steps.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_COMPILEDMODEL_H
#define TFM_RUNTIME_COMPILEDMODEL_H

#include "runtime/Generate.h"
#include "runtime/Plan.h"
#include "runtime/Weights.h"
#include "tfm/embedded.h"

#include <deque>
#include <memory>
#include <optional>

namespace tfm::rt {

class CompiledModel {
public:
  /// Parses the plan and loads the weights from `weightsPath` (empty:
  /// random weights with `seed`). With `convertTo`, the file's float
  /// matrices are rounded or quantized into the program's types, which
  /// must be that type (for the matrices most of them are kept in).
  static Expected<std::unique_ptr<CompiledModel>>
  load(const EmbeddedModel &embedded, const std::string &weightsPath,
       uint64_t seed, std::optional<DType> convertTo = std::nullopt);

  const Plan &plan() const { return plan_; }
  const WeightTable &weights() const { return weights_; }
  /// Bytes of the concatenations (fused projections) built at load.
  uint64_t concatenatedBytes() const;
  KernelFunction kernel(int i) const { return kernels_[size_t(i)]; }
  /// Weight i of the plan, in its storage type.
  const void *weight(int i) const { return weightData_[size_t(i)]; }

private:
  CompiledModel() = default;
  Plan plan_;
  WeightTable weights_;
  std::vector<KernelFunction> kernels_;
  std::vector<const void *> weightData_;
  /// Concatenated weights (fused projections), owned here.
  std::deque<std::vector<uint8_t>> concatenated_;
};

/// Zero-filled memory that the system commits page by page as it is first
/// written: a KV cache sized for every position costs only the positions a
/// session has filled.
class ZeroPages {
public:
  ZeroPages() = default;
  explicit ZeroPages(size_t bytes);
  ZeroPages(const ZeroPages &) = delete;
  ZeroPages &operator=(const ZeroPages &) = delete;
  ~ZeroPages();

  /// Null when the mapping failed.
  uint8_t *data() const { return data_; }
  size_t bytes() const { return bytes_; }

private:
  uint8_t *data_ = nullptr;
  size_t bytes_ = 0;
};

/// One generation stream: KV caches, an arena, and the current position.
/// The caches take memory only for the positions written.
class Session : public ModelRunner {
public:
  explicit Session(const CompiledModel &model);
  ~Session() override;

  int64_t vocabSize() const override { return model_.plan().vocabSize; }
  int64_t maxSeqLen() const override { return model_.plan().maxSeqLen; }
  /// Whether the session got its memory (the KV cache, the activation
  /// arena); every run fails with this error otherwise.
  Status status() const;
  /// Runs in chunks of at most the plan's prefill_chunk tokens; the LM
  /// head runs only on the rows `rows` asks for.
  Status prefill(const std::vector<int32_t> &ids, int64_t pos,
                 std::vector<float> &logits, LogitRows rows) override;
  Status decode(int32_t id, int64_t pos, std::vector<float> &logits) override;

  /// Runs one entry on `count` tokens at `pos`. `logits` (if not null)
  /// gets count x vocab values with LogitRows::All, the last row's vocab
  /// values with Last; with None the step that computes logits is skipped.
  Status run(const EntryPlan &entry, const int32_t *tokens, int64_t count,
             int64_t pos, float *logits, LogitRows rows = LogitRows::All);

  /// Times every kernel call from now on.
  void enableProfile() { profiling_ = true; }
  /// The per-kernel table of what was timed (calls, time, GFLOP/s, GB/s).
  std::string profileReport() const;

private:
  struct Bound;
  /// Adds one kernel call to the profile; `cachedRows` positions of the
  /// KV cache hold data.
  void account(const Step &step, const Bound &bound, int64_t cachedRows,
               double seconds);
  struct KernelStats {
    int64_t calls = 0;
    double seconds = 0, flops = 0, bytes = 0;
  };
  bool profiling_ = false;
  std::vector<KernelStats> stats_;
  const CompiledModel &model_;
  /// A layer's cached keys or values, rows of the plan's kvStorage.
  uint8_t *keys(int64_t layer) const;
  uint8_t *values(int64_t layer) const;
  /// Every layer's keys, then every layer's values.
  ZeroPages cache_;
  float *arena_ = nullptr;
  std::unique_ptr<Bound> prefillBound_, decodeBound_;
};

/// Sets the number of worker threads the kernels use (0: all cores).
void setNumThreads(int threads);

} // namespace tfm::rt

#endif // TFM_RUNTIME_COMPILEDMODEL_H
