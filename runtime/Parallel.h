//===- Parallel.h - run independent jobs on every core ----------*- C++ -*-===//

#ifndef TFM_RUNTIME_PARALLEL_H
#define TFM_RUNTIME_PARALLEL_H

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace tfm::rt {

/// Calls job(0) ... job(count - 1), each once, spread over up to one thread
/// per core (the caller's thread is one of them). Jobs must be independent.
template <typename Job> void parallelFor(size_t count, Job job) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++)
      job(i);
  };
  size_t threads = std::min<size_t>(
      std::max(1u, std::thread::hardware_concurrency()), count);
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) {
    // A thread the system cannot give (memory or thread limits) leaves its
    // share to the threads there are.
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error &) {
      break;
    }
  }
  worker();
  for (std::thread &t : pool)
    t.join();
}

} // namespace tfm::rt

#endif // TFM_RUNTIME_PARALLEL_H
