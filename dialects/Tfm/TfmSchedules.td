//===- TfmSchedules.td - kernel targets and schedules ------*- tablegen -*-===//
//
// The kernel level's typed attributes: where a kernel runs (#tfm.target)
// and the parameters of the schedule template that tiles it (#tfm.gemm,
// #tfm.flash_decode, ...). A schedule-selection pass writes them; each
// template reads its own attribute. Defaults live here, once.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_SCHEDULES_TD
#define TFM_SCHEDULES_TD

include "dialects/Tfm/TfmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// Which entry point a kernel serves: one token (decode) or a prompt
// (prefill); the schedules for the two differ.
def Tfm_Phase : I32EnumAttr<"Phase", "entry point a kernel serves", [
    I32EnumAttrCase<"prefill", 0>,
    I32EnumAttrCase<"decode", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_PhaseAttr : EnumAttr<Tfm_Dialect, Tfm_Phase, "phase"> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_TargetKind : I32EnumAttr<"TargetKind", "code generation target", [
    I32EnumAttrCase<"cpu", 0>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}

// The vector instruction set a CPU kernel is compiled for: the widest the
// schedules may use. avx2 is AVX2 + FMA (8 f32 lanes); avx512 adds
// AVX-512 F/BW/DQ/VL (16 lanes).
def Tfm_Isa : I32EnumAttr<"Isa", "CPU vector instruction set", [
    I32EnumAttrCase<"avx2", 0>,
    I32EnumAttrCase<"avx512", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_TargetAttr : AttrDef<Tfm_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "where a kernel runs";
  let description = [{
    `#tfm.target<cpu, isa = avx2>`: this machine's CPU (its OS, word size
    and features), using vector instructions up to `isa`.
  }];
  let parameters = (ins EnumParameter<Tfm_TargetKind>:$kind,
                        EnumParameter<Tfm_Isa>:$isa);
  let assemblyFormat = "`<` $kind `,` `isa` `=` $isa `>`";
  let extraClassDeclaration = [{
    /// f32 lanes of one vector register of the ISA.
    int64_t getVectorLanes() const;
  }];
}

def Tfm_ScheduleAttrInterface : AttrInterface<"ScheduleAttrInterface"> {
  let cppNamespace = "::mlir::tfm";
  let description = [{
    The parameters of one schedule template. Every schedule vectorizes
    with `vector` f32 lanes.
  }];
  let methods = [
    InterfaceMethod<"f32 lanes the template vectorizes with", "int64_t",
                    "getVectorLanes">,
  ];
}

class Tfm_Schedule<string name, string attrMnemonic, string doc>
    : AttrDef<Tfm_Dialect, name,
              [DeclareAttrInterfaceMethods<Tfm_ScheduleAttrInterface>]> {
  let mnemonic = attrMnemonic;
  let summary = doc;
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

// Decode projections: blocks of `rows_per_task` output rows per task,
// reduced four at a time in vector lanes.
def Tfm_GemvScheduleAttr : Tfm_Schedule<"GemvSchedule", "gemv",
                                        "decode matrix-vector product"> {
  let parameters = (ins "int64_t":$vector,
                        "int64_t":$rows_per_task);
}

// Prefill projections: a (tile_cols) × (tile_rows) register tile, the sum
// over k in blocks of k_block (0: one sum over all of k).
def Tfm_GemmScheduleAttr : Tfm_Schedule<"GemmSchedule", "gemm",
                                        "prefill matrix product"> {
  let parameters = (ins "int64_t":$vector,
                        "int64_t":$tile_cols,
                        DefaultValuedParameter<"int64_t", "4">:$tile_rows,
                        DefaultValuedParameter<"int64_t", "0">:$k_block);
}

// The fused QKV product: `product` (#tfm.gemm or #tfm.gemv) tiles the
// product; the three outputs are written row by row.
def Tfm_QkvScheduleAttr : Tfm_Schedule<"QkvSchedule", "qkv",
                                       "fused QKV product and rotation"> {
  let parameters = (ins "::mlir::Attribute":$product,
                        "int64_t":$head_dim);
}

// Attention's head geometry, shared by its templates.
class Tfm_AttentionSchedule<string name, string attrMnemonic, string doc,
                            dag extra>
    : Tfm_Schedule<name, attrMnemonic, doc> {
  let parameters = !con((ins "int64_t":$vector), extra,
                        (ins "int64_t":$head_dim, "int64_t":$v_head_dim,
                             "int64_t":$heads, "int64_t":$kv_heads));
}

// Attention over a materialized key row: one task per (KV-head group,
// query row).
def Tfm_AttentionScheduleAttr
    : Tfm_AttentionSchedule<"AttentionSchedule", "attention",
                            "attention over whole key rows", (ins)>;

// Flash-decoding over the cache: every chunk of kv_chunk keys is a task,
// over all heads; the chunks' softmaxes are merged.
def Tfm_FlashDecodeScheduleAttr
    : Tfm_AttentionSchedule<"FlashDecodeSchedule", "flash_decode",
                            "decode attention in chunks of keys",
                            (ins DefaultValuedParameter<"int64_t", "256">:$kv_chunk)>;

// Chunked prefill attention: a task of task_rows (query row, head) pairs
// walks the chunks of kv_chunk keys its rows can see, in tiles of
// query_rows pairs.
def Tfm_FlashPrefillScheduleAttr
    : Tfm_AttentionSchedule<"FlashPrefillSchedule", "flash_prefill",
                            "prefill attention in chunks of keys",
                            (ins DefaultValuedParameter<"int64_t", "64">:$kv_chunk,
                                 DefaultValuedParameter<"int64_t", "4">:$query_rows,
                                 DefaultValuedParameter<"int64_t", "32">:$task_rows)>;

// Row-wise kernels (norms, RoPE, embeddings, position biases): parallel
// over rows, vectorized along features.
def Tfm_RowsScheduleAttr : Tfm_Schedule<"RowsSchedule", "rows",
                                        "row-wise kernel"> {
  let parameters = (ins "int64_t":$vector);
}

def Tfm_MoeScheduleAttr : Tfm_Schedule<"MoeSchedule", "moe",
                                       "mixture of experts"> {
  let parameters = (ins "int64_t":$vector);
}

def Tfm_ElementwiseScheduleAttr
    : Tfm_Schedule<"ElementwiseSchedule", "elementwise",
                   "elementwise kernel"> {
  let parameters = (ins "int64_t":$vector);
}

#endif // TFM_SCHEDULES_TD
