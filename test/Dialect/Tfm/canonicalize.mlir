// Folds and canonicalization patterns of tfm ops, through tfm-canonicalize.
// RUN: tfm-opt %s -split-input-file -tfm-canonicalize | FileCheck %s

// Scaling by one is the identity.
// CHECK-LABEL: func.func @scale_by_one
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NOT: tfm.scale
// CHECK: return %[[X]]
func.func @scale_by_one(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.scale %x by 1.0 : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// Two scalings in a row become one with the product of the factors.
// CHECK-LABEL: func.func @scale_chain
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK: %[[S:.*]] = tfm.scale %[[X]] by 6.000000e+00
// CHECK-NOT: tfm.scale
// CHECK: return %[[S]]
func.func @scale_chain(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.scale %x by 2.0 : tensor<?x8xf32>
  %1 = tfm.scale %0 by 3.0 : tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// A chain whose product is one disappears entirely.
// CHECK-LABEL: func.func @scale_chain_to_identity
// CHECK-NOT: tfm.scale
func.func @scale_chain_to_identity(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = tfm.scale %x by 4.0 : tensor<?x8xf32>
  %1 = tfm.scale %0 by 0.25 : tensor<?x8xf32>
  return %1 : tensor<?x8xf32>
}

// -----

// An intermediate scaling with another user stays; the chain still merges.
// CHECK-LABEL: func.func @scale_shared
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-DAG: %[[A:.*]] = tfm.scale %[[X]] by 2.000000e+00
// CHECK-DAG: %[[B:.*]] = tfm.scale %[[X]] by 6.000000e+00
// CHECK: return %[[A]], %[[B]]
func.func @scale_shared(%x: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %0 = tfm.scale %x by 2.0 : tensor<?x8xf32>
  %1 = tfm.scale %0 by 3.0 : tensor<?x8xf32>
  return %0, %1 : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Unused ops are removed; ops other than tfm's keep their structure.
// CHECK-LABEL: func.func @dead_ops
// CHECK-NOT: tfm.weight
// CHECK: tensor.dim
func.func @dead_ops(%t: tensor<?xi32>) -> index {
  %w = tfm.weight "unused" : tensor<4x4xf32>
  %c0 = arith.constant 0 : index
  %d = tensor.dim %t, %c0 : tensor<?xi32>
  return %d : index
}
