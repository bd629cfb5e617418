//===- Weights.cpp - loading and generating weight tables -------*- C++ -*-===//

#include "runtime/Weights.h"
#include "runtime/Gguf.h"
#include "runtime/Half.h"
#include "runtime/Parallel.h"
#include "runtime/Quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <fmt/format.h>
#include <fstream>
#include <new>
#include <sys/mman.h>
#include <unistd.h>

using namespace tfm::rt;

int64_t WeightTable::Entry::numel() const { return shapeNumel(shape); }

uint64_t WeightTable::Entry::bytes() const {
  return uint64_t(storageSize(storage, numel()));
}

const WeightTable::Entry *WeightTable::find(const std::string &name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

uint64_t WeightTable::mappedBytes() const {
  uint64_t bytes = 0;
  for (const auto &[name, entry] : entries_)
    if (entry.owned < 0 && entry.data)
      bytes += entry.bytes();
  return bytes;
}

double tfm::rt::availableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double kib;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:")
      return kib * 1024.0;
  return 1e300; // unknown: do not refuse
}

Expected<void *> WeightTable::allocate(const std::string &name,
                                       std::vector<int64_t> shape,
                                       DType storage) {
  double numel = 1;
  for (int64_t d : shape)
    numel *= double(d);
  double bytes = numel * double(blockBytes(storage)) /
                 double(blockElements(storage));
  std::string_view type = storageName(storage);
  if (double(ownedBytes_) + bytes > memoryBudget_)
    return Error(fmt::format(
        "weight '{}' needs {:.2f} GiB of {} memory, and {:.2f} GiB are "
        "already taken by {} converted or generated weights; the system has "
        "{:.2f} GiB available",
        name, bytes / (1 << 30), type, double(ownedBytes_) / (1 << 30),
        owned_.size(), memoryBudget_ / (1 << 30)));
  Entry entry;
  entry.shape = std::move(shape);
  entry.storage = storage;
  // Not zero-filled: the caller writes every element (for a large weight
  // the pages are then first touched by whichever thread fills them).
  uint8_t *raw = new (std::nothrow) uint8_t[size_t(entry.bytes())];
  if (!raw)
    return Error(fmt::format("weight '{}' needs {:.1f} MiB of {} memory, "
                             "which cannot be allocated",
                             name, bytes / (1 << 20), type));
  uint8_t *buffer = owned_.emplace_back(raw).get();
  ownedBytes_ += entry.bytes();
  entry.data = buffer;
  entry.owned = int(owned_.size() - 1);
  entries_[name] = std::move(entry);
  return static_cast<void *>(buffer);
}

Status WeightTable::widenToF32() {
  for (auto &[name, entry] : entries_) {
    if (entry.storage == DType::F32 || !entry.data)
      continue;
    Entry narrow = entry;
    auto buffer = allocate(name, narrow.shape, DType::F32);
    if (!buffer)
      return buffer.error();
    tfm::rt::widenToF32(narrow.data, narrow.numel(), narrow.storage,
                        static_cast<float *>(*buffer));
    if (narrow.owned >= 0) {
      ownedBytes_ -= narrow.bytes();
      owned_[size_t(narrow.owned)].reset();
    }
  }
  return Status::ok();
}

void tfm::rt::narrowFromF32(const float *in, int64_t n, DType storage,
                            void *out) {
  if (storage == DType::F32) {
    std::memcpy(out, in, size_t(n) * sizeof(float));
    return;
  }
  if (isBlockFormat(storage)) {
    quantize(storage, in, n, static_cast<uint8_t *>(out));
    return;
  }
  uint16_t *o = static_cast<uint16_t *>(out);
  if (storage == DType::BF16)
    for (int64_t i = 0; i < n; ++i)
      o[i] = floatToBf16(in[i]);
  else
    for (int64_t i = 0; i < n; ++i)
      o[i] = floatToF16(in[i]);
}

void tfm::rt::widenToF32(const void *in, int64_t n, DType storage,
                         float *out) {
  if (storage == DType::F32) {
    std::memcpy(out, in, size_t(n) * sizeof(float));
    return;
  }
  if (isBlockFormat(storage)) {
    dequantize(storage, static_cast<const uint8_t *>(in), n, out);
    return;
  }
  // Byte by byte: a stored tensor's data need not be 2-byte aligned.
  const uint8_t *p = static_cast<const uint8_t *>(in);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + 2 * i, 2);
    out[i] = storage == DType::BF16 ? bf16ToFloat(h) : f16ToFloat(h);
  }
}

uint64_t WeightTable::release(const std::string &name) {
  auto it = entries_.find(name);
  if (it == entries_.end() || !it->second.data)
    return 0;
  if (it->second.owned < 0) {
    // A view of the (private, read-only) mapping: its whole pages leave
    // memory, and come back from the file if anything reads them again.
    uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    uintptr_t begin = reinterpret_cast<uintptr_t>(it->second.data);
    uintptr_t end = begin + uintptr_t(it->second.bytes());
    begin = (begin + page - 1) / page * page;
    end = end / page * page;
    if (end > begin)
      madvise(reinterpret_cast<void *>(begin), end - begin, MADV_DONTNEED);
    return 0;
  }
  uint64_t bytes = it->second.bytes();
  owned_[size_t(it->second.owned)].reset();
  ownedBytes_ -= bytes;
  it->second.data = nullptr;
  it->second.owned = -1;
  return bytes;
}

Status tfm::rt::convertToF32(const StoredTensor &t, float *out) {
  if (t.dtype == DType::Unsupported)
    return Error(fmt::format(
        "{}: tensor '{}' has dtype {}, which tfm cannot load (supported: "
        "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, "
        "q5_K, q6_K)",
        t.file, t.name, t.dtypeName));
  widenToF32(t.data, t.numel(), t.dtype, out);
  return Status::ok();
}

void tfm::rt::permuteRopeRows(void *data, int64_t rows, int64_t rowBytes,
                              int64_t headDim, bool toInterleaved) {
  int64_t half = headDim / 2;
  std::vector<uint8_t> head(size_t(headDim * rowBytes));
  for (int64_t h0 = 0; h0 < rows; h0 += headDim) {
    uint8_t *base = static_cast<uint8_t *>(data) + h0 * rowBytes;
    std::memcpy(head.data(), base, head.size());
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s) {
        int64_t split = s * half + j, inter = 2 * j + s;
        int64_t dst = toInterleaved ? inter : split;
        int64_t src = toInterleaved ? split : inter;
        std::memcpy(base + dst * rowBytes, head.data() + src * rowBytes,
                    size_t(rowBytes));
      }
  }
}

namespace {

/// Converts a fused and/or transposed stored tensor and copies the rows of
/// the recipe's part into `out` (shape `partShape`).
Status extractPart(const StoredTensor &t, const WeightRecipe &recipe,
                   const std::vector<int64_t> &partShape, float *out) {
  std::vector<float> full(static_cast<size_t>(t.numel()));
  if (Status s = convertToF32(t, full.data()); !s)
    return s;
  int64_t cols = partShape.size() > 1 ? partShape[1] : 1;
  int64_t rows = recipe.storedRows(partShape[0]);
  if (recipe.transpose && t.shape.size() == 2) {
    std::vector<float> transposed(full.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        transposed[r * cols + c] = full[c * rows + r];
    full.swap(transposed);
  }
  // Row r of the part comes from row source(r) of the full tensor.
  int64_t partRows = partShape[0];
  for (int64_t r = 0; r < partRows; ++r) {
    int64_t src = r;
    if (recipe.sliced())
      src = r / recipe.takeRows * recipe.groupRows + recipe.rowOffset +
            r % recipe.takeRows;
    std::copy_n(full.data() + src * cols, cols, out + r * cols);
  }
  return Status::ok();
}

} // namespace

/// A NaN or an infinity in a weight gives silent garbage downstream: every
/// weight is scanned once, as it is loaded (the pages are read anyway by
/// the first token), and the first bad value is named.
static Status checkFinite(const WeightTable &table,
                          const WeightSource &source) {
  for (const auto &named : table.entries()) {
    // (Not a structured binding: the lambda below captures the entry.)
    const std::string &name = named.first;
    const WeightTable::Entry &entry = named.second;
    if (!entry.data)
      continue;
    int64_t bad = -1;
    bool nan = false;
    // All-ones exponents, a block at a time (no early exit inside it, so
    // the loop vectorizes); `exponent` masks them, `mantissa` tells a NaN.
    auto scan = [&](auto *bits, auto exponent, auto mantissa) {
      int64_t n = entry.numel();
      for (int64_t i = 0; i < n && bad < 0; i += 4096) {
        uint32_t any = 0;
        int64_t end = std::min(n, i + 4096);
        for (int64_t j = i; j < end; ++j)
          any |= uint32_t((bits[j] & exponent) == exponent);
        if (any)
          for (int64_t j = i; j < end && bad < 0; ++j)
            if ((bits[j] & exponent) == exponent) {
              bad = j;
              nan = (bits[j] & mantissa) != 0;
            }
      }
    };
    switch (entry.storage) {
    case DType::F32:
      scan(static_cast<const uint32_t *>(entry.data), 0x7f800000u, 0x7fffffu);
      break;
    case DType::F16:
      scan(static_cast<const uint16_t *>(entry.data), uint16_t(0x7c00),
           uint16_t(0x3ff));
      break;
    case DType::BF16:
      scan(static_cast<const uint16_t *>(entry.data), uint16_t(0x7f80),
           uint16_t(0x7f));
      break;
    default:
      break;
    }
    if (bad >= 0)
      return Error(fmt::format("{}: weight '{}' holds {} at element {}; a "
                               "model with non-finite weights gives no "
                               "meaningful output",
                               source.path(), name, nan ? "NaN" : "Inf", bad));
  }
  return Status::ok();
}

Expected<WeightTable> tfm::rt::loadWeights(
    const std::string &path, const std::vector<WeightRequest> &requests,
    const WeightLayout &layout, bool convertFloats) {
  auto source = openWeights(path);
  if (!source)
    return source.error();
  return loadWeights(std::shared_ptr<WeightSource>(source.take()), requests,
                     layout, convertFloats);
}

/// A GGUF states its model's hyperparameters; every one the program was
/// compiled with must agree, or the file is another model (same tensor
/// shapes, other answers). Floats are compared as the f32 GGUF stores.
static Status checkHyperparameters(const WeightSource &source,
                                   const WeightLayout &layout) {
  if (source.format() != WeightFormat::Gguf)
    return Status::ok();
  const auto &file = static_cast<const GgufFile &>(source);
  const GgufValue *archValue = file.metadata("general.architecture");
  if (!archValue || archValue->type != GgufValue::Type::String)
    return Status::ok();
  const std::string arch = archValue->string;
  auto mismatch = [&](const std::string &key, const std::string &theirs,
                      const std::string &ours) {
    return Error(fmt::format("{}: {} is {}, but the program was compiled for "
                             "{}; these weights are for another model",
                             source.path(), key, theirs, ours));
  };
  auto integer = [&](const char *suffix, int64_t ours) -> Status {
    std::string key = arch + "." + suffix;
    const GgufValue *v = file.metadata(key);
    if (ours <= 0 || !v)
      return Status::ok();
    std::optional<int64_t> theirs = v->asInt();
    if (!theirs || *theirs != ours)
      return mismatch(key, theirs ? std::to_string(*theirs) : v->typeName(),
                      std::to_string(ours));
    return Status::ok();
  };
  auto real = [&](const char *suffix, double ours) -> Status {
    std::string key = arch + "." + suffix;
    const GgufValue *v = file.metadata(key);
    if (ours <= 0 || !v)
      return Status::ok();
    std::optional<double> theirs = v->asDouble();
    if (!theirs || float(*theirs) != float(ours))
      return mismatch(key, theirs ? fmt::format("{:g}", *theirs) : v->typeName(),
                      fmt::format("{:g}", ours));
    return Status::ok();
  };
  for (Status s : {integer("block_count", layout.layers),
                   integer("embedding_length", layout.hidden),
                   integer("attention.head_count", layout.numHeads),
                   integer("attention.head_count_kv", layout.numKvHeads),
                   integer("rope.dimension_count",
                           layout.ropeTheta > 0 ? layout.rotaryDim : 0),
                   real("rope.freq_base", layout.ropeTheta),
                   real("attention.layer_norm_rms_epsilon", layout.normEps),
                   real("attention.layer_norm_epsilon", layout.normEps)})
    if (!s)
      return s;
  return Status::ok();
}

/// Checks the shapes of a recipe's tensors (all present): one source has
/// the requested shape, a stack of n sources each has the shape without its
/// outer dimension, a concatenation of n sources each has 1/n of the rows;
/// a fused source has the rows of all its parts, and a transposed one is
/// stored the other way round. Sets the shape of one part and the tensors.
static Status recipeShapes(const WeightSource &source,
                           const WeightRecipe &recipe,
                           const WeightRequest &req,
                           std::vector<int64_t> &partShape,
                           std::vector<const StoredTensor *> &parts) {
  bool stacked = recipe.sources.size() > 1;
  partShape = req.shape;
  parts.clear();
  if (stacked && recipe.concat) {
    int64_t n = int64_t(recipe.sources.size());
    if (partShape.empty() || partShape[0] % n != 0)
      return Error(fmt::format("{}: tfm weight '{}' of shape {} is not {} "
                               "equal parts",
                               source.path(), req.name,
                               shapeString(req.shape), n));
    partShape[0] /= n;
  } else if (stacked) {
    partShape.erase(partShape.begin());
  }
  // Rows sliced into a per-head weight ([heads, rows, cols], latent
  // attention's up-projections) are the heads' rows one after another.
  if (recipe.sliced() && !stacked && partShape.size() == 3)
    partShape = {partShape[0] * partShape[1], partShape[2]};
  std::vector<int64_t> storedShape = partShape;
  if (recipe.sliced() && !storedShape.empty())
    storedShape[0] = recipe.storedRows(storedShape[0]);
  if (recipe.transpose && storedShape.size() == 2)
    std::swap(storedShape[0], storedShape[1]);
  for (const std::string &s : recipe.sources) {
    const StoredTensor *t = source.find(s);
    bool sameCount = t->numel() == shapeNumel(storedShape);
    if (t->shape != storedShape && !(recipe.flatten && sameCount))
      return Error(fmt::format("{}: tensor '{}' has shape {}, expected {} "
                               "(for tfm weight '{}')",
                               t->file, t->name, shapeString(t->shape),
                               shapeString(storedShape), req.name));
    parts.push_back(t);
  }
  return Status::ok();
}

Expected<WeightTable> tfm::rt::loadWeights(
    std::shared_ptr<WeightSource> source,
    const std::vector<WeightRequest> &requests, const WeightLayout &layout,
    bool convertFloats) {
  if (Status s = checkHyperparameters(*source, layout); !s)
    return Error(s.message());
  WeightTable table;
  table.source_ = source;
  table.origin_ = source->path();
  bool fileInterleaved = fileHasInterleavedQk(*source, layout);

  for (const WeightRequest &req : requests) {
    int64_t outer = req.shape.empty() ? 0 : req.shape[0];
    std::vector<WeightRecipe> recipes =
        weightRecipes(req.name, source->format(), layout, outer);
    if (recipes.empty())
      return Error(fmt::format("{}: tfm has no mapping for weight '{}' in "
                               "this format",
                               source->path(), req.name));
    // The first recipe whose tensors are all present, with the shapes it
    // expects, provides the weight; a recipe whose tensors are present
    // with other shapes gives the error if none fits.
    const WeightRecipe *recipe = nullptr;
    std::vector<int64_t> partShape;
    std::vector<const StoredTensor *> parts;
    std::optional<Status> shapeError;
    for (const WeightRecipe &r : recipes) {
      bool all = true;
      for (const std::string &s : r.sources)
        all = all && source->find(s) != nullptr;
      if (!all)
        continue;
      Status fits = recipeShapes(*source, r, req, partShape, parts);
      if (fits) {
        recipe = &r;
        break;
      }
      if (!shapeError)
        shapeError = fits;
    }
    if (!recipe && shapeError)
      return Error(shapeError->message());
    if (!recipe) {
      const WeightRecipe &first = recipes.front();
      std::string missing;
      for (const std::string &s : first.sources)
        if (!source->find(s)) {
          missing = s;
          break;
        }
      // A file without an output projection ties it to the embedding: the
      // program was compiled for an untied model.
      std::string hint;
      if (req.name == "lm_head.weight")
        hint = "; the file has no output projection of its own, so its "
               "embedding is tied: compile the model with embedding.tied "
               "(tie_word_embeddings in a Hugging Face config)";
      return Error(fmt::format("{}: missing tensor '{}' (for tfm weight "
                               "'{}' of shape {}){}",
                               source->path(), missing, req.name,
                               shapeString(req.shape), hint));
    }
    bool stacked = recipe->sources.size() > 1;

    bool isKey = false;
    bool permute = isRotaryProjection(req.name, isKey) &&
                   fileInterleaved != layout.ropeInterleaved;
    if (permute) {
      int64_t heads = isKey ? layout.numKvHeads : layout.numHeads;
      if (layout.headDim <= 0 || layout.headDim % 2 != 0 ||
          layout.rotaryDim != layout.headDim ||
          req.shape[0] != heads * layout.headDim)
        return Error(fmt::format(
            "{}: tensor '{}' is stored for {} RoPE pairs but the model uses "
            "{} pairs, and tfm converts only full-head rotary projections "
            "(head_dim {}, rotary_dim {}, {} rows)",
            parts[0]->file, parts[0]->name,
            fileInterleaved ? "interleaved" : "half-split",
            layout.ropeInterleaved ? "interleaved" : "half-split",
            layout.headDim, layout.rotaryDim, req.shape[0]));
    }

    // A weight kept in a compact type is kept exactly as stored: a file of
    // another type would need rounding (or quantizing), which happens only
    // when asked for (--weight-type), and only from a float type.
    if (req.storage != DType::F32)
      for (const StoredTensor *t : parts) {
        bool isFloat = t->dtype == DType::F32 || t->dtype == DType::F16 ||
                       t->dtype == DType::BF16;
        if (t->dtype != req.storage && !(convertFloats && isFloat))
          return Error(fmt::format(
              "{}: tensor '{}' is stored as {}, but the program keeps tfm "
              "weight '{}' as {}; compile it for these weights (tfmc compile "
              "--weight-type {}){}",
              t->file, t->name, t->dtypeName, req.name,
              storageName(req.storage),
              storageNamed(storageName(t->dtype)) ? storageName(t->dtype)
                                                  : "f32",
              isFloat ? fmt::format(", or convert it as it loads "
                                    "(--weight-type {})",
                                    storageName(req.storage))
                      : ""));
      }

    bool reshaped = recipe->transpose || recipe->sliced();
    const StoredTensor *only = parts[0];
    // Kernels read a block format byte by byte, a float type by element.
    uintptr_t alignment =
        isBlockFormat(req.storage) ? 1 : uintptr_t(blockBytes(req.storage));
    bool viewable = !stacked && !permute && !reshaped &&
                    only->dtype == req.storage &&
                    reinterpret_cast<uintptr_t>(only->data) % alignment == 0;
    if (viewable) {
      WeightTable::Entry entry;
      entry.shape = req.shape;
      entry.storage = req.storage;
      entry.data = only->data;
      table.entries_[req.name] = std::move(entry);
      continue;
    }
    auto buffer = table.allocate(req.name, req.shape, req.storage);
    if (!buffer)
      return Error(fmt::format("{}: {}", source->path(),
                               buffer.error().message()));
    uint8_t *bytes = static_cast<uint8_t *>(*buffer);
    if (!reshaped && only->dtype == req.storage) {
      // The parts as stored, one after the other.
      for (const StoredTensor *t : parts) {
        std::memcpy(bytes, t->data, size_t(t->nbytes));
        bytes += t->nbytes;
      }
    } else if (recipe->sliced() && !recipe->transpose && !stacked &&
               only->dtype == req.storage) {
      // Rows of a fused tensor, copied as stored (a row is whole blocks).
      int64_t rows = partShape.empty() ? 1 : partShape[0];
      int64_t cols = rows > 0 ? shapeNumel(partShape) / rows : 0;
      size_t rowBytes = storageSize(req.storage, cols);
      int64_t groups = only->shape[0] / recipe->groupRows;
      for (int64_t g = 0; g < groups; ++g) {
        size_t from = size_t(g * recipe->groupRows + recipe->rowOffset);
        std::memcpy(bytes, only->data + from * rowBytes,
                    size_t(recipe->takeRows) * rowBytes);
        bytes += size_t(recipe->takeRows) * rowBytes;
      }
    } else if (isBlockFormat(req.storage) && isBlockFormat(only->dtype)) {
      return Error(fmt::format(
          "{}: tensor '{}' is stored transposed or fused, which tfm cannot "
          "rearrange in {} blocks (for tfm weight '{}')",
          only->file, only->name, storageName(req.storage), req.name));
    } else {
      // Repacked through f32: exact where the types match; else rounded or
      // quantized into the kept type (convertFloats).
      int64_t n = table.entries_[req.name].numel();
      std::vector<float> wide;
      float *out = reinterpret_cast<float *>(bytes);
      if (req.storage != DType::F32) {
        wide.resize(size_t(n));
        out = wide.data();
      }
      for (const StoredTensor *t : parts) {
        Status s = reshaped ? extractPart(*t, *recipe, partShape, out)
                            : convertToF32(*t, out);
        if (!s)
          return Error(s.message() +
                       fmt::format(" (for tfm weight '{}')", req.name));
        out += reshaped ? shapeNumel(partShape) : t->numel();
      }
      if (req.storage != DType::F32)
        narrowFromF32(wide.data(), n, req.storage, bytes);
    }
    if (permute) {
      int64_t cols = req.shape.size() > 1 ? req.shape[1] : 1;
      permuteRopeRows(*buffer, req.shape[0], storageSize(req.storage, cols),
                      layout.headDim, layout.ropeInterleaved);
    }
  }
  if (Status s = checkFinite(table, *source); !s)
    return Error(s.message());
  return table;
}

namespace {

uint64_t splitmix64(uint64_t &state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string &s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s)
    h = (h ^ uint8_t(c)) * 0x100000001b3ull;
  return h;
}

bool endsWith(const std::string &s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Elements per block of random values: each block has its own generator
/// state, so threads can split one large tensor.
constexpr int64_t kRandomBlock = int64_t(1) << 20;

/// Elements [begin, end) of the random values of one weight, a block of
/// kRandomBlock (or the last, shorter one), into out[0, end - begin); see
/// randomWeights.
void fillRandom(float *out, const WeightRequest &req, uint64_t seed,
                int64_t begin, int64_t end) {
  double mean = 0, std = 0;
  if (endsWith(req.name, "norm.weight")) {
    mean = 1.0;
    std = 0.05;
  } else if (endsWith(req.name, ".bias")) {
    std = 0.02;
  } else {
    std = 1.0 / std::sqrt(double(req.shape.back()));
  }
  uint64_t state = seed * 0x2545f4914f6cdd1dull ^ fnv1a(req.name);
  state ^= uint64_t(begin / kRandomBlock) * 0x9fb21c651e98df25ull;
  // Uniform in [-sqrt(3), sqrt(3)) (variance 1) from 24 random bits per
  // value, two values per 64-bit draw: no transcendental per value, so a
  // billion-parameter model's weights take seconds.
  float scale = float(std * std::sqrt(3.0) * 0x1.0p-23), offset = float(mean);
  for (int64_t i = begin; i < end; i += 2) {
    uint64_t bits = splitmix64(state);
    out[i - begin] = offset + scale * float(int32_t(bits >> 40) - (1 << 23));
    if (i + 1 < end)
      out[i + 1 - begin] =
          offset + scale * float(int32_t((bits >> 8) & 0xffffff) - (1 << 23));
  }
}

} // namespace

Expected<WeightTable>
tfm::rt::randomWeights(const std::vector<WeightRequest> &requests,
                       uint64_t seed) {
  WeightTable table;
  table.origin_ = fmt::format("random weights, seed {}", seed);
  double total = 0;
  for (const WeightRequest &req : requests) {
    double numel = 1;
    for (int64_t d : req.shape)
      numel *= double(d);
    total += numel * double(blockBytes(req.storage)) /
             double(blockElements(req.storage));
  }
  if (total > table.memoryBudget_)
    return Error(fmt::format("random weights: the model's {} weights need "
                             "{:.2f} GiB of memory; the system has {:.2f} "
                             "GiB available",
                             requests.size(), total / (1 << 30),
                             table.memoryBudget_ / (1 << 30)));
  struct Job {
    void *out;
    const WeightRequest *request;
    int64_t begin, end;
  };
  std::vector<Job> jobs;
  for (const WeightRequest &req : requests) {
    auto buffer = table.allocate(req.name, req.shape, req.storage);
    if (!buffer)
      return Error("random weights: " + buffer.error().message());
    int64_t n = table.find(req.name)->numel();
    for (int64_t begin = 0; begin < n; begin += kRandomBlock)
      jobs.push_back({*buffer, &req, begin, std::min(n, begin + kRandomBlock)});
  }
  // Each block depends only on (seed, name, block), so threads can split
  // them. A 16-bit weight's values are the f32 ones rounded, a block at a
  // time (no f32 copy of the whole weight).
  parallelFor(jobs.size(), [&](size_t j) {
    const Job &job = jobs[j];
    DType storage = job.request->storage;
    if (storage == DType::F32) {
      fillRandom(static_cast<float *>(job.out) + job.begin, *job.request, seed,
                 job.begin, job.end);
      return;
    }
    std::vector<float> block(size_t(job.end - job.begin));
    fillRandom(block.data(), *job.request, seed, job.begin, job.end);
    narrowFromF32(block.data(), int64_t(block.size()), storage,
                  static_cast<uint8_t *>(job.out) +
                      storageSize(storage, job.begin));
  });
  return table;
}
