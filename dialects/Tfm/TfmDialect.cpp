//===- TfmDialect.cpp - the tfm dialect -------------------------*- C++ -*-===//
//
// Registers the tfm ops, attributes and types, and verifies the parameters of
// the RoPE scaling attribute and the KV-cache type.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmDialect.h"
#include "dialects/Tfm/TfmOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tfm;

#include "dialects/Tfm/TfmDialect.cpp.inc"
#include "dialects/Tfm/TfmEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Tfm/TfmAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Tfm/TfmTypes.cpp.inc"

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
                        int64_t originalMaxPositions) {
  double factor = factorAP.convertToDouble();
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
                                  int64_t vHeadDim) {
  if (len < 1 || kvHeads < 1 || headDim < 1 || vHeadDim < 1)
    return emitError() << "kv_cache dimensions must be >= 1, got len = " << len
                       << ", kv_heads = " << kvHeads
                       << ", head_dim = " << headDim
                       << ", v_head_dim = " << vHeadDim;
  return success();
}
