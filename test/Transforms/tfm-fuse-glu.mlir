// tfm-fuse-glu: gate and up projections + tfm.glu → tfm.linear_glu.
// RUN: tfm-opt %s -split-input-file -tfm-fuse-glu | FileCheck %s

// SwiGLU without biases: gate rows then up rows in one weight.
// CHECK-LABEL: func.func @swiglu
// CHECK: %[[G:.*]] = tfm.weight "gate"
// CHECK: %[[U:.*]] = tfm.weight "up"
// CHECK: %[[W:.*]] = tfm.concat %[[G]], %[[U]] : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<32x8xf32>
// CHECK: %[[H:.*]] = tfm.linear_glu silu %arg0, %[[W]] : tensor<?x8xf32>, tensor<32x8xf32> -> tensor<?x16xf32>
// CHECK-NOT: tfm.glu
// CHECK-NOT: tfm.linear %arg0
// CHECK: return %[[H]]
func.func @swiglu(%x: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x8xf32>
  %wu = tfm.weight "up" : tensor<16x8xf32>
  %g = tfm.linear %x, %wg : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %u = tfm.linear %x, %wu : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %h = tfm.glu silu %g, %u : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// GeGLU with biases: the biases are concatenated too.
// CHECK-LABEL: func.func @geglu_bias
// CHECK: %[[B:.*]] = tfm.concat %{{.*}}, %{{.*}} : (tensor<16xf32>, tensor<16xf32>) -> tensor<32xf32>
// CHECK: tfm.linear_glu gelu %arg0, %{{.*}} bias %[[B]] : tensor<32xf32>
func.func @geglu_bias(%x: tensor<1x8xf32>) -> tensor<1x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x8xf32>
  %bg = tfm.weight "gate.bias" : tensor<16xf32>
  %wu = tfm.weight "up" : tensor<16x8xf32>
  %bu = tfm.weight "up.bias" : tensor<16xf32>
  %g = tfm.linear %x, %wg bias %bg : tensor<16xf32> : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  %u = tfm.linear %x, %wu bias %bu : tensor<16xf32> : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  %h = tfm.glu gelu %g, %u : tensor<1x16xf32>
  return %h : tensor<1x16xf32>
}

// -----

// Not fused: the projections read different inputs.
// CHECK-LABEL: func.func @different_inputs
// CHECK-NOT: tfm.linear_glu
// CHECK: tfm.glu
func.func @different_inputs(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>) -> tensor<?x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x8xf32>
  %wu = tfm.weight "up" : tensor<16x8xf32>
  %g = tfm.linear %x, %wg : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %u = tfm.linear %y, %wu : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %h = tfm.glu silu %g, %u : tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

// Not fused: the gate projection has another reader.
// CHECK-LABEL: func.func @gate_reused
// CHECK-NOT: tfm.linear_glu
func.func @gate_reused(%x: tensor<?x8xf32>) -> (tensor<?x16xf32>, tensor<?x16xf32>) {
  %wg = tfm.weight "gate" : tensor<16x8xf32>
  %wu = tfm.weight "up" : tensor<16x8xf32>
  %g = tfm.linear %x, %wg : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %u = tfm.linear %x, %wu : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
  %h = tfm.glu silu %g, %u : tensor<?x16xf32>
  return %h, %g : tensor<?x16xf32>, tensor<?x16xf32>
}

// -----

// Not fused: only one projection has a bias.
// CHECK-LABEL: func.func @one_bias
// CHECK-NOT: tfm.linear_glu
func.func @one_bias(%x: tensor<1x8xf32>) -> tensor<1x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x8xf32>
  %bg = tfm.weight "gate.bias" : tensor<16xf32>
  %wu = tfm.weight "up" : tensor<16x8xf32>
  %g = tfm.linear %x, %wg bias %bg : tensor<16xf32> : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  %u = tfm.linear %x, %wu : tensor<1x8xf32>, tensor<16x8xf32> -> tensor<1x16xf32>
  %h = tfm.glu silu %g, %u : tensor<1x16xf32>
  return %h : tensor<1x16xf32>
}

// -----

// Activation rounding (act_quant) carries over to the fused product.
// CHECK-LABEL: func.func @rounded
// CHECK: tfm.linear_glu silu %arg0, %{{.*}} {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<32x32xf32, #tfm.storage<q4_0>> -> tensor<1x16xf32>
func.func @rounded(%x: tensor<1x32xf32>) -> tensor<1x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x32xf32, #tfm.storage<q4_0>>
  %wu = tfm.weight "up" : tensor<16x32xf32, #tfm.storage<q4_0>>
  %g = tfm.linear %x, %wg {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<16x32xf32, #tfm.storage<q4_0>> -> tensor<1x16xf32>
  %u = tfm.linear %x, %wu {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<16x32xf32, #tfm.storage<q4_0>> -> tensor<1x16xf32>
  %h = tfm.glu silu %g, %u : tensor<1x16xf32>
  return %h : tensor<1x16xf32>
}

// -----

// Not fused: one projection rounds its activations, the other does not.
// CHECK-LABEL: func.func @rounded_once
// CHECK-NOT: tfm.linear_glu
// CHECK: tfm.glu
func.func @rounded_once(%x: tensor<1x32xf32>) -> tensor<1x16xf32> {
  %wg = tfm.weight "gate" : tensor<16x32xf32, #tfm.storage<q4_0>>
  %wu = tfm.weight "up" : tensor<16x32xf32, #tfm.storage<q4_0>>
  %g = tfm.linear %x, %wg {act_quant = #tfm.act_quant<q8_0>} : tensor<1x32xf32>, tensor<16x32xf32, #tfm.storage<q4_0>> -> tensor<1x16xf32>
  %u = tfm.linear %x, %wu : tensor<1x32xf32>, tensor<16x32xf32, #tfm.storage<q4_0>> -> tensor<1x16xf32>
  %h = tfm.glu silu %g, %u : tensor<1x16xf32>
  return %h : tensor<1x16xf32>
}
