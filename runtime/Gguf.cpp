//===- Gguf.cpp - GGUF reader -----------------------------------*- C++ -*-===//
//
// Every read is bounds-checked against the mapped file, so a truncated or
// corrupt file yields an error naming the file and what was being read.
//
//===----------------------------------------------------------------------===//

#include "runtime/Gguf.h"

#include <cstring>
#include <fmt/format.h>
#include <limits>

using namespace tfm::rt;

namespace {

struct GgmlTypeInfo {
  uint32_t id;
  const char *name;
  int64_t blockSize; // elements per block
  int64_t typeSize;  // bytes per block
};

// Block layouts of ggml's tensor types, used to check tensor extents even for
// the types tfm cannot convert.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {0, "f32", 1, 4},        {1, "f16", 1, 2},        {2, "q4_0", 32, 18},
    {3, "q4_1", 32, 20},     {6, "q5_0", 32, 22},     {7, "q5_1", 32, 24},
    {8, "q8_0", 32, 34},     {9, "q8_1", 32, 36},     {10, "q2_K", 256, 84},
    {11, "q3_K", 256, 110},  {12, "q4_K", 256, 144},  {13, "q5_K", 256, 176},
    {14, "q6_K", 256, 210},  {15, "q8_K", 256, 292},  {16, "iq2_xxs", 256, 66},
    {17, "iq2_xs", 256, 74}, {18, "iq3_xxs", 256, 98}, {19, "iq1_s", 256, 50},
    {20, "iq4_nl", 32, 18},  {21, "iq3_s", 256, 110}, {22, "iq2_s", 256, 82},
    {23, "iq4_xs", 256, 136}, {24, "i8", 1, 1},       {25, "i16", 1, 2},
    {26, "i32", 1, 4},       {27, "i64", 1, 8},       {28, "f64", 1, 8},
    {29, "iq1_m", 256, 56},  {30, "bf16", 1, 2},
};

const GgmlTypeInfo *ggmlType(uint32_t id) {
  for (const GgmlTypeInfo &t : kGgmlTypes)
    if (t.id == id)
      return &t;
  return nullptr;
}

DType toDType(uint32_t id) {
  switch (id) {
  case 0: return DType::F32;
  case 1: return DType::F16;
  case 2: return DType::Q4_0;
  case 3: return DType::Q4_1;
  case 6: return DType::Q5_0;
  case 7: return DType::Q5_1;
  case 8: return DType::Q8_0;
  case 10: return DType::Q2_K;
  case 11: return DType::Q3_K;
  case 12: return DType::Q4_K;
  case 13: return DType::Q5_K;
  case 14: return DType::Q6_K;
  case 30: return DType::BF16;
  default: return DType::Unsupported;
  }
}

constexpr uint32_t kGgufMagic = 0x46554747; // "GGUF"
constexpr uint64_t kMaxStringBytes = 1ull << 30;

} // namespace

namespace tfm::rt {

/// Sequential reader over the mapped bytes of one GGUF file.
class GgufReader {
public:
  GgufReader(GgufFile &out) : out_(out), file_(*out.file_) {}

  Status read() {
    uint32_t magic;
    if (!u32(magic, "magic"))
      return err();
    if (magic != kGgufMagic)
      return Error(fmt::format("{}: not a GGUF file (bad magic)", path()));
    if (!u32(out_.version_, "version"))
      return err();
    if (out_.version_ != 2 && out_.version_ != 3)
      return Error(fmt::format("{}: unsupported GGUF version {} (tfm reads 2 "
                               "and 3)",
                               path(), out_.version_));
    uint64_t tensorCount, kvCount;
    if (!u64(tensorCount, "tensor count") || !u64(kvCount, "metadata count"))
      return err();
    // Each entry takes at least 8 bytes, so larger counts mean corruption.
    if (tensorCount > file_.size() / 8 || kvCount > file_.size() / 8)
      return Error(fmt::format("{}: corrupt header (tensor count {}, metadata "
                               "count {})",
                               path(), tensorCount, kvCount));
    for (uint64_t i = 0; i < kvCount; ++i) {
      std::string key;
      if (!str(key, "metadata key"))
        return err();
      GgufValue value;
      uint32_t type;
      if (!u32(type, "metadata type of '" + key + "'") ||
          !readValue(value, type, key, 0))
        return err();
      if (out_.metadataIndex_.count(key))
        return Error(
            fmt::format("{}: duplicate metadata key '{}'", path(), key));
      out_.metadataIndex_[key] = out_.metadata_.size();
      out_.metadata_.emplace_back(std::move(key), std::move(value));
    }

    uint64_t alignment = 32;
    if (const GgufValue *a = out_.metadata("general.alignment")) {
      std::optional<int64_t> v = a->asInt();
      if (!v || *v <= 0 || (*v & (*v - 1)) != 0)
        return Error(fmt::format("{}: general.alignment must be a power of 2",
                                 path()));
      alignment = uint64_t(*v);
    }

    struct Pending {
      uint64_t offset;
      uint32_t type;
    };
    std::vector<Pending> pending;
    for (uint64_t i = 0; i < tensorCount; ++i) {
      StoredTensor t;
      t.file = path();
      if (!str(t.name, "tensor name"))
        return err();
      uint32_t nDims;
      if (!u32(nDims, "dimension count of tensor '" + t.name + "'"))
        return err();
      if (nDims == 0 || nDims > 4)
        return Error(fmt::format("{}: tensor '{}' has {} dimensions (GGUF "
                                 "allows 1 to 4)",
                                 path(), t.name, nDims));
      std::vector<int64_t> ne(nDims);
      for (uint32_t d = 0; d < nDims; ++d) {
        uint64_t n;
        if (!u64(n, "shape of tensor '" + t.name + "'"))
          return err();
        if (n == 0 || n > (1ull << 40))
          return Error(fmt::format("{}: tensor '{}' has invalid dimension {}",
                                   path(), t.name, n));
        ne[d] = int64_t(n);
      }
      // ggml lists the fastest-varying dimension first.
      t.shape.assign(ne.rbegin(), ne.rend());
      uint32_t type;
      uint64_t offset;
      if (!u32(type, "type of tensor '" + t.name + "'") ||
          !u64(offset, "offset of tensor '" + t.name + "'"))
        return err();
      const GgmlTypeInfo *info = ggmlType(type);
      if (!info)
        return Error(fmt::format("{}: tensor '{}' has unknown ggml type {}",
                                 path(), t.name, type));
      t.dtype = toDType(type);
      t.dtypeName = info->name;
      if (ne[0] % info->blockSize != 0)
        return Error(fmt::format("{}: tensor '{}' of type {} has a row of {} "
                                 "elements, not a multiple of {}",
                                 path(), t.name, info->name, ne[0],
                                 info->blockSize));
      int64_t numel = t.numel();
      if (numel < 0)
        return Error(fmt::format("{}: tensor '{}' is too large", path(),
                                 t.name));
      // Checked before the product, which could wrap to a small size.
      if (uint64_t(numel / info->blockSize) >
          file_.size() / uint64_t(info->typeSize))
        return Error(fmt::format("{}: tensor '{}' ({} {} elements) needs "
                                 "more bytes than the file has ({}); the "
                                 "file is truncated or corrupt",
                                 path(), t.name, numel, info->name,
                                 file_.size()));
      t.nbytes = uint64_t(numel / info->blockSize) * uint64_t(info->typeSize);
      if (out_.tensorIndex_.count(t.name))
        return Error(
            fmt::format("{}: duplicate tensor '{}'", path(), t.name));
      out_.tensorIndex_[t.name] = out_.tensors_.size();
      out_.tensors_.push_back(std::move(t));
      pending.push_back({offset, type});
    }

    uint64_t dataStart = (pos_ + alignment - 1) / alignment * alignment;
    for (size_t i = 0; i < out_.tensors_.size(); ++i) {
      StoredTensor &t = out_.tensors_[i];
      uint64_t offset = pending[i].offset;
      if (offset % alignment != 0)
        return Error(fmt::format("{}: tensor '{}' data offset {} is not "
                                 "aligned to {}",
                                 path(), t.name, offset, alignment));
      if (dataStart > file_.size() || offset > file_.size() - dataStart ||
          t.nbytes > file_.size() - dataStart - offset)
        return Error(fmt::format("{}: tensor '{}' ({} bytes at offset {}) "
                                 "extends past the end of the file; the file "
                                 "is truncated",
                                 path(), t.name, t.nbytes, dataStart + offset));
      t.data = file_.data() + dataStart + offset;
    }
    return Status::ok();
  }

private:
  const std::string &path() const { return out_.path_; }
  Status err() { return Error(error_); }

  bool need(uint64_t n, const std::string &what) {
    if (n <= file_.size() && pos_ <= file_.size() - n)
      return true;
    error_ = fmt::format("{}: truncated file while reading {} at byte {}",
                         path(), what, pos_);
    return false;
  }

  template <typename T> bool scalar(T &out, const std::string &what) {
    if (!need(sizeof(T), what))
      return false;
    std::memcpy(&out, file_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool u32(uint32_t &out, const std::string &what) { return scalar(out, what); }
  bool u64(uint64_t &out, const std::string &what) { return scalar(out, what); }

  bool str(std::string &out, const std::string &what) {
    uint64_t len;
    if (!u64(len, what))
      return false;
    if (len > kMaxStringBytes) {
      error_ = fmt::format("{}: corrupt string length {} in {}", path(), len,
                           what);
      return false;
    }
    if (!need(len, what))
      return false;
    out.assign(reinterpret_cast<const char *>(file_.data() + pos_), len);
    pos_ += len;
    return true;
  }

  bool readValue(GgufValue &v, uint32_t type, const std::string &key,
                 int depth) {
    using T = GgufValue::Type;
    if (type > uint32_t(T::F64)) {
      error_ = fmt::format("{}: metadata '{}' has unknown value type {}",
                           path(), key, type);
      return false;
    }
    v.type = T(type);
    std::string what = "metadata '" + key + "'";
    switch (v.type) {
    case T::U8: { uint8_t x; if (!scalar(x, what)) return false; v.uint = x; return true; }
    case T::I8: { int8_t x; if (!scalar(x, what)) return false; v.sint = x; return true; }
    case T::U16: { uint16_t x; if (!scalar(x, what)) return false; v.uint = x; return true; }
    case T::I16: { int16_t x; if (!scalar(x, what)) return false; v.sint = x; return true; }
    case T::U32: { uint32_t x; if (!scalar(x, what)) return false; v.uint = x; return true; }
    case T::I32: { int32_t x; if (!scalar(x, what)) return false; v.sint = x; return true; }
    case T::U64: { uint64_t x; if (!scalar(x, what)) return false; v.uint = x; return true; }
    case T::I64: { int64_t x; if (!scalar(x, what)) return false; v.sint = x; return true; }
    case T::F32: { float x; if (!scalar(x, what)) return false; v.real = x; return true; }
    case T::F64: { double x; if (!scalar(x, what)) return false; v.real = x; return true; }
    case T::Bool: {
      uint8_t x;
      if (!scalar(x, what))
        return false;
      if (x > 1) {
        error_ = fmt::format("{}: {} is a bool with value {}", path(), what, x);
        return false;
      }
      v.boolean = x != 0;
      return true;
    }
    case T::String:
      return str(v.string, what);
    case T::Array: {
      if (depth > 0) {
        error_ = fmt::format("{}: {} nests arrays, which tfm does not read",
                             path(), what);
        return false;
      }
      uint32_t elemType;
      uint64_t count;
      if (!u32(elemType, what) || !u64(count, what))
        return false;
      // Each element takes at least its scalar's bytes (a string its
      // 8-byte length): a larger count runs past the end of the file.
      uint64_t least = minimumSize(T(elemType));
      if (least == 0 || count > (file_.size() - pos_) / least) {
        if (least == 0)
          error_ = fmt::format("{}: {} has unknown element type {}", path(),
                               what, elemType);
        else
          error_ = fmt::format("{}: truncated file: {} claims {} elements, "
                               "more than the {} bytes left hold",
                               path(), what, count, file_.size() - pos_);
        return false;
      }
      // Each element is expanded in memory; bound the total, so a small
      // file cannot ask for gigabytes.
      arrayElements_ += count;
      if (arrayElements_ > kMaxArrayElements) {
        error_ = fmt::format("{}: {} brings the metadata arrays to {} "
                             "elements, more than tfm reads ({})",
                             path(), what, arrayElements_, kMaxArrayElements);
        return false;
      }
      v.elementType = T(elemType);
      v.array.resize(count);
      for (uint64_t i = 0; i < count; ++i)
        if (!readValue(v.array[i], elemType, key, depth + 1))
          return false;
      return true;
    }
    }
    return false;
  }

  /// The bytes a value of `type` takes at least in the file (0: unknown).
  static uint64_t minimumSize(GgufValue::Type type) {
    using T = GgufValue::Type;
    switch (type) {
    case T::U8: case T::I8: case T::Bool: return 1;
    case T::U16: case T::I16: return 2;
    case T::U32: case T::I32: case T::F32: return 4;
    case T::U64: case T::I64: case T::F64: return 8;
    case T::String: return 8;
    case T::Array: return 12;
    }
    return 0;
  }

  /// Metadata array elements in all, at most: real files have a few
  /// vocabularies of up to ~256k entries (tokens, scores, types, merges).
  static constexpr uint64_t kMaxArrayElements = uint64_t(1) << 22;

  GgufFile &out_;
  const MappedFile &file_;
  uint64_t pos_ = 0;
  uint64_t arrayElements_ = 0;
  std::string error_;
};

} // namespace tfm::rt

Expected<std::unique_ptr<GgufFile>> GgufFile::open(const std::string &path) {
  auto mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.error();
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = path;
  file->file_ = mapped.take();
  GgufReader reader(*file);
  if (Status s = reader.read(); !s)
    return Error(s.message());
  return file;
}

const StoredTensor *GgufFile::find(const std::string &name) const {
  auto it = tensorIndex_.find(name);
  return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

std::vector<std::string> GgufFile::tensorNames() const {
  std::vector<std::string> names;
  for (const StoredTensor &t : tensors_)
    names.push_back(t.name);
  return names;
}

const GgufValue *GgufFile::metadata(const std::string &key) const {
  auto it = metadataIndex_.find(key);
  return it == metadataIndex_.end() ? nullptr : &metadata_[it->second].second;
}

bool GgufValue::isInteger() const {
  switch (type) {
  case Type::U8: case Type::I8: case Type::U16: case Type::I16:
  case Type::U32: case Type::I32: case Type::U64: case Type::I64:
    return true;
  default:
    return false;
  }
}

bool GgufValue::isNumber() const {
  return isInteger() || type == Type::F32 || type == Type::F64;
}

std::optional<int64_t> GgufValue::asInt() const {
  switch (type) {
  case Type::U8: case Type::U16: case Type::U32: case Type::U64:
    if (uint > uint64_t(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return int64_t(uint);
  case Type::I8: case Type::I16: case Type::I32: case Type::I64:
    return sint;
  default:
    return std::nullopt;
  }
}

std::optional<double> GgufValue::asDouble() const {
  if (type == Type::F32 || type == Type::F64)
    return real;
  if (auto i = asInt())
    return double(*i);
  return std::nullopt;
}

static const char *typeNameOf(GgufValue::Type t) {
  static const char *names[] = {"u8",   "i8",     "u16",   "i16", "u32",
                                "i32",  "f32",    "bool",  "string",
                                "array", "u64",   "i64",   "f64"};
  return uint32_t(t) <= 12 ? names[uint32_t(t)] : "unknown";
}

std::string GgufValue::typeName() const {
  if (type == Type::Array)
    return std::string("array of ") + typeNameOf(elementType);
  return typeNameOf(type);
}
