// Every verifier error of the tfm dialect.
// RUN: tfm-opt %s -split-input-file -verify-diagnostics

func.func @weight_empty_name() {
  // expected-error @+1 {{weight name must not be empty}}
  %w = tfm.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{weight shape must be static}}
  %w = tfm.weight "w" : tensor<?x4xf32>
  return
}

// -----

func.func @weight_zero_dim() {
  // expected-error @+1 {{weight dimensions must be >= 1}}
  %w = tfm.weight "w" : tensor<0x4xf32>
  return
}

// -----

func.func @weight_f32_storage_spelled_out() {
  // expected-error @+1 {{f32 storage is written without an encoding}}
  %w = tfm.weight "w" : tensor<4x4xf32, #tfm.storage<f32>>
  return
}

// -----

func.func @weight_other_encoding() {
  // expected-error @+1 {{a weight's encoding must be #tfm.storage, got "x"}}
  %w = tfm.weight "w" : tensor<4x4xf32, "x">
  return
}

// -----

func.func @weight_block_rows() {
  // expected-error @+1 {{a weight stored as q4_K needs rows of a multiple of 256 elements, got 'tensor<4x288xf32, #tfm.storage<q4_K>>'}}
  %w = tfm.weight "w" : tensor<4x288xf32, #tfm.storage<q4_K>>
  return
}

// -----

func.func @act_quant_block(%x: tensor<1x48xf32>, %w: tensor<8x48xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{act_quant q8_0 rounds blocks of 32 inputs, but the weight has rows of 48}}
  %r = tfm.linear %x, %w {act_quant = #tfm.act_quant<q8_0>} : tensor<1x48xf32>, tensor<8x48xf32> -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

func.func @act_quant_k_block(%x: tensor<1x288xf32>, %w: tensor<8x288xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{act_quant q8_K rounds blocks of 256 inputs, but the weight has rows of 288}}
  %r = tfm.lm_head %x, %w {act_quant = #tfm.act_quant<q8_K>} : tensor<1x288xf32>, tensor<8x288xf32> -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

func.func @weight_block_vector() {
  // expected-error @+1 {{a weight stored as q8_0 needs rows of a multiple of 32 elements}}
  %w = tfm.weight "w" : tensor<64xf32, #tfm.storage<q8_0>>
  return
}

// -----

func.func @concat_mixed_storage() {
  %a = tfm.weight "a" : tensor<4x4xf32, #tfm.storage<bf16>>
  %b = tfm.weight "b" : tensor<4x4xf32>
  // expected-error @+1 {{operands must be stored as the result is (bf16)}}
  %w = tfm.concat %a, %b : (tensor<4x4xf32, #tfm.storage<bf16>>, tensor<4x4xf32>) -> tensor<8x4xf32, #tfm.storage<bf16>>
  return
}

// -----

func.func @embed_width(%t: tensor<?xi32>) {
  %table = tfm.weight "e" : tensor<10x8xf32>
  // expected-error @+1 {{result dimension 1 must be 8, got 6}}
  %h = tfm.embed %table[%t] : tensor<10x8xf32>, tensor<?xi32> -> tensor<?x6xf32>
  return
}

// -----

func.func @embed_rows(%t: tensor<3xi32>) {
  %table = tfm.weight "e" : tensor<10x8xf32>
  // expected-error @+1 {{result dimension 0 must be 3, got 2}}
  %h = tfm.embed %table[%t] : tensor<10x8xf32>, tensor<3xi32> -> tensor<2x8xf32>
  return
}

// -----

func.func @position_learned_without_table(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{learned positions need a table}}
  %p = tfm.position learned %x at %pos : tensor<?x8xf32>
  return
}

// -----

func.func @position_sinusoidal_with_table(%x: tensor<?x8xf32>, %pos: index) {
  %t = tfm.weight "p" : tensor<16x8xf32>
  // expected-error @+1 {{sinusoidal positions take no table}}
  %p = tfm.position sinusoidal %x at %pos table %t : tensor<16x8xf32> : tensor<?x8xf32>
  return
}

// -----

func.func @position_table_width(%x: tensor<?x8xf32>, %pos: index) {
  %t = tfm.weight "p" : tensor<16x4xf32>
  // expected-error @+1 {{table dimension 1 must be 8, got 4}}
  %p = tfm.position learned %x at %pos table %t : tensor<16x4xf32> : tensor<?x8xf32>
  return
}

// -----

func.func @position_sinusoidal_odd(%x: tensor<?x7xf32>, %pos: index) {
  // expected-error @+1 {{sinusoidal positions need an even feature count, got 7}}
  %p = tfm.position sinusoidal %x at %pos : tensor<?x7xf32>
  return
}

// -----

func.func @norm_eps(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{eps must be > 0, got 0}}
  %n = tfm.norm rms %x eps 0.0 : tensor<?x8xf32>
  return
}

// -----

func.func @norm_group_size(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{group_size must be >= 1, got 0}}
  %n = tfm.norm rms %x eps 1.0e-5 {group_size = 0 : i64} : tensor<?x8xf32>
  return
}

// -----

func.func @norm_group_divides(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{group_size 3 does not divide the 8 features}}
  %n = tfm.norm rms %x eps 1.0e-5 {group_size = 3 : i64} : tensor<?x8xf32>
  return
}

// -----

func.func @norm_gain(%x: tensor<?x8xf32>) {
  %g = tfm.weight "g" : tensor<4xf32>
  // expected-error @+1 {{gain dimension 0 must be 8, got 4}}
  %n = tfm.norm rms %x gain %g : tensor<4xf32> eps 1.0e-5 : tensor<?x8xf32>
  return
}

// -----

func.func @norm_gain_neither(%x: tensor<?x12xf32>) {
  %g = tfm.weight "g" : tensor<6xf32>
  // expected-error @+1 {{gain dimension 0 must be 4, got 6}}
  %n = tfm.norm rms %x gain %g : tensor<6xf32> eps 1.0e-5 {group_size = 4 : i64} : tensor<?x12xf32>
  return
}

// -----

func.func @norm_bias(%x: tensor<?x8xf32>) {
  %g = tfm.weight "g" : tensor<4xf32>
  %b = tfm.weight "b" : tensor<8xf32>
  // expected-error @+1 {{bias dimension 0 must be 4, got 8}}
  %n = tfm.norm layer %x gain %g : tensor<4xf32> bias %b : tensor<8xf32> eps 1.0e-5 {group_size = 4 : i64} : tensor<?x8xf32>
  return
}

// -----

func.func @linear_inner(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<16x4xf32>
  // expected-error @+1 {{input dimension 1 must be 4, got 8}}
  %y = tfm.linear %x, %w : tensor<?x8xf32>, tensor<16x4xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @linear_outer(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<16x8xf32>
  // expected-error @+1 {{result dimension 1 must be 16, got 12}}
  %y = tfm.linear %x, %w : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x12xf32>
  return
}

// -----

func.func @linear_rows(%x: tensor<2x8xf32>) {
  %w = tfm.weight "w" : tensor<16x8xf32>
  // expected-error @+1 {{result dimension 0 must be 2, got 3}}
  %y = tfm.linear %x, %w : tensor<2x8xf32>, tensor<16x8xf32> -> tensor<3x16xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<16x8xf32>
  %b = tfm.weight "b" : tensor<8xf32>
  // expected-error @+1 {{bias dimension 0 must be 16, got 8}}
  %y = tfm.linear %x, %w bias %b : tensor<8xf32> : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  return
}

// -----

func.func @glu_types(%g: tensor<?x8xf32>, %u: tensor<?x4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %y = "tfm.glu"(%g, %u) {act = #tfm.act<silu>} : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @rope_head_dim(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{head_dim must be >= 1, got 0}}
  %y = tfm.rope half %x at %pos {head_dim = 0, rotary_dim = 2, theta = 1.0e4} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_head_dim_divides(%x: tensor<?x12xf32>, %pos: index) {
  // expected-error @+1 {{head_dim 8 does not divide the 12 features}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4} : tensor<?x12xf32>
  return
}

// -----

func.func @rope_rotary_odd(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rotary_dim must be even and in [2, head_dim = 8], got 3}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 3, theta = 1.0e4} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_rotary_too_wide(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rotary_dim must be even and in [2, head_dim = 8], got 10}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 10, theta = 1.0e4} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{theta must be > 0}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = -1.0} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_factor(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling factor must be > 0, got 0}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = linear, factor = 0.0>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_llama3_bands(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, got 4.000000e+00 and 1.000000e+00}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_positions = 64>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_llama3_original(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{llama3 rope scaling needs original_max_positions >= 1}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = llama3, factor = 8.0>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_yarn_betas(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{yarn rope scaling needs 0 < beta_slow < beta_fast, got 2.000000e+00 and 1.000000e+00}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = yarn, factor = 4.0, original_max_positions = 64, beta_fast = 1.0, beta_slow = 2.0>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_attention_factor(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{only yarn and factors rope scaling have an attention_factor}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = linear, factor = 4.0, attention_factor = 1.5>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_factors_kind(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling freq_factors are given with kind factors, and only then}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = linear, factor = 4.0, freq_factors = [1.0, 1.0, 2.0, 4.0]>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_factors_positive(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling freq_factors must be finite and > 0, got 0}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = factors, factor = 1.0, freq_factors = [1.0, 0.0, 2.0, 4.0]>} : tensor<?x8xf32>
  return
}

// -----

func.func @rope_scaling_factors_count(%x: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{rope scaling has 3 freq_factors, expected rotary_dim / 2 = 4}}
  %y = tfm.rope half %x at %pos {head_dim = 8, rotary_dim = 8, theta = 1.0e4, scaling = #tfm.rope_scaling<kind = factors, factor = 1.0, freq_factors = [1.0, 2.0, 4.0]>} : tensor<?x8xf32>
  return
}

// -----

func.func @attention_heads(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{num_heads, num_kv_heads and head_dim must be >= 1}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 0, num_kv_heads = 1, head_dim = 8, scale = 1.0} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32> -> tensor<?x8xf32>
  return
}

// -----

func.func @attention_kv_heads_divide(%q: tensor<?x32xf32>, %k: tensor<?x24xf32>, %pos: index) {
  // expected-error @+1 {{num_kv_heads 3 does not divide num_heads 4}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 3, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<?x24xf32>, tensor<?x24xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_query(%q: tensor<?x24xf32>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{query dimension 1 must be 32, got 24}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x24xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_key(%q: tensor<?x32xf32>, %k: tensor<?x32xf32>, %pos: index) {
  // expected-error @+1 {{key dimension 1 must be 16, got 32}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_value_rows(%q: tensor<?x32xf32>, %k: tensor<5x16xf32>, %v: tensor<6x16xf32>, %pos: index) {
  // expected-error @+1 {{value dimension 0 must be 5, got 6}}
  %o = tfm.attention %q, %k, %v at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<5x16xf32>, tensor<6x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_value_heads(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %v: tensor<?x15xf32>, %pos: index) {
  // expected-error @+1 {{value features 15 are not a multiple of num_kv_heads 2}}
  %o = tfm.attention %q, %k, %v at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x15xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_result(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %v: tensor<?x8xf32>, %pos: index) {
  // expected-error @+1 {{result dimension 1 must be 16, got 32}}
  %o = tfm.attention %q, %k, %v at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x8xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_result_rows(%q: tensor<2x32xf32>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{result dimension 0 must be 2, got 1}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<2x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<1x32xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{scale must be > 0}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 0.0} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_window(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{window must be >= 1, got -3}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0, causal, window = -3} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_softcap(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{softcap must be > 0}}
  %o = tfm.attention %q, %k, %k at %pos {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0, softcap = -5.0} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_bias(%q: tensor<?x32xf32>, %k: tensor<?x16xf32>, %b: tensor<2x?x?xf32>, %pos: index) {
  // expected-error @+1 {{bias dimension 0 must be 4, got 2}}
  %o = tfm.attention %q, %k, %k at %pos bias %b : tensor<2x?x?xf32> {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 1.0} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @alibi_heads(%pos: index) {
  // expected-error @+1 {{num_heads must be >= 1, got -2}}
  %b = tfm.alibi %pos, %pos, %pos {num_heads = -2} : tensor<1x?x?xf32>
  return
}

// -----

func.func @alibi_result(%pos: index) {
  // expected-error @+1 {{result dimension 0 must be 4, got 2}}
  %b = tfm.alibi %pos, %pos, %pos {num_heads = 4} : tensor<2x?x?xf32>
  return
}

// -----

func.func @relative_buckets(%pos: index) {
  %t = tfm.weight "t" : tensor<1x4xf32>
  // expected-error @+1 {{num_buckets must be >= 2, got 1}}
  %b = tfm.relative_bias %t at %pos, %pos, %pos {num_buckets = 1, max_distance = 8} : tensor<1x4xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @relative_bidirectional_odd(%pos: index) {
  %t = tfm.weight "t" : tensor<5x4xf32>
  // expected-error @+1 {{bidirectional bias needs an even num_buckets, got 5}}
  %b = tfm.relative_bias %t at %pos, %pos, %pos {num_buckets = 5, max_distance = 8, bidirectional} : tensor<5x4xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @relative_distance(%pos: index) {
  %t = tfm.weight "t" : tensor<8x4xf32>
  // expected-error @+1 {{max_distance must be >= 1, got -1}}
  %b = tfm.relative_bias %t at %pos, %pos, %pos {num_buckets = 8, max_distance = -1} : tensor<8x4xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @relative_table(%pos: index) {
  %t = tfm.weight "t" : tensor<16x4xf32>
  // expected-error @+1 {{table dimension 0 must be 8, got 16}}
  %b = tfm.relative_bias %t at %pos, %pos, %pos {num_buckets = 8, max_distance = 32} : tensor<16x4xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @relative_result(%pos: index) {
  %t = tfm.weight "t" : tensor<8x4xf32>
  // expected-error @+1 {{result dimension 0 must be 4, got 3}}
  %b = tfm.relative_bias %t at %pos, %pos, %pos {num_buckets = 8, max_distance = 32} : tensor<8x4xf32> -> tensor<3x?x?xf32>
  return
}

// -----

// expected-error @+1 {{a kv_cache is stored as f32, f16, bf16 or q8_0, not q4_0}}
func.func @cache_storage(%c: !tfm.kv_cache<len = 4, kv_heads = 2, head_dim = 32, v_head_dim = 32, storage = q4_0>) {
  return
}

// -----

// expected-error @+1 {{a q8_0 kv_cache needs head_dim and v_head_dim in whole blocks of 32, got 32 and 16}}
func.func @cache_blocks(%c: !tfm.kv_cache<len = 4, kv_heads = 2, head_dim = 32, v_head_dim = 16, storage = q8_0>) {
  return
}

// -----

// expected-error @+1 {{kv_cache dimensions must be >= 1, got len = 0, kv_heads = 2, head_dim = 8, v_head_dim = 8}}
func.func @cache_type(%c: !tfm.kv_cache<len = 0, kv_heads = 2, head_dim = 8, v_head_dim = 8>) {
  return
}

// -----

func.func @kv_write_key(%c: !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8>, %k: tensor<?x8xf32>, %v: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{key dimension 1 must be 16, got 8}}
  %0 = tfm.kv_write %k, %v into %c at %pos : tensor<?x8xf32>, tensor<?x16xf32> into !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8>
  return
}

// -----

func.func @kv_write_value(%c: !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 4>, %k: tensor<?x16xf32>, %pos: index) {
  // expected-error @+1 {{value dimension 1 must be 8, got 16}}
  %0 = tfm.kv_write %k, %k into %c at %pos : tensor<?x16xf32>, tensor<?x16xf32> into !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 4>
  return
}

// -----

func.func @kv_write_rows(%c: !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8>, %k: tensor<2x16xf32>, %v: tensor<3x16xf32>, %pos: index) {
  // expected-error @+1 {{value dimension 0 must be 2, got 3}}
  %0 = tfm.kv_write %k, %v into %c at %pos : tensor<2x16xf32>, tensor<3x16xf32> into !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8>
  return
}

// -----

func.func @kv_read_key(%c: !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8>, %len: index) {
  // expected-error @+1 {{key dimension 1 must be 16, got 32}}
  %k, %v = tfm.kv_read %c len %len : !tfm.kv_cache<len = 16, kv_heads = 2, head_dim = 8, v_head_dim = 8> -> tensor<?x32xf32>, tensor<?x16xf32>
  return
}

// -----

func.func @moe_experts(%x: tensor<?x8xf32>, %r: tensor<1x8xf32>, %g: tensor<1x4x8xf32>, %d: tensor<1x8x4xf32>) {
  // expected-error @+1 {{num_experts must be >= 1}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 0, top_k = 1} : (tensor<?x8xf32>, tensor<1x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_top_k(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>) {
  // expected-error @+1 {{top_k must be in [1, num_experts = 2], got 3}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 3} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_router(%x: tensor<?x8xf32>, %r: tensor<3x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>) {
  // expected-error @+1 {{router dimension 0 must be 2, got 3}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 1} : (tensor<?x8xf32>, tensor<3x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_down(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x6xf32>) {
  // expected-error @+1 {{down dimension 2 must be 4, got 6}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 1} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x6xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_num_shared(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>) {
  // expected-error @+1 {{num_shared must be >= 1 exactly when shared expert weights are given}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 1, num_shared = 1} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_shared_shapes(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>, %sg: tensor<6x8xf32>, %sd: tensor<8x5xf32>) {
  // expected-error @+1 {{shared_down dimension 1 must be 6, got 5}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) shared(%sg, %sg, %sd) {num_experts = 2, top_k = 1, num_shared = 1} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<8x5xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_shared_router(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>, %sg: tensor<6x8xf32>, %sd: tensor<8x6xf32>, %sr: tensor<2x8xf32>) {
  // expected-error @+1 {{shared_router dimension 0 must be 1, got 2}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) shared(%sg, %sg, %sd) shared_router %sr {num_experts = 2, top_k = 1, num_shared = 1} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_negative_shared(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>) {
  // expected-error @+1 {{num_shared must be >= 0, got -1}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 1, num_shared = -1} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_routed_scale(%x: tensor<?x8xf32>, %r: tensor<2x8xf32>, %g: tensor<2x4x8xf32>, %d: tensor<2x8x4xf32>) {
  // expected-error @+1 {{routed_scale must be > 0}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 2, top_k = 1, routed_scale = 0.0} : (tensor<?x8xf32>, tensor<2x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @add_alpha(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{alpha must be finite and non-zero, got 0}}
  %y = tfm.add %x, %x {alpha = 0.0} : tensor<?x8xf32>
  return
}

// -----

func.func @softcap_cap(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{cap must be > 0, got -1}}
  %y = tfm.softcap %x cap -1.0 : tensor<?x8xf32>
  return
}

// -----

func.func @lm_head_inner(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<100x4xf32>
  // expected-error @+1 {{input dimension 1 must be 4, got 8}}
  %y = tfm.lm_head %x, %w : tensor<?x8xf32>, tensor<100x4xf32> -> tensor<?x100xf32>
  return
}

// -----

func.func @lm_head_vocab(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<100x8xf32>
  // expected-error @+1 {{result dimension 1 must be 100, got 99}}
  %y = tfm.lm_head %x, %w : tensor<?x8xf32>, tensor<100x8xf32> -> tensor<?x99xf32>
  return
}

// -----

func.func @lm_head_bias(%x: tensor<?x8xf32>) {
  %w = tfm.weight "w" : tensor<100x8xf32>
  %b = tfm.weight "b" : tensor<99xf32>
  // expected-error @+1 {{bias dimension 0 must be 100, got 99}}
  %y = tfm.lm_head %x, %w bias %b : tensor<99xf32> : tensor<?x8xf32>, tensor<100x8xf32> -> tensor<?x100xf32>
  return
}

// -----

func.func @concat_columns(%a: tensor<4x8xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{operand dimension 1 must be 8, got 6}}
  %c = tfm.concat %a, %b : (tensor<4x8xf32>, tensor<4x6xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @concat_rows(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{result dimension 0 must be 8, got 9}}
  %c = tfm.concat %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<9x8xf32>
  return
}

// -----

func.func @qkv_rope_rows(%x: tensor<1x8xf32>, %w: tensor<20x8xf32>, %pos: index) {
  // expected-error @+1 {{weight dimension 0 must be 16, got 20}}
  %q, %k, %v = tfm.qkv_rope half %x, %w at %pos {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, v_head_dim = 4 : i64} : tensor<1x8xf32>, tensor<20x8xf32> -> tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>
  return
}

// -----

func.func @qkv_rope_norm(%x: tensor<1x8xf32>, %w: tensor<16x8xf32>, %g: tensor<4xf32>, %pos: index) {
  // expected-error @+1 {{QK-norm needs the gains, norm and norm_eps together}}
  %q, %k, %v = tfm.qkv_rope half %x, %w qk_norm %g, %g : tensor<4xf32>, tensor<4xf32> at %pos {head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rotary_dim = 4 : i64, theta = 10000.0 : f64, v_head_dim = 4 : i64} : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x8xf32>, tensor<1x4xf32>, tensor<1x4xf32>
  return
}

// -----

!cache = !tfm.kv_cache<len = 32, kv_heads = 2, head_dim = 4, v_head_dim = 4>
func.func @cached_attention_heads(%q: tensor<1x8xf32>, %k: tensor<1x8xf32>, %c: !cache, %pos: index) {
  // expected-error @+1 {{the cache's kv_heads and head_dim must be 1 and 4}}
  %o, %n = tfm.cached_attention %q, %k, %k into %c at %pos len %pos {causal, head_dim = 4 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 0.5 : f64} : tensor<1x8xf32>, tensor<1x8xf32>, tensor<1x8xf32> into !cache -> tensor<1x8xf32>
  return
}

// -----

func.func @linear_glu_odd(%x: tensor<1x8xf32>, %w: tensor<15x8xf32>) {
  // expected-error @+1 {{weight rows must be even (gate then up), got 15}}
  %y = tfm.linear_glu silu %x, %w : tensor<1x8xf32>, tensor<15x8xf32> -> tensor<1x7xf32>
  return
}

// -----

func.func @add_norm_gain(%a: tensor<1x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{gain dimension 0 must be 8, got 4}}
  %s, %n = tfm.add_norm rms %a, %a gain %g : tensor<4xf32> eps 1.0e-5 : tensor<1x8xf32>
  return
}

// -----

func.func @head_linear_input(%x: tensor<1x30xf32>, %w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{input dimension 1 must be 32, got 30}}
  %y = tfm.head_linear %x, %w {transpose_weight} : tensor<1x30xf32>, tensor<4x8x16xf32> -> tensor<1x64xf32>
  return
}

// -----

func.func @head_linear_result(%x: tensor<1x64xf32>, %w: tensor<4x8x16xf32>) {
  // expected-error @+1 {{result dimension 1 must be 32, got 64}}
  %y = tfm.head_linear %x, %w : tensor<1x64xf32>, tensor<4x8x16xf32> -> tensor<1x64xf32>
  return
}

// -----

func.func @join_groups(%a: tensor<1x12xf32>, %b: tensor<1x6xf32>) {
  // expected-error @+1 {{operand features (12, 6) must be whole multiples of groups (4)}}
  %y = tfm.join %a, %b {groups = 4 : i64} : tensor<1x12xf32>, tensor<1x6xf32> -> tensor<1x18xf32>
  return
}

// -----

func.func @join_result(%a: tensor<1x12xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{result dimension 1 must be 16, got 18}}
  %y = tfm.join %a, %b {groups = 4 : i64} : tensor<1x12xf32>, tensor<1x4xf32> -> tensor<1x18xf32>
  return
}

// -----

func.func @moe_groups(%x: tensor<?x8xf32>, %r: tensor<6x8xf32>, %g: tensor<6x4x8xf32>, %d: tensor<6x8x4xf32>) {
  // expected-error @+1 {{num_groups must divide num_experts (6), got 4}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 6, top_k = 2, num_groups = 4} : (tensor<?x8xf32>, tensor<6x8xf32>, tensor<6x4x8xf32>, tensor<6x4x8xf32>, tensor<6x8x4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @moe_top_groups(%x: tensor<?x8xf32>, %r: tensor<6x8xf32>, %g: tensor<6x4x8xf32>, %d: tensor<6x8x4xf32>) {
  // expected-error @+1 {{top_groups (1) of 2 experts each hold fewer than top_k (3)}}
  %y = tfm.moe silu %x router %r experts(%g, %g, %d) {num_experts = 6, top_k = 3, num_groups = 3, top_groups = 1} : (tensor<?x8xf32>, tensor<6x8xf32>, tensor<6x4x8xf32>, tensor<6x4x8xf32>, tensor<6x8x4xf32>) -> tensor<?x8xf32>
  return
}
