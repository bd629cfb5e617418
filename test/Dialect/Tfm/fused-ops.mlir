// The fused-level ops round-trip through the printer and the parser, in
// their custom and generic forms.
// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s

!cache = !tfm.kv_cache<len = 32, kv_heads = 1, head_dim = 4, v_head_dim = 4>

// CHECK-LABEL: func.func @fused
func.func @fused(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>, %cache: !cache, %pos: index, %len: index) -> (tensor<?x8xf32>, !cache) {
  %g = tfm.weight "g" : tensor<8xf32>
  // CHECK: tfm.add_norm rms %{{.*}}, %{{.*}} gain %{{.*}} : tensor<8xf32> eps 1.000000e-05 {alpha = 2.000000e+00 : f64} : tensor<?x8xf32>
  %s, %n = tfm.add_norm rms %h, %f gain %g : tensor<8xf32> eps 1.0e-5 {alpha = 2.0 : f64} : tensor<?x8xf32>
  %wq = tfm.weight "q" : tensor<8x8xf32>
  %wk = tfm.weight "k" : tensor<4x8xf32>
  %wv = tfm.weight "v" : tensor<4x8xf32>
  // CHECK: tfm.concat %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  %w = tfm.concat %wq, %wk, %wv : (tensor<8x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<16x8xf32>
  // CHECK: tfm.qkv_rope half %{{.*}}, %{{.*}} at %{{.*}} {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rotary_dim = 4 : i64, theta = 1.000000e+04 : f64, v_head_dim = 4 : i64} : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  %q, %k, %v = tfm.qkv_rope half %n, %w at %pos {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, v_head_dim = 4 : i64} : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>
  // CHECK: tfm.cached_attention %{{.*}}, %{{.*}}, %{{.*}} into %{{.*}} at %{{.*}} len %{{.*}} {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64, window = 8 : i64}
  %o, %c = tfm.cached_attention %q, %k, %v into %cache at %pos len %len {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 0.5 : f64, window = 8 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32> into !cache -> tensor<?x8xf32>
  %wg = tfm.weight "gate_up" : tensor<32x8xf32>
  // CHECK: tfm.linear_glu gelu_tanh %{{.*}}, %{{.*}} : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x16xf32>
  %m = tfm.linear_glu gelu_tanh %o, %wg : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x16xf32>
  %wd = tfm.weight "down" : tensor<8x16xf32>
  %d = tfm.linear %m, %wd : tensor<?x16xf32>, tensor<8x16xf32> -> tensor<?x8xf32>
  %r = tfm.add %s, %d : tensor<?x8xf32>
  return %r, %c : tensor<?x8xf32>, !cache
}
