//===- TfmAttrs.td - tfm enums and attributes --------------*- tablegen -*-===//
//
// Enumerations (norm kind, activation, RoPE layout, ...) and the RoPE scaling
// attribute of the tfm dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_ATTRS_TD
#define TFM_ATTRS_TD

include "dialects/Tfm/TfmDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Tfm_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tfm_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// An enum attribute. In attribute dictionaries (and the generic op form) it
// prints in full, `#tfm.norm_kind<rms>`; op formats print it as a bare
// keyword through `custom<EnumKeyword>` (TfmOps.cpp).
class Tfm_EnumAttr<EnumAttrInfo info, string name>
    : EnumAttr<Tfm_Dialect, info, name> {
  let assemblyFormat = "`<` $value `>`";
}

def Tfm_NormKind : I32EnumAttr<"NormKind", "normalization", [
    I32EnumAttrCase<"rms", 0>,
    I32EnumAttrCase<"layer", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_NormKindAttr : Tfm_EnumAttr<Tfm_NormKind, "norm_kind">;

def Tfm_ActKind : I32EnumAttr<"ActKind", "activation function", [
    I32EnumAttrCase<"relu", 0>,
    I32EnumAttrCase<"gelu", 1>,
    I32EnumAttrCase<"gelu_tanh", 2>,
    I32EnumAttrCase<"silu", 3>,
    I32EnumAttrCase<"relu2", 4>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_ActKindAttr : Tfm_EnumAttr<Tfm_ActKind, "act">;

def Tfm_PositionKind : I32EnumAttr<"PositionKind", "absolute position", [
    I32EnumAttrCase<"sinusoidal", 0>,
    I32EnumAttrCase<"learned", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_PositionKindAttr : Tfm_EnumAttr<Tfm_PositionKind, "position_kind">;

// How the rotated pairs are laid out in a head: `half` pairs element i with
// i + rotary_dim/2 (Hugging Face, GPT-NeoX); `interleaved` pairs 2i with
// 2i+1 (GPT-J, llama.cpp's GGUF llama layout).
def Tfm_RopeLayout : I32EnumAttr<"RopeLayout", "rotary pair layout", [
    I32EnumAttrCase<"half", 0>,
    I32EnumAttrCase<"interleaved", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_RopeLayoutAttr : Tfm_EnumAttr<Tfm_RopeLayout, "rope_layout">;

def Tfm_RopeScalingKind : I32EnumAttr<"RopeScalingKind", "RoPE scaling", [
    I32EnumAttrCase<"linear", 0>,
    I32EnumAttrCase<"ntk", 1>,
    I32EnumAttrCase<"llama3", 2>,
    I32EnumAttrCase<"yarn", 3>,
    I32EnumAttrCase<"factors", 4>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}

def Tfm_MoeScoring : I32EnumAttr<"MoeScoring", "router scoring", [
    I32EnumAttrCase<"softmax", 0>,
    I32EnumAttrCase<"sigmoid", 1>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_MoeScoringAttr : Tfm_EnumAttr<Tfm_MoeScoring, "moe_scoring">;

// How a weight is stored, in memory and in its weights file. It is the
// encoding of the weight's tensor type, `tensor<64x64xf32, #tfm.storage<bf16>>`;
// f32, the default, is written without one. The ops that read a weight see
// f32 values either way: kernels widen (or dequantize) each element as they
// load it. Beyond the floats come the GGUF block formats, byte for byte as
// llama.cpp stores them (runtime/Quant.h): a row of a block-format matrix
// is a whole number of blocks (32 elements, or 256 for the K-quants).
def Tfm_Storage : I32EnumAttr<"Storage", "weight storage type", [
    I32EnumAttrCase<"f32", 0>,
    I32EnumAttrCase<"f16", 1>,
    I32EnumAttrCase<"bf16", 2>,
    I32EnumAttrCase<"q8_0", 3>,
    I32EnumAttrCase<"q4_0", 4>,
    I32EnumAttrCase<"q4_1", 5>,
    I32EnumAttrCase<"q5_0", 6>,
    I32EnumAttrCase<"q5_1", 7>,
    I32EnumAttrCase<"q2_K", 8>,
    I32EnumAttrCase<"q3_K", 9>,
    I32EnumAttrCase<"q4_K", 10>,
    I32EnumAttrCase<"q5_K", 11>,
    I32EnumAttrCase<"q6_K", 12>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_StorageAttr : Tfm_EnumAttr<Tfm_Storage, "storage">;

// How a product rounds its activations before they meet a block-format
// weight, as llama.cpp's CPU kernels do (runtime/Quant.h): `q8_0` in
// blocks of 32 with an f16 scale (for q8_0, q4_0 and q5_0 weights), `q8_K`
// in blocks of 256 with an f32 scale (for the K-quants). The product is
// then the one over the rounded values; a kernel may form it in integers.
// `bf16` rounds both operands of a float product to bf16 (to nearest,
// ties to even) and sums their products in f32: llama.cpp's rounding for
// bf16 weights, and what bf16 matrix units (AMX) compute.
def Tfm_ActQuant : I32EnumAttr<"ActQuant", "activation rounding", [
    I32EnumAttrCase<"q8_0", 0>,
    I32EnumAttrCase<"q8_K", 1>,
    I32EnumAttrCase<"bf16", 2>]> {
  let cppNamespace = "::mlir::tfm";
  let genSpecializedAttr = 0;
}
def Tfm_ActQuantAttr : Tfm_EnumAttr<Tfm_ActQuant, "act_quant">;

// An f64 parameter that prints and parses as a bare number (see
// FieldParser<APFloat> in TfmDialect.h).
class Tfm_FloatParameter<string desc> : APFloatParameter<desc>;

// Frequency scaling of RoPE. `linear` divides positions by `factor`; `ntk`
// raises theta by factor^(d/(d-2)); `llama3` rescales the low frequencies
// by `factor` and blends the band between `low_freq_factor` and
// `high_freq_factor` wavelengths of `original_max_positions`; `yarn`
// divides the frequencies that turn fewer than `beta_slow` times over
// `original_max_positions` by `factor`, keeps those that turn more than
// `beta_fast` times, and ramps between. `attention_factor` multiplies the
// rotated features (YaRN's mscale; 1 for the others).
def Tfm_RopeScalingAttr : Tfm_Attr<"RopeScaling", "rope_scaling"> {
  let summary = "RoPE frequency scaling";
  let parameters = (ins
    EnumParameter<Tfm_RopeScalingKind>:$kind,
    Tfm_FloatParameter<"frequency scale factor">:$factor,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(1.0)">:$low_freq_factor,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(4.0)">:$high_freq_factor,
    DefaultValuedParameter<"int64_t", "0">:$original_max_positions,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(32.0)">:$beta_fast,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(1.0)">:$beta_slow,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(1.0)">:$attention_factor,
    OptionalParameter<"::mlir::DenseF64ArrayAttr", "per-frequency divisors">:$freq_factors);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

// What a compiled program must know of its model beyond the ops: the sizes
// it checks tokens and positions against, the KV-cache geometry it
// allocates, and how its weights are named and laid out in checkpoint
// files. The builder sets it on the module as `tfm.model`; the host plan
// and the linker read it from there, so a module from any source (tfmc,
// tfm-opt, a file) links on its own.
def Tfm_ModelAttr : Tfm_Attr<"Model", "model"> {
  let summary = "model facts a compiled program needs";
  let parameters = (ins
    "int64_t":$vocab,
    "int64_t":$max_seq_len,
    "int64_t":$layers,
    "int64_t":$heads,
    "int64_t":$kv_heads,
    "int64_t":$head_dim,
    "int64_t":$v_head_dim,
    "int64_t":$rotary_dim,
    "bool":$rope_interleaved,
    "bool":$tied_embeddings,
    StringRefParameter<"checkpoint tensor naming">:$naming,
    // Hyperparameters a weight file may state, which must agree with the
    // compiled model (0: none to check).
    DefaultValuedParameter<"int64_t", "0">:$hidden,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(0.0)",
                           "RoPE base">:$rope_theta,
    DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(0.0)",
                           "norm epsilon">:$norm_eps,
    // Latent attention: the width of the compressed key/value latent the
    // cache stores with each position's rotated key (0: none).
    DefaultValuedParameter<"int64_t", "0">:$latent_rank);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The geometry of each layer's KV cache: the model's heads, or for
    /// latent attention one shared head of the latent and the rotated key
    /// part (keys) and of the latent (values).
    int64_t getCacheKvHeads() const {
      return getLatentRank() ? 1 : getKvHeads();
    }
    int64_t getCacheHeadDim() const {
      return getLatentRank() ? getLatentRank() + getRotaryDim() : getHeadDim();
    }
    int64_t getCacheVHeadDim() const {
      return getLatentRank() ? getLatentRank() : getVHeadDim();
    }
  }];
}

include "dialects/Tfm/TfmSchedules.td"

#endif // TFM_ATTRS_TD
