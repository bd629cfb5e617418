//===- Core.cpp - indices, weights, concatenation, joins -------*- C++ -*-===//

#include "compiler/interpreter/rules/Rules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using llvm::formatv;

namespace tfm::interp {
namespace {

Status unsupported(mlir::Operation *op) {
  return Error(
      formatv("interpreter: unsupported op '{0}'", op->getName()).str());
}

Status constant(mlir::arith::ConstantOp c, Frame &frame) {
  auto attr = mlir::dyn_cast<mlir::IntegerAttr>(c.getValue());
  if (!attr || !c.getType().isIndex())
    return unsupported(c);
  frame.set(c.getResult(), attr.getInt());
  return Status::ok();
}

Status addIndex(mlir::arith::AddIOp a, Frame &frame) {
  if (!a.getType().isIndex())
    return unsupported(a);
  frame.set(a.getResult(), frame.index(a.getLhs()) + frame.index(a.getRhs()));
  return Status::ok();
}

Status dim(mlir::tensor::DimOp d, Frame &frame) {
  int64_t i = frame.index(d.getIndex());
  RtValue &src = frame[d.getSource()];
  int64_t size = std::holds_alternative<Tokens>(src)
                     ? int64_t(std::get<Tokens>(src).size())
                     : std::get<Tensor>(src).shape.at(size_t(i));
  frame.set(d.getResult(), size);
  return Status::ok();
}

Status weight(ir::WeightOp w, Frame &frame) {
  const rt::WeightTable::Entry *e = frame.weights().find(w.getName().str());
  if (!e)
    return Error(formatv("{0}: no weight '{1}'", frame.weights().origin(),
                         w.getName())
                     .str());
  if (!e->f32())
    return Error(formatv("internal: weight '{0}' is {1}, and the "
                         "interpreter reads f32 (WeightTable::widenToF32)",
                         w.getName(), rt::storageName(e->storage))
                     .str());
  Tensor t;
  t.shape = e->shape;
  t.data = e->f32();
  frame.set(w.getResult(), std::move(t));
  return Status::ok();
}

Status concat(ir::ConcatOp c, Frame &frame) {
  std::vector<int64_t> shape = frame.tensor(c.getInputs().front()).shape;
  shape[0] = 0;
  for (mlir::Value v : c.getInputs())
    shape[0] += frame.tensor(v).shape[0];
  Tensor y = Tensor::zeros(shape);
  float *out = y.mutableData();
  for (mlir::Value v : c.getInputs()) {
    const Tensor &t = frame.tensor(v);
    out = std::copy_n(t.data, t.numel(), out);
  }
  frame.set(c.getResult(), std::move(y));
  return Status::ok();
}

/// Group g of each row: lhs's group g, then rhs's.
Status join(ir::JoinOp j, Frame &frame) {
  const Tensor &a = frame.tensor(j.getLhs()), &b = frame.tensor(j.getRhs());
  int64_t seq = a.shape[0], groups = j.getGroups(),
          wa = a.shape[1] / groups, wb = b.shape[1] / groups;
  Tensor y = Tensor::zeros({seq, groups * (wa + wb)});
  float *out = y.mutableData();
  for (int64_t i = 0; i < seq; ++i)
    for (int64_t g = 0; g < groups; ++g) {
      out = std::copy_n(a.data + (i * groups + g) * wa, wa, out);
      out = std::copy_n(b.data + (i * groups + g) * wb, wb, out);
    }
  frame.set(j.getResult(), std::move(y));
  return Status::ok();
}

} // namespace

void addCoreRules(RuleTable &table) {
  table.add(constant);
  table.add(addIndex);
  table.add(dim);
  table.add(weight);
  table.add(concat);
  table.add(join);
}

} // namespace tfm::interp
