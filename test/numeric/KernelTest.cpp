//===- KernelTest.cpp - every kernel against the interpreter ----------------===//
//
// In the style of ggml's test-backend-ops: each case is one graph-level op
// (or an op with its epilogue) at a given shape, turned into a kernel by
// tfm-form-kernels, compiled with the production CPU schedule (JIT), run on
// random inputs, and compared with the reference interpreter by normalized
// mean squared error, NMSE = Σ(y − ref)² / Σ ref².
//
//===----------------------------------------------------------------------===//

#include "compiler/Registration.h"
#include "compiler/StorageTypes.h"
#include "compiler/halide/Codegen.h"
#include "compiler/halide/Pipeline.h"
#include "compiler/interpreter/Interpreter.h"
#include "dialects/Tfm/TfmOps.h"
#include "passes/Passes.h"
#include "runtime/Half.h"
#include "runtime/Quant.h"
#include "runtime/BfloatGemm.h"
#include "runtime/QuantDot.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace tfm;
namespace ir = mlir::tfm;

namespace {

struct Arg {
  enum class Kind { Tensor, Tokens, Index, Cache } kind = Kind::Tensor;
  /// Tensors and tokens: the shape; a cache: capacity, KV heads, head_dim,
  /// v_head_dim.
  std::vector<int64_t> shape;
  /// An index; for tokens, the vocabulary size; for a cache, how many
  /// positions hold data before the kernel's write.
  int64_t value = 0;
};

Arg tensor(std::vector<int64_t> shape) { return {Arg::Kind::Tensor, shape, 0}; }
Arg tokens(int64_t n, int64_t vocab) { return {Arg::Kind::Tokens, {n}, vocab}; }
Arg index(int64_t v) { return {Arg::Kind::Index, {}, v}; }
Arg cache(int64_t capacity, int64_t kvHeads, int64_t headDim, int64_t filled) {
  return {Arg::Kind::Cache, {capacity, kvHeads, headDim, headDim}, filled};
}

struct Case {
  std::string name;
  std::string func; // one func.func named @prefill or @decode
  std::vector<Arg> args;
  double maxNmse = 1e-10;
  /// Chunk length for a cached attention's kernel (0: the kernel former's).
  int64_t kvChunk = 0;
};

std::ostream &operator<<(std::ostream &os, const Case &c) {
  return os << c.name;
}

class KernelTest : public ::testing::TestWithParam<Case> {};

TEST_P(KernelTest, MatchesInterpreter) {
  const Case &c = GetParam();
  mlir::DialectRegistry registry;
  registerAllTfmDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(c.func, &context);
  ASSERT_TRUE(module) << "the case does not parse";
  mlir::PassManager pm(&context);
  mlir::tfm::KernelTarget kernelTarget;
  if (halide::hostWideIsa())
    kernelTarget.wideIsa = "avx512";
  mlir::tfm::buildKernelPipeline(pm, kernelTarget);
  ASSERT_TRUE(mlir::succeeded(pm.run(*module)));

  ir::LaunchOp launch;
  module->walk([&](ir::LaunchOp op) { launch = op; });
  ASSERT_TRUE(launch) << "no kernel was formed";
  auto kernel = module->lookupSymbol<ir::KernelOp>(launch.getKernel());
  auto fn = launch->getParentOfType<mlir::func::FuncOp>();
  // The *_wide cases are there to run the AVX-512 schedule where it exists.
  if (c.name.find("wide") != std::string::npos) {
    EXPECT_EQ(kernel.getTargetAttr().getIsa(),
              halide::hostWideIsa().value_or(ir::Isa::avx2));
  }
  if (c.name.find("prefill_rows") != std::string::npos)
    EXPECT_TRUE(mlir::isa<ir::GemvScheduleAttr>(kernel.getScheduleAttr()));
  if (c.name.find("blocked") != std::string::npos) {
    mlir::Attribute schedule = kernel.getScheduleAttr();
    if (auto qkv = mlir::dyn_cast<ir::QkvScheduleAttr>(schedule))
      schedule = qkv.getProduct();
    auto gemm = mlir::dyn_cast<ir::GemmScheduleAttr>(schedule);
    EXPECT_TRUE(gemm && gemm.getKBlock() > 0);
  }
  if (c.kvChunk > 0) {
    auto chunked =
        ir::withScheduleParam(kernel.getScheduleAttr(), "kv_chunk", c.kvChunk);
    ASSERT_TRUE(mlir::succeeded(chunked));
    kernel.setScheduleAttr(*chunked);
  }

  // Random inputs, bound to the kernel's arguments through the launch. A
  // KV cache comes after the other inputs: the host's write into it (the
  // launch reads the cache a tfm.kv_write made) needs their values.
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  size_t n = launch.getArgs().size();
  std::vector<InterpreterValue> values(n);
  std::vector<Halide::Buffer<>> buffers(n);
  std::map<size_t, std::pair<Halide::Buffer<>, Halide::Buffer<>>> caches;
  std::map<unsigned, const Tensor *> byArgument;
  auto argumentOf = [&](mlir::Value v) {
    auto blockArg = mlir::dyn_cast<mlir::BlockArgument>(v);
    EXPECT_TRUE(blockArg && blockArg.getOwner() == &fn.getBody().front())
        << "kernel inputs must be the case function's arguments";
    return blockArg ? blockArg.getArgNumber() : 0u;
  };
  for (bool cachePass : {false, true})
    for (size_t i = 0; i < n; ++i) {
      mlir::Value operand = launch.getArgs()[i];
      auto write = operand.getDefiningOp<ir::KvWriteOp>();
      if (write != nullptr) {
        if (!cachePass)
          continue;
        // The cache before this call's write: `a.value` positions of
        // random keys and values; the kernel sees it after the write. The
        // kernel gets the rows as the cache stores them, the interpreter
        // (which rounds its own write) the values they hold.
        const Arg &a = c.args.at(argumentOf(write.getCache()));
        ASSERT_EQ(a.kind, Arg::Kind::Cache);
        rt::DType storage =
            runtimeStorage(write.getCache().getType().getStorage());
        auto kv = std::make_shared<KvBuffer>();
        kv->capacity = a.shape[0];
        kv->kvHeads = a.shape[1];
        kv->headDim = a.shape[2];
        kv->vHeadDim = a.shape[3];
        kv->filled = a.value;
        kv->storage = storage;
        int64_t kw = kv->kvHeads * kv->headDim, vw = kv->kvHeads * kv->vHeadDim;
        Halide::Type type = storage == rt::DType::F32 ? Halide::Float(32)
                            : rt::isBlockFormat(storage) ? Halide::UInt(8)
                                                         : Halide::UInt(16);
        auto stored = [&](int64_t width, const float *rows, int64_t count,
                          std::vector<float> &held) {
          int64_t rowBytes = rt::storageSize(storage, width);
          Halide::Buffer<> b(type, int(rowBytes / type.bytes()),
                             int(kv->capacity));
          std::memset(b.data(), 0, b.size_in_bytes());
          rt::storeValues(storage, rows, count * width,
                          static_cast<uint8_t *>(b.data()));
          held.resize(size_t(count * width));
          rt::loadValues(storage, static_cast<uint8_t *>(b.data()),
                         count * width, held.data());
          return b;
        };
        std::vector<float> k0(size_t(a.value * kw)), v0(size_t(a.value * vw));
        for (float &x : k0)
          x = normal(rng);
        for (float &x : v0)
          x = normal(rng);
        Halide::Buffer<> keys = stored(kw, k0.data(), a.value, kv->keys);
        Halide::Buffer<> vals = stored(vw, v0.data(), a.value, kv->values);
        const Tensor *k = byArgument.at(argumentOf(write.getKey()));
        const Tensor *v = byArgument.at(argumentOf(write.getValue()));
        int64_t pos = c.args.at(argumentOf(write.getPos())).value;
        rt::storeValues(storage, k->data, k->numel(),
                        static_cast<uint8_t *>(keys.data()) +
                            pos * rt::storageSize(storage, kw));
        rt::storeValues(storage, v->data, v->numel(),
                        static_cast<uint8_t *>(vals.data()) +
                            pos * rt::storageSize(storage, vw));
        values[i].kind = InterpreterValue::Kind::Cache;
        values[i].cache = kv;
        caches[i] = {keys, vals};
        continue;
      }
      if (cachePass)
        continue;
      unsigned number = argumentOf(operand);
      const Arg &a = c.args.at(number);
      InterpreterValue &v = values[i];
      std::vector<int> extents(a.shape.rbegin(), a.shape.rend());
      if (a.kind == Arg::Kind::Index) {
        v.kind = InterpreterValue::Kind::Index;
        v.index = a.value;
      } else if (a.kind == Arg::Kind::Tokens) {
        v.kind = InterpreterValue::Kind::Tokens;
        Halide::Buffer<int32_t> b(extents);
        std::uniform_int_distribution<int32_t> id(0, int32_t(a.value - 1));
        for (int64_t j = 0; j < a.shape[0]; ++j)
          v.tokens.push_back(b(int(j)) = id(rng));
        buffers[i] = b;
      } else {
        ASSERT_EQ(a.kind, Arg::Kind::Tensor);
        v.tensor = Tensor::zeros(a.shape);
        float *data = v.tensor.mutableData();
        for (int64_t j = 0; j < v.tensor.numel(); ++j)
          data[j] = normal(rng);
        // A weight stored in 16 bits: the kernel gets the bits, the
        // interpreter the values they hold.
        ir::Storage storage = ir::storageOf(operand.getType());
        if (storage == ir::Storage::f32) {
          Halide::Buffer<float> b(extents);
          std::copy_n(data, v.tensor.numel(), b.data());
          buffers[i] = b;
        } else if (ir::blockElements(storage) > 1) {
          // A block format: the kernel gets the blocks, the interpreter
          // the values they dequantize to.
          rt::DType type = runtimeStorage(storage);
          int64_t n = v.tensor.numel();
          std::vector<int> byteExtents = extents;
          byteExtents[0] = int(rt::storageSize(type, extents[0]));
          Halide::Buffer<uint8_t> b(byteExtents);
          rt::quantize(type, data, n, b.data());
          rt::dequantize(type, b.data(), n, data);
          buffers[i] = b;
        } else {
          bool bf16 = storage == ir::Storage::bf16;
          Halide::Buffer<uint16_t> b(extents);
          uint16_t *bits = b.data();
          for (int64_t j = 0; j < v.tensor.numel(); ++j) {
            bits[j] = bf16 ? rt::floatToBf16(data[j]) : rt::floatToF16(data[j]);
            data[j] = bf16 ? rt::bf16ToFloat(bits[j]) : rt::f16ToFloat(bits[j]);
          }
          buffers[i] = b;
        }
        byArgument[number] = &v.tensor;
      }
    }

  rt::WeightTable none;
  auto reference = Interpreter::evaluate(kernel.getBlock(), values, none);
  ASSERT_TRUE(reference) << reference.error().message();

  halide::KernelPipeline pipeline =
      halide::buildPipeline(kernel, halide::algorithmOptions(kernel));
  Halide::Target target(halide::resolveTarget(kernel.getTargetAttr()));
  halide::scheduleCpu(pipeline, kernel.getScheduleAttr(), target);
  for (auto &[i, image] : pipeline.images)
    image.set(buffers[i]);
  for (auto &[i, images] : pipeline.caches) {
    images.first.set(caches.at(i).first);
    images.second.set(caches.at(i).second);
  }
  for (auto &[i, scalar] : pipeline.scalars)
    scalar.set(int32_t(values[i].index));
  ASSERT_EQ(reference->size(), pipeline.outputs.size());
  std::vector<Halide::Buffer<float>> outs;
  for (const Tensor &ref : *reference)
    outs.emplace_back(std::vector<int>(ref.shape.rbegin(), ref.shape.rend()));
  std::vector<Halide::Buffer<>> realized(outs.begin(), outs.end());
  Halide::Pipeline pipe(pipeline.outputs);
  pipe.set_jit_externs(halide::jitExterns());
  // A product by a micro-kernel runs its fallbacks too, where this CPU
  // would otherwise take another path: the decode products' and the 8-bit
  // GEMM's AVX2 path, the bf16 GEMM's AVX512-BF16 and AVX2 paths.
  std::vector<int> fallbacks{0};
  if (pipeline.stages.product.externDot.defined()) {
    if (rt::dotIsa() != rt::DotIsa::avx2)
      fallbacks.push_back(1);
    if (pipeline.stages.product.externGemmOutputs > 0 &&
        pipeline.stages.product.actBf16.defined())
      for (rt::GemmIsa isa : {rt::GemmIsa::avx512bf16, rt::GemmIsa::avx2})
        if (isa < rt::gemmIsa())
          fallbacks.push_back(2 + int(isa));
  }
  for (int fallback : fallbacks) {
    SCOPED_TRACE(fallback == 1   ? "micro-kernel fallback (AVX2)"
                 : fallback >= 2 ? rt::gemmIsaName(rt::GemmIsa(fallback - 2))
                                 : "");
    rt::forceDotFallback(fallback == 1);
    if (fallback >= 2)
      rt::forceGemmIsa(rt::GemmIsa(fallback - 2));
    pipe.realize(Halide::Realization(realized), target);
    rt::forceDotFallback(false);
    rt::forceGemmIsa(rt::GemmIsa::amx);
    for (size_t o = 0; o < outs.size(); ++o) {
      const Tensor &ref = (*reference)[o];
      double err = 0, norm = 0, maxAbs = 0;
      for (int64_t i = 0; i < ref.numel(); ++i) {
        double d = double(outs[o].data()[i]) - double(ref.data[i]);
        err += d * d;
        norm += double(ref.data[i]) * double(ref.data[i]);
        maxAbs = std::max(maxAbs, std::abs(d));
      }
      double nmse = norm > 0 ? err / norm : err;
      EXPECT_LE(nmse, c.maxNmse) << "result " << o << ": max |diff| " << maxAbs
                                 << " over " << ref.numel() << " values";
    }
  }
}

/// A one-op function: `body` uses %a0, %a1, ... typed by `types`.
std::string func(const std::string &name, const std::vector<std::string> &types,
                 const std::string &body, const std::string &result) {
  std::string s = "func.func @" + name + "(";
  for (size_t i = 0; i < types.size(); ++i)
    s += (i ? ", " : "") + std::string("%a") + std::to_string(i) + ": " +
         types[i];
  // Several results (a:3-style op) come back as %r#0, %r#1, ...
  std::string values = "%r";
  size_t n = size_t(std::count(result.begin(), result.end(), ',')) + 1;
  if (n > 1) {
    values.clear();
    for (size_t i = 0; i < n; ++i)
      values += (i ? ", %r#" : "%r#") + std::to_string(i);
  }
  std::string type = n > 1 ? "(" + result + ")" : result;
  return s + ") -> " + type + " {\n" + body + "\n  return " + values +
         " : " + result + "\n}";
}

std::vector<Case> cases() {
  std::vector<Case> out;
  auto add = [&](std::string name, std::string f, std::vector<Arg> args,
                 double nmse = 1e-10, int64_t kvChunk = 0) {
    out.push_back(
        {std::move(name), std::move(f), std::move(args), nmse, kvChunk});
  };
  // tfm.cached_attention of `s` query rows at `pos` over a cache of pos + s
  // + 3 positions, in chunks of `chunk` keys; scale 0.3 (0.5 with a bias of
  // its own, [heads, s, pos + s]).
  auto addCached = [&](std::string name, bool decode, int64_t heads,
                       int64_t kv, int64_t hd, int64_t s, int64_t pos,
                       std::string extra, int64_t chunk, bool bias = false,
                       std::string storage = "f32") {
    int64_t qw = heads * hd, kw = kv * hd, len = pos + s;
    std::string rows = decode ? "1" : "?";
    std::string q = "tensor<" + rows + "x" + std::to_string(qw) + "xf32>";
    std::string k = "tensor<" + rows + "x" + std::to_string(kw) + "xf32>";
    std::string cacheType = "!tfm.kv_cache<len = " + std::to_string(len + 3) +
                            ", kv_heads = " + std::to_string(kv) +
                            ", head_dim = " + std::to_string(hd) +
                            ", v_head_dim = " + std::to_string(hd) +
                            ", storage = " + storage + ">";
    std::string biasType = "tensor<" + std::to_string(heads) + "x?x?xf32>";
    std::vector<std::string> types{q, k, k, cacheType, "index", "index"};
    std::vector<Arg> args{tensor({s, qw}), tensor({s, kw}), tensor({s, kw}),
                          cache(len + 3, kv, hd, pos), index(pos), index(len)};
    if (bias) {
      types.push_back(biasType);
      args.push_back(tensor({heads, s, len}));
    }
    std::string attrs = "{num_heads = " + std::to_string(heads) +
                        ", num_kv_heads = " + std::to_string(kv) +
                        ", head_dim = " + std::to_string(hd) + ", scale = " +
                        (bias ? "0.5" : "0.3") + ", " + extra + "}";
    add(name,
        func(decode ? "decode" : "prefill", types,
             "  %r, %c = tfm.cached_attention %a0, %a1, %a2 into %a3 at %a4 "
             "len %a5 " +
                 (bias ? "bias %a6 : " + biasType + " " : std::string()) +
                 attrs + " : " + q + ", " + k + ", " + k + " into " +
                 cacheType + " -> " + q,
             q),
        std::move(args), 1e-10, chunk);
  };
  // Projections: prefill (GEMM) and decode (GEMV), odd and tile-sized shapes.
  for (auto [s, k, n] : std::vector<std::array<int64_t, 3>>{
           {1, 37, 53}, {5, 37, 53}, {33, 256, 96}, {7, 100, 7},
           // k in blocks (of 160 and 256).
           {13, 320, 53}, {6, 512, 96}}) {
    std::string ty = "tensor<?x" + std::to_string(k) + "xf32>";
    std::string wt = "tensor<" + std::to_string(n) + "x" + std::to_string(k) +
                     "xf32>";
    std::string rt = "tensor<?x" + std::to_string(n) + "xf32>";
    add("linear_prefill_" + std::to_string(s) + "x" + std::to_string(k) + "x" +
            std::to_string(n),
        func("prefill", {ty, wt, "tensor<" + std::to_string(n) + "xf32>", rt},
             "  %l = tfm.linear %a0, %a1 bias %a2 : tensor<" +
                 std::to_string(n) + "xf32> : " + ty + ", " + wt + " -> " + rt +
                 "\n  %r = tfm.add %a3, %l {alpha = 0.5} : " + rt,
             rt),
        {tensor({s, k}), tensor({n, k}), tensor({n}), tensor({s, n})});
  }
  // Latent attention's per-head products (both weight orientations) and
  // per-group joins, prefill and decode.
  for (int64_t s : {1, 9}) {
    std::string rows = s == 1 ? "1" : "?", tag = std::to_string(s);
    auto ty = [&](int64_t n) {
      return "tensor<" + rows + "x" + std::to_string(n) + "xf32>";
    };
    add("head_linear_transposed_" + tag,
        func("f", {ty(4 * 24), "tensor<4x24x19xf32>"},
             "  %r = tfm.head_linear %a0, %a1 {transpose_weight} : " +
                 ty(4 * 24) + ", tensor<4x24x19xf32> -> " + ty(4 * 19),
             ty(4 * 19)),
        {tensor({s, 4 * 24}), tensor({4, 24, 19})});
    add("head_linear_" + tag,
        func("f", {ty(3 * 40), "tensor<3x7x40xf32>"},
             "  %r = tfm.head_linear %a0, %a1 : " + ty(3 * 40) +
                 ", tensor<3x7x40xf32> -> " + ty(3 * 7),
             ty(3 * 7)),
        {tensor({s, 3 * 40}), tensor({3, 7, 40})});
    add("join_" + tag,
        func("f", {ty(4 * 16), ty(4 * 3)},
             "  %r = tfm.join %a0, %a1 {groups = 4 : i64} : " + ty(4 * 16) +
                 ", " + ty(4 * 3) + " -> " + ty(4 * 19),
             ty(4 * 19)),
        {tensor({s, 4 * 16}), tensor({s, 4 * 3})});
  }
  for (auto [k, n] : std::vector<std::array<int64_t, 2>>{
           {37, 53}, {288, 768}, {100, 3}}) {
    std::string ty = "tensor<1x" + std::to_string(k) + "xf32>";
    std::string wt = "tensor<" + std::to_string(n) + "x" + std::to_string(k) +
                     "xf32>";
    std::string rt = "tensor<1x" + std::to_string(n) + "xf32>";
    add("linear_decode_" + std::to_string(k) + "x" + std::to_string(n),
        func("decode", {ty, wt}, "  %r = tfm.linear %a0, %a1 : " + ty + ", " +
                                     wt + " -> " + rt,
             rt),
        {tensor({1, k}), tensor({n, k})});
  }
  add("lm_head_prefill",
      func("prefill", {"tensor<?x24xf32>", "tensor<301x24xf32>"},
           "  %r = tfm.lm_head %a0, %a1 : tensor<?x24xf32>, tensor<301x24xf32> "
           "-> tensor<?x301xf32>",
           "tensor<?x301xf32>"),
      {tensor({9, 24}), tensor({301, 24})});
  add("linear_glu_decode",
      func("decode",
           {"tensor<1x24xf32>", "tensor<40x24xf32>", "tensor<1x40xf32>"},
           "  %u = tfm.linear %a0, %a1 : tensor<1x24xf32>, tensor<40x24xf32> "
           "-> tensor<1x40xf32>\n  %r = tfm.glu silu %a2, %u : "
           "tensor<1x40xf32>",
           "tensor<1x40xf32>"),
      {tensor({1, 24}), tensor({40, 24}), tensor({1, 40})});

  // Elementwise ops.
  for (const char *act : {"relu", "gelu", "gelu_tanh", "silu", "relu2"}) {
    add(std::string("activation_") + act,
        func("prefill", {"tensor<?x45xf32>"},
             std::string("  %r = tfm.activation ") + act +
                 " %a0 : tensor<?x45xf32>",
             "tensor<?x45xf32>"),
        {tensor({6, 45})});
    add(std::string("glu_") + act,
        func("prefill", {"tensor<?x45xf32>", "tensor<?x45xf32>"},
             std::string("  %r = tfm.glu ") + act +
                 " %a0, %a1 : tensor<?x45xf32>",
             "tensor<?x45xf32>"),
        {tensor({6, 45}), tensor({6, 45})});
  }
  add("scale_softcap_mul",
      func("prefill", {"tensor<?x19xf32>", "tensor<?x19xf32>"},
           "  %s = tfm.scale %a0 by 7.5 : tensor<?x19xf32>\n"
           "  %c = tfm.softcap %s cap 5.0 : tensor<?x19xf32>\n"
           "  %r = tfm.mul %c, %a1 : tensor<?x19xf32>",
           "tensor<?x19xf32>"),
      {tensor({3, 19}), tensor({3, 19})});

  // f16 decode products are a micro-kernel's: 64 weights a step, then a
  // masked tail (k = 160); the fused GLU and QKV products too.
  add("linear_glu_decode_f16",
      func("decode", {"tensor<1x160xf32>", "tensor<96x160xf32, #tfm.storage<f16>>"},
           "  %r = tfm.linear_glu silu %a0, %a1 : tensor<1x160xf32>, "
           "tensor<96x160xf32, #tfm.storage<f16>> -> tensor<1x48xf32>",
           "tensor<1x48xf32>"),
      {tensor({1, 160}), tensor({96, 160})});
  add("qkv_rope_decode_f16",
      func("decode",
           {"tensor<1x64xf32>", "tensor<64x64xf32, #tfm.storage<f16>>", "index"},
           "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
           "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = 10000.0, "
           "v_head_dim = 8} : tensor<1x64xf32>, tensor<64x64xf32, "
           "#tfm.storage<f16>> -> tensor<1x32xf32>, tensor<1x16xf32>, "
           "tensor<1x16xf32>",
           "tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>"),
      {tensor({1, 64}), tensor({64, 64}), index(7)});

  // Weights stored in 16 bits, widened as the kernels load them: exact,
  // the interpreter reads the same values.
  for (std::string storage : {"f16", "bf16"}) {
    std::string wt = "tensor<53x37xf32, #tfm.storage<" + storage + ">>";
    add("linear_decode_" + storage,
        func("decode", {"tensor<1x37xf32>", wt},
             "  %r = tfm.linear %a0, %a1 : tensor<1x37xf32>, " + wt +
                 " -> tensor<1x53xf32>",
             "tensor<1x53xf32>"),
        {tensor({1, 37}), tensor({53, 37})});
    add("linear_prefill_" + storage,
        func("prefill", {"tensor<?x37xf32>", wt},
             "  %r = tfm.linear %a0, %a1 : tensor<?x37xf32>, " + wt +
                 " -> tensor<?x53xf32>",
             "tensor<?x53xf32>"),
        {tensor({13, 37}), tensor({53, 37})});
    std::string et = "tensor<301x24xf32, #tfm.storage<" + storage + ">>";
    add("embed_" + storage,
        func("prefill", {et, "tensor<?xi32>"},
             "  %r = tfm.embed %a0[%a1] : " + et +
                 ", tensor<?xi32> -> tensor<?x24xf32>",
             "tensor<?x24xf32>"),
        {tensor({301, 24}), tokens(9, 301)});
    add("lm_head_decode_" + storage,
        func("decode", {"tensor<1x24xf32>", et},
             "  %r = tfm.lm_head %a0, %a1 : tensor<1x24xf32>, " + et +
                 " -> tensor<1x301xf32>",
             "tensor<1x301xf32>"),
        {tensor({1, 24}), tensor({301, 24})});
  }

  // Weights in GGUF block formats, dequantized as the kernels load them:
  // the interpreter reads the values the blocks hold. Every format through
  // the GEMV and the GEMM; the embedding and the LM head through one of
  // each block size and kind.
  for (std::string storage : {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q2_K",
                              "q3_K", "q4_K", "q5_K", "q6_K"}) {
    std::string wt = "tensor<53x512xf32, #tfm.storage<" + storage + ">>";
    add("linear_decode_" + storage,
        func("decode", {"tensor<1x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 : tensor<1x512xf32>, " + wt +
                 " -> tensor<1x53xf32>",
             "tensor<1x53xf32>"),
        {tensor({1, 512}), tensor({53, 512})});
    add("linear_prefill_" + storage,
        func("prefill", {"tensor<?x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 : tensor<?x512xf32>, " + wt +
                 " -> tensor<?x53xf32>",
             "tensor<?x53xf32>"),
        {tensor({13, 512}), tensor({53, 512})});
    if (storage != "q4_1" && storage != "q4_K" && storage != "q6_K")
      continue;
    std::string et = "tensor<301x256xf32, #tfm.storage<" + storage + ">>";
    add("embed_" + storage,
        func("prefill", {et, "tensor<?xi32>"},
             "  %r = tfm.embed %a0[%a1] : " + et +
                 ", tensor<?xi32> -> tensor<?x256xf32>",
             "tensor<?x256xf32>"),
        {tensor({301, 256}), tokens(9, 301)});
    add("lm_head_decode_" + storage,
        func("decode", {"tensor<1x256xf32>", et},
             "  %r = tfm.lm_head %a0, %a1 : tensor<1x256xf32>, " + et +
                 " -> tensor<1x301xf32>",
             "tensor<1x301xf32>"),
        {tensor({1, 256}), tensor({301, 256})});
  }

  // Products over activations rounded per block as llama.cpp rounds them
  // (act_quant): q8_0 for the formats of signed 8-bit integers, whose
  // decode product is formed in integers; q8_K for the K-quants. The
  // interpreter rounds the same activations the same way.
  for (std::string storage :
       {"q8_0", "q4_0", "q5_0", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"}) {
    bool k = storage.back() == 'K';
    std::string quant = std::string("{act_quant = #tfm.act_quant<") +
                        (k ? "q8_K" : "q8_0") + ">}";
    std::string wt = "tensor<53x512xf32, #tfm.storage<" + storage + ">>";
    add("linear_decode_" + storage + "_rounded",
        func("decode", {"tensor<1x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<1x512xf32>, " + wt + " -> tensor<1x53xf32>",
             "tensor<1x53xf32>"),
        {tensor({1, 512}), tensor({53, 512})});
    add("linear_prefill_" + storage + "_rounded",
        func("prefill", {"tensor<?x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<?x512xf32>, " + wt + " -> tensor<?x53xf32>",
             "tensor<?x53xf32>"),
        {tensor({13, 512}), tensor({53, 512})});
  }
  // Products at bf16 precision (act_quant bf16: both operands rounded to
  // bf16): over bf16, f16 and f32 matrices, decode and prefill (the
  // prefill products are the bf16 GEMM micro-kernel's: 53 outputs leave a
  // partial tile of 16, 37 rows one of 32), the fused GLU (its two halves)
  // and the QKV product.
  for (std::string storage : {"bf16", "f16", "f32"}) {
    std::string quant = "{act_quant = #tfm.act_quant<bf16>}";
    std::string wt = "tensor<53x512xf32, #tfm.storage<" + storage + ">>";
    add("linear_decode_" + storage + "_bf16",
        func("decode", {"tensor<1x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<1x512xf32>, " + wt + " -> tensor<1x53xf32>",
             "tensor<1x53xf32>"),
        {tensor({1, 512}), tensor({53, 512})});
    add("linear_prefill_" + storage + "_bf16",
        func("prefill", {"tensor<?x512xf32>", wt},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<?x512xf32>, " + wt + " -> tensor<?x53xf32>",
             "tensor<?x53xf32>"),
        {tensor({37, 512}), tensor({53, 512})});
  }
  {
    // Prefill over f16 weights at f32 precision is the f32 GEMM
    // micro-kernel's (k in chunks of 16): 37 rows by 53 outputs (partial
    // tiles and pairs), k of one block and a chunk, the GLU's halves, a
    // QKV product.
    std::string lt = "tensor<53x272xf32, #tfm.storage<f16>>";
    add("linear_prefill_f16_long",
        func("prefill", {"tensor<?x272xf32>", lt},
             "  %r = tfm.linear %a0, %a1 : tensor<?x272xf32>, " + lt +
                 " -> tensor<?x53xf32>",
             "tensor<?x53xf32>"),
        {tensor({37, 272}), tensor({53, 272})});
    std::string gt = "tensor<192x256xf32, #tfm.storage<f16>>";
    add("linear_glu_prefill_f16",
        func("prefill", {"tensor<?x256xf32>", gt},
             "  %r = tfm.linear_glu silu %a0, %a1 : tensor<?x256xf32>, " + gt +
                 " -> tensor<?x96xf32>",
             "tensor<?x96xf32>"),
        {tensor({20, 256}), tensor({192, 256})});
    std::string qt = "tensor<64x64xf32, #tfm.storage<f16>>";
    add("qkv_rope_prefill_f16",
        func("prefill", {"tensor<?x64xf32>", qt, "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
             "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = "
             "10000.0, v_head_dim = 8} : tensor<?x64xf32>, " + qt +
                 " -> tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>",
             "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>"),
        {tensor({9, 64}), tensor({64, 64}), index(11)});
  }
  {
    std::string quant = "{act_quant = #tfm.act_quant<bf16>}";
    std::string gt = "tensor<192x256xf32, #tfm.storage<bf16>>";
    add("linear_glu_prefill_bf16",
        func("prefill", {"tensor<?x256xf32>", gt},
             "  %r = tfm.linear_glu silu %a0, %a1 " + quant +
                 " : tensor<?x256xf32>, " + gt + " -> tensor<?x96xf32>",
             "tensor<?x96xf32>"),
        {tensor({20, 256}), tensor({192, 256})});
    std::string qt = "tensor<64x64xf32, #tfm.storage<bf16>>";
    add("qkv_rope_prefill_bf16",
        func("prefill", {"tensor<?x64xf32>", qt, "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
             "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = "
             "10000.0, v_head_dim = 8, act_quant = #tfm.act_quant<bf16>} : "
             "tensor<?x64xf32>, " + qt + " -> tensor<?x32xf32>, "
             "tensor<?x16xf32>, tensor<?x16xf32>",
             "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>"),
        {tensor({9, 64}), tensor({64, 64}), index(11)});
  }
  {
    // The fused GLU over integers (gate and up rows together; q4_K's with
    // its minimums), and the LM head.
    std::string quant = "{act_quant = #tfm.act_quant<q8_0>}";
    std::string gt = "tensor<96x256xf32, #tfm.storage<q4_0>>";
    add("linear_glu_decode_q4_0_rounded",
        func("decode", {"tensor<1x256xf32>", gt},
             "  %r = tfm.linear_glu silu %a0, %a1 " + quant +
                 " : tensor<1x256xf32>, " + gt + " -> tensor<1x48xf32>",
             "tensor<1x48xf32>"),
        {tensor({1, 256}), tensor({96, 256})});
    // Rows of two blocks (a 64-wide model's), as q5_0.
    std::string st = "tensor<128x64xf32, #tfm.storage<q5_0>>";
    add("linear_decode_q5_0_short_rounded",
        func("decode", {"tensor<1x64xf32>", st},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<1x64xf32>, " + st + " -> tensor<1x128xf32>",
             "tensor<1x128xf32>"),
        {tensor({1, 64}), tensor({128, 64})});
    // q4_0's products are a micro-kernel's: rows of an odd number of
    // blocks (its two-block steps' tail), the LM head, a QKV product.
    std::string ot = "tensor<37x96xf32, #tfm.storage<q4_0>>";
    add("linear_decode_q4_0_odd_rounded",
        func("decode", {"tensor<1x96xf32>", ot},
             "  %r = tfm.linear %a0, %a1 " + quant +
                 " : tensor<1x96xf32>, " + ot + " -> tensor<1x37xf32>",
             "tensor<1x37xf32>"),
        {tensor({1, 96}), tensor({37, 96})});
    std::string ht = "tensor<301x256xf32, #tfm.storage<q4_0>>";
    add("lm_head_decode_q4_0_rounded",
        func("decode", {"tensor<1x256xf32>", ht},
             "  %r = tfm.lm_head %a0, %a1 " + quant +
                 " : tensor<1x256xf32>, " + ht + " -> tensor<1x301xf32>",
             "tensor<1x301xf32>"),
        {tensor({1, 256}), tensor({301, 256})});
    std::string qt = "tensor<64x64xf32, #tfm.storage<q4_0>>";
    add("qkv_rope_decode_q4_0_rounded",
        func("decode", {"tensor<1x64xf32>", qt, "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
             "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = "
             "10000.0, v_head_dim = 8, act_quant = #tfm.act_quant<q8_0>} : "
             "tensor<1x64xf32>, " + qt + " -> tensor<1x32xf32>, "
             "tensor<1x16xf32>, tensor<1x16xf32>",
             "tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32>"),
        {tensor({1, 64}), tensor({64, 64}), index(11)});
    // Prefill over q4_0 and q8_0 is the 8-bit GEMM micro-kernel's: the
    // GLU's two halves, a QKV product, 37 rows (tiles of 8 and of 4 with
    // remainders) by 53 outputs (a partial group of 16).
    add("linear_glu_prefill_q4_0_rounded",
        func("prefill", {"tensor<?x256xf32>", gt},
             "  %r = tfm.linear_glu silu %a0, %a1 " + quant +
                 " : tensor<?x256xf32>, " + gt + " -> tensor<?x48xf32>",
             "tensor<?x48xf32>"),
        {tensor({20, 256}), tensor({96, 256})});
    std::string q8t = "tensor<64x64xf32, #tfm.storage<q8_0>>";
    add("qkv_rope_prefill_q8_0_rounded",
        func("prefill", {"tensor<?x64xf32>", q8t, "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
             "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = "
             "10000.0, v_head_dim = 8, act_quant = #tfm.act_quant<q8_0>} : "
             "tensor<?x64xf32>, " + q8t + " -> tensor<?x32xf32>, "
             "tensor<?x16xf32>, tensor<?x16xf32>",
             "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>"),
        {tensor({9, 64}), tensor({64, 64}), index(11)});
    for (std::string storage : {"q4_0", "q8_0"}) {
      std::string lt = "tensor<53x512xf32, #tfm.storage<" + storage + ">>";
      add("linear_prefill_" + storage + "_long_rounded",
          func("prefill", {"tensor<?x512xf32>", lt},
               "  %r = tfm.linear %a0, %a1 " + quant +
                   " : tensor<?x512xf32>, " + lt + " -> tensor<?x53xf32>",
               "tensor<?x53xf32>"),
          {tensor({37, 512}), tensor({53, 512})});
      // 10 blocks a row: the block scales 8 blocks at a time, the last 8
      // again.
      std::string t10 = "tensor<23x320xf32, #tfm.storage<" + storage + ">>";
      for (bool decode : {true, false}) {
        std::string rows = decode ? "1" : "?";
        std::string x = "tensor<" + rows + "x320xf32>",
                    y = "tensor<" + rows + "x23xf32>";
        add(std::string("linear_") + (decode ? "decode_" : "prefill_") +
                storage + "_ten_blocks_rounded",
            func(decode ? "decode" : "prefill", {x, t10},
                 "  %r = tfm.linear %a0, %a1 " + quant + " : " + x + ", " +
                     t10 + " -> " + y,
                 y),
            {tensor({decode ? 1 : 11, 320}), tensor({23, 320})});
      }
    }
    std::string kt = "tensor<96x256xf32, #tfm.storage<q4_K>>";
    add("linear_glu_decode_q4_K_rounded",
        func("decode", {"tensor<1x256xf32>", kt},
             "  %r = tfm.linear_glu silu %a0, %a1 "
             "{act_quant = #tfm.act_quant<q8_K>} : tensor<1x256xf32>, " +
                 kt + " -> tensor<1x48xf32>",
             "tensor<1x48xf32>"),
        {tensor({1, 256}), tensor({96, 256})});
    // Prefill over q4_K and q6_K is the same micro-kernel's (q8_K
    // activations): the GLU's halves, a QKV product, 37 rows by 53 outputs.
    add("linear_glu_prefill_q4_K_rounded",
        func("prefill", {"tensor<?x256xf32>", kt},
             "  %r = tfm.linear_glu silu %a0, %a1 "
             "{act_quant = #tfm.act_quant<q8_K>} : tensor<?x256xf32>, " +
                 kt + " -> tensor<?x48xf32>",
             "tensor<?x48xf32>"),
        {tensor({20, 256}), tensor({96, 256})});
    std::string k6t = "tensor<64x256xf32, #tfm.storage<q6_K>>";
    add("qkv_rope_prefill_q6_K_rounded",
        func("prefill", {"tensor<?x256xf32>", k6t, "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
             "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = "
             "10000.0, v_head_dim = 8, act_quant = #tfm.act_quant<q8_K>} : "
             "tensor<?x256xf32>, " + k6t + " -> tensor<?x32xf32>, "
             "tensor<?x16xf32>, tensor<?x16xf32>",
             "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>"),
        {tensor({9, 256}), tensor({64, 256}), index(11)});
    for (std::string storage : {"q4_K", "q6_K"}) {
      std::string lt = "tensor<53x512xf32, #tfm.storage<" + storage + ">>";
      add("linear_prefill_" + storage + "_long_rounded",
          func("prefill", {"tensor<?x512xf32>", lt},
               "  %r = tfm.linear %a0, %a1 {act_quant = #tfm.act_quant<q8_K>}"
               " : tensor<?x512xf32>, " + lt + " -> tensor<?x53xf32>",
               "tensor<?x53xf32>"),
          {tensor({37, 512}), tensor({53, 512})});
    }
    std::string et = "tensor<301x256xf32, #tfm.storage<q5_0>>";
    add("lm_head_decode_q5_0_rounded",
        func("decode", {"tensor<1x256xf32>", et},
             "  %r = tfm.lm_head %a0, %a1 " + quant +
                 " : tensor<1x256xf32>, " + et + " -> tensor<1x301xf32>",
             "tensor<1x301xf32>"),
        {tensor({1, 256}), tensor({301, 256})});
  }

  // Embeddings and positions.
  add("embed",
      func("prefill", {"tensor<50x37xf32>", "tensor<?xi32>"},
           "  %r = tfm.embed %a0[%a1] : tensor<50x37xf32>, tensor<?xi32> -> "
           "tensor<?x37xf32>",
           "tensor<?x37xf32>"),
      {tensor({50, 37}), tokens(11, 50)});
  add("position_sinusoidal",
      func("prefill", {"tensor<?x38xf32>", "index"},
           "  %r = tfm.position sinusoidal %a0 at %a1 : tensor<?x38xf32>",
           "tensor<?x38xf32>"),
      {tensor({5, 38}), index(1000)});
  add("position_learned",
      func("decode", {"tensor<1x16xf32>", "index", "tensor<64x16xf32>"},
           "  %r = tfm.position learned %a0 at %a1 table %a2 : "
           "tensor<64x16xf32> : tensor<1x16xf32>",
           "tensor<1x16xf32>"),
      {tensor({1, 16}), index(63), tensor({64, 16})});

  // Norms: RMS and layer, with and without gain/bias, per head.
  add("norm_rms",
      func("prefill", {"tensor<?x96xf32>", "tensor<96xf32>"},
           "  %r = tfm.norm rms %a0 gain %a1 : tensor<96xf32> eps 1.0e-6 : "
           "tensor<?x96xf32>",
           "tensor<?x96xf32>"),
      {tensor({7, 96}), tensor({96})});
  add("norm_layer_bias_offset",
      func("decode", {"tensor<1x50xf32>", "tensor<50xf32>", "tensor<50xf32>"},
           "  %r = tfm.norm layer %a0 gain %a1 : tensor<50xf32> bias %a2 : "
           "tensor<50xf32> eps 1.0e-5 {gain_offset = 1.0 : f64} : "
           "tensor<1x50xf32>",
           "tensor<1x50xf32>"),
      {tensor({1, 50}), tensor({50}), tensor({50})});
  add("norm_per_head",
      func("prefill", {"tensor<?x48xf32>", "tensor<12xf32>"},
           "  %r = tfm.norm rms %a0 gain %a1 : tensor<12xf32> eps 1.0e-6 "
           "{group_size = 12 : i64} : tensor<?x48xf32>",
           "tensor<?x48xf32>"),
      {tensor({3, 48}), tensor({12})});
  add("norm_gain_per_head",
      func("prefill", {"tensor<?x48xf32>", "tensor<48xf32>"},
           "  %r = tfm.norm layer %a0 gain %a1 : tensor<48xf32> eps 1.0e-5 "
           "{group_size = 12 : i64} : tensor<?x48xf32>",
           "tensor<?x48xf32>"),
      {tensor({3, 48}), tensor({48})});

  // RoPE: layouts, partial rotary, scaling, far positions.
  struct Rope {
    const char *name, *layout;
    int hd, rd;
    const char *scaling;
    int64_t pos;
  };
  for (Rope r : std::vector<Rope>{
           {"rope_half", "half", 16, 16, "", 3},
           {"rope_interleaved", "interleaved", 8, 8, "", 0},
           {"rope_partial", "half", 16, 4, "", 7},
           {"rope_llama3_far", "half", 16, 16,
            ", scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, "
            "original_max_positions = 64>",
            100000},
           {"rope_ntk", "half", 8, 8,
            ", scaling = #tfm.rope_scaling<kind = ntk, factor = 4.0>", 50},
           {"rope_yarn", "half", 16, 16,
            ", scaling = #tfm.rope_scaling<kind = yarn, factor = 4.0, "
            "original_max_positions = 64, attention_factor = 1.1386>",
            300},
           {"rope_freq_factors", "interleaved", 8, 8,
            ", scaling = #tfm.rope_scaling<kind = factors, factor = 1.0, "
            "attention_factor = 1.19, freq_factors = [1.0, 1.5, 4.0, 9.5]>",
            2000}}) {
    std::string attrs = "{head_dim = " + std::to_string(r.hd) +
                        ", rotary_dim = " + std::to_string(r.rd) +
                        ", theta = 10000.0" + r.scaling + "}";
    add(r.name,
        func("prefill", {"tensor<?x48xf32>", "index"},
             std::string("  %r = tfm.rope ") + r.layout + " %a0 at %a1 " +
                 attrs + " : tensor<?x48xf32>",
             "tensor<?x48xf32>"),
        {tensor({5, 48}), index(r.pos)});
  }

  // Attention: MHA/GQA/MQA, windows, soft-capping, biases, decode/prefill.
  struct Attn {
    const char *name;
    int heads, kv, hd, s, len, pos;
    const char *extra;
    bool decode;
  };
  for (Attn a : std::vector<Attn>{
           {"attention_gqa_prefill", 4, 2, 8, 5, 9, 4, "causal", false},
           {"attention_mqa_decode", 4, 1, 16, 1, 17, 16, "causal", true},
           {"attention_window", 2, 2, 8, 6, 6, 0, "causal, window = 3", false},
           {"attention_softcap", 2, 1, 8, 1, 5, 4,
            "causal, softcap = 2.0", true}}) {
    int64_t qw = a.heads * a.hd, kw = a.kv * a.hd;
    std::string q = a.decode ? "tensor<1x" + std::to_string(qw) + "xf32>"
                             : "tensor<?x" + std::to_string(qw) + "xf32>";
    std::string k = "tensor<?x" + std::to_string(kw) + "xf32>";
    std::string attrs = "{num_heads = " + std::to_string(a.heads) +
                        ", num_kv_heads = " + std::to_string(a.kv) +
                        ", head_dim = " + std::to_string(a.hd) +
                        ", scale = 0.3, " + a.extra + "}";
    add(a.name,
        func(a.decode ? "decode" : "prefill", {q, k, k, "index"},
             "  %r = tfm.attention %a0, %a1, %a2 at %a3 " + attrs + " : " + q +
                 ", " + k + ", " + k + " -> " + q,
             q),
        {tensor({a.s, qw}), tensor({a.len, kw}), tensor({a.len, kw}),
         index(a.pos)});
    // The same as a tfm.cached_attention over a cache of len + 3 positions
    // (the first pos filled before, this call's keys and values written by
    // the host), in chunks of 4 keys: partial softmaxes merged.
    addCached(std::string(a.name) + "_chunked", a.decode, a.heads, a.kv, a.hd,
              a.s, a.pos, a.extra, 4);
  }
  // Flash-decoding over a longer cache: 7 chunks of 16, the last partial.
  addCached("attention_chunked_long_decode", true, 4, 2, 8, 1, 99,
            "causal, window = 70", 16);
  // A cache shorter than one chunk.
  addCached("attention_chunked_short_prefill", false, 2, 2, 8, 3, 2, "causal",
            16);
  // Prefill in tiles of 4 query rows (the last one partial) over chunks of
  // 8 keys, chunks after a tile's last row or before its window skipped.
  addCached("attention_chunked_long_prefill", false, 4, 4, 16, 37, 20,
            "causal", 8);
  addCached("attention_chunked_window_prefill", false, 4, 2, 16, 30, 11,
            "causal, window = 13", 8);
  addCached("attention_chunked_bias", false, 3, 3, 4, 4, 7, "causal", 4,
            /*bias=*/true);
  // Caches stored in 16 bits and in q8_0 blocks (head_dim 32): the kernel
  // reads the stored rows, widening or dequantizing each element; the
  // interpreter rounds its writes the same way.
  addCached("attention_cached_f16_decode", true, 4, 2, 8, 1, 99,
            "causal, window = 70", 16, false, "f16");
  addCached("attention_cached_bf16_prefill", false, 4, 4, 16, 37, 20,
            "causal", 8, false, "bf16");
  addCached("attention_cached_q8_0_decode", true, 4, 2, 32, 1, 70, "causal",
            16, false, "q8_0");
  addCached("attention_cached_q8_0_prefill", false, 6, 2, 32, 21, 13,
            "causal", 8, false, "q8_0");
  // Heads of whole AVX-512 vectors: flash-decoding in 16 lanes, its tails
  // rounded up (a cache of 301 keys in chunks of 256, and one of 77 in 32).
  addCached("attention_cached_wide_decode", true, 6, 6, 64, 1, 300, "causal",
            0);
  addCached("attention_cached_f16_wide_decode", true, 8, 2, 64, 1, 76,
            "causal, window = 50", 32, false, "f16");

  // Fused projections: GLU over [gate; up], QKV with RoPE (and QK-norm and
  // biases) in the epilogue, a norm in a projection's prologue.
  for (bool decode : {true, false}) {
    std::string phase = decode ? "decode" : "prefill";
    std::string s = decode ? "1" : "?";
    int64_t rows = decode ? 1 : 6;
    std::string x = "tensor<" + s + "x40xf32>";
    add("linear_glu_fused_" + phase,
        func(phase, {x, "tensor<106x40xf32>", "tensor<106xf32>"},
             "  %r = tfm.linear_glu gelu %a0, %a1 bias %a2 : tensor<106xf32> : " +
                 x + ", tensor<106x40xf32> -> tensor<" + s + "x53xf32>",
             "tensor<" + s + "x53xf32>"),
        {tensor({rows, 40}), tensor({106, 40}), tensor({106})});
    // A residual add and its norm in the prologue of the projection that
    // reads it; the kernel also yields the sum.
    std::string y = "tensor<" + s + "x29xf32>";
    add("add_norm_prologue_linear_" + phase,
        "func.func @" + phase + "(%a0: " + x + ", %a1: " + x +
            ", %a2: tensor<40xf32>, %a3: tensor<40xf32>, %a4: "
            "tensor<29x40xf32>) -> (" + y + ", " + x + ") {\n"
            "  %s, %n = tfm.add_norm layer %a0, %a1 gain %a2 : tensor<40xf32> "
            "bias %a3 : tensor<40xf32> eps 1.0e-5 {alpha = 0.5} : " + x +
            "\n  %r = tfm.linear %n, %a4 : " + x + ", tensor<29x40xf32> -> " +
            y + "\n  return %r, %s : " + y + ", " + x + "\n}",
        {tensor({rows, 40}), tensor({rows, 40}), tensor({40}), tensor({40}),
         tensor({29, 40})});
    // A tfm.add_norm no projection reads: a row-wise kernel of its own.
    add("add_norm_" + phase,
        func(phase, {x, x, "tensor<40xf32>"},
             "  %r:2 = tfm.add_norm rms %a0, %a1 gain %a2 : tensor<40xf32> "
             "eps 1.0e-6 {gain_offset = 1.0} : " + x,
             x + ", " + x),
        {tensor({rows, 40}), tensor({rows, 40}), tensor({40})});
    // 4 query heads and 2 KV heads of 8 features, 6 of them rotated.
    std::string q = "tensor<" + s + "x32xf32>", kv = "tensor<" + s + "x16xf32>";
    add("qkv_rope_" + phase,
        func(phase, {x, "tensor<64x40xf32>", "tensor<64xf32>", "index"},
             "  %r:3 = tfm.qkv_rope interleaved %a0, %a1 bias %a2 : "
             "tensor<64xf32> at %a3 {head_dim = 8, num_heads = 4, "
             "num_kv_heads = 2, rotary_dim = 6, theta = 10000.0, v_head_dim = "
             "8} : " + x + ", tensor<64x40xf32> -> " + q + ", " + kv + ", " +
                 kv,
             q + ", " + kv + ", " + kv),
        {tensor({rows, 40}), tensor({64, 40}), tensor({64}), index(37)});
    add("qkv_rope_qk_norm_" + phase,
        func(phase,
             {x, "tensor<64x40xf32>", "tensor<8xf32>", "tensor<8xf32>", "index"},
             "  %r:3 = tfm.qkv_rope half %a0, %a1 qk_norm %a2, %a3 : "
             "tensor<8xf32>, tensor<8xf32> at %a4 {head_dim = 8, num_heads = 4, "
             "num_kv_heads = 2, rotary_dim = 8, theta = 500000.0, v_head_dim = "
             "8, norm = #tfm.norm_kind<rms>, norm_eps = 1.0e-6, norm_group = 8} "
             ": " + x + ", tensor<64x40xf32> -> " + q + ", " + kv + ", " + kv,
             q + ", " + kv + ", " + kv),
        {tensor({rows, 40}), tensor({64, 40}), tensor({8}), tensor({8}),
         index(5)});
  }
  // Prefill products in whole vectors of 16, which FormKernels gives the
  // AVX-512 schedule on a machine with AVX-512 (column panels of 48 that
  // shift inwards at the edge; fewer rows than a tile).
  for (auto [s, k, n] : std::vector<std::array<int64_t, 3>>{
           {13, 64, 112}, {2, 32, 48}}) {
    std::string ty = "tensor<?x" + std::to_string(k) + "xf32>";
    std::string wt = "tensor<" + std::to_string(n) + "x" + std::to_string(k) +
                     "xf32>";
    std::string rt = "tensor<?x" + std::to_string(n) + "xf32>";
    add("linear_wide_" + std::to_string(s) + "x" + std::to_string(k) + "x" +
            std::to_string(n),
        "func.func @prefill(%a0: " + ty + ", %a1: " + ty + ", %a2: tensor<" +
            std::to_string(k) + "xf32>, %a3: " + wt + ") -> (" + rt + ", " +
            ty + ") {\n  %s, %n = tfm.add_norm rms %a0, %a1 gain %a2 : tensor<" +
            std::to_string(k) + "xf32> eps 1.0e-5 : " + ty +
            "\n  %r = tfm.linear %n, %a3 : " + ty + ", " + wt + " -> " + rt +
            "\n  return %r, %s : " + rt + ", " + ty + "\n}",
        {tensor({s, k}), tensor({s, k}), tensor({k}), tensor({n, k})});
  }
  add("linear_glu_wide",
      func("prefill", {"tensor<?x48xf32>", "tensor<160x48xf32>"},
           "  %r = tfm.linear_glu silu %a0, %a1 : tensor<?x48xf32>, "
           "tensor<160x48xf32> -> tensor<?x80xf32>",
           "tensor<?x80xf32>"),
      {tensor({9, 48}), tensor({160, 48})});
  // A prefill's LM head is a GEMV (it usually runs on the last row); with
  // every row's logits asked for, it runs row by row.
  add("lm_head_prefill_rows",
      func("prefill", {"tensor<?x32xf32>", "tensor<208x32xf32>"},
           "  %r = tfm.lm_head %a0, %a1 : tensor<?x32xf32>, tensor<208x32xf32> "
           "-> tensor<?x208xf32>",
           "tensor<?x208xf32>"),
      {tensor({5, 32}), tensor({208, 32})});
  // Products whose sum over k runs in blocks (of 144).
  add("linear_glu_blocked",
      func("prefill", {"tensor<?x288xf32>", "tensor<80x288xf32>"},
           "  %r = tfm.linear_glu gelu_tanh %a0, %a1 : tensor<?x288xf32>, "
           "tensor<80x288xf32> -> tensor<?x40xf32>",
           "tensor<?x40xf32>"),
      {tensor({7, 288}), tensor({80, 288})});
  add("qkv_rope_blocked",
      func("prefill", {"tensor<?x288xf32>", "tensor<64x288xf32>", "index"},
           "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 8, "
           "num_heads = 4, num_kv_heads = 2, rotary_dim = 8, theta = 10000.0, "
           "v_head_dim = 8} : tensor<?x288xf32>, tensor<64x288xf32> -> "
           "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>",
           "tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>"),
      {tensor({5, 288}), tensor({64, 288}), index(2)});
  // 2 query heads and 1 KV head of 32 features, all rotated.
  add("qkv_rope_wide",
      func("prefill", {"tensor<?x48xf32>", "tensor<128x48xf32>", "index"},
           "  %r:3 = tfm.qkv_rope half %a0, %a1 at %a2 {head_dim = 32, "
           "num_heads = 2, num_kv_heads = 1, rotary_dim = 32, theta = 10000.0, "
           "v_head_dim = 32} : tensor<?x48xf32>, tensor<128x48xf32> -> "
           "tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>",
           "tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>"),
      {tensor({7, 48}), tensor({128, 48}), index(3)});
  add("attention_bias",
      func("prefill",
           {"tensor<?x12xf32>", "tensor<?x12xf32>", "index", "tensor<3x?x?xf32>"},
           "  %r = tfm.attention %a0, %a1, %a1 at %a2 bias %a3 : "
           "tensor<3x?x?xf32> {num_heads = 3, num_kv_heads = 3, head_dim = 4, "
           "scale = 0.5, causal} : tensor<?x12xf32>, tensor<?x12xf32>, "
           "tensor<?x12xf32> -> tensor<?x12xf32>",
           "tensor<?x12xf32>"),
      {tensor({4, 12}), tensor({7, 12}), index(3), tensor({3, 4, 7})});

  // Position biases.
  add("alibi_6_heads",
      func("prefill", {"index", "index", "index"},
           "  %r = tfm.alibi %a0, %a1, %a2 {num_heads = 6} : tensor<6x?x?xf32>",
           "tensor<6x?x?xf32>"),
      {index(3), index(4), index(7)});
  add("alibi_scaled",
      func("prefill", {"index", "index", "index"},
           "  %r = tfm.alibi %a0, %a1, %a2 {num_heads = 5, slope_scale = "
           "0.125} : tensor<5x?x?xf32>",
           "tensor<5x?x?xf32>"),
      {index(2), index(4), index(6)});
  add("relative_bias",
      func("prefill", {"tensor<32x4xf32>", "index", "index", "index"},
           "  %r = tfm.relative_bias %a0 at %a1, %a2, %a3 {num_buckets = 32, "
           "max_distance = 128, bidirectional} : tensor<32x4xf32> -> "
           "tensor<4x?x?xf32>",
           "tensor<4x?x?xf32>"),
      {tensor({32, 4}), index(90), index(5), index(300)});
  // The interpreter needs the sizes as operands; the kernels only take
  // those sizes from their output buffer, so the test passes them the same.

  // Mixture of experts.
  add("moe_softmax_topk",
      func("prefill",
           {"tensor<?x16xf32>", "tensor<4x16xf32>", "tensor<4x24x16xf32>",
            "tensor<4x24x16xf32>", "tensor<4x16x24xf32>"},
           "  %r = tfm.moe silu %a0 router %a1 experts(%a2, %a3, %a4) "
           "{num_experts = 4, top_k = 2, norm_topk} : (tensor<?x16xf32>, "
           "tensor<4x16xf32>, tensor<4x24x16xf32>, tensor<4x24x16xf32>, "
           "tensor<4x16x24xf32>) -> tensor<?x16xf32>",
           "tensor<?x16xf32>"),
      {tensor({5, 16}), tensor({4, 16}), tensor({4, 24, 16}),
       tensor({4, 24, 16}), tensor({4, 16, 24})});
  add("moe_sigmoid_shared",
      func("decode",
           {"tensor<1x16xf32>", "tensor<4x16xf32>", "tensor<4x24x16xf32>",
            "tensor<4x24x16xf32>", "tensor<4x16x24xf32>", "tensor<20x16xf32>",
            "tensor<20x16xf32>", "tensor<16x20xf32>", "tensor<1x16xf32>"},
           "  %r = tfm.moe gelu_tanh %a0 router %a1 experts(%a2, %a3, %a4) "
           "shared(%a5, %a6, %a7) shared_router %a8 {num_experts = 4, top_k = "
           "3, num_shared = 1, scoring = #tfm.moe_scoring<sigmoid>, "
           "routed_scale = 1.5} : (tensor<1x16xf32>, tensor<4x16xf32>, "
           "tensor<4x24x16xf32>, tensor<4x24x16xf32>, tensor<4x16x24xf32>, "
           "tensor<20x16xf32>, tensor<20x16xf32>, tensor<16x20xf32>, "
           "tensor<1x16xf32>) -> tensor<1x16xf32>",
           "tensor<1x16xf32>"),
      {tensor({1, 16}), tensor({4, 16}), tensor({4, 24, 16}),
       tensor({4, 24, 16}), tensor({4, 16, 24}), tensor({20, 16}),
       tensor({20, 16}), tensor({16, 20}), tensor({1, 16})});
  // Group-limited routing: the top 3 of the experts in the 2 best of 4
  // groups of 3, prefill and decode.
  for (int64_t rows : {9, 1}) {
    std::string x = rows == 1 ? "tensor<1x16xf32>" : "tensor<?x16xf32>";
    add("moe_groups_" + std::to_string(rows),
        func(rows == 1 ? "decode" : "prefill",
             {x, "tensor<12x16xf32>", "tensor<12x8x16xf32>",
              "tensor<12x8x16xf32>", "tensor<12x16x8xf32>"},
             "  %r = tfm.moe silu %a0 router %a1 experts(%a2, %a3, %a4) "
             "{num_experts = 12, top_k = 3, num_groups = 4, top_groups = 2, "
             "routed_scale = 1.5} : (" + x + ", tensor<12x16xf32>, "
             "tensor<12x8x16xf32>, tensor<12x8x16xf32>, tensor<12x16x8xf32>) "
             "-> " + x,
             x),
        {tensor({rows, 16}), tensor({12, 16}), tensor({12, 8, 16}),
         tensor({12, 8, 16}), tensor({12, 16, 8})});
  }
  return out;
}

/// The kernels' own targets: the host without Halide's Sapphire Rapids
/// set, with which LLVM uses AVX512-FP16 instructions other AVX-512 CPUs
/// lack (Codegen.cpp's resolveTarget leaves it out too).
Halide::Target kernelLikeTarget() {
  return Halide::get_host_target()
      .without_feature(Halide::Target::AVX512_SapphireRapids)
      .without_feature(Halide::Target::AVX512_Cannonlake);
}

// The kernels' f16 widening, for every one of the 65,536 bit patterns,
// against the runtime's (bit for bit; every NaN stays a NaN).
TEST(WidenF16, EveryBitPatternIsExact) {
  Halide::Buffer<uint16_t> in(65536);
  for (int i = 0; i < 65536; ++i)
    in(i) = uint16_t(i);
  Halide::Func f;
  Halide::Var x;
  f(x) = halide::widenF16(in(x));
  f.vectorize(x, 16);
  Halide::Buffer<float> out = f.realize({65536}, kernelLikeTarget());
  for (int i = 0; i < 65536; ++i) {
    float want = rt::f16ToFloat(uint16_t(i));
    if (std::isnan(want))
      ASSERT_TRUE(std::isnan(out(i))) << i;
    else
      ASSERT_EQ(rt::floatToBits(out(i)), rt::floatToBits(want)) << i;
  }
}

// A block's f16 scale, for every one of the 65,536 bit patterns: q8_0
// blocks whose integers are all 1 dequantize to exactly the scale (the
// runtime's value), in the kernels' vectorized loop.
TEST(DequantizeScale, EveryBitPatternIsExact) {
  Halide::ImageParam blocks(Halide::UInt(8), 2, "blocks");
  Halide::Buffer<uint8_t> in(34, 65536);
  for (int h = 0; h < 65536; ++h) {
    in(0, h) = uint8_t(h & 0xff);
    in(1, h) = uint8_t(h >> 8);
    for (int i = 2; i < 34; ++i)
      in(i, h) = 1;
  }
  blocks.set(in);
  Halide::Func f;
  Halide::Var k, row;
  f(k, row) = halide::dequantize(ir::Storage::q8_0, blocks, k, {row});
  f.vectorize(k, 16);
  Halide::Buffer<float> out = f.realize({32, 65536}, kernelLikeTarget());
  for (int h = 0; h < 65536; ++h) {
    float want = rt::f16ToFloat(uint16_t(h));
    for (int i = 0; i < 32; i += 31) {
      if (std::isnan(want))
        ASSERT_TRUE(std::isnan(out(i, h))) << h;
      else
        ASSERT_EQ(rt::floatToBits(out(i, h)), rt::floatToBits(want)) << h;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ops, KernelTest, ::testing::ValuesIn(cases()),
    [](const ::testing::TestParamInfo<Case> &info) { return info.param.name; });

} // namespace
