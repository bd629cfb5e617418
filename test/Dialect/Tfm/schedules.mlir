// Kernel-level attributes round-trip: the phase, the typed target and every
// typed schedule (parameters equal to their default are left out).
// RUN: tfm-opt %s | tfm-opt | FileCheck %s
// RUN: tfm-opt %s --mlir-print-op-generic | tfm-opt | FileCheck %s

// CHECK: tfm.kernel @a prefill on <cpu, isa = avx512> schedule #tfm.gemm<vector = 16, tile_cols = 48, tile_rows = 2, k_block = 128>
// CHECK: tfm.kernel @b decode on <cpu, isa = avx2> schedule #tfm.qkv<product = #tfm.gemv<vector = 8, rows_per_task = 32>, head_dim = 64>
// CHECK: tfm.kernel @c prefill on <cpu, isa = avx2> schedule #tfm.flash_prefill<vector = 8, kv_chunk = 32, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1>
// CHECK: tfm.kernel @d decode on <cpu, isa = avx2> schedule #tfm.flash_decode<vector = 8, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1>
// CHECK: tfm.kernel @e decode {
!x = tensor<1x16xf32>
tfm.kernel @a prefill on <cpu, isa = avx512> schedule #tfm.gemm<vector = 16, tile_cols = 48, tile_rows = 2, k_block = 128> {
^bb0(%x: !x):
  tfm.yield %x : !x
}
tfm.kernel @b decode on <cpu, isa = avx2> schedule #tfm.qkv<product = #tfm.gemv<vector = 8, rows_per_task = 32>, head_dim = 64> {
^bb0(%x: !x):
  tfm.yield %x : !x
}
tfm.kernel @c prefill on #tfm.target<cpu, isa = avx2> schedule #tfm.flash_prefill<vector = 8, kv_chunk = 32, query_rows = 4, task_rows = 32, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1> {
^bb0(%x: !x):
  tfm.yield %x : !x
}
tfm.kernel @d decode on <cpu, isa = avx2> schedule #tfm.flash_decode<vector = 8, kv_chunk = 256, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1> {
^bb0(%x: !x):
  tfm.yield %x : !x
}
tfm.kernel @e decode {
^bb0(%x: !x):
  tfm.yield %x : !x
}
