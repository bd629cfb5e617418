//===- TempDir.h - a scratch directory per test -----------------*- C++ -*-===//

#ifndef TFM_TEST_UNIT_TEMPDIR_H
#define TFM_TEST_UNIT_TEMPDIR_H

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tfm::test {

/// A fresh directory removed at the end of the test.
class TempDir {
public:
  TempDir() {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("tfm-") + info->test_suite_name() + "-" +
             info->name() + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }

  std::string file(const std::string &name) const {
    return (path_ / name).string();
  }

private:
  std::filesystem::path path_;
};

inline std::vector<char> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline void writeBytes(const std::string &path, const std::vector<char> &b) {
  std::ofstream out(path, std::ios::binary);
  out.write(b.data(), std::streamsize(b.size()));
}

/// Keeps the first `size` bytes of a file.
inline void truncateFile(const std::string &path, size_t size) {
  std::vector<char> bytes = readBytes(path);
  bytes.resize(size);
  writeBytes(path, bytes);
}

/// Values 0.01 * (i - n/2) + offset, distinct and exactly representable in
/// neither f16 nor bf16, so conversions are exercised.
inline std::vector<float> ramp(size_t n, float offset = 0.0f) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = 0.01f * (float(i) - float(n) / 2) + offset;
  return v;
}

} // namespace tfm::test

#endif // TFM_TEST_UNIT_TEMPDIR_H
