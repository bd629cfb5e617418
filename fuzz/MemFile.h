//===- MemFile.h - a fuzzer input as a file ---------------------*- C++ -*-===//
//
// The readers take paths (they map files), so each input becomes an
// in-memory file whose /proc/self/fd path they open like any other.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FUZZ_MEMFILE_H
#define TFM_FUZZ_MEMFILE_H

#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace tfm::fuzz {

class MemFile {
public:
  MemFile(const uint8_t *data, size_t size) {
    fd_ = memfd_create("tfm-fuzz", MFD_CLOEXEC);
    if (fd_ < 0)
      std::abort();
    for (size_t done = 0; done < size;) {
      ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0)
        std::abort();
      done += size_t(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile &) = delete;
  MemFile &operator=(const MemFile &) = delete;

  const std::string &path() const { return path_; }

private:
  int fd_;
  std::string path_;
};

} // namespace tfm::fuzz

#endif // TFM_FUZZ_MEMFILE_H
