//===- SpecJson.cpp - the tfm JSON spec: read, validate, write --*- C++ -*-===//
//
// docs/model-spec.md describes the format field by field; keep it in step.
//
//===----------------------------------------------------------------------===//

#include "compiler/frontend/Frontend.h"
#include "compiler/frontend/JsonFields.h"
#include "runtime/Gguf.h"

#include "dialects/Tfm/TfmDialect.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace tfm;
using llvm::formatv;
namespace json = llvm::json;

void SpecDiagnostics::error(const std::string &where,
                            const std::string &message) {
  ++errors_;
  messages_.push_back(where.empty()
                          ? formatv("{0}: error: {1}", file_, message).str()
                          : formatv("{0}: error: {1}: {2}", file_, where,
                                    message)
                                .str());
}

void SpecDiagnostics::warning(const std::string &where,
                              const std::string &message) {
  messages_.push_back(
      formatv("{0}: warning: {1}: {2}", file_, where, message).str());
}

//===----------------------------------------------------------------------===//
// Reading a tfm spec
//===----------------------------------------------------------------------===//

namespace {

void readNorm(JsonFields &f, NormSpec &norm) {
  f.keyword("kind", norm.kind);
  f.number("eps", norm.eps, /*positive=*/true);
  f.boolean("bias", norm.bias);
  f.number("gain_offset", norm.gainOffset, /*positive=*/false);
  f.finish();
}

void readRope(JsonFields &f, RopeSpec &rope) {
  f.number("theta", rope.theta, /*positive=*/true);
  f.number("local_theta", rope.localTheta, /*positive=*/true);
  f.integer("rotary_dim", rope.rotaryDim, 0);
  f.keyword("layout", rope.layout);
  if (const json::Object *s = f.object("scaling")) {
    JsonFields sf(*s, f.pathOf("scaling"), f.diags());
    if (!sf.has("type"))
      f.diags().error(sf.pathOf("type"),
                      "missing required field (\"linear\", \"ntk\", "
                      "\"llama3\", \"yarn\", \"factors\" or "
                      "\"longrope\")");
    sf.keyword("type", rope.scaling,
               {RopeScaling::Linear, RopeScaling::Ntk, RopeScaling::Llama3,
                RopeScaling::Yarn, RopeScaling::Factors,
                RopeScaling::Longrope});
    bool perFrequency = rope.scaling == RopeScaling::Factors ||
                        rope.scaling == RopeScaling::Longrope;
    if (!sf.number("factor", rope.factor, /*positive=*/true) &&
        !sf.has("factor") && !perFrequency)
      f.diags().error(sf.pathOf("factor"),
                      "missing required field (a number > 0)");
    if (perFrequency) {
      const char *key = rope.scaling == RopeScaling::Factors
                            ? "freq_factors"
                            : "short_factors";
      if (!sf.numbers(key, rope.freqFactors, /*positive=*/true) &&
          !f.diags().hasErrors())
        f.diags().error(sf.pathOf(key), "missing required field (an array "
                                        "of numbers > 0, one per frequency)");
    }
    if (rope.scaling == RopeScaling::Longrope &&
        !sf.numbers("long_factors", rope.longFactors, /*positive=*/true) &&
        !f.diags().hasErrors())
      f.diags().error(sf.pathOf("long_factors"),
                      "missing required field (an array of numbers > 0, "
                      "one per frequency)");
    sf.number("low_freq_factor", rope.lowFreqFactor, /*positive=*/true);
    sf.number("high_freq_factor", rope.highFreqFactor, /*positive=*/true);
    sf.integer("original_max_positions", rope.originalMaxPositions, 1);
    sf.number("beta_fast", rope.betaFast, /*positive=*/true);
    sf.number("beta_slow", rope.betaSlow, /*positive=*/true);
    sf.number("attention_factor", rope.attentionFactor, /*positive=*/true);
    sf.finish();
  }
  f.finish();
}

void readAttention(JsonFields &f, AttentionSpec &a) {
  f.requiredInteger("num_heads", a.numHeads, 1);
  f.integer("num_kv_heads", a.numKvHeads, 1);
  f.integer("head_dim", a.headDim, 1);
  f.integer("v_head_dim", a.vHeadDim, 1);
  f.boolean("qkv_bias", a.qkvBias);
  f.boolean("out_bias", a.outBias);
  f.keyword("qk_norm", a.qkNorm);
  f.boolean("qk_norm_bias", a.qkNormBias);
  f.number("scale", a.scale, /*positive=*/true);
  f.number("softcap", a.softcap, /*positive=*/true);
  f.number("alibi_scale", a.alibiScale, /*positive=*/true);
  f.boolean("causal", a.causal);
  if (const json::Value *w = f.raw("window"); w && !w->getAsNull()) {
    if (std::optional<int64_t> single = w->getAsInteger()) {
      if (*single < 0)
        f.diags().error(f.pathOf("window"),
                        formatv("expected a window >= 0 (0: global), got {0}",
                                *single)
                            .str());
      else if (*single > 0)
        a.window = {*single}; // 0, one global window, is no window
    } else if (const json::Array *arr = w->getAsArray(); arr && !arr->empty()) {
      for (size_t i = 0; i < arr->size(); ++i) {
        std::optional<int64_t> v = (*arr)[i].getAsInteger();
        if (!v || *v < 0) {
          f.diags().error(formatv("{0}[{1}]", f.pathOf("window"), i).str(),
                          "expected a window >= 0 (0: global), got " +
                              describeJson((*arr)[i]));
          continue;
        }
        a.window.push_back(*v);
      }
    } else {
      f.diags().error(f.pathOf("window"),
                      "expected an integer or a non-empty array of integers "
                      "(one per layer, cycled), got " +
                          describeJson(*w));
    }
  }
  f.keyword("position", a.position);
  if (const json::Object *r = f.object("rope")) {
    JsonFields rf(*r, f.pathOf("rope"), f.diags());
    readRope(rf, a.rope);
  }
  if (const json::Object *r = f.object("relative")) {
    JsonFields rf(*r, f.pathOf("relative"), f.diags());
    rf.integer("num_buckets", a.relative.numBuckets, 2);
    rf.integer("max_distance", a.relative.maxDistance, 1);
    rf.boolean("bidirectional", a.relative.bidirectional);
    rf.boolean("shared", a.relative.shared);
    rf.finish();
  }
  if (const json::Value *l = f.raw("latent"); l && !l->getAsNull()) {
    if (const json::Object *o = f.object("latent")) {
      JsonFields lf(*o, f.pathOf("latent"), f.diags());
      lf.requiredInteger("kv_rank", a.latent.kvRank, 1);
      lf.integer("q_rank", a.latent.qRank, 0);
      lf.finish();
    }
  }
  f.finish();
}

void readFfn(JsonFields &f, FfnSpec &ffn) {
  f.keyword("kind", ffn.kind);
  f.keyword("activation", ffn.activation);
  f.requiredInteger("hidden_size", ffn.hiddenSize, 1);
  f.boolean("bias", ffn.bias);
  if (const json::Object *m = f.object("moe")) {
    JsonFields mf(*m, f.pathOf("moe"), f.diags());
    MoeSpec &moe = ffn.moe;
    mf.requiredInteger("num_experts", moe.numExperts, 1);
    mf.requiredInteger("top_k", moe.topK, 1);
    mf.integer("hidden_size", moe.hiddenSize, 1);
    mf.integer("num_shared", moe.numShared, 0);
    mf.integer("shared_hidden_size", moe.sharedHiddenSize, 1);
    mf.boolean("shared_router", moe.sharedRouter);
    mf.keyword("scoring", moe.scoring);
    mf.boolean("norm_topk", moe.normTopK);
    mf.number("routed_scale", moe.routedScale, /*positive=*/true);
    mf.integer("first_dense_layers", moe.firstDenseLayers, 0);
    mf.integer("groups", moe.numGroups, 1);
    mf.integer("top_groups", moe.topGroups, 1);
    mf.finish();
  }
  f.finish();
}

} // namespace

std::optional<ModelSpec> tfm::readTfmSpec(const json::Object &root,
                                          SpecDiagnostics &diags) {
  ModelSpec spec;
  spec.name = llvm::sys::path::stem(diags.file()).str();
  JsonFields f(root, "", diags);
  f.string("name", spec.name);
  if (f.string("weight_naming", spec.weightNaming) &&
      !llvm::is_contained(rt::hfNamings(), spec.weightNaming)) {
    std::string known;
    for (std::string_view n : rt::hfNamings())
      known += (known.empty() ? "\"" : ", \"") + std::string(n) + "\"";
    diags.error("weight_naming", "expected one of " + known + ", got \"" +
                                     spec.weightNaming + "\"");
  }
  f.requiredInteger("vocab_size", spec.vocabSize, 1);
  f.requiredInteger("hidden_size", spec.hiddenSize, 1);
  f.requiredInteger("num_layers", spec.numLayers, 1);
  f.integer("max_seq_len", spec.maxSeqLen, 1);
  f.integer("bos_token_id", spec.bosTokenId, 0);
  f.integer("eos_token_id", spec.eosTokenId, 0);
  f.number("logit_softcap", spec.logitSoftcap, /*positive=*/true);
  f.number("logit_scale", spec.logitScale, /*positive=*/true);
  if (const json::Object *o = f.object("storage")) {
    JsonFields sf(*o, "storage", diags);
    sf.keyword("matrices", spec.matrixStorage);
    sf.keyword("activations", spec.activations);
    sf.keyword("precision", spec.precision);
    sf.keyword("kv_cache", spec.kvCacheStorage);
    if (const json::Object *w = sf.object("weights")) {
      JsonFields wf(*w, "storage.weights", diags);
      for (const auto &entry : *w) {
        mlir::tfm::Storage storage;
        if (wf.keyword(entry.first, storage))
          spec.weightStorage[entry.first.str()] = storage;
      }
      wf.finish();
    }
    sf.finish();
  }

  if (const json::Object *o = f.object("embedding")) {
    JsonFields ef(*o, "embedding", diags);
    ef.number("scale", spec.embeddingScale, /*positive=*/true);
    ef.integer("dim", spec.embeddingDim, 1);
    ef.keyword("position", spec.absolutePosition);
    ef.boolean("tied", spec.tieEmbeddings);
    ef.boolean("head_bias", spec.lmHeadBias);
    ef.boolean("norm", spec.embeddingNorm);
    ef.finish();
  }
  if (const json::Object *o = f.object("norm")) {
    JsonFields nf(*o, "norm", diags);
    readNorm(nf, spec.norm);
  }
  if (const json::Object *o = f.object("block")) {
    JsonFields bf(*o, "block", diags);
    bf.keyword("norm_placement", spec.placement);
    bf.boolean("parallel", spec.parallel);
    bf.boolean("shared_norm", spec.sharedNorm);
    bf.number("residual_alpha", spec.residualAlpha, /*positive=*/true);
    bf.number("branch_scale", spec.branchScale, /*positive=*/true);
    bf.boolean("final_norm", spec.finalNorm);
    bf.finish();
  }
  if (const json::Object *o = f.object("attention")) {
    JsonFields af(*o, "attention", diags);
    readAttention(af, spec.attention);
  } else {
    diags.error("attention", "missing required object");
  }
  if (const json::Object *o = f.object("ffn")) {
    JsonFields ff(*o, "ffn", diags);
    readFfn(ff, spec.ffn);
  } else {
    diags.error("ffn", "missing required object");
  }
  f.finish();
  if (diags.hasErrors())
    return std::nullopt;
  return spec;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

void tfm::validateSpec(const ModelSpec &s, SpecDiagnostics &diags) {
  const AttentionSpec &a = s.attention;
  auto err = [&](const char *where, const std::string &msg) {
    diags.error(where, msg);
  };
  if (s.vocabSize < 1 && !diags.hasErrors())
    err("vocab_size", "the vocabulary is empty");
  // Sizes far beyond any real model are typos; bounding them also keeps
  // every product of sizes within int64.
  struct Bound {
    const char *where;
    int64_t value, limit;
  };
  const Bound bounds[] = {
      {"vocab_size", s.vocabSize, 1 << 24},
      {"hidden_size", s.hiddenSize, 1 << 20},
      {"num_layers", s.numLayers, 1 << 12},
      {"max_seq_len", s.maxSeqLen, 1 << 24},
      {"attention.num_heads", a.numHeads, 1 << 12},
      {"attention.num_kv_heads", s.kvHeads(), 1 << 12},
      {"attention.head_dim", s.headDim(), 1 << 16},
      {"attention.v_head_dim", s.vHeadDim(), 1 << 16},
      {"ffn.hidden_size", s.ffn.hiddenSize, 1 << 22},
      {"ffn.moe.num_experts", s.ffn.moe.numExperts, 1 << 12},
      {"ffn.moe.hidden_size", s.ffn.moe.hiddenSize, 1 << 22},
      {"ffn.moe.num_shared", s.ffn.moe.numShared, 1 << 8},
      {"ffn.moe.shared_hidden_size",
       s.ffn.moe.numShared <= (1 << 8) ? s.sharedExpertHidden() : 0, 1 << 24},
      {"attention.relative.num_buckets", a.relative.numBuckets, 1 << 16},
      {"attention.latent.kv_rank", a.latent.kvRank, 1 << 16},
      {"attention.latent.q_rank", a.latent.qRank, 1 << 20},
  };
  bool tooLarge = false;
  for (const Bound &b : bounds)
    if (b.value > b.limit) {
      err(b.where, formatv("{0} is larger than tfm supports (at most {1})",
                           b.value, b.limit));
      tooLarge = true;
    }
  for (int64_t w : a.window)
    if (w > (int64_t(1) << 31)) {
      err("attention.window", formatv("{0} is larger than tfm supports", w));
      tooLarge = true;
    }
  if (tooLarge)
    return;
  if (a.numHeads < 1) {
    err("attention.num_heads", "must be >= 1");
    return;
  }
  if (s.kvHeads() < 1 || a.numHeads % s.kvHeads() != 0)
    err("attention.num_kv_heads",
        formatv("must divide attention.num_heads ({0}), got {1}", a.numHeads,
                s.kvHeads()));
  if (!a.headDim && s.hiddenSize % a.numHeads != 0)
    err("attention.head_dim",
        formatv("not given, and hidden_size ({0}) is not a multiple of "
                "num_heads ({1}); give head_dim explicitly",
                s.hiddenSize, a.numHeads));
  if (s.headDim() < 1)
    err("attention.head_dim", "must be >= 1");
  if (a.position == AttentionPosition::Rope) {
    int64_t rd = s.rotaryDim();
    if (rd % 2 != 0 || rd > s.headDim() || rd < 2)
      err("attention.rope.rotary_dim",
          formatv("must be even and in [2, head_dim = {0}], got {1}",
                  s.headDim(), rd));
    if (a.rope.scaling == RopeScaling::Llama3) {
      if (!(a.rope.highFreqFactor > a.rope.lowFreqFactor))
        err("attention.rope.scaling.high_freq_factor",
            formatv("must be greater than low_freq_factor ({0}), got {1}",
                    formatNumber(a.rope.lowFreqFactor),
                    formatNumber(a.rope.highFreqFactor)));
      if (a.rope.originalMaxPositions < 1)
        err("attention.rope.scaling.original_max_positions",
            "is required by llama3 scaling (an integer >= 1)");
    }
    for (const auto *list : {&a.rope.freqFactors, &a.rope.longFactors})
      if (!list->empty() && int64_t(list->size()) != rd / 2)
        err(list == &a.rope.longFactors
                ? "attention.rope.scaling.long_factors"
                : (a.rope.scaling == RopeScaling::Longrope
                       ? "attention.rope.scaling.short_factors"
                       : "attention.rope.scaling.freq_factors"),
            formatv("needs one factor per frequency, rotary_dim / 2 = {0}, "
                    "got {1}",
                    rd / 2, list->size()));
    if (a.rope.scaling == RopeScaling::Longrope &&
        a.rope.originalMaxPositions < 1)
      err("attention.rope.scaling.original_max_positions",
          "is required by longrope scaling (an integer >= 1)");
    bool hasAttentionFactor = a.rope.scaling == RopeScaling::Yarn ||
                              a.rope.scaling == RopeScaling::Factors ||
                              a.rope.scaling == RopeScaling::Longrope;
    if (a.rope.scaling == RopeScaling::Yarn) {
      if (!(a.rope.betaFast > a.rope.betaSlow))
        err("attention.rope.scaling.beta_fast",
            formatv("must be greater than beta_slow ({0}), got {1}",
                    formatNumber(a.rope.betaSlow),
                    formatNumber(a.rope.betaFast)));
      if (a.rope.originalMaxPositions < 1)
        err("attention.rope.scaling.original_max_positions",
            "is required by yarn scaling (an integer >= 1)");
    } else if (a.rope.attentionFactor != 1.0 && !hasAttentionFactor) {
      err("attention.rope.scaling.attention_factor",
          "only yarn, factors and longrope scaling have an attention "
          "factor");
    }
    if (a.rope.scaling == RopeScaling::Ntk && s.rotaryDim() <= 2)
      err("attention.rope.scaling.type",
          "ntk scaling needs rotary_dim > 2");
  }
  if (s.latentAttention()) {
    // The latent feeds every head; the rotated part of the key is shared.
    if (a.position != AttentionPosition::Rope)
      err("attention.latent", "latent attention needs rope positions (its "
                              "rotated key part is what the cache keeps "
                              "besides the latent)");
    else if (s.rotaryDim() >= s.headDim())
      err("attention.rope.rotary_dim",
          formatv("latent attention rotates part of each head: must be less "
                  "than head_dim ({0}), got {1}",
                  s.headDim(), s.rotaryDim()));
    if (s.kvHeads() != a.numHeads)
      err("attention.num_kv_heads",
          formatv("latent attention up-projects keys and values per query "
                  "head: must equal num_heads ({0}), got {1}",
                  a.numHeads, s.kvHeads()));
    if (a.qkvBias || a.outBias || a.qkNorm != QkNorm::None)
      err("attention.latent",
          "latent attention takes no qkv_bias, out_bias or qk_norm");
  }
  if (a.position == AttentionPosition::Alibi && !a.causal)
    err("attention.position", "alibi is supported for causal attention only");
  if (s.parallel && s.placement != NormPlacement::Pre)
    err("block.parallel",
        formatv("parallel blocks need norm_placement \"pre\", got \"{0}\"",
                toString(s.placement)));
  if (s.sharedNorm && !s.parallel)
    err("block.shared_norm", "only applies to parallel blocks");
  if (s.absolutePosition == AbsolutePosition::Sinusoidal &&
      s.hiddenSize % 2 != 0)
    err("embedding.position",
        formatv("sinusoidal positions need an even hidden_size, got {0}",
                s.hiddenSize));
  const MoeSpec &m = s.ffn.moe;
  if (m.numExperts > 0) {
    if (m.topK > m.numExperts)
      err("ffn.moe.top_k",
          formatv("must be <= num_experts ({0}), got {1}", m.numExperts,
                  m.topK));
    if (s.ffn.kind != FfnKind::Glu)
      err("ffn.kind", "mixtures of experts use gated experts: kind must be "
                      "\"glu\"");
    if (m.sharedRouter && m.numShared == 0)
      err("ffn.moe.shared_router", "needs num_shared >= 1");
    if (m.firstDenseLayers > s.numLayers)
      err("ffn.moe.first_dense_layers",
          formatv("must be <= num_layers ({0}), got {1}", s.numLayers,
                  m.firstDenseLayers));
    if (m.numExperts % m.numGroups != 0)
      err("ffn.moe.groups",
          formatv("must divide num_experts ({0}), got {1}", m.numExperts,
                  m.numGroups));
    else if (m.topGroups > m.numGroups)
      err("ffn.moe.top_groups",
          formatv("must be <= groups ({0}), got {1}", m.numGroups,
                  m.topGroups));
    else if (m.topGroups * (m.numExperts / m.numGroups) < m.topK)
      err("ffn.moe.top_groups",
          formatv("{0} groups of {1} experts hold fewer than top_k ({2})",
                  m.topGroups, m.numExperts / m.numGroups, m.topK));
  }
  if (!mlir::tfm::isKvCacheStorage(s.kvCacheStorage))
    err("storage.kv_cache",
        formatv("must be f32, f16, bf16 or q8_0, got \"{0}\"",
                toString(s.kvCacheStorage)));
  else if (int64_t block = mlir::tfm::blockElements(s.kvCacheStorage);
           s.cacheHeadDim() % block != 0 || s.cacheVHeadDim() % block != 0)
    err("storage.kv_cache",
        formatv("a {0} cache stores blocks of {1}: its keys ({2} per head) "
                "and values ({3}) must be multiples of {1}",
                toString(s.kvCacheStorage), block, s.cacheHeadDim(),
                s.cacheVHeadDim()));
  if (s.weightNaming == "sandwich" &&
      (s.placement == NormPlacement::Pre || s.placement == NormPlacement::Post))
    diags.warning("weight_naming",
                  "\"sandwich\" naming is meant for sandwich or "
                  "post_sublayer norms");
}

std::optional<std::string>
tfm::applyStorageOverrides(ModelSpec &spec, const StorageOverrides &o) {
  using mlir::tfm::Storage;
  if (!o.weightType.empty()) {
    std::optional<Storage> storage = mlir::tfm::symbolizeStorage(o.weightType);
    if (!storage)
      return "--weight-type must be f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, "
             "q5_1, q2_K, q3_K, q4_K, q5_K or q6_K, got '" +
             o.weightType + "'";
    spec.weightStorage.clear();
    spec.matrixStorage = *storage;
  }
  if (!o.activations.empty()) {
    if (o.activations != "int8" && o.activations != "f32")
      return "--activations must be int8 or f32, got '" + o.activations + "'";
    spec.activations =
        o.activations == "f32" ? Activations::F32 : Activations::Int8;
  }
  if (!o.precision.empty()) {
    if (o.precision != "auto" && o.precision != "bf16" && o.precision != "f32")
      return "--precision must be auto, bf16 or f32, got '" + o.precision +
             "'";
    spec.precision = o.precision == "bf16"  ? Precision::Bf16
                     : o.precision == "f32" ? Precision::F32
                                            : Precision::Auto;
  }
  if (!o.kvCache.empty()) {
    std::optional<Storage> storage = mlir::tfm::symbolizeStorage(o.kvCache);
    if (!storage || !mlir::tfm::isKvCacheStorage(*storage))
      return "--kv-cache must be f32, f16, bf16 or q8_0, got '" + o.kvCache +
             "'";
    int64_t block = mlir::tfm::blockElements(*storage);
    if (spec.cacheHeadDim() % block != 0 ||
        spec.cacheVHeadDim() % block != 0)
      return formatv("--kv-cache {0} stores blocks of {1}, but the model's "
                     "cache keeps {2} key and {3} value features per head",
                     o.kvCache, block, spec.cacheHeadDim(),
                     spec.cacheVHeadDim())
          .str();
    spec.kvCacheStorage = *storage;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

json::Value tfm::specToJson(const ModelSpec &s) {
  const AttentionSpec &a = s.attention;
  json::Object rope{{"theta", a.rope.theta},
                    {"local_theta", a.rope.localTheta
                                        ? json::Value(*a.rope.localTheta)
                                        : json::Value(nullptr)},
                    {"rotary_dim", s.rotaryDim()},
                    {"layout", toString(a.rope.layout)}};
  if (a.rope.scaling != RopeScaling::None) {
    json::Object scaling{{"type", toString(a.rope.scaling)},
                         {"factor", a.rope.factor}};
    if (a.rope.scaling == RopeScaling::Llama3) {
      scaling["low_freq_factor"] = a.rope.lowFreqFactor;
      scaling["high_freq_factor"] = a.rope.highFreqFactor;
      scaling["original_max_positions"] = a.rope.originalMaxPositions;
    }
    if (a.rope.scaling == RopeScaling::Yarn) {
      scaling["original_max_positions"] = a.rope.originalMaxPositions;
      scaling["beta_fast"] = a.rope.betaFast;
      scaling["beta_slow"] = a.rope.betaSlow;
      scaling["attention_factor"] = a.rope.attentionFactor;
    }
    auto list = [](const std::vector<double> &v) {
      json::Array out;
      for (double x : v)
        out.push_back(x);
      return out;
    };
    if (a.rope.scaling == RopeScaling::Factors) {
      scaling.erase("factor");
      scaling["freq_factors"] = list(a.rope.freqFactors);
      scaling["attention_factor"] = a.rope.attentionFactor;
    }
    if (a.rope.scaling == RopeScaling::Longrope) {
      scaling.erase("factor");
      scaling["original_max_positions"] = a.rope.originalMaxPositions;
      scaling["short_factors"] = list(a.rope.freqFactors);
      scaling["long_factors"] = list(a.rope.longFactors);
      scaling["attention_factor"] = a.rope.attentionFactor;
    }
    rope["scaling"] = std::move(scaling);
  }
  json::Array window;
  for (int64_t w : a.window)
    window.push_back(w);
  auto optNumber = [](const std::optional<double> &v) -> json::Value {
    return v ? json::Value(*v) : json::Value(nullptr);
  };
  auto optInt = [](const std::optional<int64_t> &v) -> json::Value {
    return v ? json::Value(*v) : json::Value(nullptr);
  };
  json::Object attention{
      {"num_heads", a.numHeads},
      {"num_kv_heads", s.kvHeads()},
      {"head_dim", s.headDim()},
      {"v_head_dim", s.vHeadDim()},
      {"qkv_bias", a.qkvBias},
      {"out_bias", a.outBias},
      {"qk_norm", toString(a.qkNorm)},
      {"qk_norm_bias", a.qkNormBias.value_or(s.norm.bias)},
      {"scale", s.attentionScale()},
      {"softcap", optNumber(a.softcap)},
      {"alibi_scale", a.alibiScale},
      {"causal", a.causal},
      {"window", a.window.empty() ? json::Value(0)
                                  : json::Value(std::move(window))},
      {"position", toString(a.position)},
      {"rope", std::move(rope)},
      {"relative",
       json::Object{{"num_buckets", a.relative.numBuckets},
                    {"max_distance", a.relative.maxDistance},
                    {"bidirectional", a.relative.bidirectional},
                    {"shared", a.relative.shared}}},
      {"latent", s.latentAttention()
                     ? json::Value(json::Object{{"kv_rank", a.latent.kvRank},
                                                {"q_rank", a.latent.qRank}})
                     : json::Value(nullptr)}};
  json::Object ffn{{"kind", toString(s.ffn.kind)},
                   {"activation", toString(s.ffn.activation)},
                   {"hidden_size", s.ffn.hiddenSize},
                   {"bias", s.ffn.bias}};
  const MoeSpec &m = s.ffn.moe;
  if (m.numExperts > 0) {
    json::Object moe{{"num_experts", m.numExperts},
                     {"top_k", m.topK},
                     {"hidden_size", s.expertHidden()},
                     {"num_shared", m.numShared},
                     {"shared_router", m.sharedRouter},
                     {"scoring", toString(m.scoring)},
                     {"norm_topk", m.normTopK},
                     {"routed_scale", m.routedScale},
                     {"first_dense_layers", m.firstDenseLayers},
                     {"groups", m.numGroups},
                     {"top_groups", m.topGroups}};
    if (m.numShared > 0)
      moe["shared_hidden_size"] = s.sharedExpertHidden();
    ffn["moe"] = std::move(moe);
  } else {
    ffn["moe"] = nullptr;
  }
  json::Object storage{{"matrices", toString(s.matrixStorage)},
                       {"activations", toString(s.activations)},
                       {"precision", toString(s.precision)},
                       {"kv_cache", toString(s.kvCacheStorage)}};
  if (!s.weightStorage.empty()) {
    json::Object weights;
    for (const auto &[name, type] : s.weightStorage)
      weights[name] = toString(type);
    storage["weights"] = std::move(weights);
  }
  return json::Object{
      // A GGUF's general.name may hold any bytes; JSON text holds UTF-8
      // only, so invalid sequences print as U+FFFD here (the compiled
      // program keeps the name's bytes as they are).
      {"name", json::isUTF8(s.name) ? s.name : json::fixUTF8(s.name)},
      {"weight_naming", s.weightNaming},
      {"vocab_size", s.vocabSize},
      {"hidden_size", s.hiddenSize},
      {"num_layers", s.numLayers},
      {"max_seq_len", s.maxSeqLen},
      {"bos_token_id", optInt(s.bosTokenId)},
      {"eos_token_id", optInt(s.eosTokenId)},
      {"embedding", json::Object{{"scale", s.embeddingScale},
                                 {"dim", s.embedWidth()},
                                 {"position", toString(s.absolutePosition)},
                                 {"tied", s.tieEmbeddings},
                                 {"head_bias", s.lmHeadBias},
                                 {"norm", s.embeddingNorm}}},
      {"norm", json::Object{{"kind", toString(s.norm.kind)},
                            {"eps", s.norm.eps},
                            {"bias", s.norm.bias},
                            {"gain_offset", s.norm.gainOffset}}},
      {"block", json::Object{{"norm_placement", toString(s.placement)},
                             {"parallel", s.parallel},
                             {"shared_norm", s.sharedNorm},
                             {"residual_alpha", s.residualAlpha},
                             {"branch_scale", s.branchScale},
                             {"final_norm", s.hasFinalNorm()}}},
      {"attention", std::move(attention)},
      {"ffn", std::move(ffn)},
      {"logit_softcap", optNumber(s.logitSoftcap)},
      {"logit_scale", s.logitScale},
      {"storage", std::move(storage)}};
}

rt::WeightLayout tfm::weightLayout(const ModelSpec &s) {
  rt::WeightLayout layout;
  layout.naming = s.weightNaming;
  layout.numHeads = s.attention.numHeads;
  layout.numKvHeads = s.kvHeads();
  layout.headDim = s.headDim();
  layout.rotaryDim = s.rotaryDim();
  layout.ropeInterleaved = s.attention.position == AttentionPosition::Rope &&
                           s.attention.rope.layout == RopeLayout::interleaved;
  layout.layers = s.numLayers;
  layout.hidden = s.hiddenSize;
  layout.ropeTheta = s.attention.position == AttentionPosition::Rope
                         ? s.attention.rope.theta
                         : 0.0;
  layout.normEps = s.norm.eps;
  layout.vHeadDim = s.vHeadDim();
  layout.latentRank = s.attention.latent.kvRank;
  return layout;
}

//===----------------------------------------------------------------------===//
// Format detection
//===----------------------------------------------------------------------===//

namespace {

/// The deepest nesting of arrays and objects tfm reads; llvm::json parses
/// by recursion, so deeper text would exhaust the stack.
constexpr int kMaxJsonDepth = 256;
/// The largest JSON config tfm reads (real ones are a few KiB).
constexpr uint64_t kMaxJsonBytes = 64 << 20;

/// The byte offset at which `text` nests deeper than `limit`, if it does.
std::optional<size_t> tooDeep(llvm::StringRef text, int limit) {
  int depth = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> tfm::checkInputFile(const std::string &path) {
  llvm::sys::fs::file_status status;
  if (std::error_code ec = llvm::sys::fs::status(path, status))
    return "cannot read: " + ec.message();
  switch (status.type()) {
  case llvm::sys::fs::file_type::regular_file:
    return std::nullopt;
  case llvm::sys::fs::file_type::directory_file:
    return std::string("is a folder, not a file");
  case llvm::sys::fs::file_type::fifo_file:
    return std::string("is a pipe (FIFO), not a regular file");
  case llvm::sys::fs::file_type::character_file:
  case llvm::sys::fs::file_type::block_file:
    return std::string("is a device, not a regular file");
  default:
    return std::string("is not a regular file");
  }
}

std::optional<ModelSpec> tfm::readModelConfig(const std::string &path,
                                              SpecDiagnostics &diags,
                                              ConfigFormat *format) {
  if (std::optional<std::string> error = checkInputFile(path)) {
    diags.error("", *error);
    return std::nullopt;
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    diags.error("", "cannot read: " + buffer.getError().message());
    return std::nullopt;
  }
  llvm::StringRef text = (*buffer)->getBuffer();
  std::optional<ModelSpec> spec;
  if (text.starts_with("GGUF")) {
    if (format)
      *format = ConfigFormat::Gguf;
    auto gguf = rt::GgufFile::open(path);
    if (!gguf) {
      // The loader's message already names the file.
      std::string msg = gguf.error().message();
      if (llvm::StringRef(msg).starts_with(path + ": "))
        msg = msg.substr(path.size() + 2);
      diags.error("", msg);
      return std::nullopt;
    }
    spec = readGgufConfig(**gguf, diags);
  } else {
    if (text.size() > kMaxJsonBytes) {
      diags.error("", formatv("is {0} bytes: neither a GGUF file nor a JSON "
                              "config (at most {1} bytes)",
                              text.size(), kMaxJsonBytes)
                          .str());
      return std::nullopt;
    }
    if (!json::isUTF8(text)) {
      diags.error("", "is neither a GGUF file (no GGUF magic) nor a JSON "
                      "config (it is not UTF-8 text)");
      return std::nullopt;
    }
    if (std::optional<size_t> at = tooDeep(text, kMaxJsonDepth)) {
      diags.error("", formatv("invalid JSON: nested deeper than {0} levels "
                              "at byte {1}",
                              kMaxJsonDepth, *at)
                          .str());
      return std::nullopt;
    }
    llvm::Expected<json::Value> value = json::parse(text);
    if (!value) {
      diags.error("", "invalid JSON: " + llvm::toString(value.takeError()));
      return std::nullopt;
    }
    const json::Object *root = value->getAsObject();
    if (!root) {
      diags.error("", "expected a JSON object at the top level, got " +
                          describeJson(*value));
      return std::nullopt;
    }
    if (root->get("model_type")) {
      if (format)
        *format = ConfigFormat::HuggingFace;
      spec = readHfConfig(*root, diags);
    } else {
      if (format)
        *format = ConfigFormat::TfmSpec;
      spec = readTfmSpec(*root, diags);
    }
  }
  if (!spec)
    return std::nullopt;
  validateSpec(*spec, diags);
  if (diags.hasErrors())
    return std::nullopt;
  return spec;
}
