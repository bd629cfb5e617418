//===- TfmSchedules.cpp - kernel targets and schedules ----------*- C++ -*-===//
//
// Verifiers of the typed schedule attributes: what each template needs of
// its parameters to tile correctly.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmDialect.h"

#include "mlir/AsmParser/AsmParser.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tfm;

int64_t TargetAttr::getVectorLanes() const {
  switch (getIsa()) {
  case Isa::avx2:
    return 8;
  case Isa::avx512:
    return 16;
  }
  llvm_unreachable("an ISA without a vector width");
}

namespace {

using EmitError = function_ref<InFlightDiagnostic()>;

LogicalResult checkVector(EmitError emitError, int64_t vector) {
  if (vector < 1 || (vector & (vector - 1)) != 0 || vector > 64)
    return emitError() << "schedule vector must be a power of two in [1, 64], "
                          "got "
                       << vector;
  return success();
}

LogicalResult checkPositive(EmitError emitError, StringRef name,
                            int64_t value) {
  if (value < 1)
    return emitError() << "schedule " << name << " must be >= 1, got "
                       << value;
  return success();
}

LogicalResult checkHeads(EmitError emitError, int64_t vector, int64_t headDim,
                         int64_t vHeadDim, int64_t heads, int64_t kvHeads) {
  if (failed(checkVector(emitError, vector)) ||
      failed(checkPositive(emitError, "head_dim", headDim)) ||
      failed(checkPositive(emitError, "v_head_dim", vHeadDim)) ||
      failed(checkPositive(emitError, "heads", heads)) ||
      failed(checkPositive(emitError, "kv_heads", kvHeads)))
    return failure();
  if (heads % kvHeads != 0)
    return emitError() << "schedule kv_heads (" << kvHeads
                       << ") must divide heads (" << heads << ")";
  return success();
}

} // namespace

LogicalResult GemvScheduleAttr::verify(EmitError emitError, int64_t vector,
                                       int64_t rowsPerTask) {
  if (failed(checkVector(emitError, vector)))
    return failure();
  // Rows are reduced in groups of four.
  if (rowsPerTask < 4 || rowsPerTask % 4 != 0)
    return emitError() << "gemv rows_per_task must be a positive multiple "
                          "of 4, got "
                       << rowsPerTask;
  return success();
}
int64_t GemvScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult GemmScheduleAttr::verify(EmitError emitError, int64_t vector,
                                       int64_t tileCols, int64_t tileRows,
                                       int64_t kBlock) {
  if (failed(checkVector(emitError, vector)) ||
      failed(checkPositive(emitError, "tile_rows", tileRows)))
    return failure();
  if (tileCols < vector || tileCols % vector != 0)
    return emitError() << "gemm tile_cols must be a positive multiple of the "
                          "vector ("
                       << vector << "), got " << tileCols;
  if (kBlock < 0)
    return emitError() << "gemm k_block must be >= 0 (0: no blocks), got "
                       << kBlock;
  return success();
}
int64_t GemmScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult QkvScheduleAttr::verify(EmitError emitError, Attribute product,
                                      int64_t headDim) {
  if (!llvm::isa<GemmScheduleAttr, GemvScheduleAttr>(product))
    return emitError() << "qkv product must be a #tfm.gemm or #tfm.gemv "
                          "schedule, got "
                       << product;
  return checkPositive(emitError, "head_dim", headDim);
}
int64_t QkvScheduleAttr::getVectorLanes() const {
  return llvm::cast<ScheduleAttrInterface>(getProduct()).getVectorLanes();
}

LogicalResult AttentionScheduleAttr::verify(EmitError emitError,
                                            int64_t vector, int64_t headDim,
                                            int64_t vHeadDim, int64_t heads,
                                            int64_t kvHeads) {
  return checkHeads(emitError, vector, headDim, vHeadDim, heads, kvHeads);
}
int64_t AttentionScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult FlashDecodeScheduleAttr::verify(EmitError emitError,
                                              int64_t vector, int64_t kvChunk,
                                              int64_t headDim,
                                              int64_t vHeadDim, int64_t heads,
                                              int64_t kvHeads) {
  if (failed(checkHeads(emitError, vector, headDim, vHeadDim, heads,
                        kvHeads)))
    return failure();
  return checkPositive(emitError, "kv_chunk", kvChunk);
}
int64_t FlashDecodeScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult FlashPrefillScheduleAttr::verify(
    EmitError emitError, int64_t vector, int64_t kvChunk, int64_t queryRows,
    int64_t taskRows, int64_t headDim, int64_t vHeadDim, int64_t heads,
    int64_t kvHeads) {
  if (failed(checkHeads(emitError, vector, headDim, vHeadDim, heads,
                        kvHeads)) ||
      failed(checkPositive(emitError, "kv_chunk", kvChunk)) ||
      failed(checkPositive(emitError, "query_rows", queryRows)))
    return failure();
  if (taskRows < queryRows)
    return emitError() << "flash_prefill task_rows (" << taskRows
                       << ") must be at least query_rows (" << queryRows
                       << ")";
  return success();
}
int64_t FlashPrefillScheduleAttr::getVectorLanes() const {
  return getVector();
}

LogicalResult RowsScheduleAttr::verify(EmitError emitError, int64_t vector) {
  return checkVector(emitError, vector);
}
int64_t RowsScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult MoeScheduleAttr::verify(EmitError emitError, int64_t vector) {
  return checkVector(emitError, vector);
}
int64_t MoeScheduleAttr::getVectorLanes() const { return getVector(); }

LogicalResult ElementwiseScheduleAttr::verify(EmitError emitError,
                                              int64_t vector) {
  return checkVector(emitError, vector);
}
int64_t ElementwiseScheduleAttr::getVectorLanes() const { return getVector(); }

FailureOr<ScheduleAttrInterface>
mlir::tfm::withScheduleParam(ScheduleAttrInterface schedule, StringRef name,
                             int64_t value) {
  // Schedules print as `#tfm.x<a = 1, b = 2>` (parameters equal to their
  // default may be left out); the parser takes them in any order.
  std::string text;
  llvm::raw_string_ostream os(text);
  os << schedule;
  // A whole parameter name: after `<` or `, ` (so `head_dim` is not found
  // inside `v_head_dim`).
  std::string entry = (name + " = ").str();
  std::string replacement = entry + std::to_string(value);
  size_t at = std::string::npos;
  for (const char *before : {"<", ", "}) {
    size_t found = text.find(before + entry);
    if (found != std::string::npos) {
      at = found + std::strlen(before);
      break;
    }
  }
  if (at != std::string::npos) {
    size_t end = text.find_first_of(",>", at);
    text.replace(at, end - at, replacement);
  } else {
    size_t close = text.rfind('>');
    if (close == std::string::npos)
      return failure();
    text.insert(close, (text[close - 1] == '<' ? "" : ", ") + replacement);
  }
  auto parsed = dyn_cast_or_null<ScheduleAttrInterface>(
      parseAttribute(text, schedule.getContext()));
  if (!parsed)
    return failure();
  return parsed;
}
