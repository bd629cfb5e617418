//===- WeightLayoutTest.cpp - RoPE row order, expert stacking, random ------===//

#include "TempDir.h"

#include "runtime/Half.h"
#include "runtime/WeightWriter.h"
#include "runtime/Weights.h"

#include <map>

using namespace tfm::rt;
using tfm::test::ramp;
using tfm::test::TempDir;

namespace {

constexpr int64_t kHeads = 2, kKvHeads = 1, kHeadDim = 4, kDim = 3;

/// llama.cpp's converter order: row (h, 2j + s) of the GGUF tensor is row
/// (h, s·d/2 + j) of the Hugging Face one.
std::vector<float> llamaCppPermute(const std::vector<float> &hf, int64_t heads,
                                   int64_t cols) {
  std::vector<float> out(hf.size());
  int64_t half = kHeadDim / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s)
        for (int64_t c = 0; c < cols; ++c)
          out[(h * kHeadDim + 2 * j + s) * cols + c] =
              hf[(h * kHeadDim + s * half + j) * cols + c];
  return out;
}

WeightLayout layout(bool interleaved) {
  WeightLayout l;
  l.numHeads = kHeads;
  l.numKvHeads = kKvHeads;
  l.headDim = kHeadDim;
  l.rotaryDim = kHeadDim;
  l.ropeInterleaved = interleaved;
  return l;
}

const std::vector<WeightRequest> kQk = {
    {"layers.0.attn.q.weight", {kHeads * kHeadDim, kDim}},
    {"layers.0.attn.q.bias", {kHeads * kHeadDim}},
    {"layers.0.attn.k.weight", {kKvHeads * kHeadDim, kDim}},
    {"layers.0.attn.v.weight", {kKvHeads * kHeadDim, kDim}},
};

struct QkFiles {
  std::vector<float> q = ramp(kHeads * kHeadDim * kDim),
                     qb = ramp(kHeads * kHeadDim, 3.0f),
                     k = ramp(kKvHeads * kHeadDim * kDim, 1.0f),
                     v = ramp(kKvHeads * kHeadDim * kDim, 2.0f);
  std::string hf, gguf;

  explicit QkFiles(const TempDir &dir)
      : hf(dir.file("model.safetensors")), gguf(dir.file("model.gguf")) {
    EXPECT_TRUE(writeSafetensors(
        hf, {{"model.layers.0.self_attn.q_proj.weight",
              {kHeads * kHeadDim, kDim}, DType::F32, q},
             {"model.layers.0.self_attn.q_proj.bias",
              {kHeads * kHeadDim}, DType::F32, qb},
             {"model.layers.0.self_attn.k_proj.weight",
              {kKvHeads * kHeadDim, kDim}, DType::F32, k},
             {"model.layers.0.self_attn.v_proj.weight",
              {kKvHeads * kHeadDim, kDim}, DType::F32, v}}));
    GgufWriter w;
    w.addString("general.architecture", "llama");
    w.addTensor({"blk.0.attn_q.weight", {kHeads * kHeadDim, kDim}, DType::F32,
                 llamaCppPermute(q, kHeads, kDim)});
    w.addTensor({"blk.0.attn_q.bias", {kHeads * kHeadDim}, DType::F32,
                 llamaCppPermute(qb, kHeads, 1)});
    w.addTensor({"blk.0.attn_k.weight", {kKvHeads * kHeadDim, kDim},
                 DType::F32, llamaCppPermute(k, kKvHeads, kDim)});
    w.addTensor({"blk.0.attn_v.weight", {kKvHeads * kHeadDim, kDim},
                 DType::F32, v});
    EXPECT_TRUE(w.write(gguf));
  }
};

std::vector<float> values(const WeightTable &t, const std::string &name) {
  const WeightTable::Entry *e = t.find(name);
  return {e->f32(), e->f32() + e->numel()};
}

} // namespace

TEST(RopeRows, GgufLlamaRowsAreUnpermutedForHalfSplitModels) {
  TempDir dir;
  QkFiles files(dir);
  auto hf = loadWeights(files.hf, kQk, layout(false));
  auto gguf = loadWeights(files.gguf, kQk, layout(false));
  ASSERT_TRUE(hf) << hf.error().message();
  ASSERT_TRUE(gguf) << gguf.error().message();
  for (const WeightRequest &r : kQk)
    EXPECT_EQ(values(*gguf, r.name), values(*hf, r.name)) << r.name;
  EXPECT_EQ(values(*hf, "layers.0.attn.q.weight"), files.q);
}

TEST(RopeRows, HfRowsArePermutedForInterleavedModels) {
  TempDir dir;
  QkFiles files(dir);
  auto hf = loadWeights(files.hf, kQk, layout(true));
  auto gguf = loadWeights(files.gguf, kQk, layout(true));
  ASSERT_TRUE(hf && gguf);
  for (const WeightRequest &r : kQk)
    EXPECT_EQ(values(*hf, r.name), values(*gguf, r.name)) << r.name;
  EXPECT_EQ(values(*gguf, "layers.0.attn.q.weight"),
            llamaCppPermute(files.q, kHeads, kDim));
  // GGUF rows already in the model's order stay views of the file.
  EXPECT_EQ(gguf->ownedBytes(), 0u);
}

TEST(RopeRows, PermutationRoundTrips) {
  std::vector<float> rows = ramp(kHeads * kHeadDim * kDim);
  std::vector<float> copy = rows;
  permuteRopeRows(copy.data(), kHeads * kHeadDim, kDim * 4, kHeadDim, true);
  EXPECT_EQ(copy, llamaCppPermute(rows, kHeads, kDim));
  permuteRopeRows(copy.data(), kHeads * kHeadDim, kDim * 4, kHeadDim, false);
  EXPECT_EQ(copy, rows);
}

TEST(RopeRows, PartialRotaryCannotBeReordered) {
  TempDir dir;
  QkFiles files(dir);
  WeightLayout partial = layout(false);
  partial.rotaryDim = 2;
  auto table = loadWeights(files.gguf, kQk, partial);
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message().find(
                "tensor 'blk.0.attn_q.weight' is stored for interleaved RoPE "
                "pairs but the model uses half-split pairs"),
            std::string::npos)
      << table.error().message();
}

TEST(Experts, MixtralExpertsAreStacked) {
  TempDir dir;
  std::vector<TensorData> tensors;
  for (int e = 0; e < 3; ++e)
    tensors.push_back({"model.layers.0.block_sparse_moe.experts." +
                           std::to_string(e) + ".w1.weight",
                       {4, 2}, DType::F32, ramp(8, float(e))});
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(path, tensors));
  auto table =
      loadWeights(path, {{"layers.0.moe.gate.weight", {3, 4, 2}}}, WeightLayout{});
  ASSERT_TRUE(table) << table.error().message();
  std::vector<float> got = values(*table, "layers.0.moe.gate.weight");
  for (int e = 0; e < 3; ++e) {
    std::vector<float> want = ramp(8, float(e));
    EXPECT_EQ(std::vector<float>(got.begin() + e * 8, got.begin() + e * 8 + 8),
              want);
  }

  // A missing expert is named.
  auto four =
      loadWeights(path, {{"layers.0.moe.gate.weight", {4, 4, 2}}}, WeightLayout{});
  ASSERT_FALSE(four);
  EXPECT_EQ(four.error().message(),
            path + ": missing tensor "
                   "'model.layers.0.block_sparse_moe.experts.3.w1.weight' (for "
                   "tfm weight 'layers.0.moe.gate.weight' of shape [4, 4, 2])");
}

TEST(RandomWeights, DeterministicPerSeedAndName) {
  std::vector<WeightRequest> reqs = {{"layers.0.attn.q.weight", {16, 16}},
                                     {"layers.0.attn_norm.weight", {16}},
                                     {"layers.0.attn.q.bias", {16}}};
  auto ea = randomWeights(reqs, 7);
  auto eb = randomWeights({reqs[2], reqs[0]}, 7);
  auto ec = randomWeights(reqs, 8);
  ASSERT_TRUE(ea && eb && ec);
  const WeightTable &a = *ea, &b = *eb, &c = *ec;
  EXPECT_EQ(values(a, "layers.0.attn.q.weight"),
            values(b, "layers.0.attn.q.weight"));
  EXPECT_NE(values(a, "layers.0.attn.q.weight"),
            values(c, "layers.0.attn.q.weight"));
  double mean = 0;
  for (float g : values(a, "layers.0.attn_norm.weight"))
    mean += g / 16.0;
  EXPECT_NEAR(mean, 1.0, 0.1);
  double sq = 0;
  for (float w : values(a, "layers.0.attn.q.weight"))
    sq += double(w) * w / 256.0;
  EXPECT_NEAR(sq, 1.0 / 16.0, 0.02); // std 1/sqrt(fan-in)
}

TEST(RandomWeights, ReleaseFreesOnlyOwnedCopies) {
  auto table = randomWeights({{"layers.0.attn.q.weight", {16, 16}},
                              {"layers.0.attn.k.weight", {8, 16}}},
                             7);
  ASSERT_TRUE(table);
  EXPECT_EQ(table->ownedBytes(), 4u * (256 + 128));
  EXPECT_EQ(table->release("layers.0.attn.q.weight"), 4u * 256);
  EXPECT_EQ(table->ownedBytes(), 4u * 128);
  EXPECT_EQ(table->find("layers.0.attn.q.weight")->data, nullptr);
  EXPECT_NE(table->find("layers.0.attn.k.weight")->data, nullptr);
  EXPECT_EQ(table->release("layers.0.attn.q.weight"), 0u); // already freed
  EXPECT_EQ(table->release("no.such.weight"), 0u);
}

TEST(Gguf, ReleaseKeepsMappedViews) {
  TempDir dir;
  QkFiles files(dir);
  auto table = loadWeights(files.gguf, kQk, layout(false));
  ASSERT_TRUE(table) << table.error().message();
  // V is stored as f32 and used as is: a view of the mapping, which stays
  // readable after its pages are dropped.
  std::vector<float> before = values(*table, "layers.0.attn.v.weight");
  EXPECT_EQ(table->release("layers.0.attn.v.weight"), 0u);
  ASSERT_NE(table->find("layers.0.attn.v.weight")->data, nullptr);
  EXPECT_EQ(values(*table, "layers.0.attn.v.weight"), before);
}

TEST(FusedQkv, NeoxRowsAreSplitPerHead) {
  // Two heads of two features: rows (h, part, i) of the fused tensor.
  TempDir dir;
  const int64_t heads = 2, hd = 2, d = 3;
  std::vector<float> fused(size_t(heads * 3 * hd * d));
  for (size_t i = 0; i < fused.size(); ++i)
    fused[i] = float(i);
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(
      path, {{"gpt_neox.layers.0.attention.query_key_value.weight",
              {heads * 3 * hd, d}, DType::F32, fused}}));
  WeightLayout l;
  l.naming = "gpt_neox";
  l.numHeads = l.numKvHeads = heads;
  l.headDim = l.rotaryDim = hd;
  auto table = loadWeights(path,
                           {{"layers.0.attn.q.weight", {heads * hd, d}},
                            {"layers.0.attn.k.weight", {heads * hd, d}},
                            {"layers.0.attn.v.weight", {heads * hd, d}}},
                           l);
  ASSERT_TRUE(table) << table.error().message();
  const char *names[] = {"layers.0.attn.q.weight", "layers.0.attn.k.weight",
                         "layers.0.attn.v.weight"};
  for (int part = 0; part < 3; ++part) {
    std::vector<float> got = values(*table, names[part]);
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < hd; ++i)
        for (int64_t c = 0; c < d; ++c)
          EXPECT_EQ(got[(h * hd + i) * d + c],
                    fused[((h * 3 + part) * hd + i) * d + c])
              << names[part] << " head " << h << " row " << i;
  }
}

TEST(FusedQkv, Gpt2Conv1dIsTransposedAndSplit) {
  TempDir dir;
  const int64_t d = 4;
  std::vector<float> conv(size_t(d * 3 * d)); // [in, 3·out]
  for (size_t i = 0; i < conv.size(); ++i)
    conv[i] = float(i);
  std::string path = dir.file("model.safetensors");
  ASSERT_TRUE(writeSafetensors(
      path, {{"transformer.h.0.attn.c_attn.weight", {d, 3 * d}, DType::F32,
              conv}}));
  WeightLayout l;
  l.naming = "gpt2";
  auto table = loadWeights(path, {{"layers.0.attn.k.weight", {d, d}}}, l);
  ASSERT_TRUE(table) << table.error().message();
  std::vector<float> k = values(*table, "layers.0.attn.k.weight");
  for (int64_t out = 0; out < d; ++out)
    for (int64_t in = 0; in < d; ++in)
      EXPECT_EQ(k[out * d + in], conv[in * 3 * d + d + out]);

  // The expected stored shape is reported in the file's own layout.
  auto wrong = loadWeights(path, {{"layers.0.attn.k.weight", {d, 2 * d}}}, l);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message(),
            path + ": tensor 'transformer.h.0.attn.c_attn.weight' has shape "
                   "[4, 12], expected [8, 12] (for tfm weight "
                   "'layers.0.attn.k.weight')");
}

/// first, first + 1, ..., n values.
std::vector<float> counting(int64_t n, int64_t first = 0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = float(first + i);
  return v;
}

/// Loads q, k, v (and gate, up) of layer 0 from one fused tensor whose
/// row i holds the value i (one column), and returns each part's rows.
std::map<std::string, std::vector<float>>
fusedRows(const std::string &naming, const std::string &tensor,
          int64_t heads, int64_t kvHeads, int64_t hd,
          std::vector<WeightRequest> requests) {
  TempDir dir;
  int64_t rows = 0;
  for (const WeightRequest &r : requests)
    rows += r.shape[0];
  std::string path = dir.file("model.safetensors");
  EXPECT_TRUE(writeSafetensors(path, {{tensor, {rows, 1}, DType::F32,
                                       counting(rows)}}));
  WeightLayout l;
  l.naming = naming;
  l.numHeads = heads;
  l.numKvHeads = kvHeads;
  l.headDim = l.rotaryDim = hd;
  auto table = loadWeights(path, requests, l);
  EXPECT_TRUE(table) << table.error().message();
  std::map<std::string, std::vector<float>> out;
  if (table)
    for (const WeightRequest &r : requests)
      out[r.name] = values(*table, r.name);
  return out;
}

std::vector<float> rowsOf(std::initializer_list<std::pair<int, int>> runs) {
  std::vector<float> out;
  for (auto [begin, end] : runs)
    for (int i = begin; i < end; ++i)
      out.push_back(float(i));
  return out;
}

TEST(FusedQkv, Phi3QkvIsQueriesThenKeysThenValues) {
  // Four query heads and two KV heads of two features: rows 0-7 are Q,
  // 8-11 K, 12-15 V.
  auto parts = fusedRows("phi3", "model.layers.0.self_attn.qkv_proj.weight",
                         4, 2, 2,
                         {{"layers.0.attn.q.weight", {8, 1}},
                          {"layers.0.attn.k.weight", {4, 1}},
                          {"layers.0.attn.v.weight", {4, 1}}});
  EXPECT_EQ(parts["layers.0.attn.q.weight"], rowsOf({{0, 8}}));
  EXPECT_EQ(parts["layers.0.attn.k.weight"], rowsOf({{8, 12}}));
  EXPECT_EQ(parts["layers.0.attn.v.weight"], rowsOf({{12, 16}}));
}

TEST(FusedQkv, Phi3GateUpIsGateThenUp) {
  auto parts = fusedRows("phi3", "model.layers.0.mlp.gate_up_proj.weight", 1,
                         1, 1,
                         {{"layers.0.ffn.gate.weight", {3, 1}},
                          {"layers.0.ffn.up.weight", {3, 1}}});
  EXPECT_EQ(parts["layers.0.ffn.gate.weight"], rowsOf({{0, 3}}));
  EXPECT_EQ(parts["layers.0.ffn.up.weight"], rowsOf({{3, 6}}));
}

TEST(FusedQkv, FalconGroupsQueriesWithTheirKeyAndValue) {
  // new_decoder_architecture: 4 query heads in 2 groups of (q, q, k, v),
  // heads of two features.
  auto parts = fusedRows(
      "falcon", "transformer.h.0.self_attention.query_key_value.weight", 4, 2,
      2,
      {{"layers.0.attn.q.weight", {8, 1}},
       {"layers.0.attn.k.weight", {4, 1}},
       {"layers.0.attn.v.weight", {4, 1}}});
  EXPECT_EQ(parts["layers.0.attn.q.weight"], rowsOf({{0, 4}, {8, 12}}));
  EXPECT_EQ(parts["layers.0.attn.k.weight"], rowsOf({{4, 6}, {12, 14}}));
  EXPECT_EQ(parts["layers.0.attn.v.weight"], rowsOf({{6, 8}, {14, 16}}));
  // Multi-query: one group, all queries first.
  auto mq = fusedRows(
      "falcon", "transformer.h.0.self_attention.query_key_value.weight", 3, 1,
      2,
      {{"layers.0.attn.q.weight", {6, 1}},
       {"layers.0.attn.k.weight", {2, 1}},
       {"layers.0.attn.v.weight", {2, 1}}});
  EXPECT_EQ(mq["layers.0.attn.q.weight"], rowsOf({{0, 6}}));
  EXPECT_EQ(mq["layers.0.attn.k.weight"], rowsOf({{6, 8}}));
  EXPECT_EQ(mq["layers.0.attn.v.weight"], rowsOf({{8, 10}}));
}

TEST(HfNames, OptPositionsStartTwoRowsIn) {
  TempDir dir;
  std::string path = dir.file("model.safetensors");
  // 4 positions and 2 features; the table has 6 rows, rows 0-1 unused.
  ASSERT_TRUE(writeSafetensors(
      path, {{"model.decoder.embed_positions.weight", {6, 2}, DType::F32,
              counting(12)}}));
  WeightLayout l;
  l.naming = "opt";
  auto table = loadWeights(path, {{"pos_embed.weight", {4, 2}}}, l);
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(values(*table, "pos_embed.weight"), counting(8, 4));
}

TEST(HfNames, PrefixlessCheckpointsAreRead) {
  // GPT-2, BLOOM, Falcon and OPT are published with and without the
  // outer module's prefix.
  struct Case {
    const char *naming, *tensor, *weight;
  } cases[] = {{"gpt2", "wte.weight", "embed.weight"},
               {"bloom", "h.0.input_layernorm.weight",
                "layers.0.attn_norm.weight"},
               {"falcon", "word_embeddings.weight", "embed.weight"},
               {"opt", "decoder.layers.1.fc2.bias", "layers.1.ffn.down.bias"}};
  for (const Case &c : cases) {
    TempDir dir;
    std::string path = dir.file("model.safetensors");
    ASSERT_TRUE(writeSafetensors(
        path, {{c.tensor, {4}, DType::F32, counting(4)}}));
    WeightLayout l;
    l.naming = c.naming;
    auto table = loadWeights(path, {{c.weight, {4}}}, l);
    ASSERT_TRUE(table) << c.naming << ": " << table.error().message();
    EXPECT_EQ(values(*table, c.weight), counting(4)) << c.naming;
  }
}

TEST(HfNames, GainsPerHeadAreReadFromAMatrixOrOneTensorPerHead) {
  // Three heads of four features: Cohere stores [3, 4], StableLM one [4]
  // tensor per head; both give the weight of 12 gains in head order.
  TempDir dir;
  std::string cohere = dir.file("cohere.safetensors");
  ASSERT_TRUE(writeSafetensors(
      cohere, {{"model.layers.0.self_attn.q_norm.weight", {3, 4}, DType::F32,
                counting(12)}}));
  std::string stablelm = dir.file("stablelm.safetensors");
  std::vector<TensorData> heads;
  for (int h = 0; h < 3; ++h)
    heads.push_back({"model.layers.0.self_attn.q_layernorm.norms." +
                         std::to_string(h) + ".weight",
                     {4}, DType::F32, counting(4, 4 * h)});
  ASSERT_TRUE(writeSafetensors(stablelm, heads));
  for (auto [naming, path] : {std::pair("cohere", cohere),
                              std::pair("stablelm", stablelm)}) {
    WeightLayout l;
    l.naming = naming;
    l.numHeads = l.numKvHeads = 3;
    l.headDim = l.rotaryDim = 4;
    auto table = loadWeights(path, {{"layers.0.attn.q_norm.weight", {12}}}, l);
    ASSERT_TRUE(table) << naming << ": " << table.error().message();
    EXPECT_EQ(values(*table, "layers.0.attn.q_norm.weight"), counting(12))
        << naming;
  }
}

TEST(RandomWeights, RefusesWhatDoesNotFitInMemory) {
  // 2^40 floats (4 TiB) is more than any test machine has.
  auto table = randomWeights({{"embed.weight", {1 << 20, 1 << 20}}}, 0);
  ASSERT_FALSE(table);
  EXPECT_NE(table.error().message().find(
                "random weights: the model's 1 weights need 4096.00 GiB of "
                "memory; the system has"),
            std::string::npos)
      << table.error().message();
}

TEST(RandomWeights, SixteenBitWeightsAreTheF32OnesRounded) {
  std::vector<WeightRequest> wide = {{"layers.0.attn.q.weight", {48, 40}},
                                     {"layers.0.attn_norm.weight", {40}}};
  std::vector<WeightRequest> narrow = wide;
  narrow[0].storage = DType::BF16;
  narrow[1].storage = DType::F16;
  auto a = randomWeights(wide, 3), b = randomWeights(narrow, 3);
  ASSERT_TRUE(a && b);
  // Half the bytes, generated without an f32 copy.
  EXPECT_EQ(b->ownedBytes() * 2, a->ownedBytes());
  const WeightTable::Entry *q = b->find("layers.0.attn.q.weight");
  const WeightTable::Entry *norm = b->find("layers.0.attn_norm.weight");
  ASSERT_EQ(q->storage, DType::BF16);
  ASSERT_EQ(q->f32(), nullptr);
  const uint16_t *qBits = static_cast<const uint16_t *>(q->data);
  const uint16_t *normBits = static_cast<const uint16_t *>(norm->data);
  const float *qWide = a->find("layers.0.attn.q.weight")->f32();
  const float *normWide = a->find("layers.0.attn_norm.weight")->f32();
  for (int64_t i = 0; i < q->numel(); ++i)
    ASSERT_EQ(qBits[i], tfm::rt::floatToBf16(qWide[i])) << i;
  for (int64_t i = 0; i < norm->numel(); ++i)
    ASSERT_EQ(normBits[i], tfm::rt::floatToF16(normWide[i])) << i;

  // Widened for the interpreter, exactly.
  ASSERT_TRUE(b->widenToF32());
  const float *qBack = b->find("layers.0.attn.q.weight")->f32();
  ASSERT_NE(qBack, nullptr);
  for (int64_t i = 0; i < q->numel(); ++i)
    ASSERT_EQ(qBack[i], tfm::rt::bf16ToFloat(tfm::rt::floatToBf16(qWide[i])));
}
