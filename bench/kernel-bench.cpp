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
//   kernel-bench decode-attention LEN [--kv-cache T] [--heads H]
//                [--kv-heads G] [--head-dim D] [--param name=value]...
//                [--threads T] [--cold]
//
// decode-attention times one decode step's cached attention (the fused
// tfm.cached_attention kernel, flash-decoding) over LEN cached positions
// of a cache stored as T (f32, f16, bf16, q8_0); bytes are the cache rows
// read. --cold cycles through enough caches (256 MiB) that each call reads
// its cache from memory, as the layers of a model do.
//
//   kernel-bench micro-gemm TYPE S N K [--isa amx|avx512|avx2]
//   kernel-bench micro-gemv TYPE N K [TASK] [--cold] [--isa avx2]
//   kernel-bench amx-peak
//
// micro-gemm times the prefill micro-kernels alone (tfm_gemm_bf16 for
// TYPE f16, bf16 or f32; tfm_gemm_q8_0 for q4_0, q8_0, q4_K or q6_K, K a
// multiple of 256 for the last two) on one thread, as
// the compiled GEMMs call them: one call per panel of 64 outputs, each
// over all S rows. --isa keeps them below AMX (avx512) or on AVX2.
// micro-gemv times a decode micro-kernel (TYPE q4_0, q8_0, q4_K, q6_K or
// f16) on one thread, TASK rows per call (all N by default), from cache or
// (--cold) from memory, and a plain loop reading the same bytes.
// amx-peak times back-to-back tile products on four accumulators (no
// memory operands), the tiles' peak for bf16 and int8 on one core.
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/StorageTypes.h"
#include "runtime/BfloatGemm.h"
#include "runtime/Half.h"
#include "runtime/Quant.h"
#include "runtime/QuantDot.h"
#include "runtime/QuantGemm.h"
#include "compiler/halide/Codegen.h"
#include "compiler/halide/Pipeline.h"
#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cblas.h>
#include <immintrin.h>

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

/// Sets the schedule parameters --param names on `kernel`; exits with a
/// message when one does not fit its schedule.
void overrideSchedule(
    mlir::tfm::KernelOp kernel,
    const std::vector<std::pair<std::string, int64_t>> &overrides) {
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
    overrideSchedule(kernel, overrides);
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

/// One decode step's cached attention, as tfmc forms and schedules it.
int decodeAttention(
    int64_t len, const std::string &storage, int64_t heads, int64_t kvHeads,
    int64_t hd, int threads, bool cold,
    const std::vector<std::pair<std::string, int64_t>> &overrides) {
  mlir::MLIRContext context;
  mlir::DialectRegistry registry;
  tfm::registerAllTfmDialects(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
  auto str = [](int64_t v) { return std::to_string(v); };
  int64_t capacity = len + 16, qw = heads * hd, kw = kvHeads * hd;
  std::string q = "tensor<1x" + str(qw) + "xf32>",
              k = "tensor<1x" + str(kw) + "xf32>";
  std::string cache = "!tfm.kv_cache<len = " + str(capacity) +
                      ", kv_heads = " + str(kvHeads) + ", head_dim = " +
                      str(hd) + ", v_head_dim = " + str(hd) + ", storage = " +
                      storage + ">";
  std::string text =
      "func.func @decode(%q: " + q + ", %k: " + k + ", %v: " + k +
      ", %c: " + cache + ", %pos: index, %len: index) -> " + q +
      " {\n  %r, %c2 = tfm.cached_attention %q, %k, %v into %c at %pos len "
      "%len {num_heads = " +
      str(heads) + ", num_kv_heads = " + str(kvHeads) + ", head_dim = " +
      str(hd) + ", scale = 0.125, causal} : " + q + ", " + k + ", " + k +
      " into " + cache + " -> " + q + "\n  return %r : " + q + "\n}";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module) {
    std::fprintf(stderr, "kernel-bench: bad attention shape or cache type\n");
    return 2;
  }
  mlir::PassManager pm(&context);
  mlir::tfm::KernelTarget kernelTarget;
  if (tfm::halide::hostWideIsa())
    kernelTarget.wideIsa = "avx512";
  mlir::tfm::buildKernelPipeline(pm, kernelTarget);
  if (mlir::failed(pm.run(*module)))
    return 1;
  mlir::tfm::KernelOp kernel;
  module->walk([&](mlir::tfm::KernelOp op) {
    if (op.getBlock().front().getName().getStringRef() ==
        "tfm.cached_attention")
      kernel = op;
  });
  if (!kernel) {
    std::fprintf(stderr, "kernel-bench: no cached attention kernel\n");
    return 1;
  }
  overrideSchedule(kernel, overrides);
  tfm::halide::KernelPipeline p =
      tfm::halide::buildPipeline(kernel, tfm::halide::algorithmOptions(kernel));
  Halide::Target target(tfm::halide::resolveTarget(kernel.getTargetAttr()));
  tfm::halide::scheduleCpu(p, kernel.getScheduleAttr(), target);

  tfm::rt::DType type = *tfm::rt::storageNamed(storage);
  int64_t rowBytes = tfm::rt::storageSize(type, kw);
  Halide::Type elem = type == tfm::rt::DType::F32 ? Halide::Float(32)
                      : tfm::rt::isBlockFormat(type) ? Halide::UInt(8)
                                                     : Halide::UInt(16);
  size_t cacheBytes = size_t(2 * capacity * rowBytes);
  size_t copies =
      cold ? std::max<size_t>(1, (size_t(256) << 20) / cacheBytes) : 1;
  std::vector<float> rows = randomVector(size_t(capacity * kw), 3);
  std::vector<std::pair<Halide::Buffer<>, Halide::Buffer<>>> caches;
  for (size_t c = 0; c < copies; ++c) {
    Halide::Buffer<> keys(elem, int(rowBytes / elem.bytes()), int(capacity)),
        values(elem, int(rowBytes / elem.bytes()), int(capacity));
    for (Halide::Buffer<> *b : {&keys, &values})
      tfm::rt::storeValues(type, rows.data(), capacity * kw,
                           static_cast<uint8_t *>(b->data()));
    caches.push_back({keys, values});
  }
  std::vector<float> qv = randomVector(size_t(qw), 1),
                     kv = randomVector(size_t(kw), 2);
  std::vector<float> out(static_cast<size_t>(qw));
  Halide::Buffer<float> qb(qv.data(), int(qw), 1), kb(kv.data(), int(kw), 1),
      ob(out.data(), int(qw), 1);
  for (auto &[i, image] : p.images)
    image.set(image.name().find("arg0") == 0 ? qb : kb);
  for (auto &[i, scalar] : p.scalars)
    scalar.set(int32_t(len - 1));
  // The position is len - 1; the length len (the last scalar argument).
  p.scalars.rbegin()->second.set(int32_t(len));
  auto &[keys, values] = p.caches.begin()->second;
  keys.set(caches[0].first);
  values.set(caches[0].second);
  if (const char *stmtPath = std::getenv("TFM_BENCH_STMT"))
    p.output.compile_to_lowered_stmt(stmtPath, p.arguments, Halide::Text,
                                     target);
  if (const char *asmPath = std::getenv("TFM_BENCH_ASM"))
    p.output.compile_to_assembly(asmPath, p.arguments, "attention", target);
  p.output.compile_jit(target);
  size_t turn = 0;
  double seconds = median([&] {
    auto &c = caches[turn++ % copies];
    keys.set(c.first);
    values.set(c.second);
    p.output.realize(ob, target);
  });
  printJson("tfm-decode-attention",
            str(len) + "x" + str(heads) + "x" + str(hd) + "-" + storage,
            threads, seconds, 4.0 * double(len * heads * hd),
            2.0 * double(len * rowBytes));
  return 0;
}

/// The outputs [n0, n0 + count) of `rows` rows of N outputs in `out`, as
/// the micro-kernels' extern stages see their output (n, j, s), j of
/// extent 1.
Halide::Runtime::Buffer<float> outputWindow(std::vector<float> &out,
                                            int64_t n0, int64_t count,
                                            int64_t n, int64_t rows) {
  return Halide::Runtime::Buffer<float>(
      out.data() + n0,
      {{int(n0), int(count), 1}, {0, 1, int(n)}, {0, int(rows), int(n)}});
}

/// One thread's calls of a prefill micro-kernel over an S × N × K product,
/// a panel of 64 outputs per call.
int microGemm(const std::string &type, int64_t s, int64_t n, int64_t k) {
  using namespace tfm::rt;
  if (k % 32 != 0 || s < 1 || n < 1) {
    std::fprintf(stderr, "kernel-bench: micro-gemm wants S, N >= 1 and K a "
                         "multiple of 32\n");
    return 2;
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  constexpr int kPanel = 64;
  std::vector<float> out(size_t(s * n));
  auto outBuffer = [&](int64_t n0, int64_t count) {
    return outputWindow(out, n0, count, n, s);
  };
  std::function<int(int64_t, int64_t)> call;
  std::string path;
  Halide::Runtime::Buffer<uint8_t> weight;
  Halide::Runtime::Buffer<uint16_t> act16;
  Halide::Runtime::Buffer<int8_t> act8;
  Halide::Runtime::Buffer<float> actScale;
  bool kQuant = type == "q4_K" || type == "q6_K";
  if (kQuant && k % 256 != 0) {
    std::fprintf(stderr, "kernel-bench: micro-gemm %s wants K a multiple of "
                         "256\n", type.c_str());
    return 2;
  }
  if (type == "q4_0" || type == "q8_0" || kQuant) {
    int format = type == "q4_0"   ? tfm_gemm_weight_q4_0
                 : type == "q8_0" ? tfm_gemm_weight_q8_0
                 : type == "q4_K" ? tfm_gemm_weight_q4_K
                                  : tfm_gemm_weight_q6_K;
    DType stored = type == "q4_0"   ? DType::Q4_0
                   : type == "q8_0" ? DType::Q8_0
                   : type == "q4_K" ? DType::Q4_K
                                    : DType::Q6_K;
    int block = int(blockElements(stored)), bytes = int(blockBytes(stored));
    // Where each block's f16 scales are (q4_K: d and dmin).
    std::vector<int> scaleAt = type == "q4_K"   ? std::vector<int>{0, 2}
                               : type == "q6_K" ? std::vector<int>{208}
                                                : std::vector<int>{0};
    weight = Halide::Runtime::Buffer<uint8_t>(int(k / block * bytes), int(n));
    weight.for_each_value([&](uint8_t &v) { v = uint8_t(byte(rng)); });
    // Small f16 scales (their high bytes): no infinities or NaNs.
    for (int64_t row = 0; row < n; ++row)
      for (int64_t b = 0; b < k / block; ++b)
        for (int at : scaleAt) {
          uint16_t d = floatToF16(0.01f);
          std::memcpy(&weight(int(b * bytes + at), int(row)), &d, 2);
        }
    act8 = Halide::Runtime::Buffer<int8_t>(int(k), int(s));
    act8.for_each_value([&](int8_t &v) { v = int8_t(byte(rng) - 128); });
    actScale = Halide::Runtime::Buffer<float>(int(k / block), int(s));
    actScale.fill(0.02f);
    // The K-quants have no AMX path: they take VNNI there.
    Int8GemmIsa isa = int8GemmIsa();
    if (kQuant && isa == Int8GemmIsa::amx)
      isa = Int8GemmIsa::avx512vnni;
    path = int8GemmIsaName(isa);
    call = [&, format](int64_t n0, int64_t count) {
      auto o = outBuffer(n0, count);
      return tfm_gemm_q8_0(weight.raw_buffer(), act8.raw_buffer(),
                           actScale.raw_buffer(), format, int32_t(k), 0,
                           o.raw_buffer());
    };
  } else if (type == "bf16" || type == "f16" || type == "f32") {
    int format = type == "bf16"  ? tfm_gemm_weight_bf16
                 : type == "f16" ? tfm_gemm_weight_f16
                                 : tfm_gemm_weight_f32;
    std::vector<float> values = randomVector(size_t(n * k), 5);
    DType stored = type == "bf16" ? DType::BF16
                   : type == "f16" ? DType::F16
                                   : DType::F32;
    weight = Halide::Runtime::Buffer<uint8_t>(
        int(storageSize(stored, k)), int(n));
    storeValues(stored, values.data(), n * k, weight.data());
    act16 = Halide::Runtime::Buffer<uint16_t>(int(k), int(s));
    std::vector<float> a = randomVector(size_t(s * k), 6);
    size_t i = 0;
    act16.for_each_value([&](uint16_t &v) { v = floatToBf16(a[i++]); });
    path = gemmIsaName(gemmIsa());
    call = [&, format](int64_t n0, int64_t count) {
      auto o = outBuffer(n0, count);
      return tfm_gemm_bf16(weight.raw_buffer(), act16.raw_buffer(), format,
                           int32_t(k), 0, o.raw_buffer());
    };
  } else {
    std::fprintf(stderr, "kernel-bench: micro-gemm TYPE is f16, bf16, f32, "
                         "q4_0, q8_0, q4_K or q6_K, got '%s'\n",
                 type.c_str());
    return 2;
  }
  bool failed = false;
  double seconds = median([&] {
    for (int64_t n0 = 0; n0 < n; n0 += kPanel)
      failed |= call(n0, std::min<int64_t>(kPanel, n - n0)) != 0;
  });
  if (failed) {
    std::fprintf(stderr, "kernel-bench: the micro-kernel refused the shape\n");
    return 1;
  }
  std::string what = "micro-gemm-" + type + "-" + path;
  printJson(what.c_str(),
            std::to_string(s) + "x" + std::to_string(n) + "x" +
                std::to_string(k),
            1, seconds, 2.0 * double(s * n * k), double(weight.size_in_bytes()));
  return 0;
}

/// Sums `bytes` bytes (a multiple of 64 read, the rest left) 64 bytes a
/// step, so that the reads cannot be dropped.
__attribute__((target("avx2"))) uint64_t readAll(const uint8_t *data,
                                                 size_t bytes) {
  const __m256i *p = reinterpret_cast<const __m256i *>(data);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = acc0;
  for (size_t i = 0; i < bytes / 64; ++i) {
    acc0 = _mm256_add_epi64(acc0, _mm256_loadu_si256(p + 2 * i));
    acc1 = _mm256_add_epi64(acc1, _mm256_loadu_si256(p + 2 * i + 1));
  }
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i *>(lanes),
                     _mm256_add_epi64(acc0, acc1));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

/// One thread's decode product of an N × K weight stored as `type` (q4_0,
/// q8_0, q4_K, q6_K or f16) and one row of activations, one call over all
/// N rows (split into `task` rows per call, as the compiled GEMVs split
/// them), from cache or, `cold`, cycling through copies of W that together
/// exceed the caches. Also prints the rate at which a plain loop reads the
/// same copies (the one-thread read bound the kernel is held to).
int microGemv(const std::string &type, int64_t n, int64_t k, int64_t task,
              bool cold) {
  using namespace tfm::rt;
  DType stored = type == "q4_0"   ? DType::Q4_0
                 : type == "q8_0" ? DType::Q8_0
                 : type == "q4_K" ? DType::Q4_K
                 : type == "q6_K" ? DType::Q6_K
                 : type == "f16"  ? DType::F16
                                  : DType::F32;
  if (stored == DType::F32) {
    std::fprintf(stderr, "kernel-bench: micro-gemv TYPE is q4_0, q8_0, q4_K, "
                         "q6_K or f16, got '%s'\n", type.c_str());
    return 2;
  }
  int64_t block = blockElements(stored);
  if (k % std::max<int64_t>(block, 32) != 0 || n < 1 || task < 1) {
    std::fprintf(stderr, "kernel-bench: micro-gemv wants N >= 1 and K a "
                         "multiple of %lld\n",
                 (long long)std::max<int64_t>(block, 32));
    return 2;
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  int64_t rowBytes = storageSize(stored, k);
  size_t copies =
      cold ? std::max<size_t>(1, (size_t(256) << 20) / size_t(n * rowBytes))
           : 1;
  // Quantized from random values: valid scales, no infinities or NaNs.
  std::vector<float> values = randomVector(size_t(n * k), 5);
  std::vector<Halide::Runtime::Buffer<uint8_t>> weights;
  for (size_t c = 0; c < copies; ++c) {
    Halide::Runtime::Buffer<uint8_t> w(static_cast<int>(rowBytes),
                                       static_cast<int>(n));
    if (isBlockFormat(stored))
      quantize(stored, values.data(), n * k, w.data());
    else
      storeValues(stored, values.data(), n * k, w.data());
    weights.push_back(w);
  }
  bool kQuant = block == 256;
  Halide::Runtime::Buffer<int8_t> act(int(k), 1);
  act.for_each_value([&](int8_t &v) { v = int8_t(byte(rng) - 128); });
  int64_t sumsPerRow = stored == DType::Q4_K ? k / 32 : k / 4;
  Halide::Runtime::Buffer<int32_t> sums(int(sumsPerRow), 1);
  sums.fill(0);
  Halide::Runtime::Buffer<float> scale(int(k / (kQuant ? 256 : 32)), 1);
  scale.fill(0.02f);
  Halide::Runtime::Buffer<float> actF32(int(k), 1);
  actF32.fill(0.5f);
  auto dot = stored == DType::Q4_0   ? tfm_dot_q4_0_q8_0
             : stored == DType::Q8_0 ? tfm_dot_q8_0_q8_0
             : stored == DType::Q4_K ? tfm_dot_q4_K_q8_K
                                     : tfm_dot_q6_K_q8_K;
  std::vector<float> out(static_cast<size_t>(n));
  size_t turn = 0;
  bool failed = false;
  double seconds = median([&] {
    auto &w = weights[turn++ % copies];
    for (int64_t n0 = 0; n0 < n; n0 += task) {
      int64_t count = std::min(task, n - n0);
      auto o = outputWindow(out, n0, count, n, 1);
      failed |= (stored == DType::F16
                     ? tfm_dot_f16_f32(w.raw_buffer(), actF32.raw_buffer(),
                                       int32_t(k), 0, o.raw_buffer())
                     : dot(w.raw_buffer(), act.raw_buffer(), sums.raw_buffer(),
                           scale.raw_buffer(), int32_t(k), 0,
                           o.raw_buffer())) != 0;
    }
  });
  if (failed) {
    std::fprintf(stderr, "kernel-bench: the micro-kernel refused the shape\n");
    return 1;
  }
  std::string shape = std::to_string(n) + "x" + std::to_string(k);
  std::string what = "micro-gemv-" + type + (cold ? "-cold" : "");
  printJson(what.c_str(), shape, 1, seconds, 2.0 * double(n * k),
            double(n * rowBytes));
  // The same bytes read by a plain loop.
  uint64_t sink = 0;
  double read = median([&] {
    const auto &w = weights[turn++ % copies];
    sink += readAll(w.data(), size_t(n * rowBytes));
  });
  asm volatile("" : : "r"(sink));
  printJson(cold ? "read-cold" : "read", shape, 1, read, 0,
            double(n * rowBytes));
  return 0;
}

#define TFM_AMX_PEAK                                                           \
  __attribute__((target("amx-tile,amx-bf16,amx-int8")))

/// Seconds for `iterations` rounds of four tile products (tdpbf16ps, or
/// tdpbssd where `int8`), each 16 × 16 outputs over 64 bytes of k.
TFM_AMX_PEAK double amxRounds(bool int8, long iterations) {
  alignas(64) uint8_t config[64] = {1};
  for (int t = 0; t < 8; ++t) {
    config[16 + 2 * t] = 64;
    config[48 + t] = 16;
  }
  alignas(64) static uint8_t zeros[1024] = {};
  asm volatile("" : : "r"(config) : "memory");
  _tile_loadconfig(config);
  _tile_loadd(4, zeros, 64);
  _tile_loadd(5, zeros, 64);
  _tile_loadd(6, zeros, 64);
  _tile_loadd(7, zeros, 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  double t0 = now();
  if (int8)
    for (long i = 0; i < iterations; ++i) {
      _tile_dpbssd(0, 4, 6);
      _tile_dpbssd(1, 4, 7);
      _tile_dpbssd(2, 5, 6);
      _tile_dpbssd(3, 5, 7);
    }
  else
    for (long i = 0; i < iterations; ++i) {
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
  alignas(64) static float sink[256];
  _tile_stored(0, sink, 64);
  double seconds = now() - t0;
  _tile_release();
  return seconds;
}

int amxPeak() {
  if (tfm::rt::gemmIsa() != tfm::rt::GemmIsa::amx || !tfm::rt::amxInt8()) {
    std::fprintf(stderr, "kernel-bench: this CPU has no AMX (or Linux does "
                         "not grant it)\n");
    return 1;
  }
  constexpr long kIterations = 1 << 20;
  for (bool int8 : {false, true}) {
    double seconds = median([&] { amxRounds(int8, kIterations); }, 5, 1);
    // Each product: 16 × 16 outputs, 32 bf16 pairs or 64 bytes of k.
    double ops = 4.0 * double(kIterations) * 16 * 16 * (int8 ? 64 : 32) * 2;
    printJson(int8 ? "amx-peak-int8" : "amx-peak-bf16", "16x16x64", 1,
              seconds, ops, 0);
  }
  return 0;
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
  std::string kvCache = "f32", isa;
  int64_t heads = 12, kvHeads = 12, headDim = 64;
  // micro-gemm's and micro-gemv's TYPE is their first argument.
  for (int i = mode == "micro-gemm" || mode == "micro-gemv" ? 3 : 2; i < argc;
       ++i) {
    std::string a = argv[i];
    if (a == "--kv-cache" && i + 1 < argc) {
      kvCache = argv[++i];
    } else if (a == "--heads" && i + 1 < argc) {
      heads = std::atoll(argv[++i]);
    } else if (a == "--kv-heads" && i + 1 < argc) {
      kvHeads = std::atoll(argv[++i]);
    } else if (a == "--head-dim" && i + 1 < argc) {
      headDim = std::atoll(argv[++i]);
    } else if (a == "--isa" && i + 1 < argc) {
      isa = argv[++i];
    } else if (a == "--cold") {
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

  if (mode == "amx-peak")
    return amxPeak();
  if (mode == "micro-gemv") {
    if (dims.size() < 2 || argc < 3) {
      std::fprintf(stderr,
                   "kernel-bench: expected micro-gemv TYPE N K [TASK]\n");
      return 2;
    }
    if (isa == "avx2")
      tfm::rt::forceDotFallback(true);
    return microGemv(argv[2], dims[0], dims[1],
                     dims.size() > 2 ? dims[2] : dims[0], cold);
  }
  if (mode == "micro-gemm") {
    if (isa == "avx2") {
      tfm::rt::forceGemmIsa(tfm::rt::GemmIsa::avx2);
      tfm::rt::forceDotFallback(true);
    } else if (isa == "avx512") {
      tfm::rt::forceGemmIsa(tfm::rt::GemmIsa::avx512bf16);
    } else if (!isa.empty() && isa != "amx") {
      std::fprintf(stderr, "kernel-bench: --isa is amx, avx512 or avx2\n");
      return 2;
    }
    if (dims.size() != 3 || argc < 3) {
      std::fprintf(stderr, "kernel-bench: expected micro-gemm TYPE S N K\n");
      return 2;
    }
    return microGemm(argv[2], dims[0], dims[1], dims[2]);
  }

  if (mode == "decode-attention") {
    if (dims.size() != 1 || dims[0] < 1) {
      std::fprintf(stderr, "kernel-bench: expected decode-attention LEN\n");
      return 2;
    }
    return decodeAttention(dims[0], kvCache, heads, kvHeads, headDim, threads,
                           cold, overrides);
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
