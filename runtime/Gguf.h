//===- Gguf.h - GGUF files: metadata and tensors ----------------*- C++ -*-===//
//
// Reads GGUF v2/v3 (llama.cpp's format): the key/value metadata that the
// frontend turns into a ModelSpec, and the tensor directory.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_GGUF_H
#define TFM_RUNTIME_GGUF_H

#include "runtime/WeightFile.h"

#include <optional>
#include <utility>

namespace tfm::rt {

/// One metadata value. Arrays hold their elements in `array`.
struct GgufValue {
  enum class Type : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12
  };
  Type type = Type::U8;
  uint64_t uint = 0;
  int64_t sint = 0;
  double real = 0;
  bool boolean = false;
  std::string string;
  Type elementType = Type::U8;
  std::vector<GgufValue> array;

  bool isInteger() const;
  bool isNumber() const;
  /// The value as an integer, if it is one that fits in int64.
  std::optional<int64_t> asInt() const;
  /// The value as a double, if it is a number.
  std::optional<double> asDouble() const;
  /// "u32", "string", "array of f32", ...
  std::string typeName() const;
};

class GgufFile : public WeightSource {
public:
  static Expected<std::unique_ptr<GgufFile>> open(const std::string &path);

  WeightFormat format() const override { return WeightFormat::Gguf; }
  const std::string &path() const override { return path_; }
  const StoredTensor *find(const std::string &name) const override;
  std::vector<std::string> tensorNames() const override;

  uint32_t version() const { return version_; }
  const GgufValue *metadata(const std::string &key) const;
  const std::vector<std::pair<std::string, GgufValue>> &allMetadata() const {
    return metadata_;
  }

private:
  friend class GgufReader;
  std::string path_;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, size_t> metadataIndex_;
  std::vector<StoredTensor> tensors_;
  std::map<std::string, size_t> tensorIndex_;
};

/// ggml tensor type ids (the subset tfm names in messages).
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  BF16 = 30
};

} // namespace tfm::rt

#endif // TFM_RUNTIME_GGUF_H
