// tfm-fuse-rope-qk: the Q/K/V projections of one input and their RoPE →
// tfm.qkv_rope over the concatenated weights.
// RUN: tfm-opt %s -split-input-file -tfm-fuse-rope-qk | FileCheck %s

!cache = !tfm.kv_cache<len = 64, kv_heads = 1, head_dim = 4, v_head_dim = 4>

// GQA through the cache write and read (2 query heads, 1 KV head),
// half-split pairs, partial rotary, llama3 scaling, biases.
// CHECK-LABEL: func.func @gqa
// CHECK: %[[W:.*]] = tfm.concat %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
// CHECK: %[[B:.*]] = tfm.concat %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<16xf32>
// CHECK: %[[Q:.*]], %[[K:.*]], %[[V:.*]] = tfm.qkv_rope half %arg0, %[[W]] bias %[[B]] : tensor<16xf32> at %arg2 {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rotary_dim = 2 : i64, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.000000e+00, original_max_positions = 8192>, theta = 5.000000e+05 : f64, v_head_dim = 4 : i64}
// CHECK-NOT: tfm.rope
// CHECK-NOT: tfm.linear
// CHECK: tfm.kv_write %[[K]], %[[V]] into %arg1
// CHECK: tfm.attention %[[Q]]
func.func @gqa(%x: tensor<?x8xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<?x8xf32> {
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %bq = tfm.weight "q.bias" : tensor<8xf32>
  %wk = tfm.weight "k" : tensor<4x8xf32>
  %bk = tfm.weight "k.bias" : tensor<4xf32>
  %wv = tfm.weight "v" : tensor<4x8xf32>
  %bv = tfm.weight "v.bias" : tensor<4xf32>
  %q = tfm.linear %x, %wq bias %bq : tensor<8xf32> : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %k = tfm.linear %x, %wk bias %bk : tensor<4xf32> : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %v = tfm.linear %x, %wv bias %bv : tensor<4xf32> : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 500000.0 : f64, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 8192>} : tensor<?x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 2 : i64, theta = 500000.0 : f64, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0, original_max_positions = 8192>} : tensor<?x4xf32>
  %c = tfm.kv_write %kr, %v into %cache at %pos : tensor<?x4xf32>, tensor<?x4xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x4xf32>, tensor<?x4xf32>
  %o = tfm.attention %qr, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// A cached attention's operands; per-head QK-norm before interleaved RoPE.
// CHECK-LABEL: func.func @qk_norm
// CHECK: %[[Q:.*]], %[[K:.*]], %[[V:.*]] = tfm.qkv_rope interleaved %arg0, %{{.*}} qk_norm %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32> at %arg2 {head_dim = 4 : i64, norm = #tfm.norm_kind<rms>, norm_eps = 9.9999999999999995E-7 : f64, norm_group = 4 : i64, num_heads = 2 : i64
// CHECK: tfm.cached_attention %[[Q]], %[[K]], %[[V]] into %arg1
func.func @qk_norm(%x: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %wk = tfm.weight "k" : tensor<8x8xf32>
  %wv = tfm.weight "v" : tensor<8x8xf32>
  %gq = tfm.weight "q_norm" : tensor<4xf32>
  %gk = tfm.weight "k_norm" : tensor<4xf32>
  %q = tfm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %k = tfm.linear %x, %wk : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %v = tfm.linear %x, %wv : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %qn = tfm.norm rms %q gain %gq : tensor<4xf32> eps 1.0e-6 {group_size = 4 : i64} : tensor<1x8xf32>
  %kn = tfm.norm rms %k gain %gk : tensor<4xf32> eps 1.0e-6 {group_size = 4 : i64} : tensor<1x8xf32>
  %qr = tfm.rope interleaved %qn at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope interleaved %kn at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %o, %c = tfm.cached_attention %qr, %kr, %v into %cache at %pos len %len {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32> into !cache -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: K and V project a different input than Q.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: tfm.qkv_rope
func.func @different_inputs(%x: tensor<1x8xf32>, %y: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %wk = tfm.weight "k" : tensor<8x8xf32>
  %wv = tfm.weight "v" : tensor<8x8xf32>
  %q = tfm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %k = tfm.linear %y, %wk : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %v = tfm.linear %y, %wv : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %o, %c = tfm.cached_attention %qr, %kr, %v into %cache at %pos len %len {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32> into !cache -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: Q and K are rotated with different bases.
// CHECK-LABEL: func.func @different_rotations
// CHECK-NOT: tfm.qkv_rope
func.func @different_rotations(%x: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %wk = tfm.weight "k" : tensor<8x8xf32>
  %wv = tfm.weight "v" : tensor<8x8xf32>
  %q = tfm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %k = tfm.linear %x, %wk : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %v = tfm.linear %x, %wv : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 500.0 : f64} : tensor<1x8xf32>
  %o, %c = tfm.cached_attention %qr, %kr, %v into %cache at %pos len %len {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32> into !cache -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: the query projection has a second reader.
// CHECK-LABEL: func.func @projection_reused
// CHECK-NOT: tfm.qkv_rope
func.func @projection_reused(%x: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %wk = tfm.weight "k" : tensor<8x8xf32>
  %wv = tfm.weight "v" : tensor<8x8xf32>
  %q = tfm.linear %x, %wq : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %k = tfm.linear %x, %wk : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %v = tfm.linear %x, %wv : tensor<1x8xf32>, tensor<8x8xf32> -> tensor<1x8xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %o, %c = tfm.cached_attention %qr, %kr, %v into %cache at %pos len %len {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32> into !cache -> tensor<1x8xf32>
  return %o, %q : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 1, head_dim = 4, v_head_dim = 4>

// Activation rounding (act_quant) carries over to the fused product; a V
// projection that rounds otherwise than Q and K leaves all three unfused.
// CHECK-LABEL: func.func @rounded
// CHECK: tfm.qkv_rope half %arg0, %{{.*}} at %arg2 {act_quant = #tfm.act_quant<q8_0>,
// CHECK-LABEL: func.func @rounded_otherwise
// CHECK-NOT: tfm.qkv_rope
// CHECK: tfm.rope
func.func @rounded(%x: tensor<1x32xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %wq = tfm.weight "q" : tensor<8x32xf32, #tfm.storage<q8_0>>
  %wk = tfm.weight "k" : tensor<4x32xf32, #tfm.storage<q8_0>>
  %wv = tfm.weight "v" : tensor<4x32xf32, #tfm.storage<q8_0>>
  %q = tfm.linear %x, %wq {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<8x32xf32, #tfm.storage<q8_0>> -> tensor<1x8xf32>
  %k = tfm.linear %x, %wk {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<4x32xf32, #tfm.storage<q8_0>> -> tensor<1x4xf32>
  %v = tfm.linear %x, %wv {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<4x32xf32, #tfm.storage<q8_0>> -> tensor<1x4xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x4xf32>
  %c = tfm.kv_write %kr, %v into %cache at %pos : tensor<1x4xf32>, tensor<1x4xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x4xf32>, tensor<?x4xf32>
  %o = tfm.attention %qr, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}
func.func @rounded_otherwise(%x: tensor<1x32xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %wq = tfm.weight "q" : tensor<8x32xf32, #tfm.storage<q8_0>>
  %wk = tfm.weight "k" : tensor<4x32xf32, #tfm.storage<q8_0>>
  %wv = tfm.weight "v" : tensor<4x32xf32, #tfm.storage<q8_0>>
  %q = tfm.linear %x, %wq {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<8x32xf32, #tfm.storage<q8_0>> -> tensor<1x8xf32>
  %k = tfm.linear %x, %wk {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<4x32xf32, #tfm.storage<q8_0>> -> tensor<1x4xf32>
  %v = tfm.linear %x, %wv : tensor<1x32xf32>, tensor<4x32xf32, #tfm.storage<q8_0>> -> tensor<1x4xf32>
  %qr = tfm.rope half %q at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x8xf32>
  %kr = tfm.rope half %k at %pos {head_dim = 4 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64} : tensor<1x4xf32>
  %c = tfm.kv_write %kr, %v into %cache at %pos : tensor<1x4xf32>, tensor<1x4xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x4xf32>, tensor<?x4xf32>
  %o = tfm.attention %qr, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}
