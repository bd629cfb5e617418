//===- TfmInterfaces.td - tfm op interfaces ----------------*- tablegen -*-===//
//
// What passes ask of a family of ops, so that a new member of the family
// declares the interface and no pass changes.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_INTERFACES
#define TFM_INTERFACES

include "mlir/IR/OpBase.td"

def Tfm_AttentionBiasOpInterface : OpInterface<"AttentionBiasOpInterface"> {
  let description = [{
    An additive attention bias computed from positions (ALiBi, T5's
    relative buckets): a `heads x query_len x key_len` tensor whose two
    dynamic sizes are the op's `query_len` and `key_len` operands. The
    kernel former sizes its kernel's result from them, and it is a row-wise
    kernel of its own (`#tfm.rows`).
  }];
  let cppNamespace = "::mlir::tfm";
  let methods = [
    InterfaceMethod<"The number of query rows.", "::mlir::Value",
                    "getQueryLen">,
    InterfaceMethod<"The number of keys.", "::mlir::Value", "getKeyLen">,
  ];
}

#endif // TFM_INTERFACES
