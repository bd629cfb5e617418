//===- WeightWriter.h - writing GGUF and safetensors files ------*- C++ -*-===//
//
// Writes weight files from f32 data, converting to the stored dtype. Tests
// build their inputs with it and the benchmarks their synthetic models.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_WEIGHTWRITER_H
#define TFM_RUNTIME_WEIGHTWRITER_H

#include "runtime/Gguf.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tfm::rt {

/// A tensor to write: f32 values, stored as `dtype` (converted or
/// quantized), or the stored bytes themselves (`raw`, kept as they are).
struct TensorData {
  std::string name;
  std::vector<int64_t> shape; // outermost first
  DType dtype = DType::F32;
  std::vector<float> values;
  std::vector<uint8_t> raw;
};

/// ggml's type id of a storage type.
uint32_t ggmlTypeId(DType dtype);

class GgufWriter {
public:
  void addString(const std::string &key, const std::string &value);
  void addU32(const std::string &key, uint32_t value);
  void addF32(const std::string &key, float value);
  void addBool(const std::string &key, bool value);
  void addStringArray(const std::string &key,
                      const std::vector<std::string> &values);
  /// Any metadata value, as read from another GGUF file.
  void addValue(const std::string &key, GgufValue value);
  /// Any storage type (rows of a block format must be whole blocks).
  void addTensor(TensorData tensor);

  /// Writes the file (aside, then renamed into place).
  Status write(const std::string &path) const;

private:
  void add(const std::string &key, GgufValue::Type type,
           const std::function<void(GgufValue &)> &set);

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<TensorData> tensors_;
};

/// Writes one safetensors file holding `tensors` (f32, f16 or bf16).
Status writeSafetensors(const std::string &path,
                        const std::vector<TensorData> &tensors);

} // namespace tfm::rt

#endif // TFM_RUNTIME_WEIGHTWRITER_H
