//===- TfmOps.h - tfm operations --------------------------------*- C++ -*-===//
//
// Declares the ops of the tfm dialect (generated from TfmOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_DIALECTS_TFM_TFMOPS_H
#define TFM_DIALECTS_TFM_TFMOPS_H

#include "dialects/Tfm/TfmDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/Tfm/TfmOpInterfaces.h.inc"

#define GET_OP_CLASSES
#include "dialects/Tfm/TfmOps.h.inc"

#endif // TFM_DIALECTS_TFM_TFMOPS_H
