//===- GgufFields.h - typed reads of GGUF metadata --------------*- C++ -*-===//
//
// What a GGUF architecture reader sees of its file: typed metadata reads
// that report a bad value under its key, and the tensors' presence and
// shapes, which state much of a llama.cpp model's structure (biases, fused
// projections, extra norms).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_FRONTEND_GGUFFIELDS_H
#define TFM_COMPILER_FRONTEND_GGUFFIELDS_H

#include "compiler/frontend/Frontend.h"
#include "runtime/Gguf.h"

#include <string>
#include <vector>

namespace tfm {

class GgufFields {
public:
  GgufFields(const rt::GgufFile &file, std::string arch,
             SpecDiagnostics &diags)
      : file_(file), arch_(std::move(arch)), diags_(diags) {}

  const std::string &arch() const { return arch_; }
  SpecDiagnostics &diags() { return diags_; }
  const rt::GgufFile &file() const { return file_; }
  /// "{arch}.{suffix}", the architecture's own key.
  std::string key(const std::string &suffix) const {
    return arch_ + "." + suffix;
  }

  /// Reads an integer key; returns false (with an error if `required` or
  /// the value is bad) when absent.
  bool integer(const std::string &key, int64_t &out, int64_t min,
               bool required);
  /// Reads a finite number (positive if asked); false when absent or bad.
  bool number(const std::string &key, double &out, bool positive);
  bool string(const std::string &key, std::string &out);
  bool boolean(const std::string &key, bool &out);

  /// The architecture's keys ("{arch}.{suffix}").
  bool archInteger(const std::string &suffix, int64_t &out, int64_t min,
                   bool required = false) {
    return integer(key(suffix), out, min, required);
  }
  bool archNumber(const std::string &suffix, double &out, bool positive) {
    return number(key(suffix), out, positive);
  }
  bool archBoolean(const std::string &suffix, bool &out) {
    return boolean(key(suffix), out);
  }

  const rt::StoredTensor *tensor(const std::string &name) const {
    return file_.find(name);
  }
  /// "blk.{layer}.{base}.weight" (or another suffix), if the file has it.
  const rt::StoredTensor *layerTensor(int64_t layer, const std::string &base,
                                      const char *suffix = "weight") const;
  bool hasLayerTensor(int64_t layer, const std::string &base,
                      const char *suffix = "weight") const {
    return layerTensor(layer, base, suffix) != nullptr;
  }

  /// The values of a small 1-D f32 tensor (RoPE factors), each finite and
  /// > 0; false (with an error naming the tensor) otherwise.
  bool positiveFloats(const rt::StoredTensor &t, std::vector<double> &out);

  static std::string describe(const rt::GgufValue &v);

private:
  const rt::GgufFile &file_;
  std::string arch_;
  SpecDiagnostics &diags_;
};

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_GGUFFIELDS_H
