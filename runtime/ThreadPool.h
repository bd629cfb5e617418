//===- ThreadPool.h - the kernels' parallel loops on spinning workers -*- C++ -*-===//
//
// A decode step runs dozens of small parallel loops, each tens of
// microseconds long. Halide's own pool puts its workers to sleep between
// loops, and waking one costs about as much as a loop's work, so a second
// thread gained nothing on the small products. This pool keeps its workers
// spinning for a while after each loop (as llama.cpp's do between
// operations) and lets them sleep only when no loop has come for longer.
// Each thread starts on the same share of every loop (the t-th of its tasks
// in equal runs), so at every decode step a core streams the rows it read
// at the last one, from its own caches; tasks left in a share when its
// owner is late are taken from its back by the others. Measured on the
// 2-core EPYC (110M q4_0, decode): Halide's pool, whose workers sleep and
// take tasks in turn, decoded no faster on 2 threads than on 1; this pool
// 1.7x faster (bench/RESULTS.md).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_THREADPOOL_H
#define TFM_RUNTIME_THREADPOOL_H

#include <HalideRuntime.h>

namespace tfm::rt {

/// The number of threads a parallel loop runs on, the caller's included
/// (at least 1). Workers are started or stopped to match.
void setPoolThreads(int threads);
int poolThreads();

/// Runs f(userContext, i, closure) for i in [min, min + size), spread over
/// the pool; the signature of halide_do_par_for. Returns the first nonzero
/// result a task gave, or 0. A call made from inside a task, or while
/// another thread's loop holds the pool, runs on the calling thread alone.
/// Programs give it to halide_set_custom_do_par_for.
int poolParallelFor(void *userContext, halide_task_t f, int min, int size,
                    uint8_t *closure);

} // namespace tfm::rt

#endif // TFM_RUNTIME_THREADPOOL_H
