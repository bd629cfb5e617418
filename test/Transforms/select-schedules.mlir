// tfm-select-schedules: each kernel's target and typed schedule, per phase,
// anchor op and ISA.
// RUN: tfm-opt %s -split-input-file -tfm-select-schedules | FileCheck %s
// RUN: tfm-opt %s -split-input-file -tfm-select-schedules="wide-isa=avx512" | FileCheck %s --check-prefix=WIDE

// Prefill products: a (3 vectors) x 4 tile, k in blocks of at most 256
// (a divisor of k); decode products: 4 vectors' worth of rows per task.
// CHECK-LABEL: tfm.kernel @prefill_linear_0 prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 24, k_block = 192>
// CHECK-LABEL: tfm.kernel @prefill_linear_1 prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 24>
// CHECK-LABEL: tfm.kernel @decode_linear_0 decode on <cpu, isa = avx2> schedule #tfm.gemv<vector = 8, rows_per_task = 32>
// With AVX-512 for the wide products: only prefill products whose widths
// are whole vectors of 16, at least one tile of them, get it.
// WIDE-LABEL: tfm.kernel @prefill_linear_0 prefill on <cpu, isa = avx512> schedule #tfm.gemm<vector = 16, tile_cols = 48, k_block = 192>
// WIDE-LABEL: tfm.kernel @prefill_linear_1 prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 24>
// WIDE-LABEL: tfm.kernel @decode_linear_0 decode on <cpu, isa = avx2> schedule #tfm.gemv<vector = 8, rows_per_task = 32>
// A decode product over weights stored in 16 bits or in blocks is bound by
// widening them, not by memory: it takes the wide vectors too.
// WIDE-LABEL: tfm.kernel @decode_linear_1 decode on <cpu, isa = avx512> schedule #tfm.gemv<vector = 16, rows_per_task = 64>
// WIDE-LABEL: tfm.kernel @decode_linear_2 decode on <cpu, isa = avx512> schedule #tfm.gemv<vector = 16, rows_per_task = 64>
// WIDE-LABEL: tfm.kernel @decode_linear_3 decode on <cpu, isa = avx512> schedule #tfm.gemv<vector = 16, rows_per_task = 64>
tfm.kernel @prefill_linear_0 prefill {
^bb0(%x: tensor<?x576xf32>, %w: tensor<64x576xf32>):
  %y = tfm.linear %x, %w : tensor<?x576xf32>, tensor<64x576xf32> -> tensor<?x64xf32>
  tfm.yield %y : tensor<?x64xf32>
}
tfm.kernel @prefill_linear_1 prefill {
^bb0(%x: tensor<?x40xf32>, %w: tensor<40x40xf32>):
  %y = tfm.linear %x, %w : tensor<?x40xf32>, tensor<40x40xf32> -> tensor<?x40xf32>
  tfm.yield %y : tensor<?x40xf32>
}
tfm.kernel @decode_linear_0 decode {
^bb0(%x: tensor<1x64xf32>, %w: tensor<64x64xf32>):
  %y = tfm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
  tfm.yield %y : tensor<1x64xf32>
}
tfm.kernel @decode_linear_1 decode {
^bb0(%x: tensor<1x64xf32>, %w: tensor<64x64xf32, #tfm.storage<f16>>):
  %y = tfm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32, #tfm.storage<f16>> -> tensor<1x64xf32>
  tfm.yield %y : tensor<1x64xf32>
}
tfm.kernel @decode_linear_2 decode {
^bb0(%x: tensor<1x64xf32>, %w: tensor<64x64xf32, #tfm.storage<bf16>>):
  %y = tfm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32, #tfm.storage<bf16>> -> tensor<1x64xf32>
  tfm.yield %y : tensor<1x64xf32>
}
tfm.kernel @decode_linear_3 decode {
^bb0(%x: tensor<1x64xf32>, %w: tensor<64x64xf32, #tfm.storage<q8_0>>):
  %y = tfm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32, #tfm.storage<q8_0>> -> tensor<1x64xf32>
  tfm.yield %y : tensor<1x64xf32>
}

// -----

// A norm before a projection is its prologue: the projection anchors the
// kernel. A norm alone is a row-wise kernel.
// CHECK-LABEL: tfm.kernel @prefill_norm_linear_0 prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 24>
// CHECK-LABEL: tfm.kernel @prefill_norm_0 prefill on <cpu, isa = avx2> schedule #tfm.rows<vector = 8>
tfm.kernel @prefill_norm_linear_0 prefill {
^bb0(%x: tensor<?x64xf32>, %g: tensor<64xf32>, %w: tensor<64x64xf32>):
  %n = tfm.norm rms %x gain %g : tensor<64xf32> eps 1.0e-5 : tensor<?x64xf32>
  %y = tfm.linear %n, %w : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  tfm.yield %y : tensor<?x64xf32>
}
tfm.kernel @prefill_norm_0 prefill {
^bb0(%x: tensor<?x64xf32>, %g: tensor<64xf32>):
  %n = tfm.norm rms %x gain %g : tensor<64xf32> eps 1.0e-5 : tensor<?x64xf32>
  tfm.yield %n : tensor<?x64xf32>
}

// -----

// Attention over whole key rows, and tfm.cached_attention over the cache in
// place, in chunks: flash-decoding, chunked prefill.
// CHECK-LABEL: tfm.kernel @decode_attention_0 decode on <cpu, isa = avx2> schedule #tfm.attention<vector = 8, head_dim = 16, v_head_dim = 16, heads = 4, kv_heads = 2>
// CHECK-LABEL: tfm.kernel @decode_cached_attention_0 decode on <cpu, isa = avx2> schedule #tfm.flash_decode<vector = 8, head_dim = 16, v_head_dim = 16, heads = 4, kv_heads = 2>
// CHECK-LABEL: tfm.kernel @prefill_cached_attention_0 prefill on <cpu, isa = avx2> schedule #tfm.flash_prefill<vector = 8, head_dim = 16, v_head_dim = 16, heads = 4, kv_heads = 2>
// Flash-decoding takes the wide vectors where its heads are whole vectors
// of them; the others stay narrow.
// WIDE-LABEL: tfm.kernel @decode_attention_0 decode on <cpu, isa = avx2>
// WIDE-LABEL: tfm.kernel @decode_cached_attention_0 decode on <cpu, isa = avx512> schedule #tfm.flash_decode<vector = 16, head_dim = 16, v_head_dim = 16, heads = 4, kv_heads = 2>
// WIDE-LABEL: tfm.kernel @prefill_cached_attention_0 prefill on <cpu, isa = avx2>
!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 16, v_head_dim = 16>
tfm.kernel @decode_attention_0 decode {
^bb0(%q: tensor<1x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %p: index):
  %o = tfm.attention %q, %k, %v at %p {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64} : tensor<1x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<1x64xf32>
  tfm.yield %o : tensor<1x64xf32>
}
tfm.kernel @decode_cached_attention_0 decode {
^bb0(%q: tensor<1x64xf32>, %k: tensor<1x32xf32>, %v: tensor<1x32xf32>, %c: !cache, %p: index, %n: index):
  %o, %c2 = tfm.cached_attention %q, %k, %v into %c at %p len %n {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64} : tensor<1x64xf32>, tensor<1x32xf32>, tensor<1x32xf32> into !cache -> tensor<1x64xf32>
  tfm.yield %o : tensor<1x64xf32>
}
tfm.kernel @prefill_cached_attention_0 prefill {
^bb0(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %c: !cache, %p: index, %n: index):
  %o, %c2 = tfm.cached_attention %q, %k, %v into %c at %p len %n {causal, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> into !cache -> tensor<?x64xf32>
  tfm.yield %o : tensor<?x64xf32>
}
