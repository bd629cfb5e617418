//===- Pipeline.cpp - tfm ops as Halide Funcs -------------------*- C++ -*-===//
//
// One Func per op; a kernel's ops compose into one pipeline. Formulas follow
// the op descriptions in TfmOps.td; position-dependent angles are computed
// in f64 so long contexts keep f32 accuracy.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Pipeline.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace Halide;
namespace ir = mlir::tfm;
using mlir::Value;

namespace tfm::halide {
namespace {

/// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), evaluated in f64.
Expr erfApprox(Expr x) {
  auto k = [](double v) { return Expr(v); }; // f64 constants
  Expr a = abs(cast<double>(x));
  Expr t = k(1.0) / (k(1.0) + k(0.3275911) * a);
  Expr poly =
      t * (k(0.254829592) +
           t * (k(-0.284496736) +
                t * (k(1.421413741) +
                     t * (k(-1.453152027) + t * k(1.061405429)))));
  Expr y = k(1.0) - poly * exp(-a * a);
  return cast<float>(select(x < 0, -y, y));
}

Expr activate(ir::ActKind kind, Expr x) {
  switch (kind) {
  case ir::ActKind::relu:
    return max(x, 0.0f);
  case ir::ActKind::gelu:
    return 0.5f * x * (1.0f + erfApprox(x * float(M_SQRT1_2)));
  case ir::ActKind::gelu_tanh:
    return 0.5f * x *
           (1.0f + tanh(float(std::sqrt(2.0 / M_PI)) *
                        (x + 0.044715f * x * x * x)));
  case ir::ActKind::silu:
    return x / (1.0f + exp(-x));
  }
  return x;
}

class Builder {
public:
  Builder(ir::KernelOp kernel, const AlgorithmOptions &options)
      : kernel_(kernel), kvChunk_(options.kvChunk) {}

  KernelPipeline build() {
    KernelPipeline p;
    p.decode = kernel_.isDecode();
    mlir::Block &block = kernel_.getBlock();
    for (auto [i, arg] : llvm::enumerate(block.getArguments())) {
      std::string name = llvm::formatv("arg{0}", i).str();
      if (auto t = mlir::dyn_cast<mlir::RankedTensorType>(arg.getType())) {
        Type elem = t.getElementType().isF32() ? Float(32) : Int(32);
        ImageParam image(elem, int(t.getRank()), name);
        constrain(image, t);
        images_[arg] = image;
        Func f(name + "_in");
        std::vector<Var> v = vars(t.getRank());
        f(v) = image(v);
        funcs_[arg] = f;
        p.images[i] = image;
        p.arguments.push_back(image);
      } else if (auto cache = mlir::dyn_cast<ir::KvCacheType>(arg.getType())) {
        // A KV cache: its keys and its values, every position, as two
        // buffers.
        auto view = [&](const std::string &part, int64_t width) {
          ImageParam image(Float(32), 2, name + "_" + part);
          constrain(image, mlir::RankedTensorType::get(
                               {cache.getLen(), width},
                               mlir::Float32Type::get(arg.getContext())));
          p.arguments.push_back(image);
          return image;
        };
        ImageParam keys = view("keys", cache.getKvHeads() * cache.getHeadDim());
        ImageParam values =
            view("values", cache.getKvHeads() * cache.getVHeadDim());
        caches_[arg] = {keys, values};
        p.caches[i] = {keys, values};
      } else {
        Param<int32_t> scalar(name);
        scalars_[arg] = scalar;
        p.scalars[i] = scalar;
        p.arguments.push_back(scalar);
      }
    }
    p.anchor = block.front().getName().stripDialect().str();
    for (mlir::Operation &op : block.without_terminator())
      lower(&op);
    mlir::Value first = kernel_.getResultValues().front();
    auto firstType = mlir::cast<mlir::RankedTensorType>(first.getType());
    p.vars = vars(firstType.getRank());
    for (int64_t i = firstType.getRank() - 1; i >= 0; --i)
      p.extents.push_back(firstType.getDimSize(i));
    for (auto [i, result] : llvm::enumerate(kernel_.getResultValues())) {
      auto type = mlir::cast<mlir::RankedTensorType>(result.getType());
      Func out(i == 0 ? std::string("out") : llvm::formatv("out{0}", i).str());
      std::vector<Var> v = vars(type.getRank());
      out(v) = funcs_.at(result)(v);
      constrainOutput(out, type);
      p.outputs.push_back(out);
    }
    p.output = p.outputs.front();
    // Results of a tfm.add_norm are computed row by row: the residual sum
    // beside a projection's output, or both results of an add_norm kernel
    // (whose row statistics belong to the normalized output).
    p.statsOwner = p.output;
    for (auto [i, result] : llvm::enumerate(kernel_.getResultValues()))
      if (auto addNorm = result.getDefiningOp<ir::AddNormOp>()) {
        p.rowOutputs.push_back(i);
        if (result == addNorm.getNormed())
          p.statsOwner = p.outputs[i];
      }
    if (!block.empty() && block.front().getNumOperands() > 0 &&
        mlir::isa<mlir::RankedTensorType>(block.front().getOperand(0).getType()))
      p.rows = rowsOf(block.front().getOperand(0));
    p.stages = stages_;
    p.rdoms = rdoms_;
    return p;
  }

private:
  /// Vars d0 (innermost) ... d{rank-1}.
  static std::vector<Var> vars(int64_t rank) {
    std::vector<Var> v;
    for (int64_t i = 0; i < rank; ++i)
      v.push_back(Var(llvm::formatv("d{0}", i).str()));
    return v;
  }

  /// Dense row-major layout with the static extents of `type`.
  template <typename Dims>
  static void constrainDims(Dims dimOf, mlir::RankedTensorType type) {
    int64_t rank = type.getRank();
    Expr stride = 1;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t size = type.getDimSize(rank - 1 - i);
      auto dim = dimOf(int(i));
      dim.set_min(0);
      dim.set_stride(stride);
      if (!mlir::ShapedType::isDynamic(size))
        dim.set_extent(int(size));
      stride = stride * dim.extent();
    }
  }
  static void constrain(ImageParam &image, mlir::RankedTensorType type) {
    constrainDims([&](int i) { return image.dim(i); }, type);
  }
  static void constrainOutput(Func &out, mlir::RankedTensorType type) {
    constrainDims([&](int i) { return out.output_buffer().dim(i); }, type);
  }

  Func f(Value v) { return funcs_.at(v); }
  Expr scalar(Value v) { return scalars_.at(v); }

  /// Extent of MLIR dimension `dim` of `v`: static, or read from the input
  /// buffer it is (reductions only run over such dimensions).
  Expr extent(Value v, int64_t dim) {
    auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
    if (!t.isDynamicDim(dim))
      return int(t.getDimSize(dim));
    auto it = images_.find(v);
    if (it == images_.end())
      throw CompileError("internal: a reduction over a dynamic dimension of "
                         "a value computed inside the kernel");
    return it->second.dim(int(t.getRank() - 1 - dim)).extent();
  }

  /// The sequence extent of `v`: its dimension 0, traced back to the
  /// kernel argument it is computed from.
  Expr rowsOf(Value v) {
    if (!images_.count(v))
      if (mlir::Operation *op = v.getDefiningOp())
        if (op->getNumOperands() > 0)
          return rowsOf(op->getOperand(0));
    return extent(v, 0);
  }

  static int64_t size(Value v, int64_t dim) {
    return mlir::cast<mlir::RankedTensorType>(v.getType()).getDimSize(dim);
  }

  void define(Value result, Func func) { funcs_[result] = func; }

  void lower(mlir::Operation *op) {
    Var c("c"), s("s");
    llvm::TypeSwitch<mlir::Operation *>(op)
        .Case([&](ir::EmbedOp e) {
          Func table = f(e.getTable()), tokens = f(e.getTokens());
          int vocab = int(size(e.getTable(), 0));
          Func out("embed");
          out(c, s) = table(c, clamp(tokens(s), 0, vocab - 1));
          define(e.getResult(), out);
        })
        .Case([&](ir::PositionOp p) { position(p); })
        .Case([&](ir::NormOp n) { norm(n); })
        .Case([&](ir::AddNormOp a) { addNorm(a); })
        .Case([&](ir::LinearOp l) {
          define(l.getResult(),
                 linear(f(l.getInput()), f(l.getWeight()),
                        l.getBias() ? f(l.getBias()) : Func(),
                        int(size(l.getWeight(), 1))));
        })
        .Case([&](ir::LmHeadOp l) {
          define(l.getResult(), linear(f(l.getInput()), f(l.getWeight()),
                                       Func(), int(size(l.getWeight(), 1))));
        })
        .Case([&](ir::ActivationOp a) {
          Func in = f(a.getInput()), out("activation");
          out(c, s) = activate(a.getKind(), in(c, s));
          define(a.getResult(), out);
        })
        .Case([&](ir::GluOp g) {
          Func gate = f(g.getGate()), up = f(g.getUp()), out("glu");
          out(c, s) = activate(g.getAct(), gate(c, s)) * up(c, s);
          define(g.getResult(), out);
        })
        .Case([&](ir::AddOp a) {
          define(a.getResult(), residualAdd(f(a.getLhs()), f(a.getRhs()),
                                            a.getAlpha().convertToDouble()));
        })
        .Case([&](ir::MulOp m) {
          Func lhs = f(m.getLhs()), rhs = f(m.getRhs()), out("mul");
          out(c, s) = lhs(c, s) * rhs(c, s);
          define(m.getResult(), out);
        })
        .Case([&](ir::ScaleOp m) {
          Func in = f(m.getInput()), out("scale");
          out(c, s) = in(c, s) * float(m.getFactor().convertToDouble());
          define(m.getResult(), out);
        })
        .Case([&](ir::SoftcapOp m) {
          Func in = f(m.getInput()), out("softcap");
          float cap = float(m.getCap().convertToDouble());
          out(c, s) = cap * tanh(in(c, s) / cap);
          define(m.getResult(), out);
        })
        .Case([&](ir::RopeOp r) { rope(r); })
        .Case([&](ir::AttentionOp a) { attention(a); })
        .Case([&](ir::CachedAttentionOp a) { cachedAttention(a); })
        .Case([&](ir::AlibiOp a) { alibi(a); })
        .Case([&](ir::RelativeBiasOp r) { relativeBias(r); })
        .Case([&](ir::MoeOp m) { moe(m); })
        .Case([&](ir::LinearGluOp g) { linearGlu(g); })
        .Case([&](ir::QkvRopeOp q) { qkvRope(q); })
        .Default([&](mlir::Operation *op) {
          throw CompileError("no Halide lowering for " +
                             op->getName().getStringRef().str());
        });
  }

  Func linear(Func x, Func w, Func bias, int k) {
    Var n("n"), s("s");
    RDom r(0, k, "k");
    Func dot("dot");
    dot(n, s) += x(r, s) * w(r, n);
    stages_["dot"] = dot;
    rdoms_["dot"] = r;
    stages_["dot_input"] = x;
    stages_["dot_weight"] = w;
    if (!bias.defined())
      return dot;
    Func out("linear");
    out(n, s) = dot(n, s) + bias(n);
    return out;
  }

  void position(ir::PositionOp p) {
    Var c("c"), s("s");
    Func x = f(p.getInput()), out("position");
    Expr pos = scalar(p.getPos());
    if (p.getTable()) {
      Func table = f(p.getTable());
      int rows = int(size(p.getTable(), 0));
      out(c, s) = x(c, s) + table(c, clamp(pos + s, 0, rows - 1));
    } else {
      int64_t dim = size(p.getInput(), 1);
      Buffer<double> inv(int(dim / 2), "sinusoid_frequencies");
      for (int64_t i = 0; i < dim / 2; ++i)
        inv(int(i)) = 1.0 / std::pow(10000.0, double(2 * i) / double(dim));
      Expr angle = cast<double>(pos + s) * inv(c / 2);
      out(c, s) = x(c, s) + cast<float>(select(c % 2 == 0, sin(angle),
                                               cos(angle)));
    }
    define(p.getResult(), out);
  }

  void norm(ir::NormOp n) {
    Func out = normalize(f(n.getInput()), int(n.getGroupSizeOrRow()),
                         n.getKind(),
                         float(n.getEps().convertToDouble()),
                         n.getGain() ? f(n.getGain()) : Func(),
                         n.getBias() ? f(n.getBias()) : Func(),
                         float(n.getGainOffset().convertToDouble()), "");
    defineNorm(n.getResult(), out);
  }

  /// alpha·lhs + rhs, as tfm.add computes it.
  static Func residualAdd(Func lhs, Func rhs, double alpha) {
    Var c("c"), s("s");
    Func out("add");
    out(c, s) = alpha == 1.0 ? lhs(c, s) + rhs(c, s)
                             : float(alpha) * lhs(c, s) + rhs(c, s);
    return out;
  }

  /// Defines a normalized value. One read by another op of its kernel
  /// (norms are there only before a projection) is that op's prologue.
  void defineNorm(mlir::Value result, Func out) {
    if (result.hasOneUse() &&
        !mlir::isa<ir::YieldOp>(*result.getUsers().begin()))
      stages_["prologue"] = out;
    define(result, out);
  }

  /// tfm.add_norm: the residual sum (as tfm.add computes it), and its
  /// norm over whole rows, which is the prologue of a projection reading
  /// it in the same kernel.
  void addNorm(ir::AddNormOp a) {
    Func sum = residualAdd(f(a.getLhs()), f(a.getRhs()),
                           a.getAlpha().convertToDouble());
    define(a.getSum(), sum);
    Func out = normalize(sum, int(size(a.getLhs(), 1)),
                         a.getKind(),
                         float(a.getEps().convertToDouble()),
                         a.getGain() ? f(a.getGain()) : Func(),
                         a.getBias() ? f(a.getBias()) : Func(),
                         float(a.getGainOffset().convertToDouble()), "");
    defineNorm(a.getNormed(), out);
  }

  /// tfm.norm of `x` over groups of `group` features; its statistics are
  /// the stages `<prefix>stats` (and `<prefix>mean`).
  Func normalize(Func x, int group, ir::NormKind kind, float eps, Func gain,
                 Func bias, float offset, const std::string &prefix) {
    bool rms = !ir::subtractsMean(kind);
    Var c("c"), s("s"), g("g");
    RDom r(0, group, "i");
    Func mean(prefix + "mean"), stats(prefix + "stats");
    if (rms) {
      stats(g, s) += x(g * group + r, s) * x(g * group + r, s);
    } else {
      mean(g, s) += x(g * group + r, s);
      Expr m = mean(g, s) / float(group);
      Expr d = x(g * group + r, s) - m;
      stats(g, s) += d * d;
      stages_[prefix + "mean"] = mean;
    }
    stages_[prefix + "stats"] = stats;
    Expr centered = rms ? x(c, s) : x(c, s) - mean(c / group, s) / float(group);
    Expr y = centered / sqrt(stats(c / group, s) / float(group) + eps);
    if (gain.defined())
      y = y * (offset == 0.0f ? gain(c % group) : gain(c % group) + offset);
    if (bias.defined())
      y = y + bias(c % group);
    Func out(prefix + "norm");
    out(c, s) = y;
    return out;
  }

  void rope(ir::RopeOp r) {
    define(r.getResult(),
           rotate(f(r.getInput()), scalar(r.getPos()), int(r.getHeadDim()),
                  int(r.getRotaryDim()), r.getLayout(),
                  r.getInverseFrequencies(), int(size(r.getInput(), 1))));
  }

  /// tfm.rope of `x`; the angle tables are the stages "cos" and "sin"
  /// (built once per kernel and shared by every rotation in it).
  Func rotate(Func x, Expr pos, int hd, int rd, ir::RopeLayout layout,
              llvm::ArrayRef<double> freqs, int features) {
    Var c("c"), s("s"), k("k");
    int half = rd / 2;
    if (!stages_.count("cos")) {
      Buffer<double> inv(half, "rope_frequencies");
      for (int i = 0; i < half; ++i)
        inv(i) = freqs[i];
      // Angles in f64: positions reach 1e5 and more.
      Func cosT("rope_cos"), sinT("rope_sin");
      Expr angle = cast<double>(pos + s) * inv(k);
      cosT(k, s) = cast<float>(cos(angle));
      sinT(k, s) = cast<float>(sin(angle));
      stages_["cos"] = cosT;
      stages_["sin"] = sinT;
    }
    Func cosT = stages_["cos"], sinT = stages_["sin"];

    Expr j = c % hd;
    Expr first, pair, partner;
    if (layout == ir::RopeLayout::half) {
      first = j < half;
      pair = select(first, j, j - half);
      partner = select(first, c + half, c - half);
    } else {
      first = j % 2 == 0;
      pair = j / 2;
      partner = select(first, c + 1, c - 1);
    }
    pair = clamp(pair, 0, half - 1);
    partner = clamp(partner, 0, features - 1);
    Expr cs = cosT(pair, s), sn = sinT(pair, s);
    Expr rotated = select(first, x(c, s) * cs - x(partner, s) * sn,
                          x(c, s) * cs + x(partner, s) * sn);
    Func out("rope");
    out(c, s) = rd == hd ? rotated : select(j < rd, rotated, x(c, s));
    return out;
  }

  void linearGlu(ir::LinearGluOp g) {
    Var n("n"), j("j"), s("s"), k("k");
    Func x = f(g.getInput()), w = f(g.getWeight());
    int rows = int(size(g.getWeight(), 0)), width = rows / 2;
    RDom r(0, int(size(g.getWeight(), 1)), "k");
    // The gate row and the up row of each output side by side (j = 0, 1),
    // so a tile of outputs reads both halves of the concatenated weight.
    Func paired("glu_weight");
    paired(k, n, j) = w(k, n + j * width);
    Func dot("dot");
    dot(n, j, s) += x(r, s) * paired(r, n, j);
    stages_["dot"] = dot;
    stages_["dot_input"] = x;
    stages_["dot_weight"] = paired;
    rdoms_["dot"] = r;
    Expr gate = dot(n, 0, s), up = dot(n, 1, s);
    if (g.getBias()) {
      Func bias = f(g.getBias());
      gate = gate + bias(n);
      up = up + bias(n + width);
    }
    Func out("linear_glu");
    out(n, s) = activate(g.getAct(), gate) * up;
    define(g.getResult(), out);
  }

  void qkvRope(ir::QkvRopeOp op) {
    Var c("c"), s("s");
    int hd = int(op.getHeadDim()), qw = int(op.getNumHeads()) * hd,
        kw = int(op.getNumKvHeads()) * hd;
    Func dot = linear(f(op.getInput()), f(op.getWeight()),
                      op.getBias() ? f(op.getBias()) : Func(),
                      int(size(op.getWeight(), 1)));
    // The product is tiled like a projection's output; the three results
    // read their columns of it.
    Func product("qkv_product");
    product(c, s) = dot(c, s);
    stages_["product"] = product;
    Func q("q"), k("k"), v("v");
    q(c, s) = product(c, s);
    k(c, s) = product(qw + c, s);
    v(c, s) = product(qw + kw + c, s);
    if (auto kind = op.getNorm()) {
      float eps = float(op.getNormEps()->convertToDouble());
      float offset = float(op.getNormGainOffset().convertToDouble());
      auto group = op.getNormGroup();
      q = normalize(q, group ? int(*group) : qw, *kind, eps, f(op.getQGain()),
                    Func(), offset, "q_");
      k = normalize(k, group ? int(*group) : kw, *kind, eps, f(op.getKGain()),
                    Func(), offset, "k_");
    }
    llvm::SmallVector<double> freqs = op.getInverseFrequencies();
    Expr pos = scalar(op.getPos());
    int rd = int(op.getRotaryDim());
    define(op.getQuery(), rotate(q, pos, hd, rd, op.getLayout(), freqs, qw));
    define(op.getKey(), rotate(k, pos, hd, rd, op.getLayout(), freqs, kw));
    define(op.getValue(), v);
  }

  /// Scores of key t for head h and query row s: q·k (the stage "qk"),
  /// scaled, soft-capped and biased, the lowest float where `masked`
  /// (causal, window, or `outside`). Keys and bias are read at key row
  /// `row`, queries and bias at query row `queryRow`.
  template <typename AttentionT>
  Func attentionLogits(AttentionT a, Func key, Var t, Var h, Var s, RDom rd,
                       Expr row, Expr queryRow, Expr outside, Expr &masked) {
    Func q = f(a.getQuery());
    int hd = int(a.getHeadDim());
    int group = int(a.getNumHeads() / a.getNumKvHeads());
    // The keys as (key, dimension, KV head): inlined, it is the cache read
    // in place; computed, a chunk of keys transposed so that the scores can
    // be vectorized along the keys.
    Var d("d"), g("g");
    Func keysT("keys_t");
    keysT(t, d, g) = key(g * hd + d, row);
    stages_["keys_t"] = keysT;
    Func qk("qk");
    qk(t, h, s) += q(h * hd + rd, queryRow) * keysT(t, rd, h / group);
    stages_["qk"] = qk;
    Expr score = qk(t, h, s) * float(a.getScale().convertToDouble());
    if (auto cap = a.getSoftcap()) {
      float capf = float(cap->convertToDouble());
      score = capf * tanh(score / capf);
    }
    if (a.getBias())
      score = score + f(a.getBias())(row, queryRow, h);
    Expr p = scalar(a.getPos()) + s;
    masked = outside;
    if (a.getCausal())
      masked = masked || t > p;
    if (auto w = a.getWindow())
      masked = masked || t <= p - int(*w);
    Func logits("logits");
    logits(t, h, s) = select(masked, Float(32).min(), score);
    stages_["logits"] = logits;
    return logits;
  }

  void attention(ir::AttentionOp a) {
    Var c("c"), s("s"), t("t"), h("h"), e("e");
    Func value = f(a.getValue());
    int heads = int(a.getNumHeads()), kvHeads = int(a.getNumKvHeads());
    int hd = int(a.getHeadDim());
    int vhd = int(size(a.getValue(), 1)) / kvHeads;
    int group = heads / kvHeads;
    Expr len = extent(a.getKey(), 0);

    RDom rd(0, hd, "dd");
    Expr masked;
    Func logits = attentionLogits(a, f(a.getKey()), t, h, s, rd, t, s,
                                  Internal::const_false(), masked);

    RDom rt(0, len, "tt");
    rdoms_["keys"] = rt;
    rdoms_["head_dim"] = rd;
    Func mx("max"), den("denom"), weighted("weighted");
    mx(h, s) = maximum(logits(rt, h, s));
    Func prob("prob");
    prob(t, h, s) = select(masked, 0.0f, exp(logits(t, h, s) - mx(h, s)));
    den(h, s) += prob(rt, h, s);
    weighted(e, h, s) += prob(rt, h, s) * value((h / group) * vhd + e, rt);
    Func out("attention");
    out(c, s) = weighted(c % vhd, c / vhd, s) / den(c / vhd, s);
    stages_["max"] = mx;
    stages_["prob"] = prob;
    stages_["denom"] = den;
    stages_["weighted"] = weighted;
    define(a.getResult(), out);
  }

  /// tfm.cached_attention: attention over the cache in place, in chunks of
  /// kv_chunk keys: each chunk's
  /// softmax is computed on its own (its max, denominator and weighted
  /// values: the "partials" stage), then the chunks are merged, rescaled to
  /// the global max. No score row longer than a chunk exists.
  void cachedAttention(ir::CachedAttentionOp a) {
    Var c("c"), s("s"), t("t"), h("h"), e("e"), x("x"), ch("ch");
    // The cache in place: the host has written this call's keys and
    // values into it (see tfm.kernel), so rows [0, len) are all there.
    auto [keys, values] = caches_.at(a.getCache());
    Func key = keys, value = values;
    ir::KvCacheType cache = a.getCache().getType();
    int heads = int(a.getNumHeads()), kvHeads = int(a.getNumKvHeads());
    int hd = int(a.getHeadDim());
    int vhd = int(cache.getVHeadDim());
    int group = heads / kvHeads;
    int chunk = kvChunk_;
    Expr len = scalar(a.getLen());
    Expr last = len - 1;

    RDom rd(0, hd, "dd");
    // Chunks run past the last key: those rows read the last key and are
    // masked. A tile of query rows may run past the last row: it reads
    // the last row, and its results are never stored.
    Expr masked;
    Expr lastRow = rowsOf(a.getQuery()) - 1;
    Func logits = attentionLogits(a, key, t, h, s, rd, min(t, last),
                                  min(s, lastRow), t > last, masked);

    // In decode, a cache shorter than a chunk is one chunk of its own
    // length. In prefill chunks are short and always whole (keys past the
    // last are masked), so a tile's scores have a constant size.
    bool decode = kernel_.isDecode();
    Expr chunkLen = decode ? min(chunk, len) : Expr(chunk);
    RDom rk(0, chunkLen, "kk");
    Expr tk = ch * chunkLen + rk;
    Func cmax("chunk_max"), prob("prob"), cden("chunk_denom"),
        cacc("chunk_weighted");
    cmax(h, s, ch) = maximum(logits(tk, h, s));
    prob(t, h, s) =
        select(masked, 0.0f, exp(logits(t, h, s) - cmax(h, s, t / chunkLen)));
    cden(h, s, ch) += prob(tk, h, s);
    cacc(e, h, s, ch) +=
        prob(tk, h, s) * value((h / group) * vhd + e, min(tk, last));
    // Per chunk: vhd weighted values, then the denominator, then the max.
    Func partials("partials");
    partials(x, h, s, ch) =
        select(x < vhd, cacc(min(x, vhd - 1), h, s, ch),
               select(x == vhd, cden(h, s, ch), cmax(h, s, ch)));

    // Chunks a query row cannot see at all (every key after it, or before
    // its window) are left out of the merge, and bounds inference then
    // never computes them: causal prefill does about half the work of a
    // full square. The tests use the constant chunk length: they are exact
    // when the cache is at least a chunk long, and hold for the single
    // chunk of a shorter one. (Written with the dynamic length, the
    // compiled kernel gave wrong results once a task had several rows.)
    RDom rc(0, (len + chunkLen - 1) / chunkLen, "cc");
    Expr p = scalar(a.getPos()) + s;
    if (a.getCausal())
      rc.where(rc * chunk <= p);
    if (auto w = a.getWindow())
      rc.where((rc + 1) * chunk > p - int(*w) + 1);
    Func mx("max"), scaleOf("chunk_scale"), den("denom"),
        weighted("weighted");
    mx(h, s) = maximum(partials(vhd + 1, h, s, rc));
    scaleOf(h, s, ch) = exp(partials(vhd + 1, h, s, ch) - mx(h, s));
    den(h, s) += partials(vhd, h, s, rc) * scaleOf(h, s, rc);
    weighted(e, h, s) += partials(e, h, s, rc) * scaleOf(h, s, rc);
    Func out("attention");
    out(c, s) = weighted(c % vhd, c / vhd, s) / den(c / vhd, s);
    rdoms_["keys"] = rk;
    rdoms_["head_dim"] = rd;
    rdoms_["chunks"] = rc;
    stages_["chunk_max"] = cmax;
    stages_["prob"] = prob;
    stages_["chunk_denom"] = cden;
    stages_["chunk_weighted"] = cacc;
    stages_["partials"] = partials;
    stages_["max"] = mx;
    stages_["chunk_scale"] = scaleOf;
    stages_["denom"] = den;
    stages_["weighted"] = weighted;
    define(a.getResult(), out);
  }

  void alibi(ir::AlibiOp a) {
    Var t("t"), s("s"), h("h");
    mlir::SmallVector<double> slopes = ir::AlibiOp::getSlopes(a.getNumHeads());
    Buffer<float> table(int(slopes.size()), "alibi_slopes");
    for (size_t i = 0; i < slopes.size(); ++i)
      table(int(i)) = float(slopes[i]);
    Func out("alibi");
    out(t, s, h) = table(h) * cast<float>(t - (scalar(a.getPos()) + s));
    define(a.getResult(), out);
  }

  void relativeBias(ir::RelativeBiasOp r) {
    Var t("t"), s("s"), h("h");
    Func table = f(r.getTable());
    int buckets = int(r.getNumBuckets());
    Expr rel = t - (scalar(r.getPos()) + s);
    Expr bucket = 0;
    if (r.getBidirectional()) {
      buckets /= 2;
      bucket = select(rel > 0, buckets, 0);
      rel = cast<int>(abs(rel)); // Halide's abs of an int is unsigned
    } else {
      rel = -min(rel, 0);
    }
    int maxExact = buckets / 2;
    // As in RelativeBiasOp::getBucket: the log ratio in f32.
    Expr ratio =
        log(cast<float>(rel) / float(maxExact)) /
        float(std::log(float(r.getMaxDistance()) / float(maxExact)));
    Expr large = min(maxExact + cast<int>(ratio * float(buckets - maxExact)),
                     buckets - 1);
    bucket = bucket + select(rel < maxExact, rel, large);
    // Always in range; the clamp tells bounds inference so.
    bucket = clamp(bucket, 0, int(r.getNumBuckets()) - 1);
    Func out("relative_bias");
    out(t, s, h) = table(h, bucket);
    define(r.getResult(), out);
  }

  void moe(ir::MoeOp m) {
    Var c("c"), s("s"), e("e"), j("j"), f_("f");
    Func x = f(m.getInput()), router = f(m.getRouter());
    Func gate = f(m.getGate()), up = f(m.getUp()), down = f(m.getDown());
    int dim = int(size(m.getInput(), 1)), experts = int(m.getNumExperts()),
        topK = int(m.getTopK()), ffn = int(size(m.getGate(), 1));
    ir::ActKind act = m.getAct();

    RDom rdim(0, dim, "dm");
    Func logits("router_logits");
    logits(e, s) += router(rdim, e) * x(rdim, s);
    RDom re(0, experts, "ex");
    Func score("router_score");
    if (m.getScoring() == ir::MoeScoring::softmax) {
      Func mx("router_max"), den("router_denom");
      mx(s) = maximum(logits(re, s));
      den(s) += exp(logits(re, s) - mx(s));
      score(e, s) = exp(logits(e, s) - mx(s)) / den(s);
      stages_["router_max"] = mx;
      stages_["router_denom"] = den;
    } else {
      score(e, s) = 1.0f / (1.0f + exp(-logits(e, s)));
    }
    // Rank of expert e: how many score higher (lower index wins ties).
    Func rank("rank");
    rank(e, s) += select(score(re, s) > score(e, s) ||
                             (score(re, s) == score(e, s) && re < e),
                         1, 0);
    Func chosen("chosen"), weight("weight");
    chosen(j, s) += select(rank(re, s) == j, re, 0);
    weight(j, s) += select(rank(re, s) == j, score(re, s), 0.0f);
    RDom rk(0, topK, "kk");
    Func total("total");
    total(s) += weight(rk, s);
    float routed = float(m.getRoutedScale().convertToDouble());
    Expr w = weight(j, s);
    if (m.getNormTopk())
      w = w / total(s);
    Func mix("mix");
    mix(j, s) = w * routed;

    Expr idx = clamp(chosen(j, s), 0, experts - 1);
    Func hidden("expert_hidden");
    Func g("expert_gate"), u("expert_up");
    g(f_, j, s) += gate(rdim, f_, idx) * x(rdim, s);
    u(f_, j, s) += up(rdim, f_, idx) * x(rdim, s);
    hidden(f_, j, s) = activate(act, g(f_, j, s)) * u(f_, j, s);
    RDom rf(0, ffn, "ff");
    Func expertOut("expert_out");
    expertOut(c, j, s) += down(rf, c, clamp(chosen(j, s), 0, experts - 1)) *
                          hidden(rf, j, s);
    Func routedSum("routed");
    routedSum(c, s) += mix(rk, s) * expertOut(c, rk, s);
    stages_["router_logits"] = logits;
    stages_["router_score"] = score;
    stages_["rank"] = rank;
    stages_["chosen"] = chosen;
    stages_["weight"] = weight;
    stages_["total"] = total;
    stages_["expert_gate"] = g;
    stages_["expert_up"] = u;
    stages_["expert_out"] = expertOut;
    stages_["routed"] = routedSum;

    Func out("moe");
    if (m.getSharedGate()) {
      Func sg = f(m.getSharedGate()), su = f(m.getSharedUp()),
           sd = f(m.getSharedDown());
      int sffn = int(size(m.getSharedGate(), 0));
      Func sgo("shared_gate"), suo("shared_up"), sh("shared_hidden"),
          so("shared_out");
      sgo(f_, s) += sg(rdim, f_) * x(rdim, s);
      suo(f_, s) += su(rdim, f_) * x(rdim, s);
      sh(f_, s) = activate(act, sgo(f_, s)) * suo(f_, s);
      RDom rs(0, sffn, "sf");
      so(c, s) += sd(rs, c) * sh(rs, s);
      Expr shared = so(c, s);
      if (m.getSharedRouter()) {
        Func sr = f(m.getSharedRouter()), srl("shared_router");
        srl(s) += sr(rdim, 0) * x(rdim, s);
        shared = shared / (1.0f + exp(-srl(s)));
        stages_["shared_router"] = srl;
      }
      stages_["shared_gate"] = sgo;
      stages_["shared_up"] = suo;
      stages_["shared_out"] = so;
      out(c, s) = routedSum(c, s) + shared;
    } else {
      out(c, s) = routedSum(c, s);
    }
    define(m.getResult(), out);
  }

  ir::KernelOp kernel_;
  int kvChunk_;
  llvm::DenseMap<Value, Func> funcs_;
  llvm::DenseMap<Value, Expr> scalars_;
  llvm::DenseMap<Value, ImageParam> images_;
  llvm::DenseMap<Value, std::pair<ImageParam, ImageParam>> caches_;
  std::map<std::string, Func> stages_;
  std::map<std::string, RDom> rdoms_;
};

} // namespace

KernelPipeline buildPipeline(ir::KernelOp kernel,
                             const AlgorithmOptions &options) {
  return Builder(kernel, options).build();
}

AlgorithmOptions algorithmOptions(ir::KernelOp kernel) {
  AlgorithmOptions options;
  if (auto schedule = kernel.getScheduleAttr()) {
    if (auto d = mlir::dyn_cast<ir::FlashDecodeScheduleAttr>(schedule))
      options.kvChunk = int(d.getKvChunk());
    else if (auto p = mlir::dyn_cast<ir::FlashPrefillScheduleAttr>(schedule))
      options.kvChunk = int(p.getKvChunk());
  }
  return options;
}

} // namespace tfm::halide
