//===- TfmDialect.cpp - the tfm dialect -------------------------*- C++ -*-===//
//
// Registers the tfm ops, attributes and types, and verifies the parameters of
// the RoPE scaling attribute and the KV-cache type.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmDialect.h"
#include "dialects/Tfm/TfmOps.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tfm;

#include "dialects/Tfm/TfmDialect.cpp.inc"
#include "dialects/Tfm/TfmEnums.cpp.inc"
#include "dialects/Tfm/TfmAttrInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Tfm/TfmAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Tfm/TfmTypes.cpp.inc"

Storage mlir::tfm::storageOf(Type type) {
  if (auto tensor = dyn_cast<RankedTensorType>(type))
    if (auto storage = dyn_cast_or_null<StorageAttr>(tensor.getEncoding()))
      return storage.getValue();
  return Storage::f32;
}

RankedTensorType mlir::tfm::withStorage(RankedTensorType type,
                                        Storage storage) {
  Attribute encoding;
  if (storage != Storage::f32)
    encoding = StorageAttr::get(type.getContext(), storage);
  return RankedTensorType::get(type.getShape(), type.getElementType(),
                               encoding);
}

int64_t mlir::tfm::blockElements(Storage storage) {
  switch (storage) {
  case Storage::f32:
  case Storage::f16:
  case Storage::bf16:
    return 1;
  case Storage::q8_0:
  case Storage::q4_0:
  case Storage::q4_1:
  case Storage::q5_0:
  case Storage::q5_1:
    return 32;
  case Storage::q2_K:
  case Storage::q3_K:
  case Storage::q4_K:
  case Storage::q5_K:
  case Storage::q6_K:
    return 256;
  }
  return 1;
}

bool mlir::tfm::isKvCacheStorage(Storage storage) {
  return storage == Storage::f32 || storage == Storage::f16 ||
         storage == Storage::bf16 || storage == Storage::q8_0;
}

int64_t mlir::tfm::blockElements(ActQuant quant) {
  switch (quant) {
  case ActQuant::q8_K:
    return 256;
  case ActQuant::q8_0:
    return 32;
  case ActQuant::bf16:
    return 1;
  }
  return 1;
}

std::optional<ActQuant> mlir::tfm::activationQuantFor(Storage storage) {
  switch (storage) {
  case Storage::q8_0:
  case Storage::q4_0:
  case Storage::q5_0:
    return ActQuant::q8_0;
  case Storage::q2_K:
  case Storage::q3_K:
  case Storage::q4_K:
  case Storage::q5_K:
  case Storage::q6_K:
    return ActQuant::q8_K;
  default:
    return std::nullopt;
  }
}

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/Tfm/TfmOps.cpp.inc"
      >();
  registerAttributes();
  registerTypes();
}

void TfmDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/Tfm/TfmAttrs.cpp.inc"
      >();
}

void TfmDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/Tfm/TfmTypes.cpp.inc"
      >();
}

LogicalResult
RopeScalingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        RopeScalingKind kind, llvm::APFloat factorAP,
                        llvm::APFloat lowAP, llvm::APFloat highAP,
                        int64_t originalMaxPositions, llvm::APFloat fastAP,
                        llvm::APFloat slowAP, llvm::APFloat attentionAP,
                        DenseF64ArrayAttr freqFactors) {
  double factor = factorAP.convertToDouble();
  double attentionFactor = attentionAP.convertToDouble();
  if (!(attentionFactor > 0) || !std::isfinite(attentionFactor))
    return emitError() << "rope scaling attention_factor must be > 0, got "
                       << attentionFactor;
  if ((kind == RopeScalingKind::factors) != bool(freqFactors))
    return emitError() << "rope scaling freq_factors are given with kind "
                          "factors, and only then";
  if (freqFactors)
    for (double f : freqFactors.asArrayRef())
      if (!(f > 0) || !std::isfinite(f))
        return emitError() << "rope scaling freq_factors must be finite and "
                              "> 0, got "
                           << f;
  if (kind == RopeScalingKind::yarn) {
    double fast = fastAP.convertToDouble(), slow = slowAP.convertToDouble();
    if (!(slow > 0) || !(fast > slow) || !std::isfinite(fast))
      return emitError() << "yarn rope scaling needs 0 < beta_slow < "
                            "beta_fast, got "
                         << slow << " and " << fast;
    if (originalMaxPositions < 1)
      return emitError()
             << "yarn rope scaling needs original_max_positions >= 1";
  } else if (attentionFactor != 1.0 && kind != RopeScalingKind::factors) {
    return emitError() << "only yarn and factors rope scaling have an "
                          "attention_factor";
  }
  double lowFreqFactor = lowAP.convertToDouble();
  double highFreqFactor = highAP.convertToDouble();
  if (!(factor > 0))
    return emitError() << "rope scaling factor must be > 0, got " << factor;
  if (kind == RopeScalingKind::llama3) {
    if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor))
      return emitError() << "llama3 rope scaling needs 0 < low_freq_factor < "
                            "high_freq_factor, got "
                         << lowFreqFactor << " and " << highFreqFactor;
    if (originalMaxPositions < 1)
      return emitError()
             << "llama3 rope scaling needs original_max_positions >= 1";
  }
  return success();
}

LogicalResult KvCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t len, int64_t kvHeads, int64_t headDim,
                                  int64_t vHeadDim, Storage storage) {
  if (len < 1 || kvHeads < 1 || headDim < 1 || vHeadDim < 1)
    return emitError() << "kv_cache dimensions must be >= 1, got len = " << len
                       << ", kv_heads = " << kvHeads
                       << ", head_dim = " << headDim
                       << ", v_head_dim = " << vHeadDim;
  if (!isKvCacheStorage(storage))
    return emitError() << "a kv_cache is stored as f32, f16, bf16 or q8_0, "
                          "not "
                       << stringifyStorage(storage);
  int64_t block = blockElements(storage);
  if (headDim % block != 0 || vHeadDim % block != 0)
    return emitError() << "a " << stringifyStorage(storage)
                       << " kv_cache needs head_dim and v_head_dim in whole "
                          "blocks of "
                       << block << ", got " << headDim << " and " << vHeadDim;
  return success();
}

LogicalResult ModelAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                int64_t vocab, int64_t maxSeqLen,
                                int64_t layers, int64_t heads, int64_t kvHeads,
                                int64_t headDim, int64_t vHeadDim,
                                int64_t rotaryDim, bool ropeInterleaved,
                                bool tiedEmbeddings, StringRef naming,
                                int64_t hidden, llvm::APFloat ropeTheta,
                                llvm::APFloat normEps, int64_t latentRank) {
  if (vocab < 1 || maxSeqLen < 1 || layers < 1 || heads < 1 || kvHeads < 1 ||
      headDim < 1 || vHeadDim < 1)
    return emitError() << "model sizes must be >= 1, got vocab = " << vocab
                       << ", max_seq_len = " << maxSeqLen
                       << ", layers = " << layers << ", heads = " << heads
                       << ", kv_heads = " << kvHeads
                       << ", head_dim = " << headDim
                       << ", v_head_dim = " << vHeadDim;
  if (heads % kvHeads != 0)
    return emitError() << "model kv_heads (" << kvHeads
                       << ") must divide heads (" << heads << ")";
  if (rotaryDim < 0 || rotaryDim > headDim)
    return emitError() << "model rotary_dim must be within [0, "
                       << headDim << "], got " << rotaryDim;
  if (naming.empty())
    return emitError() << "model naming must not be empty";
  if (latentRank < 0 || (latentRank > 0 && (rotaryDim < 1 ||
                                            rotaryDim >= headDim)))
    return emitError() << "model latent_rank (" << latentRank
                       << ") must be >= 0, and latent attention rotates "
                          "part of each head: rotary_dim in [1, head_dim)";
  if (hidden < 0 || ropeTheta.isNegative() || !ropeTheta.isFinite() ||
      normEps.isNegative() || !normEps.isFinite())
    return emitError() << "model hidden, rope_theta and norm_eps must be "
                          "finite and >= 0 (0: unknown)";
  return success();
}

/// `tfm.model` belongs on the module, and its KV geometry must be the one
/// of the caches the entry functions take (one per layer).
LogicalResult TfmDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() != kModelAttrName)
    return op->emitError() << "unknown tfm attribute '"
                           << attr.getName().getValue() << "'";
  auto model = dyn_cast<ModelAttr>(attr.getValue());
  if (!model)
    return op->emitError() << "'" << kModelAttrName
                           << "' must be a #tfm.model attribute";
  auto module = dyn_cast<ModuleOp>(op);
  if (!module)
    return op->emitError() << "'" << kModelAttrName
                           << "' belongs on a module";
  // Every entry's caches are of one type, storage included.
  KvCacheType firstCache;
  for (Operation &child : module.getBody()->getOperations()) {
    auto fn = dyn_cast<FunctionOpInterface>(&child);
    if (!fn)
      continue;
    int64_t caches = 0;
    for (Type type : fn.getArgumentTypes()) {
      auto cache = dyn_cast<KvCacheType>(type);
      if (!cache)
        continue;
      ++caches;
      if (!firstCache)
        firstCache = cache;
      if (cache.getLen() != model.getMaxSeqLen() ||
          cache.getKvHeads() != model.getCacheKvHeads() ||
          cache.getHeadDim() != model.getCacheHeadDim() ||
          cache.getVHeadDim() != model.getCacheVHeadDim())
        return op->emitError()
               << "'" << kModelAttrName << "' does not match the KV cache "
               << cache << " of @" << fn.getName();
      if (cache.getStorage() != firstCache.getStorage())
        return op->emitError()
               << "the KV caches of a model share one storage type, but @"
               << fn.getName() << " takes a "
               << stringifyStorage(cache.getStorage()) << " cache after a "
               << stringifyStorage(firstCache.getStorage()) << " one";
    }
    if (caches != 0 && caches != model.getLayers())
      return op->emitError()
             << "'" << kModelAttrName << "' has " << model.getLayers()
             << " layers but @" << fn.getName() << " takes " << caches
             << " caches";
  }
  return success();
}
