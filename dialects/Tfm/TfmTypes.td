//===- TfmTypes.td - tfm types -----------------------------*- tablegen -*-===//
//
// The KV-cache type: one layer's key and value storage.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_TYPES_TD
#define TFM_TYPES_TD

include "dialects/Tfm/TfmDialect.td"
include "mlir/IR/AttrTypeBase.td"

def Tfm_KvCacheType : TypeDef<Tfm_Dialect, "KvCache"> {
  let mnemonic = "kv_cache";
  let summary = "one layer's key/value cache";
  let description = [{
    Keys and values of one attention layer for positions [0, len): keys are
    `len x kv_heads x head_dim`, values `len x kv_heads x v_head_dim`. They
    are stored as `storage` says: f32 (the default, not printed), f16 or
    bf16 (rounded to nearest even), or q8_0 (blocks of 32 along a row, as
    llama.cpp stores them; head_dim and v_head_dim are whole blocks). A
    write rounds the keys and values to the storage; a read sees the
    rounded values as f32.
    A cache is a value: `tfm.kv_write` returns the updated cache, which lets
    passes reason about it like any SSA value; the runtime updates in place.
  }];
  let parameters = (ins
    "int64_t":$len,
    "int64_t":$kv_heads,
    "int64_t":$head_dim,
    "int64_t":$v_head_dim,
    DefaultValuedParameter<"::mlir::tfm::Storage",
                           "::mlir::tfm::Storage::f32">:$storage);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TFM_TYPES_TD
