// tfm-fuse-norm-residual: add + norm → tfm.add_norm.
// RUN: tfm-opt %s -split-input-file -tfm-fuse-norm-residual | FileCheck %s

// Pre-norm: the sum is the next residual and the input of the next
// sublayer's norm; both uses read the fused op.
// CHECK-LABEL: func.func @pre_norm
// CHECK: %[[S:.*]], %[[N:.*]] = tfm.add_norm rms %arg0, %arg1 gain %{{.*}} : tensor<8xf32> eps 1.000000e-05 : tensor<?x8xf32>
// CHECK-NOT: tfm.norm
// CHECK-NOT: tfm.add
// CHECK: %[[Y:.*]] = tfm.linear %[[N]]
// CHECK: tfm.add %[[S]], %[[Y]]
func.func @pre_norm(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>, %w: tensor<8x8xf32>) -> tensor<?x8xf32> {
  %g = tfm.weight "g" : tensor<8xf32>
  %s = tfm.add %h, %f : tensor<?x8xf32>
  %n = tfm.norm rms %s gain %g : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  %y = tfm.linear %n, %w : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %r = tfm.add %s, %y : tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// Post-norm with DeepNorm's α: norm(α·h + f); the sum has no other use.
// CHECK-LABEL: func.func @deepnorm
// CHECK: %{{.*}}, %[[N:.*]] = tfm.add_norm layer %arg0, %arg1 gain %{{.*}} bias %{{.*}} eps 1.000000e-05 {alpha = 2.5{{0*}}e+00 : f64} : tensor<?x8xf32>
// CHECK: return %[[N]]
func.func @deepnorm(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = tfm.weight "g" : tensor<8xf32>
  %b = tfm.weight "b" : tensor<8xf32>
  %s = tfm.add %h, %f {alpha = 2.5 : f64} : tensor<?x8xf32>
  %n = tfm.norm layer %s gain %g : tensor<8xf32> bias %b : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  return %n : tensor<?x8xf32>
}

// -----

// Sandwich: the sublayer output's extra norm stays a norm (it feeds the
// add); the add and the next input norm fuse.
// CHECK-LABEL: func.func @sandwich
// CHECK: %[[P:.*]] = tfm.norm rms %arg1
// CHECK: %[[S:.*]], %[[N:.*]] = tfm.add_norm rms %arg0, %[[P]] gain
// CHECK: return %[[S]], %[[N]]
func.func @sandwich(%h: tensor<1x8xf32>, %f: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %g0 = tfm.weight "post" : tensor<8xf32>
  %p = tfm.norm rms %f gain %g0 : tensor<8xf32> eps 1.0e-6 : tensor<1x8xf32>
  %s = tfm.add %h, %p : tensor<1x8xf32>
  %g1 = tfm.weight "next" : tensor<8xf32>
  %n = tfm.norm rms %s gain %g1 : tensor<8xf32> eps 1.0e-6 : tensor<1x8xf32>
  return %s, %n : tensor<1x8xf32>, tensor<1x8xf32>
}

// -----

// Not fused: the norm's input is not produced by an add.
// CHECK-LABEL: func.func @no_add
// CHECK-NOT: tfm.add_norm
// CHECK: tfm.norm rms
func.func @no_add(%h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = tfm.weight "g" : tensor<8xf32>
  %n = tfm.norm rms %h gain %g : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  return %n : tensor<?x8xf32>
}

// -----

// Not fused: one sum, two norms (parallel blocks with separate norms);
// fusing both would compute the add twice.
// CHECK-LABEL: func.func @two_norms
// CHECK-NOT: tfm.add_norm
// CHECK: tfm.add
// CHECK: tfm.norm
// CHECK: tfm.norm
func.func @two_norms(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %g = tfm.weight "g" : tensor<8xf32>
  %s = tfm.add %h, %f : tensor<?x8xf32>
  %a = tfm.norm rms %s gain %g : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  %b = tfm.norm layer %s gain %g : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  return %a, %b : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Not fused: a per-head norm (groups of 4 features) is not a residual norm.
// CHECK-LABEL: func.func @per_head
// CHECK-NOT: tfm.add_norm
func.func @per_head(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = tfm.weight "g" : tensor<4xf32>
  %s = tfm.add %h, %f : tensor<?x8xf32>
  %n = tfm.norm rms %s gain %g : tensor<4xf32> eps 1.0e-5 {group_size = 4 : i64} : tensor<?x8xf32>
  return %n : tensor<?x8xf32>
}

// -----

// Not fused: the sum is read before the norm, where the fused op would not
// yet exist.
// CHECK-LABEL: func.func @used_before
// CHECK-NOT: tfm.add_norm
func.func @used_before(%h: tensor<?x8xf32>, %f: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %g = tfm.weight "g" : tensor<8xf32>
  %s = tfm.add %h, %f : tensor<?x8xf32>
  %m = tfm.scale %s by 2.0 : tensor<?x8xf32>
  %n = tfm.norm rms %s gain %g : tensor<8xf32> eps 1.0e-5 : tensor<?x8xf32>
  return %m, %n : tensor<?x8xf32>, tensor<?x8xf32>
}
