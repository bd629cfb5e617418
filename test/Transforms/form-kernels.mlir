// tfm-form-kernels: groups, epilogue fusion, deduplication, launch sizes.
// RUN: tfm-opt %s -split-input-file -tfm-form-kernels -cse | FileCheck %s

// Two identical layers share their kernels; the residual add runs in the
// epilogue of the projection before it; launches get their sizes from the
// token count.
// Kernels have no target or schedule yet (tfm-select-schedules adds them).
// CHECK-LABEL: tfm.kernel @prefill_norm_0 prefill {
// CHECK: tfm.norm rms
// CHECK-LABEL: tfm.kernel @prefill_linear_add_0 prefill {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<?x16xf32>, %[[W:.*]]: tensor<16x16xf32>, %[[H:.*]]: tensor<?x16xf32>):
// CHECK-NEXT: %[[Y:.*]] = tfm.linear %[[X]], %[[W]]
// CHECK-NEXT: %[[S:.*]] = tfm.add %[[H]], %[[Y]]
// CHECK-NEXT: tfm.yield %[[S]]
// CHECK-NOT: tfm.kernel
// CHECK-LABEL: func.func @prefill
// CHECK: %[[N:.*]] = tensor.dim %arg0
// CHECK: %[[A:.*]] = tfm.launch @prefill_norm_0(%arg0, %{{.*}}) dims(%[[N]])
// CHECK: %[[B:.*]] = tfm.launch @prefill_linear_add_0(%[[A]], %{{.*}}, %arg0) dims(%[[N]])
// CHECK: %[[C:.*]] = tfm.launch @prefill_norm_0(%[[B]], %{{.*}}) dims(%[[N]])
// CHECK: %[[D:.*]] = tfm.launch @prefill_linear_add_0(%[[C]], %{{.*}}, %[[B]]) dims(%[[N]])
// CHECK: return %[[D]]
func.func @prefill(%h: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %g0 = tfm.weight "layers.0.norm.weight" : tensor<16xf32>
  %n0 = tfm.norm rms %h gain %g0 : tensor<16xf32> eps 1.0e-5 : tensor<?x16xf32>
  %w0 = tfm.weight "layers.0.w" : tensor<16x16xf32>
  %y0 = tfm.linear %n0, %w0 : tensor<?x16xf32>, tensor<16x16xf32> -> tensor<?x16xf32>
  %h1 = tfm.add %h, %y0 : tensor<?x16xf32>
  %g1 = tfm.weight "layers.1.norm.weight" : tensor<16xf32>
  %n1 = tfm.norm rms %h1 gain %g1 : tensor<16xf32> eps 1.0e-5 : tensor<?x16xf32>
  %w1 = tfm.weight "layers.1.w" : tensor<16x16xf32>
  %y1 = tfm.linear %n1, %w1 : tensor<?x16xf32>, tensor<16x16xf32> -> tensor<?x16xf32>
  %h2 = tfm.add %h1, %y1 : tensor<?x16xf32>
  return %h2 : tensor<?x16xf32>
}

// -----

// A result used twice is not fused into (the epilogue would run twice); a
// decode kernel needs no sizes; a GLU joins the
// up projection and reads the gate as an input.
// CHECK-LABEL: tfm.kernel @decode_linear_0
// CHECK-LABEL: tfm.kernel @decode_activation_0
// CHECK-LABEL: tfm.kernel @decode_linear_glu_0
// CHECK: tfm.linear
// CHECK-NEXT: tfm.glu silu
// CHECK-LABEL: func.func @decode
// CHECK: %[[G:.*]] = tfm.launch @decode_linear_0(%arg0, %{{.*}}) : (tensor<1x16xf32>, tensor<32x16xf32>) -> tensor<1x32xf32>
// CHECK: %[[A:.*]] = tfm.launch @decode_activation_0(%[[G]])
// CHECK: %[[U:.*]] = tfm.launch @decode_linear_glu_0(%arg0, %{{.*}}, %[[G]])
// CHECK: return %[[A]], %[[U]]
func.func @decode(%x: tensor<1x16xf32>) -> (tensor<1x32xf32>, tensor<1x32xf32>) {
  %wg = tfm.weight "gate" : tensor<32x16xf32>
  %g = tfm.linear %x, %wg : tensor<1x16xf32>, tensor<32x16xf32> -> tensor<1x32xf32>
  %a = tfm.activation relu %g : tensor<1x32xf32>
  %wu = tfm.weight "up" : tensor<32x16xf32>
  %u = tfm.linear %x, %wu : tensor<1x16xf32>, tensor<32x16xf32> -> tensor<1x32xf32>
  %y = tfm.glu silu %g, %u : tensor<1x32xf32>
  return %a, %y : tensor<1x32xf32>, tensor<1x32xf32>
}

// -----

// Cache ops stay on the host; attention reads the cache view, whose length
// sizes the bias; the bias kernel gets both sizes.
// CHECK-LABEL: tfm.kernel @prefill_alibi_0 prefill {
// CHECK-LABEL: tfm.kernel @prefill_attention_0 prefill {
// CHECK-LABEL: func.func @prefill
// CHECK: %[[N:.*]] = tensor.dim %arg0
// CHECK: %[[LEN:.*]] = arith.addi %arg2, %[[N]]
// CHECK: %[[C:.*]] = tfm.kv_write %arg0, %arg0 into %arg3 at %arg2
// CHECK: %[[K:.*]], %[[V:.*]] = tfm.kv_read %[[C]] len %[[LEN]]
// CHECK: %[[B:.*]] = tfm.launch @prefill_alibi_0(%arg2, %[[N]], %[[LEN]]) dims(%[[N]], %[[LEN]])
// CHECK: tfm.launch @prefill_attention_0(%arg0, %[[K]], %[[V]], %arg2, %[[B]]) dims(%[[N]])
!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>
func.func @prefill(%q: tensor<?x16xf32>, %unused: index, %pos: index, %cache: !cache) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %n = tensor.dim %q, %c0 : tensor<?x16xf32>
  %len = arith.addi %pos, %n : index
  %c = tfm.kv_write %q, %q into %cache at %pos : tensor<?x16xf32>, tensor<?x16xf32> into !cache
  %k, %v = tfm.kv_read %c len %len : !cache -> tensor<?x16xf32>, tensor<?x16xf32>
  %b = tfm.alibi %pos, %n, %len {num_heads = 2} : tensor<2x?x?xf32>
  %o = tfm.attention %q, %k, %v at %pos bias %b : tensor<2x?x?xf32> {num_heads = 2, num_kv_heads = 2, head_dim = 8, scale = 0.35, causal}
      : tensor<?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x16xf32>
  return %o : tensor<?x16xf32>
}

// -----

// A tfm.add_norm whose normalized value only a projection reads is that
// projection's prologue: one kernel yields the product and the residual
// sum. One whose normalized value has other readers is a kernel of its own.
// CHECK-LABEL: tfm.kernel @prefill_add_norm_linear_0 prefill {
// CHECK-NEXT: ^bb0(%[[H:.*]]: tensor<?x16xf32>, %[[Y:.*]]: tensor<?x16xf32>, %[[G:.*]]: tensor<16xf32>, %[[W:.*]]: tensor<16x16xf32>):
// CHECK-NEXT: %[[S:.*]], %[[N:.*]] = tfm.add_norm rms %[[H]], %[[Y]] gain %[[G]]
// CHECK-NEXT: %[[P:.*]] = tfm.linear %[[N]], %[[W]]
// CHECK-NEXT: tfm.yield %[[P]], %[[S]]
// CHECK-LABEL: tfm.kernel @prefill_add_norm_0 prefill {
// CHECK: tfm.add_norm rms
// CHECK-NEXT: tfm.yield %{{.*}}, %{{.*}} : tensor<?x16xf32>, tensor<?x16xf32>
// CHECK-LABEL: func.func @prefill
// CHECK: %[[R:.*]]:2 = tfm.launch @prefill_add_norm_linear_0(%arg0, %arg1, %{{.*}}, %{{.*}}) dims(%{{.*}}, %{{.*}})
// CHECK: %[[T:.*]]:2 = tfm.launch @prefill_add_norm_0(%[[R]]#1, %[[R]]#0, %{{.*}})
func.func @prefill(%h: tensor<?x16xf32>, %y: tensor<?x16xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %g = tfm.weight "g" : tensor<16xf32>
  %w = tfm.weight "w" : tensor<16x16xf32>
  %s, %n = tfm.add_norm rms %h, %y gain %g : tensor<16xf32> eps 1.0e-5 : tensor<?x16xf32>
  %p = tfm.linear %n, %w : tensor<?x16xf32>, tensor<16x16xf32> -> tensor<?x16xf32>
  %s2, %n2 = tfm.add_norm rms %s, %p gain %g : tensor<16xf32> eps 1.0e-5 : tensor<?x16xf32>
  return %s2, %n2 : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// A tfm.cached_attention keeps its form in its kernel, which takes the
// cache; the host writes this call's keys and values first (kernels are
// pure), and the kernel reads the cache it wrote.
!cache = !tfm.kv_cache<len = 64, kv_heads = 2, head_dim = 8, v_head_dim = 8>
// CHECK-LABEL: tfm.kernel @decode_cached_attention_0 decode {
// CHECK-NEXT: ^bb0(%[[Q:.*]]: tensor<1x32xf32>, %[[K:.*]]: tensor<1x16xf32>, %[[V:.*]]: tensor<1x16xf32>, %[[C:.*]]: !tfm.kv_cache<{{.*}}>, %[[P:.*]]: index, %[[N:.*]]: index):
// CHECK-NEXT: %[[R:.*]], %{{.*}} = tfm.cached_attention %[[Q]], %[[K]], %[[V]] into %[[C]] at %[[P]] len %[[N]]
// CHECK-NEXT: tfm.yield %[[R]]
// CHECK-LABEL: func.func @decode
// CHECK: %[[W:.*]] = tfm.kv_write %arg1, %arg2 into %arg3 at %arg4
// CHECK-NEXT: %[[O:.*]] = tfm.launch @decode_cached_attention_0(%arg0, %arg1, %arg2, %[[W]], %arg4, %arg5)
// CHECK-NEXT: return %[[O]], %[[W]]
func.func @decode(%q: tensor<1x32xf32>, %k: tensor<1x16xf32>, %v: tensor<1x16xf32>, %c: !cache, %pos: index, %len: index) -> (tensor<1x32xf32>, !cache) {
  %r, %c2 = tfm.cached_attention %q, %k, %v into %c at %pos len %len {num_heads = 4, num_kv_heads = 2, head_dim = 8, scale = 0.35, causal} : tensor<1x32xf32>, tensor<1x16xf32>, tensor<1x16xf32> into !cache -> tensor<1x32xf32>
  return %r, %c2 : tensor<1x32xf32>, !cache
}
