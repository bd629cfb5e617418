// tfm-fuse-attention-kvcache: kv_write + kv_read + attention →
// tfm.cached_attention.
// RUN: tfm-opt %s -split-input-file -tfm-fuse-attention-kvcache | FileCheck %s

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// GQA (4 query heads, 2 KV heads), causal, sliding window, soft-capping and
// a custom scale: all carried over; the updated cache is the fused op's.
// CHECK-LABEL: func.func @decode
// CHECK: %[[O:.*]], %[[C:.*]] = tfm.cached_attention %arg0, %arg1, %arg2 into %arg3 at %arg4 len %arg5 {causal, head_dim = 4 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64, softcap = 5.000000e+01 : f64, window = 16 : i64}
// CHECK-NOT: tfm.kv_write
// CHECK-NOT: tfm.kv_read
// CHECK: return %[[O]], %[[C]]
func.func @decode(%q: tensor<1x16xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> (tensor<1x16xf32>, !cache) {
  %c = tfm.kv_write %k, %v into %cache at %pos : tensor<1x8xf32>, tensor<1x8xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x8xf32>, tensor<?x8xf32>
  %o = tfm.attention %q, %keys, %values at %pos {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.25 : f64, causal, window = 16 : i64, softcap = 50.0 : f64} : tensor<1x16xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<1x16xf32>
  return %o, %c : tensor<1x16xf32>, !cache
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// ALiBi (an additive bias) in prefill.
// CHECK-LABEL: func.func @alibi
// CHECK: %[[B:.*]] = tfm.alibi
// CHECK: tfm.cached_attention %arg0, %arg1, %arg2 into %arg3 at %arg4 len %arg5 bias %[[B]]
func.func @alibi(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %v: tensor<?x8xf32>, %cache: !cache, %pos: index, %len: index, %seq: index) -> tensor<?x8xf32> {
  %c = tfm.kv_write %k, %v into %cache at %pos : tensor<?x8xf32>, tensor<?x8xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x8xf32>, tensor<?x8xf32>
  %b = tfm.alibi %pos, %seq, %len {num_heads = 2 : i64} : tensor<2x?x?xf32>
  %o = tfm.attention %q, %keys, %values at %pos bias %b : tensor<2x?x?xf32> {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return %o : tensor<?x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: the cache is written at another position than the queries'.
// CHECK-LABEL: func.func @other_position
// CHECK-NOT: tfm.cached_attention
func.func @other_position(%q: tensor<1x8xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>, %cache: !cache, %pos: index, %other: index, %len: index) -> tensor<1x8xf32> {
  %c = tfm.kv_write %k, %v into %cache at %other : tensor<1x8xf32>, tensor<1x8xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x8xf32>, tensor<?x8xf32>
  %o = tfm.attention %q, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: the keys read from the cache have another reader.
// CHECK-LABEL: func.func @keys_reused
// CHECK-NOT: tfm.cached_attention
func.func @keys_reused(%q: tensor<1x8xf32>, %k: tensor<1x8xf32>, %v: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> (tensor<1x8xf32>, tensor<?x8xf32>) {
  %c = tfm.kv_write %k, %v into %cache at %pos : tensor<1x8xf32>, tensor<1x8xf32> into !cache
  %keys, %values = tfm.kv_read %c len %len : !cache -> tensor<?x8xf32>, tensor<?x8xf32>
  %o = tfm.attention %q, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<1x8xf32>
  return %o, %keys : tensor<1x8xf32>, tensor<?x8xf32>
}

// -----

!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 4, v_head_dim = 4>

// Not fused: a read of a cache that no write in this function produced.
// CHECK-LABEL: func.func @no_write
// CHECK-NOT: tfm.cached_attention
func.func @no_write(%q: tensor<1x8xf32>, %cache: !cache, %pos: index, %len: index) -> tensor<1x8xf32> {
  %keys, %values = tfm.kv_read %cache len %len : !cache -> tensor<?x8xf32>, tensor<?x8xf32>
  %o = tfm.attention %q, %keys, %values at %pos {num_heads = 2 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64, causal} : tensor<1x8xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<1x8xf32>
  return %o : tensor<1x8xf32>
}
