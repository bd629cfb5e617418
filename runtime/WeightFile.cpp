//===- WeightFile.cpp - mmap, safetensors, and format detection -*- C++ -*-===//

#include "runtime/WeightFile.h"
#include "runtime/Gguf.h"
#include "runtime/Json.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tfm::rt;
namespace fs = std::filesystem;

Expected<std::shared_ptr<MappedFile>>
MappedFile::open(const std::string &path) {
  // Non-blocking, so that a FIFO is refused below instead of waiting for a
  // writer (it changes nothing for a regular file).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return Error(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error(fmt::format("{}: cannot stat: {}", path, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(fmt::format("{}: not a regular file ({})", path,
                             S_ISFIFO(st.st_mode)  ? "a pipe"
                             : S_ISDIR(st.st_mode) ? "a folder"
                             : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)
                                 ? "a device"
                                 : "not a file with data"));
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = uint64_t(st.st_size);
  if (file->size_ > 0) {
    void *p = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return Error(fmt::format("{}: cannot map: {}", path, std::strerror(e)));
    }
    file->data_ = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
  return file;
}

MappedFile::~MappedFile() {
  if (data_)
    munmap(const_cast<uint8_t *>(data_), size_);
}

std::optional<DType> tfm::rt::storageNamed(std::string_view name) {
  for (DType t : kStorageTypes)
    if (storageName(t) == name)
      return t;
  return std::nullopt;
}

std::string_view tfm::rt::storageName(DType storage) {
  switch (storage) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::Q8_0: return "q8_0";
  case DType::Q4_0: return "q4_0";
  case DType::Q4_1: return "q4_1";
  case DType::Q5_0: return "q5_0";
  case DType::Q5_1: return "q5_1";
  case DType::Q2_K: return "q2_K";
  case DType::Q3_K: return "q3_K";
  case DType::Q4_K: return "q4_K";
  case DType::Q5_K: return "q5_K";
  case DType::Q6_K: return "q6_K";
  case DType::Unsupported: break;
  }
  return "unsupported";
}

int64_t tfm::rt::shapeNumel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > INT64_MAX / d))
      return -1;
    n *= d;
  }
  return n;
}

int64_t StoredTensor::numel() const { return shapeNumel(shape); }

std::string tfm::rt::shapeString(const std::vector<int64_t> &shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

//===----------------------------------------------------------------------===//
// safetensors
//===----------------------------------------------------------------------===//

namespace {

/// Tensors of one or more safetensors files, by name.
class SafetensorsSet : public WeightSource {
public:
  explicit SafetensorsSet(std::string path) : path_(std::move(path)) {}
  WeightFormat format() const override { return WeightFormat::Safetensors; }
  const std::string &path() const override { return path_; }
  const StoredTensor *find(const std::string &name) const override {
    auto it = tensors_.find(name);
    return it == tensors_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> tensorNames() const override {
    std::vector<std::string> names;
    for (const auto &[name, t] : tensors_)
      names.push_back(name);
    return names;
  }

  /// Parses the header of `file` and adds its tensors; with `only`, keeps
  /// just the tensors the shard index assigns to this file.
  Status addFile(const std::string &file,
                 const std::map<std::string, std::string> *only = nullptr);

private:
  std::string path_;
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::map<std::string, StoredTensor> tensors_;
};

struct SafetensorsDType {
  const char *name;
  DType dtype;
  int64_t size;
};

constexpr SafetensorsDType kSafetensorsDTypes[] = {
    {"F32", DType::F32, 4},          {"F16", DType::F16, 2},
    {"BF16", DType::BF16, 2},        {"F64", DType::Unsupported, 8},
    {"I64", DType::Unsupported, 8},  {"I32", DType::Unsupported, 4},
    {"I16", DType::Unsupported, 2},  {"I8", DType::Unsupported, 1},
    {"U8", DType::Unsupported, 1},   {"BOOL", DType::Unsupported, 1},
    {"F8_E4M3", DType::Unsupported, 1}, {"F8_E5M2", DType::Unsupported, 1},
    {"U16", DType::Unsupported, 2},  {"U32", DType::Unsupported, 4},
    {"U64", DType::Unsupported, 8},
};

/// A tensor entry's `data_offsets`: two integers, or nullopt.
std::optional<std::pair<int64_t, int64_t>> dataOffsets(const Json &entry) {
  const Json *offsets = jsonMember(entry, "data_offsets");
  if (!offsets || !offsets->is_array() || offsets->size() != 2)
    return std::nullopt;
  auto begin = jsonInt((*offsets)[0]), end = jsonInt((*offsets)[1]);
  if (!begin || !end)
    return std::nullopt;
  return std::pair(*begin, *end);
}

/// The data section must be the tensors' bytes exactly, each tensor once,
/// in the order of its offsets: no overlap (two tensors sharing bytes), no
/// hole, nothing after the last. The format requires it, and it leaves no
/// room to hide other content in a weight file.
Status checkLayout(const std::string &file, const Json &header,
                   uint64_t dataSize) {
  struct Range {
    int64_t begin, end;
    const std::string *name;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    if (name == "__metadata__")
      continue;
    auto range = dataOffsets(*it);
    if (!range)
      continue; // reported with the tensor
    auto [begin, end] = *range;
    if (begin < 0 || end < begin)
      return Error(fmt::format("{}: tensor '{}': invalid data_offsets [{}, {})",
                               file, name, begin, end));
    ranges.push_back({begin, end, &name});
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  int64_t at = 0;
  const std::string *previous = nullptr;
  for (const Range &r : ranges) {
    if (r.begin < at)
      return Error(fmt::format("{}: tensors '{}' and '{}' overlap (bytes "
                               "[{}, {}) of the data section)",
                               file, *previous, *r.name, r.begin,
                               std::min(at, r.end)));
    if (r.begin > at)
      return Error(fmt::format("{}: bytes [{}, {}) of the data section belong "
                               "to no tensor (before '{}')",
                               file, at, r.begin, *r.name));
    at = std::max(at, r.end);
    previous = r.name;
  }
  if (uint64_t(at) < dataSize)
    return Error(fmt::format("{}: {} bytes after the last tensor's data belong "
                             "to no tensor",
                             file, dataSize - uint64_t(at)));
  return Status::ok();
}

Status SafetensorsSet::addFile(const std::string &file,
                               const std::map<std::string, std::string> *only) {
  auto mapped = MappedFile::open(file);
  if (!mapped)
    return mapped.error();
  std::shared_ptr<MappedFile> f = mapped.take();
  if (f->size() < 8)
    return Error(fmt::format("{}: truncated safetensors file ({} bytes, the "
                             "header length alone takes 8)",
                             file, f->size()));
  uint64_t headerLen;
  std::memcpy(&headerLen, f->data(), 8);
  if (headerLen > f->size() - 8)
    return Error(fmt::format("{}: header length {} exceeds the file size {}; "
                             "the file is truncated or not safetensors",
                             file, headerLen, f->size()));
  auto header = parseJson(std::string_view(
      reinterpret_cast<const char *>(f->data() + 8), headerLen));
  if (!header)
    return Error(fmt::format("{}: corrupt safetensors header: {}", file,
                             header.error().message()));
  if (!header->is_object())
    return Error(fmt::format("{}: safetensors header is not a JSON object",
                             file));
  const uint8_t *dataStart = f->data() + 8 + headerLen;
  uint64_t dataSize = f->size() - 8 - headerLen;
  for (auto it = header->begin(); it != header->end(); ++it) {
    const std::string &name = it.key();
    const Json &entry = *it;
    if (name == "__metadata__")
      continue;
    if (only) {
      auto it = only->find(name);
      if (it == only->end() || it->second != file)
        continue;
    }
    auto bad = [&](const std::string &why) {
      return Error(fmt::format("{}: tensor '{}': {}", file, name, why));
    };
    const Json *dtype = jsonMember(entry, "dtype");
    const Json *shape = jsonMember(entry, "shape");
    auto range = dataOffsets(entry);
    if (!dtype || !dtype->is_string())
      return bad("missing string field 'dtype'");
    if (!shape || !shape->is_array())
      return bad("missing array field 'shape'");
    if (!range)
      return bad("'data_offsets' must be two integers");
    StoredTensor t;
    t.name = name;
    t.file = file;
    t.dtypeName = dtype->get<std::string>();
    int64_t elemSize = 0;
    for (const SafetensorsDType &d : kSafetensorsDTypes)
      if (t.dtypeName == d.name) {
        t.dtype = d.dtype;
        elemSize = d.size;
      }
    if (elemSize == 0)
      return bad("unknown dtype '" + t.dtypeName + "'");
    for (const Json &d : *shape) {
      std::optional<int64_t> size = jsonInt(d);
      if (!size || *size < 0)
        return bad("shape entries must be non-negative integers");
      t.shape.push_back(*size);
    }
    int64_t numel = t.numel();
    auto [begin, end] = *range;
    if (numel < 0 || numel > INT64_MAX / elemSize)
      return bad(fmt::format("shape {} of {} is too large", shapeString(t.shape),
                             t.dtypeName));
    if (begin < 0 || end < begin)
      return bad(fmt::format("invalid data_offsets [{}, {})", begin, end));
    if (uint64_t(end) > dataSize)
      return bad(fmt::format("data [{}, {}) extends past the end of the data "
                             "section ({} bytes); the file is truncated",
                             begin, end, dataSize));
    if (uint64_t(end - begin) != uint64_t(numel) * uint64_t(elemSize))
      return bad(fmt::format("data_offsets span {} bytes but shape {} of {} "
                             "needs {}",
                             end - begin, shapeString(t.shape), t.dtypeName,
                             numel * elemSize));
    t.data = dataStart + begin;
    t.nbytes = uint64_t(end - begin);
    if (tensors_.count(name))
      return bad("appears in more than one file");
    tensors_.emplace(name, std::move(t));
  }
  // After each tensor's own checks, so that a bad entry is named first.
  if (Status s = checkLayout(file, *header, dataSize); !s)
    return s;
  files_.push_back(std::move(f));
  return Status::ok();
}

} // namespace

Expected<std::unique_ptr<WeightSource>>
tfm::rt::openSafetensors(const std::string &path) {
  auto set = std::make_unique<SafetensorsSet>(path);
  if (Status s = set->addFile(path); !s)
    return Error(s.message());
  return std::unique_ptr<WeightSource>(std::move(set));
}

Expected<std::unique_ptr<WeightSource>>
tfm::rt::openSafetensorsIndex(const std::string &indexPath) {
  auto mapped = MappedFile::open(indexPath);
  if (!mapped)
    return mapped.error();
  const MappedFile &f = **mapped;
  auto index = parseJson(
      std::string_view(reinterpret_cast<const char *>(f.data()), f.size()));
  if (!index)
    return Error(fmt::format("{}: invalid JSON: {}", indexPath,
                             index.error().message()));
  const Json *map = jsonMember(*index, "weight_map");
  if (!map || !map->is_object())
    return Error(fmt::format("{}: missing object 'weight_map'", indexPath));
  fs::path dir = fs::path(indexPath).parent_path();
  std::map<std::string, std::string> owner; // tensor -> shard path
  std::vector<std::string> shards;
  for (auto it = map->begin(); it != map->end(); ++it) {
    const std::string &name = it.key();
    if (!it->is_string())
      return Error(fmt::format("{}: weight_map['{}'] must be a file name",
                               indexPath, name));
    std::string file = it->get<std::string>();
    // A shard is a file beside the index: no folders, no way out of the
    // checkpoint's folder.
    if (file.empty() || file == "." || file == ".." ||
        file.find('/') != std::string::npos ||
        file.find('\0') != std::string::npos)
      return Error(fmt::format("{}: weight_map['{}'] names '{}', which is not "
                               "a file in the checkpoint's folder",
                               indexPath, name, file));
    std::string shard = (dir / file).string();
    owner[name] = shard;
    if (std::find(shards.begin(), shards.end(), shard) == shards.end())
      shards.push_back(shard);
  }
  auto set = std::make_unique<SafetensorsSet>(indexPath);
  for (const std::string &shard : shards)
    if (Status s = set->addFile(shard, &owner); !s)
      return Error(s.message());
  for (const auto &[name, shard] : owner)
    if (!set->find(name))
      return Error(fmt::format("{}: tensor '{}' is listed for {} but that "
                               "file does not hold it",
                               indexPath, name, shard));
  return std::unique_ptr<WeightSource>(std::move(set));
}

Expected<std::unique_ptr<WeightSource>>
tfm::rt::openWeights(const std::string &path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::path dir(path);
    if (fs::exists(dir / "model.safetensors.index.json"))
      return openSafetensorsIndex((dir / "model.safetensors.index.json").string());
    if (fs::exists(dir / "model.safetensors"))
      return openSafetensors((dir / "model.safetensors").string());
    std::vector<fs::path> ggufs;
    for (const auto &entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".gguf")
        ggufs.push_back(entry.path());
    if (ggufs.size() == 1)
      return openWeights(ggufs[0].string());
    return Error(fmt::format("{}: directory holds no model.safetensors, no "
                             "model.safetensors.index.json and {} .gguf files "
                             "(expected exactly one)",
                             path, ggufs.size()));
  }
  auto mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.error();
  const MappedFile &f = **mapped;
  if (f.size() >= 4 && std::memcmp(f.data(), "GGUF", 4) == 0) {
    auto gguf = GgufFile::open(path);
    if (!gguf)
      return gguf.error();
    return std::unique_ptr<WeightSource>(gguf.take());
  }
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".json")
    return openSafetensorsIndex(path);
  return openSafetensors(path);
}
