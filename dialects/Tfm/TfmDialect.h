//===- TfmDialect.h - the tfm dialect ---------------------------*- C++ -*-===//
//
// Declares the tfm dialect, its enums, attributes and the KV-cache type.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECTS_TFM_TFMDIALECT_H
#define TFM_DIALECTS_TFM_TFMDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

namespace mlir {
/// Parses a bare floating-point number as an APFloat (f64) parameter of a
/// tfm attribute; AsmPrinter already prints APFloat values that way.
template <>
struct FieldParser<llvm::APFloat> {
  static FailureOr<llvm::APFloat> parse(AsmParser &parser) {
    double value;
    if (parser.parseFloat(value))
      return failure();
    return llvm::APFloat(value);
  }
};
} // namespace mlir

#include "dialects/Tfm/TfmDialect.h.inc"
#include "dialects/Tfm/TfmEnums.h"
#include "dialects/Tfm/TfmAttrInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/Tfm/TfmAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/Tfm/TfmTypes.h.inc"

namespace mlir::tfm {
/// How a weight of type `type` is stored: its #tfm.storage encoding, f32
/// without one.
Storage storageOf(Type type);
/// `type` stored as `storage` (no encoding for f32).
RankedTensorType withStorage(RankedTensorType type, Storage storage);
/// Elements per block of a GGUF block format (32, or 256 for the
/// K-quants); 1 for the float types.
int64_t blockElements(Storage storage);
/// Elements per block of an activation rounding (32 for q8_0, 256 for
/// q8_K, 1 for bf16).
int64_t blockElements(ActQuant quant);
/// Whether a KV cache may be stored as `storage`: f32, f16, bf16, q8_0.
bool isKvCacheStorage(Storage storage);
/// The activation rounding llama.cpp pairs with weights stored as
/// `storage` (runtime/Quant.h): q8_0 for q8_0, q4_0 and q5_0, q8_K for the
/// K-quants, none for the float types and q4_1/q5_1.
std::optional<ActQuant> activationQuantFor(Storage storage);

/// `schedule` with one integer parameter set to `value`, for experiments
/// (tests and benchmarks that try other tile sizes); failure when the
/// schedule has no such parameter or the value does not verify.
FailureOr<ScheduleAttrInterface>
withScheduleParam(ScheduleAttrInterface schedule, StringRef name,
                  int64_t value);
} // namespace mlir::tfm

#endif // TFM_DIALECTS_TFM_TFMDIALECT_H
