//===- Frontend.h - model configs → ModelSpec -------------------*- C++ -*-===//
//
// Reads a model description (tfm JSON spec, Hugging Face config.json, GGUF
// metadata) into a ModelSpec. User errors become diagnostics naming the file,
// the JSON path or GGUF key, and what was expected; nothing here asserts on
// input.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_COMPILER_FRONTEND_FRONTEND_H
#define TFM_COMPILER_FRONTEND_FRONTEND_H

#include "compiler/frontend/ModelSpec.h"
#include "runtime/WeightNames.h"

#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace tfm::rt {
class GgufFile;
} // namespace tfm::rt

namespace tfm {

/// Diagnostics about one config file. Each names a location inside the file:
/// a JSON path (`attention.rope.theta`) or a GGUF key.
class SpecDiagnostics {
public:
  explicit SpecDiagnostics(std::string file) : file_(std::move(file)) {}

  void error(const std::string &where, const std::string &message);
  void warning(const std::string &where, const std::string &message);

  bool hasErrors() const { return errors_ > 0; }
  const std::string &file() const { return file_; }
  /// "FILE: error: WHERE: MESSAGE" lines, in the order reported.
  const std::vector<std::string> &messages() const { return messages_; }

private:
  std::string file_;
  std::vector<std::string> messages_;
  int errors_ = 0;
};

enum class ConfigFormat { TfmSpec, HuggingFace, Gguf };

/// Why `path` cannot be read as an input file (it does not exist, or it is
/// a folder, a pipe or a device, which would block or never end), or
/// nothing when it is a regular file.
std::optional<std::string> checkInputFile(const std::string &path);

/// Reads `path`, deciding its format from its content: GGUF magic, a JSON
/// object with `model_type` (Hugging Face), or a tfm spec. The result is
/// validated; on any error it is empty and `diags` says why.
std::optional<ModelSpec> readModelConfig(const std::string &path,
                                         SpecDiagnostics &diags,
                                         ConfigFormat *format = nullptr);

std::optional<ModelSpec> readTfmSpec(const llvm::json::Object &root,
                                     SpecDiagnostics &diags);
std::optional<ModelSpec> readHfConfig(const llvm::json::Object &root,
                                      SpecDiagnostics &diags);
std::optional<ModelSpec> readGgufConfig(const rt::GgufFile &file,
                                        SpecDiagnostics &diags);

/// Checks the cross-field rules (head counts divide, rotary_dim even and
/// within head_dim, ...); locations are tfm spec paths.
void validateSpec(const ModelSpec &spec, SpecDiagnostics &diags);

/// Storage choices from a command line, each overriding the spec's own
/// (empty: keep it): the matrices' type (--weight-type), the products'
/// activations (--activations), the float products' precision
/// (--precision) and the KV cache's type (--kv-cache).
struct StorageOverrides {
  std::string weightType, activations, kvCache, precision;
};

/// Applies `overrides` to `spec`; the error names the flag and its value.
std::optional<std::string>
applyStorageOverrides(ModelSpec &spec, const StorageOverrides &overrides);

/// The spec as a tfm JSON spec with every default spelled out; reading it
/// back gives the same spec.
llvm::json::Value specToJson(const ModelSpec &spec);

/// What the weight loader needs to know of the model.
rt::WeightLayout weightLayout(const ModelSpec &spec);

} // namespace tfm

#endif // TFM_COMPILER_FRONTEND_FRONTEND_H
