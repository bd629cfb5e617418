//===- Schedule.cpp - apply a kernel's CPU schedule template ----*- C++ -*-===//

#include "compiler/halide/schedules/cpu/Common.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace Halide;
namespace ir = mlir::tfm;

namespace tfm::halide {

Func &cpu::need(Func &stage, const char *role) {
  if (!stage.defined())
    throw CompileError(std::string("schedule: the kernel has no '") + role +
                       "' stage");
  return stage;
}

RDom cpu::need(RDom domain, const char *role) {
  if (!domain.defined())
    throw CompileError(std::string("schedule: the kernel has no '") + role +
                       "' domain");
  return domain;
}

void scheduleCpu(KernelPipeline &p, ir::ScheduleAttrInterface schedule,
                 const Target &target) {
  if (!schedule)
    throw CompileError("the kernel has no schedule (run tfm-select-schedules)");
  llvm::TypeSwitch<mlir::Attribute>(schedule)
      .Case([&](ir::GemmScheduleAttr s) { cpu::scheduleGemm(p, s, target); })
      .Case([&](ir::GemvScheduleAttr s) { cpu::scheduleGemv(p, s, target); })
      .Case([&](ir::QkvScheduleAttr s) { cpu::scheduleQkv(p, s, target); })
      .Case([&](ir::AttentionScheduleAttr s) {
        cpu::scheduleAttention(p, s, target);
      })
      .Case([&](ir::FlashDecodeScheduleAttr s) {
        cpu::scheduleFlashDecode(p, s, target);
      })
      .Case([&](ir::FlashPrefillScheduleAttr s) {
        cpu::scheduleFlashPrefill(p, s, target);
      })
      .Case([&](ir::RowsScheduleAttr s) { cpu::scheduleRows(p, s, target); })
      .Case([&](ir::MoeScheduleAttr s) { cpu::scheduleMoe(p, s, target); })
      .Case([&](ir::ElementwiseScheduleAttr s) {
        cpu::scheduleElementwise(p, s, target);
      })
      .Default([&](mlir::Attribute a) {
        std::string text;
        llvm::raw_string_ostream os(text);
        os << a;
        throw CompileError("no CPU schedule template for " + text);
      });
}

} // namespace tfm::halide
