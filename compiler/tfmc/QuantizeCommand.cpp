//===- QuantizeCommand.cpp - `tfmc quantize`: GGUF in, GGUF out -*- C++ -*-===//
//
// Rewrites a GGUF file with its matrices in another storage type: one type
// for every matrix, or a mix by role (llama.cpp's Q4_K_M and Q5_K_M
// recipes). Vectors (norm gains, biases) stay as stored; the metadata is
// copied, with general.file_type set to the new type. The output is
// written aside and renamed into place, so a failure leaves nothing
// half-written.
//
//===----------------------------------------------------------------------===//

#include "compiler/tfmc/Driver.h"
#include "runtime/Gguf.h"
#include "runtime/Quant.h"
#include "runtime/WeightNames.h"
#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <map>

using namespace tfm;
using rt::DType;

namespace {

constexpr const char *kUsage =
    "usage: tfmc quantize IN.gguf OUT.gguf --type TYPE\n"
    "\n"
    "Writes OUT.gguf with IN's matrices stored as TYPE and everything else\n"
    "as IN stores it. TYPE is f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1,\n"
    "q2_K, q3_K, q4_K, q5_K or q6_K, or a mix: mix=q4_K_M or mix=q5_K_M\n"
    "(llama.cpp's recipes: q6_K for the classifier and for attn_v and\n"
    "ffn_down in some layers, the base K-quant elsewhere). A matrix whose\n"
    "rows are no whole number of TYPE's blocks is kept as q8_0 (or f16).\n";

/// llama.cpp's general.file_type of a type (a K mix is its base's).
uint32_t fileType(DType type) {
  switch (type) {
  case DType::F32: return 0;
  case DType::F16: return 1;
  case DType::Q4_0: return 2;
  case DType::Q4_1: return 3;
  case DType::Q8_0: return 7;
  case DType::Q5_0: return 8;
  case DType::Q5_1: return 9;
  case DType::Q2_K: return 10;
  case DType::Q3_K: return 12; // Q3_K_M, as llama-quantize names Q3_K
  case DType::Q4_K: return 15; // Q4_K_M (llama-quantize's Q4_K too)
  case DType::Q5_K: return 17; // Q5_K_M
  case DType::Q6_K: return 18;
  case DType::BF16: return 32;
  case DType::Unsupported: break;
  }
  return 0;
}

/// llama.cpp's rule for the layers that get more bits in a K mix.
bool moreBits(int64_t layer, int64_t layers) {
  return layer < layers / 8 || layer >= 7 * layers / 8 ||
         (layer - layers / 8) % 3 == 2;
}

} // namespace

int tfm::quantizeCommand(int argc, char **argv) {
  std::vector<std::string> positional;
  std::string typeName;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (arg == "--type" && i + 1 < argc)
      typeName = argv[++i];
    else if (arg.rfind("--type=", 0) == 0)
      typeName = arg.substr(7);
    else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "tfmc quantize: error: unknown option '%s'\n%s",
                   arg.c_str(), kUsage);
      return 2;
    } else
      positional.push_back(arg);
  }
  if (positional.size() != 2 || typeName.empty()) {
    std::fprintf(stderr, "tfmc quantize: error: expected IN, OUT and "
                         "--type\n%s",
                 kUsage);
    return 2;
  }
  const std::string &in = positional[0], &out = positional[1];
  bool mix = typeName.rfind("mix=", 0) == 0;
  DType base = DType::Unsupported;
  if (mix) {
    if (typeName == "mix=q4_K_M")
      base = DType::Q4_K;
    else if (typeName == "mix=q5_K_M")
      base = DType::Q5_K;
  } else if (auto t = rt::storageNamed(typeName)) {
    base = *t;
  }
  if (base == DType::Unsupported) {
    std::fprintf(stderr,
                 "tfmc quantize: error: --type must be f32, f16, bf16, q8_0, "
                 "q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, "
                 "mix=q4_K_M or mix=q5_K_M, got '%s'\n",
                 typeName.c_str());
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto file = rt::GgufFile::open(in);
  if (!file) {
    std::fprintf(stderr, "tfmc quantize: error: %s\n",
                 file.error().message().c_str());
    return 1;
  }
  const rt::GgufFile &gguf = **file;

  // The layer count, for the mixes' per-layer rule.
  int64_t layers = 0;
  for (const std::string &name : gguf.tensorNames()) {
    int64_t layer;
    std::string_view part, suffix;
    if (rt::ggufLayerTensor(name, layer, part, suffix))
      layers = std::max(layers, layer + 1);
  }
  bool tied = gguf.find("output.weight") == nullptr;
  auto typeFor = [&](const std::string &name) {
    if (!mix)
      return base;
    int64_t layer;
    std::string_view part, suffix;
    if (name == "output.weight" || (tied && name == "token_embd.weight"))
      return DType::Q6_K;
    if (rt::ggufLayerTensor(name, layer, part, suffix) &&
        (part == "attn_v" || part == "ffn_down") && moreBits(layer, layers))
      return DType::Q6_K;
    return base;
  };

  rt::GgufWriter writer;
  for (const auto &[key, value] : gguf.allMetadata()) {
    // The writer aligns tensors its own way; the file type is rewritten.
    if (key == "general.alignment" || key == "general.file_type" ||
        key == "general.quantization_version")
      continue;
    writer.addValue(key, value);
  }
  writer.addU32("general.file_type", fileType(base));
  writer.addU32("general.quantization_version", 2);

  std::map<std::string, int> counts;
  int fallbacks = 0;
  uint64_t inBytes = 0, outBytes = 0;
  for (const std::string &name : gguf.tensorNames()) {
    const rt::StoredTensor *t = gguf.find(name);
    inBytes += t->nbytes;
    rt::TensorData data;
    data.name = name;
    data.shape = t->shape;
    DType target = t->shape.size() >= 2 ? typeFor(name) : t->dtype;
    if (t->shape.size() >= 2 &&
        t->shape.back() % rt::blockElements(target) != 0) {
      target = t->shape.back() % 32 == 0 ? DType::Q8_0 : DType::F16;
      ++fallbacks;
    }
    data.dtype = target;
    if (target == t->dtype) {
      data.raw.assign(t->data, t->data + t->nbytes);
    } else {
      int64_t n = t->numel();
      // The f32 copy of one tensor at a time, beside the output so far.
      double need = 4.0 * double(n) + double(rt::storageSize(target, n));
      if (need + double(outBytes) > rt::availableMemoryBytes()) {
        std::fprintf(stderr, "tfmc quantize: error: %s: tensor '%s' needs "
                             "%.2f GiB more memory than the system has\n",
                     in.c_str(), name.c_str(), need / (1 << 30));
        return 1;
      }
      std::vector<float> wide(static_cast<size_t>(n));
      data.raw.resize(size_t(rt::storageSize(target, n)));
      if (rt::Status s = rt::convertToF32(*t, wide.data()); !s) {
        std::fprintf(stderr, "tfmc quantize: error: %s\n",
                     s.message().c_str());
        return 1;
      }
      rt::narrowFromF32(wide.data(), n, target, data.raw.data());
    }
    outBytes += data.raw.size();
    ++counts[std::string(rt::storageName(target))];
    writer.addTensor(std::move(data));
  }
  if (rt::Status s = writer.write(out); !s) {
    std::fprintf(stderr, "tfmc quantize: error: %s\n", s.message().c_str());
    return 1;
  }
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  std::string summary;
  for (const auto &[type, n] : counts)
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, type);
  std::fprintf(stderr,
               "tfmc quantize: %s (%.1f MiB) -> %s (%.1f MiB) as %s: %zu "
               "tensors (%s)%s in %.1f s\n",
               in.c_str(), double(inBytes) / (1 << 20), out.c_str(),
               double(outBytes) / (1 << 20), typeName.c_str(),
               gguf.tensorNames().size(), summary.c_str(),
               fallbacks ? fmt::format("; {} matrices with rows no whole "
                                       "number of blocks kept as q8_0 or f16",
                                       fallbacks)
                               .c_str()
                         : "",
               seconds);
  return 0;
}
