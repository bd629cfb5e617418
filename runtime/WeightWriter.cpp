//===- WeightWriter.cpp - writing GGUF and safetensors files ----*- C++ -*-===//

#include "runtime/WeightWriter.h"
#include "runtime/Half.h"
#include "runtime/Json.h"
#include "runtime/Quant.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <functional>

using namespace tfm::rt;

namespace {

/// Little-endian byte buffer.
struct Bytes {
  std::vector<uint8_t> data;
  template <typename T> void put(T value) {
    uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    data.insert(data.end(), raw, raw + sizeof(T));
  }
  void putString(const std::string &s) {
    put<uint64_t>(s.size());
    data.insert(data.end(), s.begin(), s.end());
  }
  void pad(size_t alignment) {
    data.resize((data.size() + alignment - 1) / alignment * alignment, 0);
  }
};

std::vector<uint8_t> encode(const TensorData &t) {
  if (!t.raw.empty())
    return t.raw;
  std::vector<uint8_t> out;
  int64_t n = int64_t(t.values.size());
  switch (t.dtype) {
  case DType::F32:
    out.resize(t.values.size() * 4);
    std::memcpy(out.data(), t.values.data(), out.size());
    break;
  case DType::F16:
  case DType::BF16:
    out.resize(t.values.size() * 2);
    for (size_t i = 0; i < t.values.size(); ++i) {
      uint16_t h = t.dtype == DType::F16 ? floatToF16(t.values[i])
                                         : floatToBf16(t.values[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
    break;
  case DType::Unsupported:
    break;
  default:
    out.resize(size_t(std::max<int64_t>(storageSize(t.dtype, n), 0)));
    quantize(t.dtype, t.values.data(), n, out.data());
    break;
  }
  return out;
}

} // namespace

/// A metadata value's bytes (after its type). Arrays hold scalars or
/// strings; false for an array of arrays.
static bool putValue(Bytes &out, const GgufValue &v) {
  using T = GgufValue::Type;
  switch (v.type) {
  case T::U8: out.put<uint8_t>(uint8_t(v.uint)); return true;
  case T::I8: out.put<int8_t>(int8_t(v.sint)); return true;
  case T::U16: out.put<uint16_t>(uint16_t(v.uint)); return true;
  case T::I16: out.put<int16_t>(int16_t(v.sint)); return true;
  case T::U32: out.put<uint32_t>(uint32_t(v.uint)); return true;
  case T::I32: out.put<int32_t>(int32_t(v.sint)); return true;
  case T::U64: out.put<uint64_t>(v.uint); return true;
  case T::I64: out.put<int64_t>(v.sint); return true;
  case T::F32: out.put<float>(float(v.real)); return true;
  case T::F64: out.put<double>(v.real); return true;
  case T::Bool: out.put<uint8_t>(v.boolean ? 1 : 0); return true;
  case T::String: out.putString(v.string); return true;
  case T::Array:
    if (v.elementType == T::Array)
      return false;
    out.put<uint32_t>(uint32_t(v.elementType));
    out.put<uint64_t>(v.array.size());
    for (const GgufValue &e : v.array) {
      GgufValue element = e;
      element.type = v.elementType;
      if (!putValue(out, element))
        return false;
    }
    return true;
  }
  return false;
}

uint32_t tfm::rt::ggmlTypeId(DType d) {
  switch (d) {
  case DType::F32: return 0;
  case DType::F16: return 1;
  case DType::Q4_0: return 2;
  case DType::Q4_1: return 3;
  case DType::Q5_0: return 6;
  case DType::Q5_1: return 7;
  case DType::Q8_0: return 8;
  case DType::Q2_K: return 10;
  case DType::Q3_K: return 11;
  case DType::Q4_K: return 12;
  case DType::Q5_K: return 13;
  case DType::Q6_K: return 14;
  case DType::BF16: return 30;
  case DType::Unsupported: break;
  }
  return 0;
}

namespace {

Status writeFile(const std::string &path, const std::vector<uint8_t> &head,
                 const std::vector<std::vector<uint8_t>> &chunks) {
  std::string tmp = path + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return Error(fmt::format("{}: cannot write: {}", path,
                             std::strerror(errno)));
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  for (const auto &c : chunks)
    ok = ok && std::fwrite(c.data(), 1, c.size(), f) == c.size();
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(fmt::format("{}: write failed", path));
  }
  return Status::ok();
}

} // namespace

void GgufWriter::add(const std::string &key, GgufValue::Type type,
                     const std::function<void(GgufValue &)> &set) {
  GgufValue v;
  v.type = type;
  set(v);
  metadata_.emplace_back(key, std::move(v));
}

void GgufWriter::addString(const std::string &key, const std::string &value) {
  add(key, GgufValue::Type::String, [&](GgufValue &v) { v.string = value; });
}

void GgufWriter::addU32(const std::string &key, uint32_t value) {
  add(key, GgufValue::Type::U32, [&](GgufValue &v) { v.uint = value; });
}

void GgufWriter::addF32(const std::string &key, float value) {
  add(key, GgufValue::Type::F32, [&](GgufValue &v) { v.real = value; });
}

void GgufWriter::addBool(const std::string &key, bool value) {
  add(key, GgufValue::Type::Bool, [&](GgufValue &v) { v.boolean = value; });
}

void GgufWriter::addStringArray(const std::string &key,
                                const std::vector<std::string> &values) {
  GgufValue v;
  v.type = GgufValue::Type::Array;
  v.elementType = GgufValue::Type::String;
  for (const std::string &s : values) {
    GgufValue e;
    e.type = GgufValue::Type::String;
    e.string = s;
    v.array.push_back(std::move(e));
  }
  metadata_.emplace_back(key, std::move(v));
}

void GgufWriter::addValue(const std::string &key, GgufValue value) {
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::addTensor(TensorData tensor) {
  tensors_.push_back(std::move(tensor));
}

Status GgufWriter::write(const std::string &path) const {
  constexpr size_t kAlignment = 32;
  Bytes head;
  head.data = {'G', 'G', 'U', 'F'};
  head.put<uint32_t>(3);
  head.put<uint64_t>(tensors_.size());
  head.put<uint64_t>(metadata_.size());
  for (const auto &[key, v] : metadata_) {
    head.putString(key);
    head.put<uint32_t>(uint32_t(v.type));
    if (!putValue(head, v))
      return Error("GgufWriter: '" + key + "' has a nested array");
  }
  std::vector<std::vector<uint8_t>> chunks;
  uint64_t offset = 0;
  for (const TensorData &t : tensors_) {
    head.putString(t.name);
    head.put<uint32_t>(uint32_t(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it)
      head.put<uint64_t>(uint64_t(*it));
    head.put<uint32_t>(ggmlTypeId(t.dtype));
    head.put<uint64_t>(offset);
    std::vector<uint8_t> bytes = encode(t);
    bytes.resize((bytes.size() + kAlignment - 1) / kAlignment * kAlignment, 0);
    offset += bytes.size();
    chunks.push_back(std::move(bytes));
  }
  head.pad(kAlignment);
  return writeFile(path, head.data, chunks);
}

Status tfm::rt::writeSafetensors(const std::string &path,
                                 const std::vector<TensorData> &tensors) {
  std::string header = "{";
  std::vector<std::vector<uint8_t>> chunks;
  uint64_t offset = 0;
  for (const TensorData &t : tensors) {
    const char *dtype = t.dtype == DType::F32   ? "F32"
                        : t.dtype == DType::F16 ? "F16"
                                                : "BF16";
    std::vector<uint8_t> bytes = encode(t);
    header += fmt::format("{}{}: {{\"dtype\": \"{}\", \"shape\": [{}], "
                          "\"data_offsets\": [{}, {}]}}",
                          header.size() > 1 ? ", " : "", jsonQuote(t.name),
                          dtype, fmt::join(t.shape, ", "), offset,
                          offset + bytes.size());
    offset += bytes.size();
    chunks.push_back(std::move(bytes));
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  Bytes head;
  head.put<uint64_t>(header.size());
  head.data.insert(head.data.end(), header.begin(), header.end());
  return writeFile(path, head.data, chunks);
}
