// The module's #tfm.model facts: they round-trip, and the verifier holds
// them to the KV caches the entry functions take.
// RUN: tfm-opt %s -split-input-file | FileCheck %s
// RUN: tfm-opt %s -split-input-file --mlir-print-op-generic | tfm-opt -split-input-file | FileCheck %s

// CHECK: module attributes {tfm.model = #tfm.model<vocab = 32, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 4, rope_interleaved = true, tied_embeddings = false, naming = "gpt_neox">}
module attributes {tfm.model = #tfm.model<vocab = 32, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 4, rope_interleaved = true, tied_embeddings = false, naming = "gpt_neox">} {
  func.func @decode(%t: tensor<1xi32>, %p: index, %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
    return
  }
}

// -----

// The hyperparameters a weight file is checked against round-trip too.
// CHECK: naming = "llama", hidden = 32, rope_theta = 5.000000e+05, norm_eps = 9.9999999999999995E-7>}
module attributes {tfm.model = #tfm.model<vocab = 32, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama", hidden = 32, rope_theta = 500000.0, norm_eps = 1.0e-6>} {
  func.func @decode(%t: tensor<1xi32>, %p: index, %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
    return
  }
}
