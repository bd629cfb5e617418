//===- ThreadPoolTest.cpp - the kernels' parallel loops --------------------===//

#include "runtime/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using namespace tfm::rt;

namespace {

/// Counts how often each task ran, and on which threads.
struct Tally {
  std::vector<std::atomic<int>> runs;
  std::atomic<int> failAt{-1};
  std::mutex mutex;
  std::vector<std::thread::id> threads;
  explicit Tally(int n) : runs(n) {}
};

int countTask(void *, int i, uint8_t *closure) {
  Tally &t = *reinterpret_cast<Tally *>(closure);
  t.runs[i].fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    t.threads.push_back(std::this_thread::get_id());
  }
  // Long enough that a second thread takes some of the tasks.
  for (volatile int spin = 0; spin < 20000; ++spin) {
  }
  return i == t.failAt.load() ? 7 : 0;
}

void expectEachOnce(const Tally &t, int from) {
  for (int i = 0; i < int(t.runs.size()); ++i)
    EXPECT_EQ(t.runs[i].load(), i >= from ? 1 : 0) << "task " << i;
}

} // namespace

TEST(ThreadPool, RunsEveryTaskOnceAtEachThreadCount) {
  for (int threads : {1, 2, 3, 5}) {
    setPoolThreads(threads);
    EXPECT_EQ(poolThreads(), threads);
    for (int size : {1, 2, 7, 300}) {
      Tally t(size + 4);
      ASSERT_EQ(poolParallelFor(nullptr, countTask, 4, size,
                                reinterpret_cast<uint8_t *>(&t)),
                0);
      expectEachOnce(t, 4);
    }
  }
  setPoolThreads(2);
}

TEST(ThreadPool, UsesTheWorkersOnLongLoops) {
  setPoolThreads(2);
  Tally t(4000);
  ASSERT_EQ(poolParallelFor(nullptr, countTask, 0, 4000,
                            reinterpret_cast<uint8_t *>(&t)),
            0);
  expectEachOnce(t, 0);
  std::sort(t.threads.begin(), t.threads.end());
  size_t distinct =
      std::unique(t.threads.begin(), t.threads.end()) - t.threads.begin();
  // The loop lasts tens of milliseconds: the worker takes some of it.
  EXPECT_EQ(distinct, 2u);
}

TEST(ThreadPool, LoopsLongerThanOneWordCountsAreSplit) {
  setPoolThreads(2);
  const int size = 70000; // more tasks than the state word's 16 bits hold
  Tally t(size);
  ASSERT_EQ(poolParallelFor(nullptr, [](void *, int i, uint8_t *c) {
              reinterpret_cast<Tally *>(c)->runs[i].fetch_add(1);
              return 0;
            }, 0, size, reinterpret_cast<uint8_t *>(&t)),
            0);
  expectEachOnce(t, 0);
}

TEST(ThreadPool, ReportsATaskFailure) {
  setPoolThreads(2);
  Tally t(100);
  t.failAt = 37;
  EXPECT_EQ(poolParallelFor(nullptr, countTask, 0, 100,
                            reinterpret_cast<uint8_t *>(&t)),
            7);
  // The next loop starts clean.
  Tally u(100);
  EXPECT_EQ(poolParallelFor(nullptr, countTask, 0, 100,
                            reinterpret_cast<uint8_t *>(&u)),
            0);
  expectEachOnce(u, 0);
}

namespace {
struct Nested {
  std::atomic<int> inner{0};
};
int innerTask(void *, int, uint8_t *c) {
  reinterpret_cast<Nested *>(c)->inner.fetch_add(1);
  return 0;
}
int outerTask(void *, int, uint8_t *c) {
  return poolParallelFor(nullptr, innerTask, 0, 10, c);
}
} // namespace

TEST(ThreadPool, RunsLoopsStartedInsideTasks) {
  setPoolThreads(2);
  Nested n;
  ASSERT_EQ(poolParallelFor(nullptr, outerTask, 0, 50,
                            reinterpret_cast<uint8_t *>(&n)),
            0);
  EXPECT_EQ(n.inner.load(), 500);
}

TEST(ThreadPool, LoopsFromSeveralThreadsAtOnce) {
  setPoolThreads(2);
  std::vector<std::unique_ptr<Tally>> tallies;
  for (int k = 0; k < 4; ++k)
    tallies.push_back(std::make_unique<Tally>(500));
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int k = 0; k < 4; ++k)
    callers.emplace_back([&, k] {
      for (int rep = 0; rep < 20; ++rep)
        if (poolParallelFor(nullptr, [](void *, int i, uint8_t *c) {
              reinterpret_cast<Tally *>(c)->runs[i].fetch_add(1);
              return 0;
            }, 0, 500, reinterpret_cast<uint8_t *>(tallies[k].get())) != 0)
          ++failures;
    });
  for (std::thread &c : callers)
    c.join();
  EXPECT_EQ(failures.load(), 0);
  for (const std::unique_ptr<Tally> &t : tallies)
    for (int i = 0; i < 500; ++i)
      EXPECT_EQ(t->runs[i].load(), 20);
}

TEST(ThreadPool, WorkersWakeAfterSleeping) {
  setPoolThreads(2);
  for (int round = 0; round < 3; ++round) {
    // Longer than the workers spin, so they are asleep when the loop comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    Tally t(200);
    ASSERT_EQ(poolParallelFor(nullptr, countTask, 0, 200,
                              reinterpret_cast<uint8_t *>(&t)),
              0);
    expectEachOnce(t, 0);
  }
}
