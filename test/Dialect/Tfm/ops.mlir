// Every tfm op and the KV-cache type round-trip through the printer and the
// parser (printing twice gives the same text).
// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>

// CHECK-LABEL: func.func @weights_and_embeddings
func.func @weights_and_embeddings(%tokens: tensor<?xi32>, %pos: index) -> tensor<?x32xf32> {
  // CHECK: tfm.weight "embed.weight" : tensor<100x32xf32>
  %table = tfm.weight "embed.weight" : tensor<100x32xf32>
  // CHECK: tfm.embed %{{.*}}[%{{.*}}] : tensor<100x32xf32>, tensor<?xi32> -> tensor<?x32xf32>
  %h = tfm.embed %table[%tokens] : tensor<100x32xf32>, tensor<?xi32> -> tensor<?x32xf32>
  // CHECK: tfm.scale %{{.*}} by 5.6{{.*}} : tensor<?x32xf32>
  %s = tfm.scale %h by 5.65 : tensor<?x32xf32>
  // CHECK: tfm.position sinusoidal %{{.*}} at %{{.*}} : tensor<?x32xf32>
  %p = tfm.position sinusoidal %s at %pos : tensor<?x32xf32>
  %pt = tfm.weight "pos_embed.weight" : tensor<64x32xf32>
  // CHECK: tfm.position learned %{{.*}} at %{{.*}} table %{{.*}} : tensor<64x32xf32> : tensor<?x32xf32>
  %l = tfm.position learned %p at %pos table %pt : tensor<64x32xf32> : tensor<?x32xf32>
  return %l : tensor<?x32xf32>
}

// Weights stored in 16 bits: the encoding of their type; the ops that read
// them see f32 values.
// CHECK-LABEL: func.func @stored_weights
func.func @stored_weights(%x: tensor<?x32xf32>) -> tensor<?x24xf32> {
  // CHECK: tfm.weight "wq" : tensor<16x32xf32, #tfm.storage<bf16>>
  %wq = tfm.weight "wq" : tensor<16x32xf32, #tfm.storage<bf16>>
  // CHECK: tfm.weight "wk" : tensor<8x32xf32, #tfm.storage<bf16>>
  %wk = tfm.weight "wk" : tensor<8x32xf32, #tfm.storage<bf16>>
  // CHECK: tfm.concat %{{.*}}, %{{.*}} : (tensor<16x32xf32, #tfm.storage<bf16>>, tensor<8x32xf32, #tfm.storage<bf16>>) -> tensor<24x32xf32, #tfm.storage<bf16>>
  %w = tfm.concat %wq, %wk : (tensor<16x32xf32, #tfm.storage<bf16>>, tensor<8x32xf32, #tfm.storage<bf16>>) -> tensor<24x32xf32, #tfm.storage<bf16>>
  // CHECK: tfm.weight "wh" : tensor<24x32xf32, #tfm.storage<f16>>
  %wh = tfm.weight "wh" : tensor<24x32xf32, #tfm.storage<f16>>
  %y = tfm.linear %x, %w : tensor<?x32xf32>, tensor<24x32xf32, #tfm.storage<bf16>> -> tensor<?x24xf32>
  return %y : tensor<?x24xf32>
}

// CHECK-LABEL: func.func @norms
func.func @norms(%x: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %g = tfm.weight "g" : tensor<32xf32>
  %b = tfm.weight "b" : tensor<32xf32>
  %hg = tfm.weight "hg" : tensor<8xf32>
  // CHECK: tfm.norm rms %{{.*}} gain %{{.*}} : tensor<32xf32> eps 1.000000e-05 : tensor<?x32xf32>
  %0 = tfm.norm rms %x gain %g : tensor<32xf32> eps 1.0e-5 : tensor<?x32xf32>
  // CHECK: tfm.norm layer %{{.*}} gain %{{.*}} : tensor<32xf32> bias %{{.*}} : tensor<32xf32> eps 1.000000e-05 : tensor<?x32xf32>
  %1 = tfm.norm layer %0 gain %g : tensor<32xf32> bias %b : tensor<32xf32> eps 1.0e-5 : tensor<?x32xf32>
  // A gain per head (one value per feature of the row, normalized per group).
  // CHECK: tfm.norm layer %{{.*}} gain %{{.*}} : tensor<32xf32> eps 1.000000e-05 {group_size = 8 : i64} : tensor<?x32xf32>
  %heads = tfm.norm layer %1 gain %g : tensor<32xf32> eps 1.0e-5 {group_size = 8 : i64} : tensor<?x32xf32>
  // CHECK: tfm.norm rms %{{.*}} eps 9.9999999999999995E-7 {gain_offset = 1.000000e+00 : f64} : tensor<?x32xf32>
  %2 = tfm.norm rms %1 eps 1.0e-6 {gain_offset = 1.0 : f64} : tensor<?x32xf32>
  // CHECK: tfm.norm rms %{{.*}} gain %{{.*}} : tensor<8xf32> eps 9.9999999999999995E-7 {group_size = 8 : i64} : tensor<?x32xf32>
  %3 = tfm.norm rms %2 gain %hg : tensor<8xf32> eps 1.0e-6 {group_size = 8 : i64} : tensor<?x32xf32>
  return %3 : tensor<?x32xf32>
}

// CHECK-LABEL: func.func @projections
func.func @projections(%x: tensor<1x32xf32>) -> tensor<1x32xf32> {
  %w = tfm.weight "w" : tensor<64x32xf32>
  %b = tfm.weight "b" : tensor<64xf32>
  %d = tfm.weight "d" : tensor<32x64xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} bias %{{.*}} : tensor<64xf32> : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
  %0 = tfm.linear %x, %w bias %b : tensor<64xf32> : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}} : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
  %1 = tfm.linear %x, %w : tensor<1x32xf32>, tensor<64x32xf32> -> tensor<1x64xf32>
  // CHECK: tfm.activation relu
  %2 = tfm.activation relu %0 : tensor<1x64xf32>
  // CHECK: tfm.activation gelu
  %3 = tfm.activation gelu %2 : tensor<1x64xf32>
  // CHECK: tfm.activation gelu_tanh
  %4 = tfm.activation gelu_tanh %3 : tensor<1x64xf32>
  // CHECK: tfm.activation silu
  %5 = tfm.activation silu %4 : tensor<1x64xf32>
  // CHECK: tfm.glu silu %{{.*}}, %{{.*}} : tensor<1x64xf32>
  %6 = tfm.glu silu %5, %1 : tensor<1x64xf32>
  // CHECK: tfm.mul %{{.*}}, %{{.*}} : tensor<1x64xf32>
  %7 = tfm.mul %6, %1 : tensor<1x64xf32>
  %8 = tfm.linear %7, %d : tensor<1x64xf32>, tensor<32x64xf32> -> tensor<1x32xf32>
  // CHECK: tfm.add %{{.*}}, %{{.*}} : tensor<1x32xf32>
  %9 = tfm.add %x, %8 : tensor<1x32xf32>
  // CHECK: tfm.add %{{.*}}, %{{.*}} {alpha = 2.500000e+00 : f64} : tensor<1x32xf32>
  %10 = tfm.add %9, %8 {alpha = 2.5} : tensor<1x32xf32>
  // CHECK: tfm.softcap %{{.*}} cap 3.000000e+01 : tensor<1x32xf32>
  %11 = tfm.softcap %10 cap 30.0 : tensor<1x32xf32>
  return %11 : tensor<1x32xf32>
}

// CHECK-LABEL: func.func @rope
func.func @rope(%q: tensor<?x32xf32>, %pos: index) -> tensor<?x32xf32> {
  // CHECK: tfm.rope half %{{.*}} at %{{.*}} {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64}
  %0 = tfm.rope half %q at %pos {head_dim = 8, rotary_dim = 8, theta = 10000.0} : tensor<?x32xf32>
  // CHECK: tfm.rope interleaved %{{.*}} at %{{.*}} {head_dim = 8 : i64, rotary_dim = 4 : i64, theta = 5.000000e+05 : f64}
  %1 = tfm.rope interleaved %0 at %pos {head_dim = 8, rotary_dim = 4, theta = 500000.0} : tensor<?x32xf32>
  // CHECK: scaling = #tfm.rope_scaling<kind = llama3, factor = 8.000000e+00, original_max_positions = 8192>
  %2 = tfm.rope half %1 at %pos {head_dim = 8, rotary_dim = 8, theta = 500000.0, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 8192>} : tensor<?x32xf32>
  // CHECK: scaling = #tfm.rope_scaling<kind = linear, factor = 2.000000e+00>
  %3 = tfm.rope half %2 at %pos {head_dim = 8, rotary_dim = 8, theta = 10000.0, scaling = #tfm.rope_scaling<kind = linear, factor = 2.0>} : tensor<?x32xf32>
  // CHECK: scaling = #tfm.rope_scaling<kind = factors, factor = 1.000000e+00, attention_factor = 1.250000e+00, freq_factors = [1.000000e+00, 2.000000e+00, 4.000000e+00, 8.000000e+00]>
  %f = tfm.rope half %3 at %pos {head_dim = 8, rotary_dim = 8, theta = 10000.0, scaling = #tfm.rope_scaling<kind = factors, factor = 1.0, attention_factor = 1.25, freq_factors = [1.0, 2.0, 4.0, 8.0]>} : tensor<?x32xf32>
  // CHECK: scaling = #tfm.rope_scaling<kind = ntk, factor = 4.000000e+00>
  %4 = tfm.rope half %3 at %pos {head_dim = 8, rotary_dim = 8, theta = 10000.0, scaling = #tfm.rope_scaling<kind = ntk, factor = 4.0>} : tensor<?x32xf32>
  return %4 : tensor<?x32xf32>
}

// A cache stored in 16 bits or in q8_0 blocks prints its storage; f32, the
// default, is left out.
// CHECK-LABEL: func.func @stored_caches
// CHECK-SAME: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8, storage = f16>
// CHECK-SAME: !tfm.kv_cache<len = 64, kv_heads = 1, head_dim = 32, v_head_dim = 64, storage = q8_0>
// CHECK-SAME: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>)
func.func @stored_caches(%a: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8, storage = f16>,
                         %b: !tfm.kv_cache<len = 64, kv_heads = 1, head_dim = 32, v_head_dim = 64, storage = q8_0>,
                         %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8, storage = f32>) {
  return
}

// CHECK-LABEL: func.func @attention_with_cache
// CHECK-SAME: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>
func.func @attention_with_cache(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %v: tensor<?x16xf32>,
                                %pos: index, %len: index, %cache: !cache) -> (tensor<?x32xf32>, !cache) {
  // CHECK: tfm.kv_write %{{.*}}, %{{.*}} into %{{.*}} at %{{.*}} : tensor<?x16xf32>, tensor<?x16xf32> into <len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>
  %c = tfm.kv_write %k, %v into %cache at %pos : tensor<?x16xf32>, tensor<?x16xf32> into !cache
  // CHECK: tfm.kv_read %{{.*}} len %{{.*}} : <len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8> -> tensor<?x16xf32>, tensor<?x16xf32>
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x16xf32>, tensor<?x16xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.3535{{[0-9]*}} : f64, softcap = 5.000000e+01 : f64, window = 16 : i64}
  %o = tfm.attention %q, %keys, %values at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 0.3535533905932738, causal, window = 16, softcap = 50.0}
      : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return %o, %c : tensor<?x32xf32>, !cache
}

// CHECK-LABEL: func.func @attention_biases
func.func @attention_biases(%q: tensor<?x32xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>,
                            %pos: index, %qlen: index, %klen: index) -> tensor<?x32xf32> {
  // CHECK: tfm.alibi %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 4 : i64} : tensor<4x?x?xf32>
  %alibi = tfm.alibi %pos, %qlen, %klen {num_heads = 4} : tensor<4x?x?xf32>
  %table = tfm.weight "layers.0.attn.rel_bias.weight" : tensor<32x4xf32>
  // CHECK: tfm.relative_bias %{{.*}} at %{{.*}}, %{{.*}}, %{{.*}} {bidirectional, max_distance = 128 : i64, num_buckets = 32 : i64} : tensor<32x4xf32> -> tensor<4x?x?xf32>
  %rel = tfm.relative_bias %table at %pos, %qlen, %klen {num_buckets = 32, max_distance = 128, bidirectional} : tensor<32x4xf32> -> tensor<4x?x?xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} at %{{.*}} bias %{{.*}} : tensor<4x?x?xf32> {head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 1.250000e-01 : f64}
  %o = tfm.attention %q, %k, %v at %pos bias %alibi : tensor<4x?x?xf32> {num_heads = 4, num_kv_heads = 4, head_dim = 8, scale = 0.125}
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  %o2 = tfm.attention %o, %k, %v at %pos bias %rel : tensor<4x?x?xf32> {num_heads = 4, num_kv_heads = 4, head_dim = 8, scale = 0.125, causal}
      : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  return %o2 : tensor<?x32xf32>
}

// CHECK-LABEL: func.func @moe_and_head
func.func @moe_and_head(%x: tensor<?x32xf32>) -> tensor<?x100xf32> {
  %router = tfm.weight "r" : tensor<4x32xf32>
  %gate = tfm.weight "g" : tensor<4x48x32xf32>
  %up = tfm.weight "u" : tensor<4x48x32xf32>
  %down = tfm.weight "d" : tensor<4x32x48xf32>
  %sg = tfm.weight "sg" : tensor<64x32xf32>
  %su = tfm.weight "su" : tensor<64x32xf32>
  %sd = tfm.weight "sd" : tensor<32x64xf32>
  %sr = tfm.weight "sr" : tensor<1x32xf32>
  // CHECK: tfm.moe silu %{{.*}} router %{{.*}} experts(%{{.*}}, %{{.*}}, %{{.*}}) {norm_topk, num_experts = 4 : i64, top_k = 2 : i64}
  %0 = tfm.moe silu %x router %router experts(%gate, %up, %down) {num_experts = 4, top_k = 2, norm_topk}
      : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>, tensor<4x48x32xf32>, tensor<4x32x48xf32>) -> tensor<?x32xf32>
  // CHECK: tfm.moe silu %{{.*}} router %{{.*}} experts(%{{.*}}, %{{.*}}, %{{.*}}) shared(%{{.*}}, %{{.*}}, %{{.*}}) shared_router %{{.*}} {num_experts = 4 : i64, num_shared = 2 : i64, routed_scale = 2.500000e+00 : f64, scoring = #tfm.moe_scoring<sigmoid>, top_k = 1 : i64}
  %1 = tfm.moe silu %0 router %router experts(%gate, %up, %down) shared(%sg, %su, %sd) shared_router %sr
      {num_experts = 4, top_k = 1, num_shared = 2, scoring = #tfm.moe_scoring<sigmoid>, routed_scale = 2.5}
      : (tensor<?x32xf32>, tensor<4x32xf32>, tensor<4x48x32xf32>, tensor<4x48x32xf32>, tensor<4x32x48xf32>,
         tensor<64x32xf32>, tensor<64x32xf32>, tensor<32x64xf32>, tensor<1x32xf32>) -> tensor<?x32xf32>
  %table = tfm.weight "embed.weight" : tensor<100x32xf32>
  // CHECK: tfm.lm_head %{{.*}}, %{{.*}} : tensor<?x32xf32>, tensor<100x32xf32> -> tensor<?x100xf32>
  %logits = tfm.lm_head %1, %table : tensor<?x32xf32>, tensor<100x32xf32> -> tensor<?x100xf32>
  %head_bias = tfm.weight "lm_head.bias" : tensor<100xf32>
  // CHECK: tfm.lm_head %{{.*}}, %{{.*}} bias %{{.*}} : tensor<100xf32> : tensor<?x32xf32>, tensor<100x32xf32> -> tensor<?x100xf32>
  %biased = tfm.lm_head %1, %table bias %head_bias : tensor<100xf32> : tensor<?x32xf32>, tensor<100x32xf32> -> tensor<?x100xf32>
  %sum = tfm.add %logits, %biased : tensor<?x100xf32>
  return %sum : tensor<?x100xf32>
}

// Latent attention's per-head products and per-group joins.
// CHECK-LABEL: func.func @latent_parts
func.func @latent_parts(%q: tensor<?x32xf32>, %r: tensor<?x16xf32>) -> tensor<?x24xf32> {
  %wk = tfm.weight "layers.0.attn.k_up.weight" : tensor<4x8x16xf32>
  // CHECK: tfm.head_linear %{{.*}}, %{{.*}} {transpose_weight} : tensor<?x32xf32>, tensor<4x8x16xf32> -> tensor<?x64xf32>
  %l = tfm.head_linear %q, %wk {transpose_weight} : tensor<?x32xf32>, tensor<4x8x16xf32> -> tensor<?x64xf32>
  // CHECK: tfm.join %{{.*}}, %{{.*}} {groups = 4 : i64} : tensor<?x64xf32>, tensor<?x16xf32> -> tensor<?x80xf32>
  %j = tfm.join %l, %r {groups = 4 : i64} : tensor<?x64xf32>, tensor<?x16xf32> -> tensor<?x80xf32>
  %wv = tfm.weight "layers.0.attn.v_up.weight" : tensor<4x6x20xf32>
  // CHECK: tfm.head_linear %{{.*}}, %{{.*}} : tensor<?x80xf32>, tensor<4x6x20xf32> -> tensor<?x24xf32>
  %v = tfm.head_linear %j, %wv : tensor<?x80xf32>, tensor<4x6x20xf32> -> tensor<?x24xf32>
  return %v : tensor<?x24xf32>
}
