//===- Linear.cpp - projections: linear, lm_head, linear_glu, qkv_rope -*- C++ -*-===//
//
// A product x·wᵀ is one reduction (the stage `product.dot`), tiled by the
// GEMV (decode) or GEMM (prefill) template. The fused projections compute
// what follows the product on its accumulators or row by row: the GLU's
// act(gate)·up, and Q's and K's norms and rotations.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/ops/Lowering.h"
#include "runtime/BfloatGemm.h"
#include "runtime/FloatGemm.h"
#include "runtime/QuantGemm.h"

using namespace Halide;

namespace tfm::halide {
namespace {

/// Records the block size of the product's weight storage.
void noteBlock(Lowering &l, mlir::Value weight) {
  l.stages.product.block =
      int(ir::blockElements(ir::storageOf(weight.getType())));
}

/// `x` (2-D) with each value rounded to bf16, to nearest with ties to even,
/// as runtime/Half.h's floatToBf16 rounds (a NaN stays a NaN).
Func roundedToBf16(Func x, const std::string &name) {
  Var a("a"), b("b");
  Expr bits = reinterpret<uint32_t>(x(a, b));
  Expr half = cast<uint32_t>(0x7fff), one = cast<uint32_t>(1);
  Expr rounded =
      reinterpret<float>((bits + (half + ((bits >> 16) & one))) &
                         cast<uint32_t>(Expr(int32_t(0xffff0000u))));
  Func f(name);
  f(a, b) = select(is_nan(x(a, b)), x(a, b), rounded);
  return f;
}

/// x as a product with activation rounding `quant` reads it: each row's
/// blocks rounded to q·d, as runtime/Quant.cpp's roundActivations does it
/// (the same f32 operations; the scales in strict f32). Records the
/// stages actScale (d and 1/d by block and row), actInts (q as Int(16))
/// and, for q8_K, actSums (the sum of q over each 32 elements).
Func roundInput(Lowering &l, Func x, int k, std::optional<ir::ActQuant> quant) {
  if (!quant)
    return x;
  if (*quant == ir::ActQuant::bf16) {
    l.stages.product.actBf16 = roundedToBf16(x, "act_bf16");
    return l.stages.product.actBf16;
  }
  ProductStages &p = l.stages.product;
  int block = int(ir::blockElements(*quant));
  Var b("b"), s("s"), c("c");
  RDom r(0, block, "in_block");
  Func scale("act_scale");
  Expr q;
  if (*quant == ir::ActQuant::q8_0) {
    // Scale amax/127 rounded to f16; q = x·(127/amax), ties to even.
    Expr amax = maximum(abs(x(b * block + r, s)));
    Expr d = cast<float>(cast<float16_t>(amax / 127.f));
    Expr inv = select(amax != 0.f, 127.f / amax, 0.f);
    scale(b, s) = Tuple(strict_float(d), strict_float(inv));
    q = round(x(c, s) * scale(c / block, s)[1]);
  } else {
    // max: the value of largest magnitude (the first one); q =
    // x·(-127/max), ties to even, at most 127; scale 1/(-127/max).
    Func largest("act_largest");
    Expr v = x(b * block + r, s);
    largest(b, s) = Tuple(0.f, 0.f);
    Expr larger = abs(v) > largest(b, s)[0];
    largest(b, s) = Tuple(select(larger, abs(v), largest(b, s)[0]),
                          select(larger, v, largest(b, s)[1]));
    Expr amax = largest(b, s)[0], max = largest(b, s)[1];
    Expr inv = -127.f / select(amax == 0.f, 1.f, max);
    scale(b, s) = Tuple(strict_float(select(amax == 0.f, 0.f, 1.f / inv)),
                        strict_float(select(amax == 0.f, 0.f, inv)));
    q = min(127.f, round(x(c, s) * scale(c / block, s)[1]));
  }
  Func ints("act_ints");
  ints(c, s) = cast<int16_t>(q);
  p.actInts = ints;
  if (*quant == ir::ActQuant::q8_K) {
    RDom in32(0, 32, "in_32");
    Func sums("act_sums");
    sums(b, s) += cast<int32_t>(ints(b * 32 + in32, s));
    p.actSums = sums;
  }
  p.actScale = scale;
  // q8_0's scale is one reduction per block, which a schedule may
  // vectorize across blocks (q8_K's is a stage of its own, left alone).
  p.actBlocks = *quant == ir::ActQuant::q8_0 ? k / block : 0;
  Func rounded("act_rounded");
  rounded(c, s) = q * scale(c / block, s)[0];
  return rounded;
}

/// The decode product over 8-bit activations in integers. Each block of
/// the weight's row is summed in `steps` steps of 2·`lanes` elements: each
/// lane multiplies a pair of the weight's integers (16 bits) by a pair of
/// the activations' and adds the two (x86's pmaddwd), and adds the steps
/// up. Each lane's sum of a block is then scaled by the two blocks' scales
/// and accumulated in f32; the lanes are summed last. For q4_K and q5_K,
/// the sub-block minimums times the activations' sums over 32 form a
/// second, scalar, sum (`intMins`), subtracted at the end. `row` gives the
/// weight row of an output at coordinates `outs` (which end with the
/// activation row, s).
///
/// - q8_0, q4_0, q5_0 (hasSignedInts, q8_0 activations): a block of 32 is
///   one step of 16 lanes (q8_0, its bytes in order) or two of 8 (a nibble
///   format: each byte's low nibbles, then its high ones).
/// - q4_K, q5_K, q6_K (hasKInts, q8_K activations): a block of 256 is 8
///   steps of 16 lanes, the weights' sub-block scales multiplied into
///   their integers.
Func integerProduct(Lowering &l, ImageParam bytes, ir::Storage storage, int k,
                    const std::vector<Var> &outs, Expr row) {
  ProductStages &p = l.stages.product;
  bool kQuant = hasKInts(storage);
  int block = int(ir::blockElements(storage));
  int laneCount = integerLanes(storage);
  int steps = block / (2 * laneCount);
  Var lane("lane"), blk("blk");
  Var s = outs.back();
  RDom pair(0, 2, 0, steps, "pair");
  RDom blocks(0, k / block, "blocks"), lanes(0, laneCount, "lanes");
  auto args = [&](std::vector<Expr> front) {
    front.insert(front.end(), outs.begin(), outs.end());
    return front;
  };
  // Element `within` (of the block) of step pair.y, lane, pair.x, as an
  // integer; and a block's scale.
  Expr within, value, scale;
  if (kQuant) {
    within = pair.y * 32 + 2 * lane + pair.x;
    value = kInts(storage, bytes, blk, pair.y, 2 * lane + pair.x, {row}).value;
    scale = kInts(storage, bytes, blocks, 0, 0, {row}).scale;
  } else {
    within = 2 * lane + pair.x + 16 * pair.y;
    value = cast<int16_t>(
        signedInt(storage, bytes, blk, 2 * lane + pair.x, pair.y, {row}).first);
    scale = signedInt(storage, bytes, blocks, 0, 0, {row}).second;
  }
  Func sum("int_sum");
  sum(args({lane, blk})) += cast<int32_t>(value) *
                            cast<int32_t>(p.actInts(blk * block + within, s));
  Func acc("int_acc");
  acc(args({lane})) += cast<float>(sum(args({lane, blocks}))) *
                       (scale * p.actScale(blocks, s)[0]);
  Func dot("dot");
  dot(args({})) += acc(args({lanes}));
  if (kQuant) {
    RDom subs(0, 8, 0, k / 256, "subs");
    KInts m = kInts(storage, bytes, subs.y, subs.x, 0, {row});
    if (m.min.defined()) { // q4_K, q5_K
      Func mins("int_mins");
      mins(args({})) +=
          cast<float>(m.min * p.actSums(subs.y * 8 + subs.x, s)) *
          (m.minScale * p.actScale(subs.y, s)[0]);
      dot(args({})) -= mins(args({}));
      p.intMins = mins;
    }
  }
  p.intSum = sum;
  p.intAcc = acc;
  p.pair = pair;
  p.blocks = blocks;
  p.lanes = lanes;
  return dot;
}

/// A product's weight as rounding `quant` reads it: rounded to bf16 for a
/// bf16 product over a matrix stored otherwise.
Func productWeight(Lowering &l, mlir::Value weight,
                   std::optional<ir::ActQuant> quant) {
  if (quant != ir::ActQuant::bf16 ||
      ir::storageOf(weight.getType()) == ir::Storage::bf16)
    return l.f(weight);
  return roundedToBf16(l.f(weight), "weight_bf16");
}

/// A product by the micro-kernel `symbol` (runtime/QuantDot.h), an extern
/// stage over (n, j, s) called with `args`: the product's outputs `outs`
/// ((n, j, s), or (n, s) read at j = 0). `inputs` are the Funcs among the
/// arguments, computed once per call.
Func externDot(Lowering &l, const std::string &symbol,
               const std::vector<ExternFuncArgument> &args,
               const std::vector<Var> &outs, std::vector<Func> inputs) {
  Var n("n"), j("j"), s("s");
  Func ext("extern_dot");
  ext.define_extern(symbol, args, Float(32), {n, j, s});
  Func dot("dot");
  if (outs.size() == 3)
    dot(outs) = ext(outs[0], outs[1], outs[2]);
  else
    dot(outs) = ext(outs[0], 0, outs[1]);
  l.stages.product.externDot = ext;
  l.stages.product.externInputs = std::move(inputs);
  return dot;
}

/// The decode product over q4_0 or q8_0 weights and q8_0 activations, or
/// q4_K or q6_K weights and q8_K activations, by a micro-kernel
/// (runtime/QuantDot.h) as an extern stage over (n, j, s); weight row n +
/// j·`pairStride` gives output (n, j, s). Halide rounds the activations
/// and sums them as the micro-kernel wants (once per call); the
/// micro-kernel reads each weight row once.
Func externProduct(Lowering &l, ImageParam bytes, ir::Storage storage, int k,
                   const std::vector<Var> &outs, int pairStride) {
  ProductStages &p = l.stages.product;
  Var c("c"), q("q"), b("b"), s("s");
  Func act("act_bytes"), sums("act_extern_sums"), d("act_d");
  act(c, s) = cast<int8_t>(p.actInts(c, s));
  std::string symbol;
  if (storage == ir::Storage::q4_K) {
    // The sub-blocks' minimums meet the sums of each 32.
    symbol = "tfm_dot_q4_K_q8_K";
    sums(q, s) = p.actSums(q, s);
  } else {
    // The integers are stored plus 8 (q4_0) or 32 (q6_K), or laid out
    // plus 128 (q8_0): the products take that back from the sums of each
    // 4 activations.
    int offset = storage == ir::Storage::q4_0   ? 8
                 : storage == ir::Storage::q8_0 ? 128
                                                : 32;
    symbol = storage == ir::Storage::q4_0   ? "tfm_dot_q4_0_q8_0"
             : storage == ir::Storage::q8_0 ? "tfm_dot_q8_0_q8_0"
                                            : "tfm_dot_q6_K_q8_K";
    Expr quad = cast<int32_t>(act(4 * q, s)) +
                cast<int32_t>(act(4 * q + 1, s)) +
                cast<int32_t>(act(4 * q + 2, s)) +
                cast<int32_t>(act(4 * q + 3, s));
    sums(q, s) = -offset * quad;
  }
  d(b, s) = p.actScale(b, s)[0];
  return externDot(l, symbol, {bytes, act, sums, d, Expr(k), Expr(pairStride)},
                   outs, {act, sums, d});
}

/// The decode product over f16 weights and f32 activations by the
/// micro-kernel tfm_dot_f16_f32, as externProduct's.
Func externF16Product(Lowering &l, ImageParam bits, Func x, int k,
                      const std::vector<Var> &outs, int pairStride) {
  Var c("c"), s("s");
  Func in("f16_dot_input");
  in(c, s) = x(c, s);
  return externDot(l, "tfm_dot_f16_f32", {bits, in, Expr(k), Expr(pairStride)},
                   outs, {in});
}

/// The prefill product of activations `x` rounded to bf16 and a float
/// weight (rounded to bf16 as it is packed) by the micro-kernel
/// tfm_gemm_bf16 (runtime/BfloatGemm.h), as externProduct's over `outputs`
/// outputs per half; Halide hands it the activations' bf16 bits, once per
/// call of the kernel.
Func externBf16Product(Lowering &l, ImageParam image, ir::Storage storage,
                       Func x, int k, int outputs,
                       const std::vector<Var> &outs, int pairStride) {
  Var c("c"), s("s");
  Func bits("bf16_act_bits");
  bits(c, s) = cast<uint16_t>(reinterpret<uint32_t>(x(c, s)) >> 16);
  int format = storage == ir::Storage::bf16  ? tfm_gemm_weight_bf16
               : storage == ir::Storage::f16 ? tfm_gemm_weight_f16
                                              : tfm_gemm_weight_f32;
  l.stages.product.externGemmOutputs = outputs;
  return externDot(l, "tfm_gemm_bf16",
                   {image, bits, Expr(format), Expr(k), Expr(pairStride)},
                   outs, {bits});
}

/// The prefill product of f32 activations `x` and f16 weights in f32 by
/// the micro-kernel tfm_gemm_f32 (runtime/FloatGemm.h), as
/// externBf16Product's.
Func externF32Gemm(Lowering &l, ImageParam image, Func x, int k, int outputs,
                   const std::vector<Var> &outs, int pairStride) {
  Var c("c"), s("s");
  Func in("f32_gemm_input");
  in(c, s) = x(c, s);
  l.stages.product.externGemmOutputs = outputs;
  return externDot(l, "tfm_gemm_f32",
                   {image, in, Expr(int(tfm_gemm_weight_f16)), Expr(k),
                    Expr(pairStride)},
                   outs, {in});
}

/// Whether a product over `weight` with rounding `quant` is the f32
/// prefill micro-kernel's: a prefill product (tiled as a GEMM) over f16
/// weights that are an argument of the kernel, f32 activations, k in
/// whole chunks of 16.
bool usesF32Gemm(Lowering &l, mlir::Value weight,
                 std::optional<ir::ActQuant> quant, int k) {
  return !l.gemv() && !quant && l.image(weight).defined() && k % 16 == 0 &&
         ir::storageOf(weight.getType()) == ir::Storage::f16;
}

/// The prefill product over q4_0 or q8_0 weights and activations rounded
/// to q8_0, or q4_K or q6_K weights and activations rounded to q8_K, by
/// the micro-kernel tfm_gemm_q8_0 (runtime/QuantGemm.h), as
/// externBf16Product's: Halide hands it the activations' integers and
/// their blocks' scales, once per call of the kernel.
Func externInt8Gemm(Lowering &l, ImageParam bytes, ir::Storage storage, int k,
                    int outputs, const std::vector<Var> &outs,
                    int pairStride) {
  ProductStages &p = l.stages.product;
  Var c("c"), b("b"), s("s");
  Func act("act_bytes"), d("act_d");
  act(c, s) = cast<int8_t>(p.actInts(c, s));
  d(b, s) = p.actScale(b, s)[0];
  int format = storage == ir::Storage::q4_0   ? tfm_gemm_weight_q4_0
               : storage == ir::Storage::q8_0 ? tfm_gemm_weight_q8_0
               : storage == ir::Storage::q4_K ? tfm_gemm_weight_q4_K
                                              : tfm_gemm_weight_q6_K;
  p.externGemmOutputs = outputs;
  return externDot(l, "tfm_gemm_q8_0",
                   {bytes, act, d, Expr(format), Expr(k), Expr(pairStride)},
                   outs, {act, d});
}

/// Whether a product over `weight` with rounding `quant` is the 8-bit
/// prefill micro-kernel's: a prefill product (tiled as a GEMM) over
/// weights that are an argument of the kernel, q4_0 or q8_0 with
/// activations rounded to q8_0, or q4_K or q6_K with activations rounded to
/// q8_K.
bool usesInt8Gemm(Lowering &l, mlir::Value weight,
                  std::optional<ir::ActQuant> quant) {
  ir::Storage storage = ir::storageOf(weight.getType());
  if (l.gemv() || !l.image(weight).defined())
    return false;
  if (quant == ir::ActQuant::q8_0)
    return storage == ir::Storage::q4_0 || storage == ir::Storage::q8_0;
  return quant == ir::ActQuant::q8_K &&
         (storage == ir::Storage::q4_K || storage == ir::Storage::q6_K);
}

/// Whether a product over `weight` with rounding `quant` is the bf16
/// micro-kernel's: a prefill product (tiled as a GEMM) at bf16 precision
/// over a float weight that is an argument of the kernel, k in whole tile
/// rows of 32.
bool usesBf16Gemm(Lowering &l, mlir::Value weight,
                  std::optional<ir::ActQuant> quant, int k) {
  return !l.gemv() && quant == ir::ActQuant::bf16 &&
         l.image(weight).defined() && k % 32 == 0;
}

/// Whether a decode product over `weight` with rounding `quant` is the f16
/// micro-kernel's: f16 weights that are an argument of the kernel, f32
/// activations.
bool usesF16Extern(Lowering &l, mlir::Value weight,
                   std::optional<ir::ActQuant> quant) {
  return l.gemv() && !quant && l.image(weight).defined() &&
         ir::storageOf(weight.getType()) == ir::Storage::f16;
}

/// Whether a product over `weight` is formed by a micro-kernel (when it is
/// formed in integers, usesIntegers).
bool usesExtern(mlir::Value weight) {
  ir::Storage storage = ir::storageOf(weight.getType());
  return storage == ir::Storage::q4_0 || storage == ir::Storage::q8_0 ||
         storage == ir::Storage::q4_K || storage == ir::Storage::q6_K;
}

/// Whether a product over `weight` with rounding `quant` is formed in
/// integers: tiled as a GEMV (decode, a prefill's LM head), over 8-bit
/// activations and a weight of the matching integers that is an argument
/// of the kernel.
bool usesIntegers(Lowering &l, mlir::Value weight,
                  std::optional<ir::ActQuant> quant) {
  ir::Storage storage = ir::storageOf(weight.getType());
  return l.gemv() && l.image(weight).defined() &&
         ((quant == ir::ActQuant::q8_0 && hasSignedInts(storage)) ||
          (quant == ir::ActQuant::q8_K && hasKInts(storage)));
}

/// The product of `x` and a stored weight as a decode kernel reads it
/// directly, when it does: by a micro-kernel, or in integers, over outputs
/// `outs` ((n, j, s) for a GLU's halves `pairStride` rows apart, else
/// (n, s)). Undefined otherwise (a product over the weight as f32).
Func storedProduct(Lowering &l, Func x, mlir::Value weight,
                   std::optional<ir::ActQuant> quant, int k,
                   const std::vector<Var> &outs, int pairStride) {
  ir::Storage storage = ir::storageOf(weight.getType());
  ImageParam image = l.image(weight);
  if (usesBf16Gemm(l, weight, quant, k)) {
    int outputs = int(Lowering::size(weight, 0)) / (outs.size() == 3 ? 2 : 1);
    return externBf16Product(l, image, storage, x, k, outputs, outs,
                             pairStride);
  }
  if (usesInt8Gemm(l, weight, quant)) {
    int outputs = int(Lowering::size(weight, 0)) / (outs.size() == 3 ? 2 : 1);
    return externInt8Gemm(l, image, storage, k, outputs, outs, pairStride);
  }
  if (usesF32Gemm(l, weight, quant, k)) {
    int outputs = int(Lowering::size(weight, 0)) / (outs.size() == 3 ? 2 : 1);
    return externF32Gemm(l, image, x, k, outputs, outs, pairStride);
  }
  if (usesIntegers(l, weight, quant) && usesExtern(weight))
    return externProduct(l, image, storage, k, outs, pairStride);
  if (usesF16Extern(l, weight, quant))
    return externF16Product(l, image, x, k, outs, pairStride);
  if (usesIntegers(l, weight, quant)) {
    Expr row = outs.size() == 3 ? outs[0] + outs[1] * pairStride : outs[0];
    return integerProduct(l, image, storage, k, outs, row);
  }
  return Func();
}

void lowerLinear(ir::LinearOp op, Lowering &l) {
  l.define(op.getResult(), product(l, l.f(op.getInput()), op.getWeight(),
                                   l.optional(op.getBias()),
                                   op.getActQuant()));
}

void lowerLmHead(ir::LmHeadOp op, Lowering &l) {
  l.define(op.getResult(), product(l, l.f(op.getInput()), op.getWeight(),
                                   l.optional(op.getBias()),
                                   op.getActQuant()));
}

void lowerLinearGlu(ir::LinearGluOp g, Lowering &l) {
  Var n("n"), j("j"), s("s"), k("k");
  Func w = productWeight(l, g.getWeight(), g.getActQuant());
  int rows = int(Lowering::size(g.getWeight(), 0)), width = rows / 2;
  int depth = int(Lowering::size(g.getWeight(), 1));
  Func x = roundInput(l, l.f(g.getInput()), depth, g.getActQuant());
  RDom r(0, depth, "k");
  // The gate row and the up row of each output side by side (j = 0, 1),
  // so a tile of outputs reads both halves of the concatenated weight.
  Func paired("glu_weight");
  paired(k, n, j) = w(k, n + j * width);
  Func dot = storedProduct(l, x, g.getWeight(), g.getActQuant(), depth,
                           {n, j, s}, width);
  if (!dot.defined()) {
    dot = Func("dot");
    dot(n, j, s) += x(r, s) * paired(r, n, j);
  }
  l.stages.product.dot = dot;
  l.stages.product.input = x;
  l.stages.product.weight = paired;
  l.stages.product.k = r;
  noteBlock(l, g.getWeight());
  Expr gate = dot(n, 0, s), up = dot(n, 1, s);
  if (g.getBias()) {
    Func bias = l.f(g.getBias());
    gate = gate + bias(n);
    up = up + bias(n + width);
  }
  Func out("linear_glu");
  out(n, s) = activate(g.getAct(), gate) * up;
  l.define(g.getResult(), out);
}

void lowerQkvRope(ir::QkvRopeOp op, Lowering &l) {
  Var c("c"), s("s");
  int hd = int(op.getHeadDim()), qw = int(op.getNumHeads()) * hd,
      kw = int(op.getNumKvHeads()) * hd;
  Func dot = product(l, l.f(op.getInput()), op.getWeight(),
                     l.optional(op.getBias()), op.getActQuant());
  // The product is tiled like a projection's output; the three results
  // read their columns of it.
  Func whole("qkv_product");
  whole(c, s) = dot(c, s);
  l.stages.qkvProduct = whole;
  Func q("q"), k("k"), v("v");
  q(c, s) = whole(c, s);
  k(c, s) = whole(qw + c, s);
  v(c, s) = whole(qw + kw + c, s);
  if (auto kind = op.getNorm()) {
    auto group = op.getNormGroup();
    NormParams params{0,
                      *kind,
                      float(op.getNormEps()->convertToDouble()),
                      Func(),
                      Func(),
                      float(op.getNormGainOffset().convertToDouble())};
    params.group = group ? int(*group) : qw;
    params.gain = l.f(op.getQGain());
    q = normalize(q, params, l.stages.qNorm, "q_");
    params.group = group ? int(*group) : kw;
    params.gain = l.f(op.getKGain());
    k = normalize(k, params, l.stages.kNorm, "k_");
  }
  Rotation rotation{l.scalar(op.getPos()), hd, int(op.getRotaryDim()),
                    op.getLayout(), op.getInverseFrequencies(),
                    op.getAttentionFactor()};
  l.define(op.getQuery(), rotate(l, q, rotation, qw));
  l.define(op.getKey(), rotate(l, k, rotation, kw));
  l.define(op.getValue(), v);
}

/// tfm.head_linear: one dot product per output feature over its head's
/// input features, reduced inline (the products are small: latent
/// attention's per-head up-projections).
void lowerHeadLinear(ir::HeadLinearOp op, Lowering &l) {
  Var c("c"), s("s");
  Func x = l.f(op.getInput()), w = l.f(op.getWeight()), out("head_linear");
  int in = int(op.getInFeatures()), n = int(op.getOutFeatures());
  RDom k(0, in, "hk");
  Expr h = c / n, j = c % n;
  Expr weight = op.getTransposeWeight() ? w(j, k, h) : w(k, j, h);
  out(c, s) = sum(x(h * in + k, s) * weight);
  l.define(op.getResult(), out);
}

} // namespace

Func product(Lowering &l, Func x, mlir::Value weight, Func bias,
             std::optional<ir::ActQuant> quant) {
  Var n("n"), s("s");
  int k = int(Lowering::size(weight, 1));
  Func w = productWeight(l, weight, quant);
  x = roundInput(l, x, k, quant);
  RDom r(0, k, "k");
  Func dot = storedProduct(l, x, weight, quant, k, {n, s}, 0);
  if (!dot.defined()) {
    dot = Func("dot");
    dot(n, s) += x(r, s) * w(r, n);
  }
  l.stages.product.dot = dot;
  l.stages.product.input = x;
  l.stages.product.weight = w;
  l.stages.product.k = r;
  noteBlock(l, weight);
  if (!bias.defined())
    return dot;
  Func out("linear");
  out(n, s) = dot(n, s) + bias(n);
  return out;
}

void addLinearLowerings(LoweringTable &table) {
  table.add(lowerLinear);
  table.add(lowerLmHead);
  table.add(lowerLinearGlu);
  table.add(lowerQkvRope);
  table.add(lowerHeadLinear);
}

} // namespace tfm::halide
