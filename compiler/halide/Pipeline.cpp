//===- Pipeline.cpp - a kernel's ops as one Halide pipeline ----*- C++ -*-===//
//
// Binds the kernel's arguments, lowers each op by its family's rule
// (ops/), and defines the kernel's outputs.
//
//===----------------------------------------------------------------------===//

#include "compiler/halide/Pipeline.h"
#include "compiler/halide/ops/Lowering.h"
#include "compiler/StorageTypes.h"
#include "runtime/Quant.h"
#include "runtime/BfloatGemm.h"
#include "runtime/FloatGemm.h"
#include "runtime/QuantGemm.h"
#include "runtime/QuantDot.h"

#include "llvm/Support/FormatVariadic.h"

using namespace Halide;
using mlir::Value;

namespace tfm::halide {
namespace {

/// Vars d0 (innermost) ... d{rank-1}.
std::vector<Var> vars(int64_t rank) {
  std::vector<Var> v;
  for (int64_t i = 0; i < rank; ++i)
    v.push_back(Var(llvm::formatv("d{0}", i).str()));
  return v;
}

/// Dense row-major layout with the static extents of `type`.
///
/// A stride that depends on a dynamic extent names that extent by a plain
/// variable, not by `dim.extent()`: the latter points back at the buffer's
/// own parameter, and a parameter whose constraints refer to itself is a
/// reference cycle that Halide never frees. Halide binds the name
/// `<buffer>.extent.<i>` when it unpacks the buffer, so both mean the same.
///
/// With `freeRowStride` the rows (the outermost dimension of a matrix) may
/// lie any distance apart: values that latent attention keeps inside the
/// cached key rows.
template <typename Dims>
void constrainDims(Dims dimOf, const std::string &name,
                   mlir::RankedTensorType type, bool freeRowStride = false) {
  int64_t rank = type.getRank();
  Expr stride = 1;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t size = type.getDimSize(rank - 1 - i);
    auto dim = dimOf(int(i));
    dim.set_min(0);
    if (!(freeRowStride && rank == 2 && i == 1))
      dim.set_stride(stride);
    if (mlir::ShapedType::isDynamic(size)) {
      stride = stride * Halide::Internal::Variable::make(
                            Int(32), llvm::formatv("{0}.extent.{1}", name, i));
    } else {
      dim.set_extent(int(size));
      stride = stride * int(size);
    }
  }
}
void constrain(ImageParam &image, mlir::RankedTensorType type,
               bool freeRowStride = false) {
  constrainDims([&](int i) { return image.dim(i); }, image.name(), type,
                freeRowStride);
}
/// A block-format weight's bytes: its rows (innermost) in bytes.
void constrainBlocks(ImageParam &image, mlir::RankedTensorType type,
                     bool freeRowStride) {
  ir::Storage storage = ir::storageOf(type);
  llvm::SmallVector<int64_t> shape(type.getShape());
  shape.back() =
      shape.back() / ir::blockElements(storage) *
      rt::blockBytes(runtimeStorage(storage));
  constrain(image, mlir::RankedTensorType::get(shape, type.getElementType()),
            freeRowStride);
}
void constrainOutput(Func &out, mlir::RankedTensorType type) {
  OutputImageParam buffer = out.output_buffer();
  constrainDims([&](int i) { return buffer.dim(i); }, buffer.name(), type);
}

/// Every op family's rules.
const LoweringTable &loweringTable() {
  static const LoweringTable table = [] {
    LoweringTable t;
    addElementwiseLowerings(t);
    addNormLowerings(t);
    addPositionLowerings(t);
    addLinearLowerings(t);
    addAttentionLowerings(t);
    addMoeLowerings(t);
    return t;
  }();
  return table;
}

} // namespace

/// The f32 value of f16 bits `h` (a UInt(16) expression), exactly, in
/// integer and float vector operations. (Halide 14's own Float(16) cast
/// runs several times slower in a matrix-vector product, and the F16C
/// instruction it cannot emit for vectors.) The bits, sign-extended to 32
/// and shifted left by 13, have exponent and mantissa in an f32's place
/// and the sign in bit 31, with copies of it in the three bits the mask
/// then clears; multiplied by 2^112, the difference of the exponent
/// biases, that is the value, for normal and subnormal numbers alike.
/// Infinities and NaNs (an all-ones exponent) get an all-ones f32 exponent
/// over their mantissa instead. A sign-extending load, three operations
/// and a masked or.
Expr widenF16(Expr h) {
  Expr placed = (cast<int32_t>(reinterpret<int16_t>(h)) << 13) &
                int32_t(0x8fffe000u);
  Expr finite = reinterpret<float>(placed) * 0x1p112f;
  Expr special = (placed & 0x0f800000) == 0x0f800000;
  return select(special, reinterpret<float>(placed | 0x7f800000), finite);
}

namespace {

/// The type of a buffer's elements stored as `storage`: f32 as floats,
/// f16 and bf16 as their bits, a block format as its bytes.
Type storedType(ir::Storage storage) {
  if (storage == ir::Storage::f32)
    return Float(32);
  return ir::blockElements(storage) > 1 ? UInt(8) : UInt(16);
}

/// Constrains `image` to `type`'s static sizes, a block format's rows
/// counted in bytes.
void constrainStored(ImageParam &image, mlir::RankedTensorType type,
                     bool freeRowStride = false) {
  if (ir::blockElements(ir::storageOf(type)) > 1)
    constrainBlocks(image, type, freeRowStride);
  else
    constrain(image, type, freeRowStride);
}

/// Whether `arg` is the values of an attention, which may be a view of
/// values kept in the cached keys.
bool attentionValues(mlir::BlockArgument arg) {
  for (mlir::Operation *user : arg.getUsers())
    if (auto a = mlir::dyn_cast<ir::AttentionOp>(user); a && a.getValue() == arg)
      return true;
  return false;
}

/// The f32 values of `image`, stored as `storage`, element by element.
Func widened(ir::Storage storage, ImageParam image, const std::string &name) {
  Func f(name);
  std::vector<Var> v = vars(image.dimensions());
  switch (storage) {
  case ir::Storage::f32:
    f(v) = image(v);
    break;
  case ir::Storage::f16:
    f(v) = widenF16(image(v));
    break;
  case ir::Storage::bf16:
    // The 16 bits are the high half of the f32 with the same value.
    f(v) = reinterpret<float>(cast<uint32_t>(image(v)) << 16);
    break;
  default:
    f(v) = dequantize(storage, image, v[0],
                      std::vector<Expr>(v.begin() + 1, v.end()));
    break;
  }
  return f;
}

} // namespace

KernelPipeline buildPipeline(ir::KernelOp kernel,
                             const AlgorithmOptions &options) {
  KernelPipeline p;
  Lowering l(kernel, options);
  p.decode = kernel.isDecode();
  mlir::Block &block = kernel.getBlock();
  for (auto [i, arg] : llvm::enumerate(block.getArguments())) {
    std::string name = llvm::formatv("arg{0}", i).str();
    if (auto t = mlir::dyn_cast<mlir::RankedTensorType>(arg.getType())) {
      // A weight comes as stored; its consumers read it widened to f32,
      // element by element as they load it (f is inlined into them).
      ir::Storage storage = ir::storageOf(t);
      ImageParam image(t.getElementType().isF32() ? storedType(storage)
                                                  : Int(32),
                       int(t.getRank()), name);
      constrainStored(image, t, attentionValues(arg));
      Func f = widened(storage, image, name + "_in");
      l.defineArgument(arg, image, f);
      p.images[i] = image;
      p.arguments.push_back(image);
    } else if (auto cache = mlir::dyn_cast<ir::KvCacheType>(arg.getType())) {
      // A KV cache: its keys and its values, every position, as two
      // buffers in the cache's storage; the attention reads them widened.
      mlir::Type f32 = mlir::Float32Type::get(kernel.getContext());
      ir::Storage storage = cache.getStorage();
      auto view = [&](const std::string &part, int64_t width) {
        ImageParam image(storedType(storage), 2, name + "_" + part);
        constrainStored(image,
                        ir::withStorage(mlir::RankedTensorType::get(
                                            {cache.getLen(), width}, f32),
                                        storage),
                        /*freeRowStride=*/part == "values");
        p.arguments.push_back(image);
        return image;
      };
      ImageParam keys = view("keys", cache.getKvHeads() * cache.getHeadDim());
      ImageParam values =
          view("values", cache.getKvHeads() * cache.getVHeadDim());
      l.defineCache(arg, widened(storage, keys, name + "_keys_in"),
                    widened(storage, values, name + "_values_in"));
      p.caches[i] = {keys, values};
    } else {
      Param<int32_t> scalar(name);
      l.defineScalar(arg, scalar);
      p.scalars[i] = scalar;
      p.arguments.push_back(scalar);
    }
  }
  for (mlir::Operation &op : block.without_terminator()) {
    const LoweringTable::Rule *rule = loweringTable().find(&op);
    if (!rule)
      throw CompileError("no Halide lowering for " +
                         op.getName().getStringRef().str());
    (*rule)(&op, l);
  }
  Value first = kernel.getResultValues().front();
  auto firstType = mlir::cast<mlir::RankedTensorType>(first.getType());
  p.vars = vars(firstType.getRank());
  for (int64_t i = firstType.getRank() - 1; i >= 0; --i)
    p.extents.push_back(firstType.getDimSize(i));
  for (auto [i, result] : llvm::enumerate(kernel.getResultValues())) {
    auto type = mlir::cast<mlir::RankedTensorType>(result.getType());
    Func out(i == 0 ? std::string("out") : llvm::formatv("out{0}", i).str());
    std::vector<Var> v = vars(type.getRank());
    out(v) = l.f(result)(v);
    constrainOutput(out, type);
    p.outputs.push_back(out);
  }
  p.output = p.outputs.front();
  // Results of a tfm.add_norm are computed row by row: the residual sum
  // beside a projection's output, or both results of an add_norm kernel
  // (whose row statistics belong to the normalized output).
  p.statsOwner = p.output;
  for (auto [i, result] : llvm::enumerate(kernel.getResultValues()))
    if (auto addNorm = result.getDefiningOp<ir::AddNormOp>()) {
      p.rowOutputs.push_back(i);
      if (result == addNorm.getNormed())
        p.statsOwner = p.outputs[i];
    }
  if (!block.empty() && block.front().getNumOperands() > 0 &&
      mlir::isa<mlir::RankedTensorType>(block.front().getOperand(0).getType()))
    p.rows = l.rowsOf(block.front().getOperand(0));
  p.stages = l.stages;
  return p;
}

Expr Lowering::extent(Value v, int64_t dim) const {
  auto t = mlir::cast<mlir::RankedTensorType>(v.getType());
  if (!t.isDynamicDim(dim))
    return int(t.getDimSize(dim));
  auto it = images_.find(v);
  if (it == images_.end())
    throw CompileError("internal: a reduction over a dynamic dimension of "
                       "a value computed inside the kernel");
  return it->second.dim(int(t.getRank() - 1 - dim)).extent();
}

Expr Lowering::rowsOf(Value v) const {
  if (!images_.count(v))
    if (mlir::Operation *op = v.getDefiningOp())
      if (op->getNumOperands() > 0)
        return rowsOf(op->getOperand(0));
  return extent(v, 0);
}

int64_t Lowering::size(Value v, int64_t dim) {
  return mlir::cast<mlir::RankedTensorType>(v.getType()).getDimSize(dim);
}

AlgorithmOptions algorithmOptions(ir::KernelOp kernel) {
  AlgorithmOptions options;
  if (auto schedule = kernel.getScheduleAttr()) {
    if (auto d = mlir::dyn_cast<ir::FlashDecodeScheduleAttr>(schedule))
      options.kvChunk = int(d.getKvChunk());
    else if (auto p = mlir::dyn_cast<ir::FlashPrefillScheduleAttr>(schedule))
      options.kvChunk = int(p.getKvChunk());
  }
  return options;
}

std::map<std::string, JITExtern> jitExterns() {
  return {{"tfm_dot_q4_0_q8_0", JITExtern(tfm_dot_q4_0_q8_0)},
          {"tfm_dot_q8_0_q8_0", JITExtern(tfm_dot_q8_0_q8_0)},
          {"tfm_dot_q4_K_q8_K", JITExtern(tfm_dot_q4_K_q8_K)},
          {"tfm_dot_q6_K_q8_K", JITExtern(tfm_dot_q6_K_q8_K)},
          {"tfm_dot_f16_f32", JITExtern(tfm_dot_f16_f32)},
          {"tfm_gemm_bf16", JITExtern(tfm_gemm_bf16)},
          {"tfm_gemm_f32", JITExtern(tfm_gemm_f32)},
          {"tfm_gemm_q8_0", JITExtern(tfm_gemm_q8_0)}};
}

} // namespace tfm::halide
