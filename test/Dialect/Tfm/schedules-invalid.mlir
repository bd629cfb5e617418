// Every verifier error of the kernel-level target and schedule attributes.
// RUN: tfm-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{schedule vector must be a power of two in [1, 64], got 12}}
tfm.kernel @k prefill on <cpu, isa = avx2> schedule #tfm.rows<vector = 12> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{gemm tile_cols must be a positive multiple of the vector (8), got 20}}
tfm.kernel @k prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 20> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{gemm k_block must be >= 0 (0: no blocks), got -1}}
tfm.kernel @k prefill on <cpu, isa = avx2> schedule #tfm.gemm<vector = 8, tile_cols = 24, k_block = -1> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{gemv rows_per_task must be a positive multiple of 4, got 6}}
tfm.kernel @k decode on <cpu, isa = avx2> schedule #tfm.gemv<vector = 8, rows_per_task = 6> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{qkv product must be a #tfm.gemm or #tfm.gemv schedule, got #tfm.rows<vector = 8>}}
tfm.kernel @k decode on <cpu, isa = avx2> schedule #tfm.qkv<product = #tfm.rows<vector = 8>, head_dim = 8> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{schedule kv_heads (3) must divide heads (4)}}
tfm.kernel @k decode on <cpu, isa = avx2> schedule #tfm.attention<vector = 8, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 3> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{flash_prefill task_rows (2) must be at least query_rows (4)}}
tfm.kernel @k prefill on <cpu, isa = avx2> schedule #tfm.flash_prefill<vector = 8, task_rows = 2, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{schedule kv_chunk must be >= 1, got 0}}
tfm.kernel @k decode on <cpu, isa = avx2> schedule #tfm.flash_decode<vector = 8, kv_chunk = 0, head_dim = 8, v_head_dim = 8, heads = 4, kv_heads = 1> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{'tfm.kernel' op has a schedule but no target}}
tfm.kernel @k decode schedule #tfm.rows<vector = 8> {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}

// -----

// expected-error @+1 {{unknown keyword 'train'}}
tfm.kernel @k train {
^bb0(%x: tensor<1x4xf32>):
  tfm.yield %x : tensor<1x4xf32>
}
