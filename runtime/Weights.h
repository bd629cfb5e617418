//===- Weights.h - the weight table a model runs on -------------*- C++ -*-===//
//
// Loads the weights a model asks for (name + shape) from a GGUF or
// safetensors source, converting to f32, or makes seeded random ones.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_WEIGHTS_H
#define TFM_RUNTIME_WEIGHTS_H

#include "runtime/WeightNames.h"

#include <deque>
#include <memory>

namespace tfm::rt {

/// Memory the system can still give this process (MemAvailable), in bytes.
double availableMemoryBytes();

/// A weight the model needs: its tfm name and f32 shape.
struct WeightRequest {
  std::string name;
  std::vector<int64_t> shape;
};

/// f32 weights by tfm name. Views into the mapped file where the stored
/// tensor is f32 as is; converted copies otherwise.
class WeightTable {
public:
  struct Entry {
    std::vector<int64_t> shape;
    const float *data = nullptr;
    /// The index in owned_ of a converted or generated weight; -1 for a
    /// view of the mapped file.
    int owned = -1;
    int64_t numel() const;
  };

  const Entry *find(const std::string &name) const;
  size_t size() const { return entries_.size(); }
  const std::map<std::string, Entry> &entries() const { return entries_; }
  /// Where the weights came from, for messages ("FILE" or "random, seed 7").
  const std::string &origin() const { return origin_; }
  /// Bytes of f32 data converted or generated (not counting mapped views).
  uint64_t ownedBytes() const { return ownedBytes_; }
  /// Frees a converted or generated weight nothing will read again; its
  /// entry then has no data. Returns the bytes freed. A view of the mapped
  /// file stays valid: its pages are only dropped from memory (0 bytes are
  /// freed, the file holds them).
  uint64_t release(const std::string &name);

private:
  friend Expected<WeightTable> loadWeights(std::shared_ptr<WeightSource>,
                                           const std::vector<WeightRequest> &,
                                           const WeightLayout &);
  friend Expected<WeightTable> randomWeights(const std::vector<WeightRequest> &,
                                             uint64_t);
  /// Storage for a converted or generated weight, or an error when it would
  /// not fit in the memory available when the table was created.
  Expected<float *> allocate(const std::string &name,
                             std::vector<int64_t> shape);

  std::map<std::string, Entry> entries_;
  /// Uninitialized when allocated: every element is then written.
  std::deque<std::unique_ptr<float[]>> owned_;
  std::shared_ptr<WeightSource> source_;
  std::string origin_;
  uint64_t ownedBytes_ = 0;
  double memoryBudget_ = availableMemoryBytes();
};

/// Opens `path` (see openWeights) and loads every request.
Expected<WeightTable> loadWeights(const std::string &path,
                                  const std::vector<WeightRequest> &requests,
                                  const WeightLayout &layout);

/// Loads every request from an open source. Errors name the file, the
/// stored tensor and the tfm weight it was to provide.
Expected<WeightTable> loadWeights(std::shared_ptr<WeightSource> source,
                                  const std::vector<WeightRequest> &requests,
                                  const WeightLayout &layout);

/// Seeded random weights, uniformly distributed: gains (names ending in
/// `norm.weight`) around 1 with std 0.05, biases around 0 with std 0.02,
/// matrices around 0 with std 1/sqrt(fan-in). The value of each
/// element depends only on (seed, weight name, index). Fails when they would
/// not fit in memory.
Expected<WeightTable> randomWeights(const std::vector<WeightRequest> &requests,
                                    uint64_t seed);

/// Converts a stored tensor's data to f32 (f32, f16, bf16, q8_0).
Status convertToF32(const StoredTensor &tensor, float *out);

/// Reorders the rows of a Q/K projection (or bias) between the half-split
/// RoPE layout (pairs i, i+d/2) and the interleaved one (pairs 2i, 2i+1),
/// per head of `headDim` rows. `toInterleaved` picks the direction.
void permuteRopeRows(float *data, int64_t rows, int64_t cols, int64_t headDim,
                     bool toInterleaved);

} // namespace tfm::rt

#endif // TFM_RUNTIME_WEIGHTS_H
