//===- Npy.cpp - .npy files of float32 matrices -----------------*- C++ -*-===//

#include "runtime/Npy.h"
#include "runtime/WeightFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

using namespace tfm::rt;

Status tfm::rt::writeNpy(const std::string &path, const float *data,
                         int64_t rows, int64_t cols) {
  std::string header = fmt::format(
      "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows,
      cols);
  // Magic (6) + version (2) + length (2) + header + '\n', padded to 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::string tmp = path + ".tmp";
  FILE *f = std::fopen(tmp.c_str(), "wb");
  if (!f)
    return Error(fmt::format("{}: cannot write: {}", path,
                             std::strerror(errno)));
  uint16_t len = uint16_t(header.size());
  bool ok = std::fwrite("\x93NUMPY\x01\x00", 1, 8, f) == 8 &&
            std::fwrite(&len, 2, 1, f) == 1 &&
            std::fwrite(header.data(), 1, header.size(), f) == header.size() &&
            std::fwrite(data, sizeof(float), size_t(rows * cols), f) ==
                size_t(rows * cols);
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(fmt::format("{}: write failed: {}", path,
                             std::strerror(errno)));
  }
  return Status::ok();
}

Expected<NpyMatrix> tfm::rt::readNpy(const std::string &path) {
  auto mapped = MappedFile::open(path);
  if (!mapped)
    return mapped.error();
  const MappedFile &f = **mapped;
  const char *p = reinterpret_cast<const char *>(f.data());
  if (f.size() < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0)
    return Error(fmt::format("{}: not an .npy file", path));
  uint16_t len;
  std::memcpy(&len, p + 8, 2);
  if (p[6] != 1 || 10u + len > f.size())
    return Error(fmt::format("{}: unsupported or truncated .npy header", path));
  std::string header(p + 10, len);
  if (header.find("'descr': '<f4'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos)
    return Error(fmt::format("{}: expected a C-order float32 array", path));
  NpyMatrix m;
  size_t shape = header.find("'shape': (");
  if (shape == std::string::npos ||
      std::sscanf(header.c_str() + shape, "'shape': (%ld, %ld)", &m.rows,
                  &m.cols) != 2)
    return Error(fmt::format("{}: expected a 2-D shape", path));
  uint64_t bytes = uint64_t(m.rows * m.cols) * 4;
  if (10u + len + bytes != f.size())
    return Error(fmt::format("{}: data size does not match shape ({}, {})",
                             path, m.rows, m.cols));
  m.data.resize(size_t(m.rows * m.cols));
  std::memcpy(m.data.data(), p + 10 + len, bytes);
  return m;
}
