//===- ThreadPool.cpp - the kernels' parallel loops on spinning workers ---===//

#include "runtime/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

using namespace tfm::rt;

namespace {

/// How long an idle worker spins before it sleeps: longer than the gaps
/// between one decode step's loops and between two steps, short enough that
/// a finished program's workers leave the cores at once.
constexpr std::chrono::microseconds kSpinTime{2000};

/// Each thread's share of the loop is one 64-bit word: the loop's
/// generation (32 bits), the share's next task and its end (16 bits each).
/// The owner takes tasks from the front, a thread done with its own share
/// takes them from the back, each with one compare-and-swap that names the
/// generation: a claim that succeeds proves the loop unfinished, so its
/// fields are still its own.
constexpr int kMaxTasks = 0xffff;
uint64_t pack(uint32_t generation, int next, int end) {
  return uint64_t(generation) << 32 | uint64_t(next) << 16 | uint64_t(end);
}
uint32_t generationOf(uint64_t s) { return uint32_t(s >> 32); }
int nextOf(uint64_t s) { return int(s >> 16 & 0xffff); }
int endOf(uint64_t s) { return int(s & 0xffff); }

struct alignas(64) Share {
  std::atomic<uint64_t> word{0};
};

inline void pause() {
#if defined(__x86_64__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// One step of a spinning wait: a pause, and every 64th time the core
/// offered to other threads. Where the machine runs more threads than it
/// has cores (two programs, or a test suite running two at once), the
/// thread waited for may be queued on this very core: without the yield
/// it would run only when the spinner's time slice ends, milliseconds
/// later, and one late task holds up the whole loop. Alone on its core the
/// yield returns at once.
inline void spinStep(unsigned spins) {
  if (spins % 64 == 0)
    std::this_thread::yield();
  else
    pause();
}

/// True on the pool's workers, and on a caller while its loop runs: a loop
/// started there runs on that thread alone.
thread_local bool insideLoop = false;

class Pool {
public:
  Pool() : threads_(int(std::max(1u, std::thread::hardware_concurrency()))) {}
  ~Pool() {
    std::lock_guard<std::mutex> lock(owner_);
    stopWorkers();
  }

  void setThreads(int threads) {
    std::lock_guard<std::mutex> lock(owner_);
    threads = std::max(1, threads);
    if (threads == threads_)
      return;
    stopWorkers();
    threads_ = threads;
  }
  int threads() {
    std::lock_guard<std::mutex> lock(owner_);
    return threads_;
  }

  int run(void *userContext, halide_task_t f, int min, int size,
          uint8_t *closure) {
    if (size <= 0)
      return 0;
    std::unique_lock<std::mutex> lock(owner_, std::try_to_lock);
    if (insideLoop || !lock.owns_lock() || threads_ == 1 || size == 1)
      return serial(userContext, f, min, size, closure);
    if (workers_.empty())
      startWorkers();
    int result = 0;
    for (int done = 0; done < size && result == 0; done += kMaxTasks) {
      int part = std::min(kMaxTasks, size - done);
      result = runPart(userContext, f, min + done, part, closure);
    }
    return result;
  }

private:
  static int serial(void *userContext, halide_task_t f, int min, int size,
                    uint8_t *closure) {
    for (int i = 0; i < size; ++i)
      if (int r = f(userContext, min + i, closure))
        return r;
    return 0;
  }

  // Called with owner_ held. Thread t's share is the t-th of `size` cut in
  // equal runs: each thread reads the same rows of a matrix at every call,
  // and finds them in its own caches.
  int runPart(void *userContext, halide_task_t f, int min, int size,
              uint8_t *closure) {
    task_ = f;
    userContext_ = userContext;
    closure_ = closure;
    min_ = min;
    completed_.store(0, std::memory_order_relaxed);
    error_.store(0, std::memory_order_relaxed);
    uint32_t generation = ++generation_;
    int n = int(participants_);
    for (int t = 0; t < n; ++t)
      shares_[t].word.store(pack(generation, int(int64_t(size) * t / n),
                                 int(int64_t(size) * (t + 1) / n)),
                            std::memory_order_relaxed);
    generationPublished_.store(generation, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      wake_.notify_all();
    }
    insideLoop = true;
    work(generation, 0);
    insideLoop = false;
    for (unsigned spins = 1;
         completed_.load(std::memory_order_acquire) < size; ++spins)
      spinStep(spins);
    return error_.load(std::memory_order_relaxed);
  }

  /// Runs the tasks of its own share of the given loop, then those left in
  /// the others' shares, until none is left unclaimed.
  void work(uint32_t generation, size_t self) {
    size_t n = participants_;
    for (size_t k = 0; k < n; ++k) {
      size_t t = (self + k) % n;
      std::atomic<uint64_t> &word = shares_[t].word;
      bool own = k == 0;
      uint64_t s = word.load(std::memory_order_acquire);
      while (generationOf(s) == generation && nextOf(s) < endOf(s)) {
        uint64_t claimed = own ? s + (uint64_t(1) << 16) : s - 1;
        if (!word.compare_exchange_weak(s, claimed, std::memory_order_acquire,
                                        std::memory_order_acquire))
          continue;
        int task = own ? nextOf(s) : endOf(s) - 1;
        if (int r = task_(userContext_, min_ + task, closure_)) {
          int none = 0;
          error_.compare_exchange_strong(none, r, std::memory_order_relaxed);
        }
        completed_.fetch_add(1, std::memory_order_release);
        s = word.load(std::memory_order_acquire);
      }
    }
  }

  /// `seen` is the last loop published before the worker was started: the
  /// next one may come before the thread runs.
  void worker(size_t self, uint32_t seen) {
    insideLoop = true;
    for (;;) {
      uint32_t generation = awaitLoop(seen);
      if (stop_.load(std::memory_order_acquire))
        return;
      seen = generation;
      work(generation, self);
    }
  }

  /// Waits for a loop newer than `seen` (or for stop): spinning first, then
  /// asleep. Returns the newer loop's generation.
  uint32_t awaitLoop(uint32_t seen) {
    auto start = std::chrono::steady_clock::now();
    for (unsigned spins = 1;; ++spins) {
      uint32_t g = generationPublished_.load(std::memory_order_acquire);
      if (g != seen || stop_.load(std::memory_order_relaxed))
        return g;
      spinStep(spins);
      if (spins % 256 == 0 &&
          std::chrono::steady_clock::now() - start > kSpinTime)
        break;
    }
    std::unique_lock<std::mutex> lock(sleepMutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t g = seen;
    wake_.wait(lock, [&] {
      g = generationPublished_.load(std::memory_order_seq_cst);
      return g != seen || stop_.load(std::memory_order_seq_cst);
    });
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
    return g;
  }

  // Called with owner_ held.
  void startWorkers() {
    stop_.store(false, std::memory_order_release);
    shares_.reset(new Share[size_t(threads_)]);
    for (int t = 1; t < threads_; ++t) {
      // A thread the system cannot give leaves its share to the others.
      try {
        workers_.emplace_back(
            [this, t, seen = generation_] { worker(size_t(t), seen); });
      } catch (const std::system_error &) {
        break;
      }
    }
    participants_ = workers_.size() + 1;
  }
  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(sleepMutex_);
      stop_.store(true, std::memory_order_seq_cst);
      wake_.notify_all();
    }
    for (std::thread &t : workers_)
      t.join();
    workers_.clear();
  }

  std::mutex owner_; // held while a loop runs, and while workers change
  int threads_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};

  std::atomic<uint32_t> generationPublished_{0};
  uint32_t generation_ = 0;
  std::unique_ptr<Share[]> shares_;
  size_t participants_ = 1;
  halide_task_t task_ = nullptr;
  void *userContext_ = nullptr;
  uint8_t *closure_ = nullptr;
  int min_ = 0;
  std::atomic<int> completed_{0};
  std::atomic<int> error_{0};

  std::mutex sleepMutex_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
};

Pool &pool() {
  static Pool instance;
  return instance;
}

} // namespace

void tfm::rt::setPoolThreads(int threads) { pool().setThreads(threads); }
int tfm::rt::poolThreads() { return pool().threads(); }

int tfm::rt::poolParallelFor(void *userContext, halide_task_t f, int min,
                             int size, uint8_t *closure) {
  return pool().run(userContext, f, min, size, closure);
}
