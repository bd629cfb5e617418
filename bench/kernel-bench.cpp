//===- kernel-bench.cpp - tfm kernels next to OpenBLAS and memory speed -===//
//
// Times one projection kernel exactly as tfmc compiles it (the graph op,
// tfm-form-kernels, the CPU schedule template; JIT instead of AOT, same
// code) next to OpenBLAS on the same shape, and measures memory bandwidth
// with a STREAM-style triad. Prints one JSON object per measurement.
//
//   kernel-bench gemm S N K [--param name=value]... [--threads T]
//                           [--no-avx512]
//   kernel-bench gemv N K   [--param name=value]... [--threads T] [--cold]
//
// --cold cycles through enough copies of W (256 MiB) that every call reads
// it from memory, as decode does with a model larger than the caches.
// --no-avx512 keeps a GEMM on AVX2 (tfmc --avx512=off).
//   kernel-bench triad      [--threads T]
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/halide/Codegen.h"
#include "compiler/halide/Pipeline.h"
#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" void openblas_set_num_threads(int);

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Median seconds of `reps` timed runs after `warmup` untimed ones.
double median(const std::function<void()> &f, int reps = 15, int warmup = 3) {
  for (int i = 0; i < warmup; ++i)
    f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    double t0 = now();
    f();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// The kernel tfmc forms for one projection, with schedule overrides.
struct Projection {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::tfm::KernelOp kernel;

  Projection(bool decode, int64_t n, int64_t k,
             const std::vector<std::pair<std::string, int64_t>> &overrides,
             bool avx512) {
    mlir::DialectRegistry registry;
    tfm::registerAllTfmDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    std::string rows = decode ? "1" : "?";
    std::string x = "tensor<" + rows + "x" + std::to_string(k) + "xf32>";
    std::string w = "tensor<" + std::to_string(n) + "x" + std::to_string(k) +
                    "xf32>";
    std::string y = "tensor<" + rows + "x" + std::to_string(n) + "xf32>";
    std::string text = "func.func @" + std::string(decode ? "decode" : "prefill") +
                       "(%x: " + x + ", %w: " + w + ") -> " + y +
                       " {\n  %y = tfm.linear %x, %w : " + x + ", " + w +
                       " -> " + y + "\n  return %y : " + y + "\n}";
    module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    mlir::PassManager pm(&context);
    mlir::tfm::KernelTarget target;
    if (avx512 && tfm::halide::hostWideIsa())
      target.wideIsa = "avx512";
    mlir::tfm::buildKernelPipeline(pm, target);
    if (mlir::failed(pm.run(*module)))
      std::abort();
    module->walk([&](mlir::tfm::KernelOp op) { kernel = op; });
    for (auto &[name, value] : overrides) {
      auto changed =
          mlir::tfm::withScheduleParam(kernel.getScheduleAttr(), name, value);
      if (mlir::failed(changed)) {
        std::fprintf(stderr, "kernel-bench: --param %s=%lld does not fit the "
                             "kernel's schedule\n",
                     name.c_str(), (long long)value);
        std::exit(2);
      }
      kernel.setScheduleAttr(*changed);
    }
  }
};

void printJson(const char *what, const std::string &shape, int threads,
               double seconds, double flops, double bytes) {
  std::printf("{\"bench\": \"%s\", \"shape\": \"%s\", \"threads\": %d, "
              "\"ms\": %.4f, \"gflops\": %.2f, \"gbytes_per_s\": %.2f}\n",
              what, shape.c_str(), threads, seconds * 1e3, flops / seconds / 1e9,
              bytes / seconds / 1e9);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kernel-bench gemm S N K | gemv N K | triad "
                         "[--param name=value]... [--threads T]\n");
    return 2;
  }
  std::string mode = argv[1];
  std::vector<int64_t> dims;
  std::vector<std::pair<std::string, int64_t>> overrides;
  int threads = int(std::thread::hardware_concurrency());
  bool cold = false, avx512 = true;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--cold") {
      cold = true;
    } else if (a == "--no-avx512") {
      avx512 = false;
    } else if (a == "--threads" && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (a == "--param" && i + 1 < argc) {
      std::string p = argv[++i];
      size_t eq = p.find('=');
      overrides.push_back({p.substr(0, eq), std::atoll(p.c_str() + eq + 1)});
    } else {
      dims.push_back(std::atoll(a.c_str()));
    }
  }
  // The JIT runtime sizes its thread pool from HL_NUM_THREADS.
  setenv("HL_NUM_THREADS", std::to_string(threads).c_str(), 1);
  openblas_set_num_threads(threads);

  if (mode == "triad") {
    // STREAM triad on arrays far larger than the caches; bytes counted as
    // STREAM does (two reads, one write).
    size_t n = size_t(1) << 25;
    std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
    std::vector<std::thread> pool;
    auto triad = [&] {
      std::vector<std::thread> workers;
      for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
          size_t lo = n * size_t(t) / size_t(threads),
                 hi = n * size_t(t + 1) / size_t(threads);
          for (size_t i = lo; i < hi; ++i)
            a[i] = b[i] + 3.0f * c[i];
        });
      for (auto &w : workers)
        w.join();
    };
    double s = median(triad, 9, 2);
    printJson("triad", std::to_string(n), threads, s, 2.0 * double(n),
              12.0 * double(n));
    return 0;
  }

  bool decode = mode == "gemv";
  if ((decode && dims.size() != 2) || (!decode && dims.size() != 3)) {
    std::fprintf(stderr, "kernel-bench: expected %s\n",
                 decode ? "gemv N K" : "gemm S N K");
    return 2;
  }
  int64_t s = decode ? 1 : dims[0], n = dims[decode ? 0 : 1],
          k = dims[decode ? 1 : 2];
  std::string shape = std::to_string(s) + "x" + std::to_string(n) + "x" +
                      std::to_string(k);
  size_t copies = cold ? std::max<size_t>(1, (size_t(256) << 20) /
                                                  size_t(4 * n * k))
                       : 1;
  std::vector<float> x = randomVector(size_t(s * k), 1),
                     w = randomVector(size_t(n * k) * copies, 2),
                     y(size_t(s * n));
  size_t turn = 0;
  double flops = 2.0 * double(s) * double(n) * double(k);
  double bytes = 4.0 * double(s * k + n * k + s * n);

  Projection proj(decode, n, k, overrides, avx512);
  tfm::halide::KernelPipeline p = tfm::halide::buildPipeline(
      proj.kernel, tfm::halide::algorithmOptions(proj.kernel));
  Halide::Target target(
      tfm::halide::resolveTarget(proj.kernel.getTargetAttr()));
  tfm::halide::scheduleCpu(p, proj.kernel.getScheduleAttr(), target);
  Halide::Buffer<float> xb(x.data(), int(k), int(s)),
      yb(y.data(), int(n), int(s));
  std::vector<Halide::Buffer<float>> wbs;
  for (size_t c = 0; c < copies; ++c)
    wbs.emplace_back(w.data() + c * size_t(n * k), int(k), int(n));
  p.images[0].set(xb);
  p.images[1].set(wbs[0]);
  p.output.compile_jit(target);
  double tfm = median([&] {
    p.images[1].set(wbs[turn++ % copies]);
    p.output.realize(yb, target);
  });
  printJson(decode ? "tfm-gemv" : "tfm-gemm", shape, threads, tfm, flops,
            bytes);

  // OpenBLAS on the same shape and layouts: Y[s, n] = X[s, k] · W[n, k]ᵀ.
  double blas;
  if (decode)
    blas = median([&] {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, int(n), int(k), 1.0f,
                  w.data() + (turn++ % copies) * size_t(n * k), int(k),
                  x.data(), 1, 0.0f, y.data(), 1);
    });
  else
    blas = median([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(s), int(n),
                  int(k), 1.0f, x.data(), int(k), w.data(), int(k), 0.0f,
                  y.data(), int(n));
    });
  printJson(decode ? "openblas-sgemv" : "openblas-sgemm", shape, threads,
            blas, flops, bytes);
  return 0;
}
