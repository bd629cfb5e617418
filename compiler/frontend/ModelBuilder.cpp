//===- ModelBuilder.cpp - ModelSpec → graph-level tfm IR --------*- C++ -*-===//
//
// One function per entry point, every layer spelled out. Weight names are the
// ones runtime/WeightNames.h maps to checkpoint tensors.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/ModelBuilder.h"
#include "compiler/StorageTypes.h"
#include "compiler/frontend/Frontend.h"

#include "dialects/Tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace ::tfm;
namespace ir = mlir::tfm;
using rt::layerWeight;

namespace {

// The spec's own choices become IR by one conversion per enum, each an
// exhaustive switch: with -Werror=switch a choice added to ModelSpec fails
// to compile here until it is handled, rather than silently becoming
// another. Kinds the IR names (norms, activations, RoPE layouts, router
// scorings) are the dialect's enums already.

/// None: no scaling attribute.
std::optional<ir::RopeScalingKind> toIr(RopeScaling s) {
  switch (s) {
  case RopeScaling::None:
    return std::nullopt;
  case RopeScaling::Linear:
    return ir::RopeScalingKind::linear;
  case RopeScaling::Ntk:
    return ir::RopeScalingKind::ntk;
  case RopeScaling::Llama3:
    return ir::RopeScalingKind::llama3;
  case RopeScaling::Yarn:
    return ir::RopeScalingKind::yarn;
  case RopeScaling::Factors:
  case RopeScaling::Longrope: // the factors for the program's context
    return ir::RopeScalingKind::factors;
  }
  llvm_unreachable("a RoPE scaling the dialect has no name for");
}

/// None: no position op.
std::optional<ir::PositionKind> toIr(AbsolutePosition p) {
  switch (p) {
  case AbsolutePosition::None:
    return std::nullopt;
  case AbsolutePosition::Sinusoidal:
    return ir::PositionKind::sinusoidal;
  case AbsolutePosition::Learned:
    return ir::PositionKind::learned;
  }
  llvm_unreachable("a position kind the dialect has no name for");
}

/// Builds one entry point. `decode` fixes the sequence length to 1.
class EntryBuilder {
public:
  EntryBuilder(OpBuilder &b, const ModelSpec &spec, bool decode)
      : b_(b), s_(spec), decode_(decode), loc_(b.getUnknownLoc()) {}

  func::FuncOp build(StringRef name) {
    MLIRContext *ctx = b_.getContext();
    int64_t seq = decode_ ? 1 : ShapedType::kDynamic;
    auto tokensType = RankedTensorType::get({seq}, b_.getI32Type());
    auto cacheType =
        ir::KvCacheType::get(ctx, s_.maxSeqLen, s_.cacheKvHeads(),
                             s_.cacheHeadDim(), s_.cacheVHeadDim(),
                             s_.kvCacheStorage);
    SmallVector<Type> inputs{tokensType, b_.getIndexType()};
    SmallVector<Type> results{act(s_.vocabSize)};
    for (int64_t l = 0; l < s_.numLayers; ++l) {
      inputs.push_back(cacheType);
      results.push_back(cacheType);
    }
    auto fn = b_.create<func::FuncOp>(loc_, name,
                                      b_.getFunctionType(inputs, results));
    Block *entry = fn.addEntryBlock();
    OpBuilder::InsertionGuard guard(b_);
    b_.setInsertionPointToStart(entry);

    Value tokens = entry->getArgument(0);
    pos_ = entry->getArgument(1);
    if (decode_) {
      seqLen_ = b_.create<arith::ConstantIndexOp>(loc_, 1);
    } else {
      Value zero = b_.create<arith::ConstantIndexOp>(loc_, 0);
      seqLen_ = b_.create<tensor::DimOp>(loc_, tokens, zero);
    }
    totalLen_ = b_.create<arith::AddIOp>(loc_, pos_, seqLen_);

    Value h = embed(tokens);
    SmallVector<Value> outputs{Value()};
    for (int64_t l = 0; l < s_.numLayers; ++l) {
      Value cache = entry->getArgument(2 + l);
      h = layer(l, h, cache);
      outputs.push_back(cache);
    }
    if (s_.hasFinalNorm())
      h = norm(h, "final_norm", s_.hiddenSize);
    if (s_.embedWidth() != s_.hiddenSize)
      h = linear(h, "embed_proj_out", s_.embedWidth(), s_.hiddenSize, false);
    Value head = weight(s_.tieEmbeddings ? "embed.weight" : "lm_head.weight",
                        {s_.vocabSize, s_.embedWidth()});
    Value headBias =
        s_.lmHeadBias ? weight("lm_head.bias", {s_.vocabSize}) : Value();
    Value logits = b_.create<ir::LmHeadOp>(loc_, act(s_.vocabSize), h, head,
                                           headBias, actQuant(head));
    if (s_.logitScale != 1.0)
      logits = b_.create<ir::ScaleOp>(loc_, logits,
                                      b_.getF64FloatAttr(s_.logitScale));
    if (s_.logitSoftcap)
      logits = b_.create<ir::SoftcapOp>(loc_, logits,
                                        b_.getF64FloatAttr(*s_.logitSoftcap));
    outputs[0] = logits;
    b_.create<func::ReturnOp>(loc_, outputs);
    return fn;
  }

private:
  RankedTensorType act(int64_t features) {
    return RankedTensorType::get(
        {decode_ ? 1 : ShapedType::kDynamic, features}, b_.getF32Type());
  }

  /// Matrices are stored as the spec says (by name, else as every
  /// matrix); vectors (gains, biases) as f32.
  Value weight(const std::string &name, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, b_.getF32Type());
    if (shape.size() >= 2) {
      auto it = s_.weightStorage.find(name);
      type = ir::withStorage(type, it != s_.weightStorage.end()
                                       ? it->second
                                       : s_.matrixStorage);
    }
    return b_.create<ir::WeightOp>(loc_, type, b_.getStringAttr(name));
  }

  /// A norm of groups of `group` features with the model's norm kind; its
  /// gain (and bias) are `prefix.weight` (and `prefix.bias`).
  Value norm(Value x, const std::string &prefix, int64_t group,
             bool wholeRow = true, int64_t gains = 0,
             std::optional<bool> withBias = std::nullopt) {
    if (!gains)
      gains = group;
    Value gain = weight(prefix + ".weight", {gains});
    Value bias = withBias.value_or(s_.norm.bias)
                     ? weight(prefix + ".bias", {gains})
                     : Value();
    auto type = cast<RankedTensorType>(x.getType());
    return b_.create<ir::NormOp>(
        loc_, type, ir::NormKindAttr::get(b_.getContext(), s_.norm.kind),
        x, gain, bias, b_.getF64FloatAttr(s_.norm.eps),
        wholeRow ? IntegerAttr() : b_.getI64IntegerAttr(group),
        b_.getF64FloatAttr(s_.norm.gainOffset));
  }

  Value linear(Value x, const std::string &prefix, int64_t out, int64_t in,
               bool bias) {
    Value w = weight(prefix + ".weight", {out, in});
    Value b = bias ? weight(prefix + ".bias", {out}) : Value();
    return b_.create<ir::LinearOp>(loc_, act(out), x, w, b, actQuant(w));
  }

  /// The rounding of a product's operands over `weight`: bf16 for a float
  /// matrix at bf16 precision (a bf16 one unless the precision is f32, any
  /// at precision bf16); for a block format, the one llama.cpp pairs with
  /// it when the spec asks for int8 activations; none otherwise.
  ir::ActQuantAttr actQuant(Value weight) {
    ir::Storage storage = ir::storageOf(weight.getType());
    bool bf16 = storage == ir::Storage::bf16
                    ? s_.precision != Precision::F32
                    : s_.precision == Precision::Bf16;
    if (ir::blockElements(storage) == 1)
      return bf16 ? ir::ActQuantAttr::get(b_.getContext(), ir::ActQuant::bf16)
                  : ir::ActQuantAttr();
    if (s_.activations != Activations::Int8)
      return {};
    auto quant = ir::activationQuantFor(storage);
    return quant ? ir::ActQuantAttr::get(b_.getContext(), *quant)
                 : ir::ActQuantAttr();
  }

  Value embed(Value tokens) {
    int64_t width = s_.embedWidth();
    Value table = weight("embed.weight", {s_.vocabSize, width});
    Value h = b_.create<ir::EmbedOp>(loc_, act(width), table, tokens);
    if (s_.embeddingScale != 1.0)
      h = b_.create<ir::ScaleOp>(loc_, h,
                                 b_.getF64FloatAttr(s_.embeddingScale));
    if (width != s_.hiddenSize)
      h = linear(h, "embed_proj_in", s_.hiddenSize, width, false);
    if (std::optional<ir::PositionKind> kind = toIr(s_.absolutePosition)) {
      Value table = *kind == ir::PositionKind::learned
                        ? weight("pos_embed.weight",
                                 {s_.maxSeqLen, s_.hiddenSize})
                        : Value();
      h = b_.create<ir::PositionOp>(
          loc_, h.getType(), ir::PositionKindAttr::get(b_.getContext(), *kind),
          h, pos_, table);
    }
    if (s_.embeddingNorm)
      h = norm(h, "embed_norm", s_.hiddenSize);
    return h;
  }

  /// Residual stream `h` through one layer; `cache` is updated in place.
  Value layer(int64_t l, Value h, Value &cache) {
    auto name = [&](StringRef rest) { return layerWeight(l, rest); };
    const int64_t d = s_.hiddenSize;
    if (s_.parallel) {
      Value attnIn = norm(h, name("attn_norm"), d);
      Value ffnIn = s_.sharedNorm ? attnIn : norm(h, name("ffn_norm"), d);
      Value a = branch(attention(l, attnIn, cache));
      Value f = branch(feedForward(l, ffnIn));
      Value sum = b_.create<ir::AddOp>(loc_, h, a, alpha());
      return b_.create<ir::AddOp>(loc_, sum, f, b_.getF64FloatAttr(1.0));
    }
    h = sublayer(h, name("attn_norm"), name("post_attn_norm"),
                 [&](Value x) { return attention(l, x, cache); });
    return sublayer(h, name("ffn_norm"), name("post_ffn_norm"),
                    [&](Value x) { return feedForward(l, x); });
  }

  FloatAttr alpha() { return b_.getF64FloatAttr(s_.residualAlpha); }

  /// A sublayer's output as the residual add takes it.
  Value branch(Value x) {
    if (s_.branchScale == 1.0)
      return x;
    return b_.create<ir::ScaleOp>(loc_, x, b_.getF64FloatAttr(s_.branchScale));
  }

  /// One residual sublayer with the spec's norm placement.
  Value sublayer(Value h, const std::string &inNorm,
                 const std::string &outNorm,
                 llvm::function_ref<Value(Value)> sublayerBody) {
    const int64_t d = s_.hiddenSize;
    auto body = [&](Value x) { return branch(sublayerBody(x)); };
    switch (s_.placement) {
    case NormPlacement::Pre:
      return b_.create<ir::AddOp>(loc_, h, body(norm(h, inNorm, d)), alpha());
    case NormPlacement::Post:
      return norm(b_.create<ir::AddOp>(loc_, h, body(h), alpha()), inNorm, d);
    case NormPlacement::Sandwich:
      return b_.create<ir::AddOp>(
          loc_, h, norm(body(norm(h, inNorm, d)), outNorm, d), alpha());
    case NormPlacement::PostSublayer:
      return b_.create<ir::AddOp>(loc_, h, norm(body(h), outNorm, d),
                                  alpha());
    case NormPlacement::PreNormed: {
      Value normed = norm(h, inNorm, d);
      return b_.create<ir::AddOp>(loc_, normed, body(normed), alpha());
    }
    }
    return h;
  }

  /// The attention bias the position scheme adds to the scores (none for
  /// RoPE, which rotates Q and K instead).
  Value positionBias(int64_t l, int64_t heads) {
    const AttentionSpec &a = s_.attention;
    auto biasType = RankedTensorType::get(
        {heads, decode_ ? 1 : ShapedType::kDynamic, ShapedType::kDynamic},
        b_.getF32Type());
    switch (a.position) {
    case AttentionPosition::None:
    case AttentionPosition::Rope:
      return Value();
    case AttentionPosition::Alibi:
      return b_.create<ir::AlibiOp>(loc_, biasType, pos_, seqLen_, totalLen_,
                                    b_.getI64IntegerAttr(heads),
                                    b_.getF64FloatAttr(a.alibiScale));
    case AttentionPosition::Relative: {
      int64_t owner = a.relative.shared ? 0 : l;
      Value table = weight(layerWeight(owner, "attn.rel_bias.weight"),
                           {a.relative.numBuckets, heads});
      return b_.create<ir::RelativeBiasOp>(
          loc_, biasType, table, pos_, seqLen_, totalLen_,
          b_.getI64IntegerAttr(a.relative.numBuckets),
          b_.getI64IntegerAttr(a.relative.maxDistance),
          a.relative.bidirectional ? b_.getUnitAttr() : UnitAttr());
    }
    }
    llvm_unreachable("a position scheme without a bias rule");
  }

  /// Latent attention in its absorbed form: each query head is taken into
  /// the latent space through its key up-projection (k_up), so attention
  /// runs as one shared KV head over the cache's [latent | rotated key]
  /// rows, values being the latent; each head's output is then
  /// up-projected by v_up.
  Value latentAttention(int64_t l, Value x, Value &cache) {
    auto name = [&](StringRef rest) { return layerWeight(l, rest); };
    const AttentionSpec &a = s_.attention;
    const int64_t d = s_.hiddenSize, heads = a.numHeads,
                  rank = a.latent.kvRank, rd = s_.rotaryDim(),
                  nope = s_.headDim() - rd, vhd = s_.vHeadDim();
    Value qIn = x;
    int64_t qWidth = d;
    if (a.latent.qRank > 0) {
      qWidth = a.latent.qRank;
      qIn = norm(linear(x, name("attn.q_a"), qWidth, d, false),
                 name("attn.q_a_norm"), qWidth);
    }
    Value qNope = linear(qIn, name("attn.q_nope"), heads * nope, qWidth, false);
    Value qRope =
        rope(l, linear(qIn, name("attn.q_rope"), heads * rd, qWidth, false),
             rd);
    Value kUp = weight(name("attn.k_up.weight"), {heads, nope, rank});
    Value qLatent = b_.create<ir::HeadLinearOp>(loc_, act(heads * rank), qNope,
                                                kUp, b_.getUnitAttr());
    Value q = b_.create<ir::JoinOp>(loc_, act(heads * (rank + rd)), qLatent,
                                    qRope, b_.getI64IntegerAttr(heads));
    Value latent = norm(linear(x, name("attn.kv_latent"), rank, d, false),
                        name("attn.kv_norm"), rank);
    Value kRope = rope(l, linear(x, name("attn.k_rope"), rd, d, false), rd);
    Value k = b_.create<ir::JoinOp>(loc_, act(rank + rd), latent, kRope,
                                    b_.getI64IntegerAttr(1));
    cache =
        b_.create<ir::KvWriteOp>(loc_, cache.getType(), cache, k, latent, pos_);
    auto read = b_.create<ir::KvReadOp>(
        loc_,
        RankedTensorType::get({ShapedType::kDynamic, rank + rd},
                              b_.getF32Type()),
        RankedTensorType::get({ShapedType::kDynamic, rank}, b_.getF32Type()),
        cache, totalLen_);
    int64_t window = s_.windowOf(l);
    Value o = b_.create<ir::AttentionOp>(
        loc_, act(heads * rank), q, read.getKey(), read.getValue(), pos_,
        Value(), b_.getI64IntegerAttr(heads), b_.getI64IntegerAttr(1),
        b_.getI64IntegerAttr(rank + rd),
        b_.getF64FloatAttr(s_.attentionScale()),
        a.causal ? b_.getUnitAttr() : UnitAttr(),
        window > 0 ? b_.getI64IntegerAttr(window) : IntegerAttr(),
        a.softcap ? b_.getF64FloatAttr(*a.softcap) : FloatAttr());
    Value vUp = weight(name("attn.v_up.weight"), {heads, vhd, rank});
    Value perHead = b_.create<ir::HeadLinearOp>(loc_, act(heads * vhd), o,
                                                vUp, UnitAttr());
    return linear(perHead, name("attn.o"), d, heads * vhd, false);
  }

  Value attention(int64_t l, Value x, Value &cache) {
    if (s_.latentAttention())
      return latentAttention(l, x, cache);
    auto name = [&](StringRef rest) { return layerWeight(l, rest); };
    const AttentionSpec &a = s_.attention;
    const int64_t d = s_.hiddenSize, heads = a.numHeads,
                  kvHeads = s_.kvHeads(), hd = s_.headDim(),
                  vhd = s_.vHeadDim();
    Value q = linear(x, name("attn.q"), heads * hd, d, a.qkvBias);
    Value k = linear(x, name("attn.k"), kvHeads * hd, d, a.qkvBias);
    Value v = linear(x, name("attn.v"), kvHeads * vhd, d, a.qkvBias);
    switch (a.qkNorm) {
    case QkNorm::None:
      break;
    case QkNorm::PerHead:
      q = norm(q, name("attn.q_norm"), hd, /*wholeRow=*/false, 0,
               a.qkNormBias);
      k = norm(k, name("attn.k_norm"), hd, /*wholeRow=*/false, 0,
               a.qkNormBias);
      break;
    case QkNorm::Full:
      q = norm(q, name("attn.q_norm"), heads * hd, true, 0, a.qkNormBias);
      k = norm(k, name("attn.k_norm"), kvHeads * hd, true, 0, a.qkNormBias);
      break;
    case QkNorm::PerHeadGains:
      q = norm(q, name("attn.q_norm"), hd, /*wholeRow=*/false, heads * hd,
               a.qkNormBias);
      k = norm(k, name("attn.k_norm"), hd, /*wholeRow=*/false, kvHeads * hd,
               a.qkNormBias);
      break;
    }
    if (a.position == AttentionPosition::Rope) {
      q = rope(l, q, hd);
      k = rope(l, k, hd);
    }
    cache = b_.create<ir::KvWriteOp>(loc_, cache.getType(), cache, k, v, pos_);
    RankedTensorType keysType = RankedTensorType::get(
        {ShapedType::kDynamic, kvHeads * hd}, b_.getF32Type());
    RankedTensorType valuesType = RankedTensorType::get(
        {ShapedType::kDynamic, kvHeads * vhd}, b_.getF32Type());
    auto read = b_.create<ir::KvReadOp>(loc_, keysType, valuesType, cache,
                                        totalLen_);

    Value bias = positionBias(l, heads);
    int64_t window = s_.windowOf(l);
    Value o = b_.create<ir::AttentionOp>(
        loc_, act(heads * vhd), q, read.getKey(), read.getValue(), pos_, bias,
        b_.getI64IntegerAttr(heads), b_.getI64IntegerAttr(kvHeads),
        b_.getI64IntegerAttr(hd), b_.getF64FloatAttr(s_.attentionScale()),
        a.causal ? b_.getUnitAttr() : UnitAttr(),
        window > 0 ? b_.getI64IntegerAttr(window) : IntegerAttr(),
        a.softcap ? b_.getF64FloatAttr(*a.softcap) : FloatAttr());
    return linear(o, name("attn.o"), d, heads * vhd, a.outBias);
  }

  Value rope(int64_t l, Value x, int64_t headDim) {
    const RopeSpec &r = s_.attention.rope;
    bool local = r.localTheta && s_.windowOf(l) > 0;
    double theta = local ? *r.localTheta : r.theta;
    ir::RopeScalingAttr scaling;
    if (std::optional<ir::RopeScalingKind> kind = toIr(r.scaling);
        kind && !local) {
      scaling = ir::RopeScalingAttr::get(
          b_.getContext(), *kind, llvm::APFloat(r.factor),
          llvm::APFloat(r.lowFreqFactor), llvm::APFloat(r.highFreqFactor),
          r.originalMaxPositions, llvm::APFloat(r.betaFast),
          llvm::APFloat(r.betaSlow), llvm::APFloat(r.attentionFactor),
          *kind == ir::RopeScalingKind::factors
              ? b_.getDenseF64ArrayAttr(r.factorsFor(s_.maxSeqLen))
              : DenseF64ArrayAttr());
    }
    auto layout = ir::RopeLayoutAttr::get(b_.getContext(), r.layout);
    return b_.create<ir::RopeOp>(loc_, x.getType(), layout, x, pos_,
                                 b_.getI64IntegerAttr(headDim),
                                 b_.getI64IntegerAttr(s_.rotaryDim()),
                                 b_.getF64FloatAttr(theta), scaling);
  }

  Value feedForward(int64_t l, Value x) {
    auto name = [&](StringRef rest) { return layerWeight(l, rest); };
    const FfnSpec &f = s_.ffn;
    const int64_t d = s_.hiddenSize;
    if (s_.isMoeLayer(l))
      return moe(l, x);
    Value hidden;
    if (f.kind == FfnKind::Glu) {
      Value gate = linear(x, name("ffn.gate"), f.hiddenSize, d, f.bias);
      Value up = linear(x, name("ffn.up"), f.hiddenSize, d, f.bias);
      hidden = b_.create<ir::GluOp>(
          loc_, ir::ActKindAttr::get(b_.getContext(), f.activation),
          gate, up);
    } else {
      Value up = linear(x, name("ffn.up"), f.hiddenSize, d, f.bias);
      hidden = b_.create<ir::ActivationOp>(
          loc_, ir::ActKindAttr::get(b_.getContext(), f.activation),
          up);
    }
    return linear(hidden, name("ffn.down"), d, f.hiddenSize, f.bias);
  }

  Value moe(int64_t l, Value x) {
    auto name = [&](StringRef rest) { return layerWeight(l, rest); };
    const MoeSpec &m = s_.ffn.moe;
    const int64_t d = s_.hiddenSize, e = m.numExperts, f = s_.expertHidden();
    Value router = weight(name("moe.router.weight"), {e, d});
    Value gate = weight(name("moe.gate.weight"), {e, f, d});
    Value up = weight(name("moe.up.weight"), {e, f, d});
    Value down = weight(name("moe.down.weight"), {e, d, f});
    Value sharedGate, sharedUp, sharedDown, sharedRouter;
    if (m.numShared > 0) {
      int64_t fs = s_.sharedExpertHidden();
      sharedGate = weight(name("moe.shared_gate.weight"), {fs, d});
      sharedUp = weight(name("moe.shared_up.weight"), {fs, d});
      sharedDown = weight(name("moe.shared_down.weight"), {d, fs});
      if (m.sharedRouter)
        sharedRouter = weight(name("moe.shared_router.weight"), {1, d});
    }
    return b_.create<ir::MoeOp>(
        loc_, x.getType(), x, router, gate, up, down, sharedGate, sharedUp,
        sharedDown, sharedRouter,
        ir::ActKindAttr::get(b_.getContext(), s_.ffn.activation),
        b_.getI64IntegerAttr(e), b_.getI64IntegerAttr(m.topK),
        b_.getI64IntegerAttr(m.numShared),
        ir::MoeScoringAttr::get(b_.getContext(), m.scoring),
        m.normTopK ? b_.getUnitAttr() : UnitAttr(),
        b_.getF64FloatAttr(m.routedScale), b_.getI64IntegerAttr(m.numGroups),
        b_.getI64IntegerAttr(m.topGroups));
  }

  OpBuilder &b_;
  const ModelSpec &s_;
  bool decode_;
  Location loc_;
  Value pos_, seqLen_, totalLen_;
};

} // namespace

namespace tfm {

OwningOpRef<ModuleOp> buildModel(MLIRContext &context,
                                      const ModelSpec &spec) {
  context.loadDialect<ir::TfmDialect, func::FuncDialect, arith::ArithDialect,
                      tensor::TensorDialect>();
  OpBuilder b(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(b.getUnknownLoc());
  module->setSymNameAttr(b.getStringAttr(spec.name));
  rt::WeightLayout layout = weightLayout(spec);
  (*module)->setAttr(
      ir::TfmDialect::kModelAttrName,
      ir::ModelAttr::get(&context, spec.vocabSize, spec.maxSeqLen,
                         spec.numLayers, spec.attention.numHeads,
                         spec.kvHeads(), spec.headDim(), spec.vHeadDim(),
                         layout.rotaryDim, layout.ropeInterleaved,
                         spec.tieEmbeddings, layout.naming, layout.hidden,
                         llvm::APFloat(layout.ropeTheta),
                         llvm::APFloat(layout.normEps), layout.latentRank));
  b.setInsertionPointToEnd(module->getBody());
  EntryBuilder(b, spec, /*decode=*/false).build("prefill");
  EntryBuilder(b, spec, /*decode=*/true).build("decode");
  return module;
}

std::vector<rt::WeightRequest> collectWeightRequests(ModuleOp module) {
  std::vector<rt::WeightRequest> requests;
  llvm::StringSet<> seen;
  module.walk([&](ir::WeightOp op) {
    if (!seen.insert(op.getName()).second)
      return;
    auto shape = op.getResult().getType().getShape();
    requests.push_back({op.getName().str(),
                        {shape.begin(), shape.end()},
                        runtimeStorage(op.getResult().getType())});
  });
  return requests;
}

} // namespace tfm
