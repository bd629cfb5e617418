//===- TfmDialect.td - the tfm dialect definition ----------*- tablegen -*-===//
//
// The tfm dialect: graph-level transformer ops on value-semantic tensors.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECT_TD
#define TFM_DIALECT_TD

include "mlir/IR/OpBase.td"

def Tfm_Dialect : Dialect {
  let name = "tfm";
  let summary = "Transformer model ops";
  let description = [{
    Ops that describe a transformer at the granularity model authors think
    in: embeddings, norms, projections, rotary positions, attention over a
    KV cache, feed-forward blocks and mixtures of experts. Compute type is
    f32; sequence dimensions are dynamic; weights are named entries of a
    weight table resolved at load time.
  }];
  let cppNamespace = "::mlir::tfm";
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasConstantMaterializer = 0;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    /// The module attribute that holds the #tfm.model facts.
    static constexpr ::llvm::StringLiteral kModelAttrName = "tfm.model";
    void registerAttributes();
    void registerTypes();
  }];
}

class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic, traits>;

#endif // TFM_DIALECT_TD
