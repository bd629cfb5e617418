// Every verifier error of the #tfm.model module attribute.
// RUN: tfm-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{model sizes must be >= 1, got vocab = 0}}
module attributes {tfm.model = #tfm.model<vocab = 0, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {}

// -----

// expected-error @+1 {{model kv_heads (3) must divide heads (4)}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 3, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {}

// -----

// expected-error @+1 {{model rotary_dim must be within [0, 8], got 10}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 10, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {}

// -----

// expected-error @+1 {{model naming must not be empty}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "">} {}

// -----

// expected-error @+1 {{'tfm.model' must be a #tfm.model attribute}}
module attributes {tfm.model = 3 : i64} {}

// -----

// expected-error @+1 {{'tfm.model' belongs on a module}}
func.func @f() attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {
  return
}

// -----

// expected-error @+1 {{unknown tfm attribute 'tfm.marker'}}
module attributes {tfm.marker} {}

// -----

// expected-error @+1 {{'tfm.model' does not match the KV cache '!tfm.kv_cache<len = 32, kv_heads = 2, head_dim = 8, v_head_dim = 8>' of @decode}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {
  func.func @decode(%t: tensor<1xi32>, %p: index, %c: !tfm.kv_cache<len = 32, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
    return
  }
}

// -----

// expected-error @+1 {{the KV caches of a model share one storage type, but @decode takes a f32 cache after a f16 one}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {
  func.func @prefill(%t: tensor<?xi32>, %p: index, %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8, storage = f16>) {
    return
  }
  func.func @decode(%t: tensor<1xi32>, %p: index, %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
    return
  }
}

// -----

// expected-error @+1 {{'tfm.model' has 2 layers but @decode takes 1 caches}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 2, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama">} {
  func.func @decode(%t: tensor<1xi32>, %p: index, %c: !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
    return
  }
}

// -----

// expected-error @+1 {{model hidden, rope_theta and norm_eps must be finite and >= 0 (0: unknown)}}
module attributes {tfm.model = #tfm.model<vocab = 8, max_seq_len = 64, layers = 1, heads = 4, kv_heads = 2, head_dim = 8, v_head_dim = 8, rotary_dim = 8, rope_interleaved = false, tied_embeddings = false, naming = "llama", norm_eps = -1.0>} {}
