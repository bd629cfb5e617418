//===- Schedule.cpp - pick the CPU schedule template of a kernel -*- C++ -*-===//

#include "compiler/halide/schedules/cpu/Common.h"

using namespace Halide;

namespace tfm::halide {

int cpu::param(mlir::DictionaryAttr schedule, llvm::StringRef name,
               int fallback) {
  if (auto attr = schedule.getAs<mlir::IntegerAttr>(name))
    return int(attr.getInt());
  return fallback;
}

Func &cpu::stage(KernelPipeline &p, const std::string &role) {
  auto it = p.stages.find(role);
  if (it == p.stages.end())
    throw CompileError("schedule: the kernel has no '" + role + "' stage");
  return it->second;
}

void scheduleCpu(KernelPipeline &p, mlir::DictionaryAttr schedule,
                 const Target &target) {
  auto tmpl = schedule.getAs<mlir::StringAttr>("template");
  std::string name = tmpl ? tmpl.str() : "elementwise";
  if (name == "gemm")
    cpu::scheduleGemm(p, schedule, target);
  else if (name == "gemv")
    cpu::scheduleGemv(p, schedule, target);
  else if (name == "attention")
    cpu::scheduleAttention(p, schedule, target);
  else if (name == "flash_attention")
    cpu::scheduleFlashAttention(p, schedule, target);
  else if (name == "qkv")
    cpu::scheduleQkv(p, schedule, target);
  else if (name == "rows" || name == "bias")
    cpu::scheduleRows(p, schedule, target);
  else if (name == "moe")
    cpu::scheduleMoe(p, schedule, target);
  else if (name == "elementwise")
    cpu::scheduleElementwise(p, schedule, target);
  else
    throw CompileError("unknown schedule template '" + name + "'");
}

} // namespace tfm::halide
