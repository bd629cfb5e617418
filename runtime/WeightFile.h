//===- WeightFile.h - memory-mapped weight files ----------------*- C++ -*-===//
//
// A WeightSource is a set of stored tensors (GGUF file, safetensors file or
// shard set) read through mmap; nothing is copied until a tensor is loaded.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_WEIGHTFILE_H
#define TFM_RUNTIME_WEIGHTFILE_H

#include "runtime/Status.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm::rt {

/// A read-only mapping of a whole file; unmapped on destruction.
class MappedFile {
public:
  static Expected<std::shared_ptr<MappedFile>> open(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string &path() const { return path_; }

private:
  MappedFile() = default;
  std::string path_;
  const uint8_t *data_ = nullptr;
  uint64_t size_ = 0;
};

/// Storage types of stored tensors, which are also the types a program
/// keeps its weights in (a weight's storage in the IR): floats, and the
/// GGUF block formats (runtime/Quant.h).
enum class DType {
  F32, F16, BF16,
  Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
  Q2_K, Q3_K, Q4_K, Q5_K, Q6_K,
  Unsupported
};

/// Every storage type, Unsupported excepted.
constexpr DType kStorageTypes[] = {
    DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
    DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
    DType::Q4_K, DType::Q5_K, DType::Q6_K};

/// The storage types by the names the IR, the plan and llama.cpp give them
/// ("f32", "bf16", "q8_0", "q4_K").
std::optional<DType> storageNamed(std::string_view name);
std::string_view storageName(DType storage);

/// One tensor as stored: shape is outermost-first (row-major), like numpy.
struct StoredTensor {
  std::string name;
  std::string file;
  DType dtype = DType::Unsupported;
  std::string dtypeName; // as the file spells it, for messages
  std::vector<int64_t> shape;
  const uint8_t *data = nullptr;
  uint64_t nbytes = 0;

  int64_t numel() const;
};

enum class WeightFormat { Gguf, Safetensors };

/// A set of stored tensors, found by their names in the file.
class WeightSource {
public:
  virtual ~WeightSource() = default;
  virtual WeightFormat format() const = 0;
  /// The path the user gave, for messages.
  virtual const std::string &path() const = 0;
  virtual const StoredTensor *find(const std::string &name) const = 0;
  virtual std::vector<std::string> tensorNames() const = 0;
};

/// Opens `path`: a GGUF file, a .safetensors file, or a directory holding
/// `model.safetensors`, a `model.safetensors.index.json` shard index, or a
/// single .gguf file.
Expected<std::unique_ptr<WeightSource>> openWeights(const std::string &path);

/// Parses a single .safetensors file.
Expected<std::unique_ptr<WeightSource>>
openSafetensors(const std::string &path);

/// Parses a shard index and the shards it names.
Expected<std::unique_ptr<WeightSource>>
openSafetensorsIndex(const std::string &indexPath);

/// Formats a shape as [a, b, c].
std::string shapeString(const std::vector<int64_t> &shape);

/// The element count of `shape`; -1 if a dimension is negative or the
/// count overflows.
int64_t shapeNumel(const std::vector<int64_t> &shape);

} // namespace tfm::rt

#endif // TFM_RUNTIME_WEIGHTFILE_H
