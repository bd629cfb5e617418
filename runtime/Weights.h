//===- Weights.h - the weight table a model runs on -------------*- C++ -*-===//
//
// Loads the weights a model asks for (name, shape, storage type) from a GGUF
// or safetensors source, or makes seeded random ones. A weight kept as f32
// takes any stored type (widened, or dequantized); one kept in a compact
// type (f16, bf16, a GGUF block format) must be stored in that type, and is
// then a view of the mapped file where no repacking is needed.
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

/// A weight the model needs: its tfm name, shape, and the type the
/// program keeps it in.
struct WeightRequest {
  std::string name;
  std::vector<int64_t> shape;
  DType storage = DType::F32;
};

/// Weights by tfm name, each in its requested storage type. Views into the
/// mapped file where the stored tensor is that type as is; converted copies
/// otherwise.
class WeightTable {
public:
  struct Entry {
    std::vector<int64_t> shape;
    DType storage = DType::F32;
    /// numel() elements of `storage` (bytes() bytes).
    const void *data = nullptr;
    /// The index in owned_ of a converted or generated weight; -1 for a
    /// view of the mapped file.
    int owned = -1;
    int64_t numel() const;
    uint64_t bytes() const;
    /// The data of an f32 entry; null for another storage type.
    const float *f32() const {
      return storage == DType::F32 ? static_cast<const float *>(data)
                                   : nullptr;
    }
  };

  const Entry *find(const std::string &name) const;
  size_t size() const { return entries_.size(); }
  const std::map<std::string, Entry> &entries() const { return entries_; }
  /// Where the weights came from, for messages ("FILE" or "random, seed 7").
  const std::string &origin() const { return origin_; }
  /// Bytes of data converted or generated (not counting mapped views).
  uint64_t ownedBytes() const { return ownedBytes_; }
  /// Bytes of the weights read in place from the mapped file.
  uint64_t mappedBytes() const;
  /// Makes every entry f32 (what the interpreter reads): other entries
  /// become widened (or dequantized) copies, exactly.
  Status widenToF32();
  /// Frees a converted or generated weight nothing will read again; its
  /// entry then has no data. Returns the bytes freed. A view of the mapped
  /// file stays valid: its pages are only dropped from memory (0 bytes are
  /// freed, the file holds them).
  uint64_t release(const std::string &name);

private:
  friend Expected<WeightTable> loadWeights(std::shared_ptr<WeightSource>,
                                           const std::vector<WeightRequest> &,
                                           const WeightLayout &, bool);
  friend Expected<WeightTable> randomWeights(const std::vector<WeightRequest> &,
                                             uint64_t);
  /// Storage for a converted or generated weight, or an error when it would
  /// not fit in the memory available when the table was created.
  Expected<void *> allocate(const std::string &name,
                            std::vector<int64_t> shape, DType storage);

  std::map<std::string, Entry> entries_;
  /// Uninitialized when allocated: every element is then written.
  std::deque<std::unique_ptr<uint8_t[]>> owned_;
  std::shared_ptr<WeightSource> source_;
  std::string origin_;
  uint64_t ownedBytes_ = 0;
  double memoryBudget_ = availableMemoryBytes();
};

/// Opens `path` (see openWeights) and loads every request.
Expected<WeightTable> loadWeights(const std::string &path,
                                  const std::vector<WeightRequest> &requests,
                                  const WeightLayout &layout,
                                  bool convertFloats = false);

/// Loads every request from an open source. Errors name the file, the
/// stored tensor and the tfm weight it was to provide. A weight kept in
/// another type than the file's is refused, unless `convertFloats` and the
/// file stores it as f32, f16 or bf16: it is then rounded (or quantized)
/// into its type as it loads.
Expected<WeightTable> loadWeights(std::shared_ptr<WeightSource> source,
                                  const std::vector<WeightRequest> &requests,
                                  const WeightLayout &layout,
                                  bool convertFloats = false);

/// Seeded random weights, uniformly distributed: gains (names ending in
/// `norm.weight`) around 1 with std 0.05, biases around 0 with std 0.02,
/// matrices around 0 with std 1/sqrt(fan-in). The value of each
/// element depends only on (seed, weight name, index). Fails when they would
/// not fit in memory.
Expected<WeightTable> randomWeights(const std::vector<WeightRequest> &requests,
                                    uint64_t seed);

/// Converts a stored tensor's data to f32 (any type but Unsupported).
Status convertToF32(const StoredTensor &tensor, float *out);

/// Rounds `n` f32 values to `storage` into `out`: to nearest (ties to even)
/// for F16 and BF16, quantized for a block format (runtime/Quant.h; `n`
/// whole blocks).
void narrowFromF32(const float *in, int64_t n, DType storage, void *out);
/// Widens (or dequantizes) `n` values of `storage` to f32; `in` need not
/// be aligned.
void widenToF32(const void *in, int64_t n, DType storage, float *out);

/// Reorders the rows of a Q/K projection (or bias) between the half-split
/// RoPE layout (pairs i, i+d/2) and the interleaved one (pairs 2i, 2i+1),
/// per head of `headDim` rows of `rowBytes` bytes. `toInterleaved` picks
/// the direction.
void permuteRopeRows(void *data, int64_t rows, int64_t rowBytes,
                     int64_t headDim, bool toInterleaved);

} // namespace tfm::rt

#endif // TFM_RUNTIME_WEIGHTS_H
