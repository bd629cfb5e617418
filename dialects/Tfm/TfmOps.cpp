//===- TfmOps.cpp - tfm op verifiers ----------------------------*- C++ -*-===//
//
// Shape and attribute checks for every tfm op. Dynamic dimensions are
// accepted wherever a static one is expected; two static ones must agree.
//
//===----------------------------------------------------------------------===//

#include "dialects/Tfm/TfmOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tfm;

namespace {

int64_t dim(Value v, unsigned i) {
  return cast<RankedTensorType>(v.getType()).getDimSize(i);
}

/// Two sizes agree unless both are static and differ.
bool agree(int64_t a, int64_t b) {
  return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
}

/// Formats a possibly dynamic size the way tensor types print it.
std::string sizeStr(int64_t s) {
  return ShapedType::isDynamic(s) ? "?" : std::to_string(s);
}

/// `what` must have size `expected` in dimension `i`.
/// A weight's encoding, if any, is a #tfm.storage other than f32 (which is
/// written without one, so that each type has one spelling).
LogicalResult verifyStorage(Operation *op, RankedTensorType type) {
  Attribute encoding = type.getEncoding();
  if (!encoding)
    return success();
  auto storage = dyn_cast<StorageAttr>(encoding);
  if (!storage)
    return op->emitOpError("a weight's encoding must be #tfm.storage, got ")
           << encoding;
  if (storage.getValue() == Storage::f32)
    return op->emitOpError("f32 storage is written without an encoding");
  // A block format stores each row as whole blocks.
  int64_t block = blockElements(storage.getValue());
  if (block > 1) {
    int64_t row = type.getRank() ? type.getShape().back() : 1;
    if (type.getRank() < 2 || ShapedType::isDynamic(row) || row % block != 0)
      return op->emitOpError("a weight stored as ")
             << stringifyStorage(storage.getValue())
             << " needs rows of a multiple of " << block
             << " elements, got " << type;
  }
  return success();
}

/// A product's activation rounding works on whole blocks of its inputs.
LogicalResult verifyActQuant(Operation *op, std::optional<ActQuant> quant,
                             Value weight) {
  if (!quant)
    return success();
  int64_t k = dim(weight, 1), block = blockElements(*quant);
  if (ShapedType::isDynamic(k) || k % block != 0)
    return op->emitOpError("act_quant ")
           << stringifyActQuant(*quant) << " rounds blocks of " << block
           << " inputs, but the weight has rows of " << sizeStr(k);
  return success();
}

LogicalResult expectDim(Operation *op, Value v, unsigned i, int64_t expected,
                        StringRef what) {
  int64_t actual = dim(v, i);
  if (agree(actual, expected))
    return success();
  return op->emitOpError() << what << " dimension " << i << " must be "
                           << sizeStr(expected) << ", got " << actual;
}

/// `custom<EnumKeyword>`: an enum attribute written as its bare keyword.
template <typename AttrT>
ParseResult parseEnumKeyword(OpAsmParser &parser, AttrT &attr) {
  using Enum = decltype(std::declval<AttrT>().getValue());
  llvm::SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword))
    return failure();
  std::optional<Enum> value = symbolizeEnum<Enum>(keyword);
  if (!value)
    return parser.emitError(loc) << "unknown keyword '" << keyword << "'";
  attr = AttrT::get(parser.getContext(), *value);
  return success();
}

template <typename AttrT>
void printEnumKeyword(OpAsmPrinter &printer, Operation *, AttrT attr) {
  printer << stringifyEnum(attr.getValue());
}

} // namespace

#include "dialects/Tfm/TfmOpInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "dialects/Tfm/TfmOps.cpp.inc"

LogicalResult WeightOp::verify() {
  if (getName().empty())
    return emitOpError("weight name must not be empty");
  if (!getResult().getType().hasStaticShape())
    return emitOpError("weight shape must be static, got ")
           << getResult().getType();
  for (int64_t d : getResult().getType().getShape())
    if (d < 1)
      return emitOpError("weight dimensions must be >= 1");
  return verifyStorage(*this, getResult().getType());
}

LogicalResult EmbedOp::verify() {
  if (failed(expectDim(*this, getResult(), 1, dim(getTable(), 1), "result")) ||
      failed(expectDim(*this, getResult(), 0, dim(getTokens(), 0), "result")))
    return failure();
  return success();
}

LogicalResult PositionOp::verify() {
  bool learned = getKind() == PositionKind::learned;
  if (learned != static_cast<bool>(getTable()))
    return emitOpError(learned ? "learned positions need a table"
                               : "sinusoidal positions take no table");
  int64_t features = dim(getInput(), 1);
  if (learned)
    return expectDim(*this, getTable(), 1, features, "table");
  if (!ShapedType::isDynamic(features) && features % 2 != 0)
    return emitOpError("sinusoidal positions need an even feature count, got ")
           << features;
  return success();
}

int64_t NormOp::getGroupSizeOrRow() {
  if (auto g = getGroupSize())
    return *g;
  return dim(getInput(), 1);
}

LogicalResult NormOp::verify() {
  if (!(getEps().convertToDouble() > 0))
    return emitOpError("eps must be > 0, got ") << getEps().convertToDouble();
  int64_t features = dim(getInput(), 1);
  int64_t group = getGroupSizeOrRow();
  if (getGroupSize()) {
    if (group < 1)
      return emitOpError("group_size must be >= 1, got ") << group;
    if (!ShapedType::isDynamic(features) && features % group != 0)
      return emitOpError("group_size ")
             << group << " does not divide the " << features << " features";
  }
  // One gain (and bias) per feature of a group, or per feature of the row
  // (a gain per head).
  for (auto [value, name] : {std::pair(getGain(), "gain"),
                             std::pair(getBias(), "bias")}) {
    if (!value)
      continue;
    int64_t n = dim(value, 0);
    if (getGroupSize() && n == features && n != group)
      continue;
    if (failed(expectDim(*this, value, 0, group, name)))
      return failure();
  }
  // Both per group or both per feature.
  if (getGain() && getBias())
    return expectDim(*this, getBias(), 0, dim(getGain(), 0), "bias");
  return success();
}

LogicalResult LinearOp::verify() {
  int64_t n = dim(getWeight(), 0);
  if (failed(expectDim(*this, getInput(), 1, dim(getWeight(), 1), "input")) ||
      failed(expectDim(*this, getResult(), 1, n, "result")) ||
      failed(expectDim(*this, getResult(), 0, dim(getInput(), 0), "result")) ||
      failed(verifyActQuant(*this, getActQuant(), getWeight())))
    return failure();
  if (getBias())
    return expectDim(*this, getBias(), 0, n, "bias");
  return success();
}

int64_t HeadLinearOp::getNumHeads() { return dim(getWeight(), 0); }
int64_t HeadLinearOp::getInFeatures() {
  return dim(getWeight(), getTransposeWeight() ? 1 : 2);
}
int64_t HeadLinearOp::getOutFeatures() {
  return dim(getWeight(), getTransposeWeight() ? 2 : 1);
}

LogicalResult HeadLinearOp::verify() {
  int64_t heads = getNumHeads(), in = getInFeatures(), out = getOutFeatures();
  if (ShapedType::isDynamic(heads) || ShapedType::isDynamic(in) ||
      ShapedType::isDynamic(out) || heads < 1)
    return emitOpError("weight must have static sizes, got ")
           << getWeight().getType();
  return failure(
      failed(expectDim(*this, getInput(), 1, heads * in, "input")) ||
      failed(expectDim(*this, getResult(), 1, heads * out, "result")) ||
      failed(expectDim(*this, getResult(), 0, dim(getInput(), 0), "result")));
}

LogicalResult JoinOp::verify() {
  int64_t groups = getGroups();
  if (groups < 1)
    return emitOpError("groups must be >= 1, got ") << groups;
  int64_t a = dim(getLhs(), 1), b = dim(getRhs(), 1);
  if (ShapedType::isDynamic(a) || ShapedType::isDynamic(b) ||
      a % groups != 0 || b % groups != 0)
    return emitOpError("operand features (")
           << a << ", " << b << ") must be whole multiples of groups ("
           << groups << ")";
  return failure(
      failed(expectDim(*this, getRhs(), 0, dim(getLhs(), 0), "rhs")) ||
      failed(expectDim(*this, getResult(), 0, dim(getLhs(), 0), "result")) ||
      failed(expectDim(*this, getResult(), 1, a + b, "result")));
}

/// A scaling's per-frequency factors must number rotary_dim / 2.
static LogicalResult verifyFreqFactors(Operation *op, RopeScalingAttr scaling,
                                       int64_t rotaryDim) {
  if (!scaling || !scaling.getFreqFactors())
    return success();
  int64_t n = int64_t(scaling.getFreqFactors().size());
  if (n != rotaryDim / 2)
    return op->emitOpError("rope scaling has ")
           << n << " freq_factors, expected rotary_dim / 2 = "
           << rotaryDim / 2;
  return success();
}

LogicalResult RopeOp::verify() {
  int64_t headDim = getHeadDim(), rotaryDim = getRotaryDim();
  if (headDim < 1)
    return emitOpError("head_dim must be >= 1, got ") << headDim;
  int64_t features = dim(getInput(), 1);
  if (!ShapedType::isDynamic(features) && features % headDim != 0)
    return emitOpError("head_dim ")
           << headDim << " does not divide the " << features << " features";
  if (rotaryDim < 2 || rotaryDim % 2 != 0 || rotaryDim > headDim)
    return emitOpError("rotary_dim must be even and in [2, head_dim = ")
           << headDim << "], got " << rotaryDim;
  if (!(getTheta().convertToDouble() > 0))
    return emitOpError("theta must be > 0");
  return verifyFreqFactors(*this, getScalingAttr(), rotaryDim);
}

/// What tfm.attention and tfm.cached_attention check alike: head counts,
/// scale, window, soft-cap.
template <typename OpT> static LogicalResult verifyAttentionAttrs(OpT op) {
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads();
  if (heads < 1 || kvHeads < 1 || op.getHeadDim() < 1)
    return op.emitOpError(
        "num_heads, num_kv_heads and head_dim must be >= 1");
  if (heads % kvHeads != 0)
    return op.emitOpError("num_kv_heads ")
           << kvHeads << " does not divide num_heads " << heads;
  if (!(op.getScale().convertToDouble() > 0))
    return op.emitOpError("scale must be > 0");
  if (auto w = op.getWindow(); w && int64_t(*w) < 1)
    return op.emitOpError("window must be >= 1, got ") << int64_t(*w);
  if (auto cap = op.getSoftcap(); cap && !(cap->convertToDouble() > 0))
    return op.emitOpError("softcap must be > 0");
  return success();
}

LogicalResult AttentionOp::verify() {
  if (failed(verifyAttentionAttrs(*this)))
    return failure();
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          headDim = getHeadDim();
  if (failed(expectDim(*this, getQuery(), 1, heads * headDim, "query")) ||
      failed(expectDim(*this, getKey(), 1, kvHeads * headDim, "key")) ||
      failed(expectDim(*this, getValue(), 0, dim(getKey(), 0), "value")) ||
      failed(expectDim(*this, getResult(), 0, dim(getQuery(), 0), "result")))
    return failure();
  int64_t valueFeatures = dim(getValue(), 1);
  if (!ShapedType::isDynamic(valueFeatures)) {
    if (valueFeatures % kvHeads != 0)
      return emitOpError("value features ")
             << valueFeatures << " are not a multiple of num_kv_heads "
             << kvHeads;
    int64_t vHeadDim = valueFeatures / kvHeads;
    if (failed(expectDim(*this, getResult(), 1, heads * vHeadDim, "result")))
      return failure();
  }
  if (Value bias = getBias()) {
    if (failed(expectDim(*this, bias, 0, heads, "bias")) ||
        failed(expectDim(*this, bias, 1, dim(getQuery(), 0), "bias")) ||
        failed(expectDim(*this, bias, 2, dim(getKey(), 0), "bias")))
      return failure();
  }
  return success();
}

LogicalResult AlibiOp::verify() {
  int64_t heads = getNumHeads();
  if (heads < 1)
    return emitOpError("num_heads must be >= 1, got ") << heads;
  double scale = getSlopeScale().convertToDouble();
  if (!(scale > 0) || !std::isfinite(scale))
    return emitOpError("slope_scale must be finite and > 0, got ") << scale;
  return expectDim(*this, getResult(), 0, heads, "result");
}

LogicalResult RelativeBiasOp::verify() {
  int64_t buckets = getNumBuckets();
  if (buckets < 2)
    return emitOpError("num_buckets must be >= 2, got ") << buckets;
  if (getBidirectional() && buckets % 2 != 0)
    return emitOpError("bidirectional bias needs an even num_buckets, got ")
           << buckets;
  if (int64_t(getMaxDistance()) < 1)
    return emitOpError("max_distance must be >= 1, got ")
           << int64_t(getMaxDistance());
  if (failed(expectDim(*this, getTable(), 0, buckets, "table")))
    return failure();
  return expectDim(*this, getResult(), 0, dim(getTable(), 1), "result");
}

/// The key/value tensors of a cache access must match the cache's layout.
static LogicalResult verifyCacheRows(Operation *op, KvCacheType cache,
                                     Value key, Value value) {
  if (failed(expectDim(op, key, 1, cache.getKvHeads() * cache.getHeadDim(),
                       "key")) ||
      failed(expectDim(op, value, 1, cache.getKvHeads() * cache.getVHeadDim(),
                       "value")) ||
      failed(expectDim(op, value, 0, dim(key, 0), "value")))
    return failure();
  return success();
}

LogicalResult KvWriteOp::verify() {
  return verifyCacheRows(*this, getCache().getType(), getKey(), getValue());
}

LogicalResult KvReadOp::verify() {
  return verifyCacheRows(*this, getCache().getType(), getKey(), getValue());
}

LogicalResult MoeOp::verify() {
  int64_t experts = getNumExperts(), topK = getTopK();
  if (experts < 1)
    return emitOpError("num_experts must be >= 1");
  if (topK < 1 || topK > experts)
    return emitOpError("top_k must be in [1, num_experts = ")
           << experts << "], got " << topK;
  int64_t groups = getNumGroups(), topGroups = getTopGroups();
  if (groups < 1 || experts % groups != 0)
    return emitOpError("num_groups must divide num_experts (")
           << experts << "), got " << groups;
  if (topGroups < 1 || topGroups > groups)
    return emitOpError("top_groups must be in [1, num_groups = ")
           << groups << "], got " << topGroups;
  if (topGroups * (experts / groups) < topK)
    return emitOpError("top_groups (")
           << topGroups << ") of " << experts / groups
           << " experts each hold fewer than top_k (" << topK << ")";
  int64_t d = dim(getInput(), 1), ffn = dim(getGate(), 1);
  if (failed(expectDim(*this, getRouter(), 0, experts, "router")) ||
      failed(expectDim(*this, getRouter(), 1, d, "router")) ||
      failed(expectDim(*this, getGate(), 0, experts, "gate")) ||
      failed(expectDim(*this, getGate(), 2, d, "gate")) ||
      failed(expectDim(*this, getUp(), 0, experts, "up")) ||
      failed(expectDim(*this, getUp(), 1, ffn, "up")) ||
      failed(expectDim(*this, getUp(), 2, d, "up")) ||
      failed(expectDim(*this, getDown(), 0, experts, "down")) ||
      failed(expectDim(*this, getDown(), 1, d, "down")) ||
      failed(expectDim(*this, getDown(), 2, ffn, "down")) ||
      failed(expectDim(*this, getResult(), 0, dim(getInput(), 0), "result")) ||
      failed(expectDim(*this, getResult(), 1, d, "result")))
    return failure();
  bool hasShared = static_cast<bool>(getSharedGate());
  int64_t numShared = getNumShared();
  if (numShared < 0)
    return emitOpError("num_shared must be >= 0, got ") << numShared;
  if (hasShared != (numShared > 0))
    return emitOpError("num_shared must be >= 1 exactly when shared expert "
                       "weights are given");
  if (hasShared) {
    int64_t sharedFfn = dim(getSharedGate(), 0);
    if (failed(expectDim(*this, getSharedGate(), 1, d, "shared_gate")) ||
        failed(expectDim(*this, getSharedUp(), 0, sharedFfn, "shared_up")) ||
        failed(expectDim(*this, getSharedUp(), 1, d, "shared_up")) ||
        failed(expectDim(*this, getSharedDown(), 0, d, "shared_down")) ||
        failed(expectDim(*this, getSharedDown(), 1, sharedFfn, "shared_down")))
      return failure();
  }
  if (Value router = getSharedRouter()) {
    if (!hasShared)
      return emitOpError("a shared router needs shared experts");
    if (failed(expectDim(*this, router, 0, 1, "shared_router")) ||
        failed(expectDim(*this, router, 1, d, "shared_router")))
      return failure();
  }
  if (!(getRoutedScale().convertToDouble() > 0))
    return emitOpError("routed_scale must be > 0");
  return success();
}

LogicalResult AddOp::verify() {
  double alpha = getAlpha().convertToDouble();
  if (!std::isfinite(alpha) || alpha == 0)
    return emitOpError("alpha must be finite and non-zero, got ") << alpha;
  return success();
}

LogicalResult SoftcapOp::verify() {
  if (!(getCap().convertToDouble() > 0))
    return emitOpError("cap must be > 0, got ") << getCap().convertToDouble();
  return success();
}

LogicalResult LmHeadOp::verify() {
  if (failed(expectDim(*this, getInput(), 1, dim(getWeight(), 1), "input")) ||
      failed(expectDim(*this, getResult(), 1, dim(getWeight(), 0), "result")) ||
      failed(expectDim(*this, getResult(), 0, dim(getInput(), 0), "result")) ||
      failed(verifyActQuant(*this, getActQuant(), getWeight())))
    return failure();
  if (getBias())
    return expectDim(*this, getBias(), 0, dim(getWeight(), 0), "bias");
  return success();
}

//===----------------------------------------------------------------------===//
// Fused level
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  if (failed(verifyStorage(*this, getResult().getType())))
    return failure();
  Storage storage = storageOf(getResult().getType());
  for (Value v : getInputs())
    if (storageOf(v.getType()) != storage)
      return emitOpError("operands must be stored as the result is (")
             << stringifyStorage(storage) << "), got " << v.getType();
  int64_t rank = cast<RankedTensorType>(getResult().getType()).getRank();
  int64_t rows = 0;
  for (Value v : getInputs()) {
    if (cast<RankedTensorType>(v.getType()).getRank() != rank)
      return emitOpError("operands must have the result's rank ") << rank;
    if (rank == 2 && failed(expectDim(*this, v, 1, dim(getResult(), 1),
                                      "operand")))
      return failure();
    if (ShapedType::isDynamic(dim(v, 0)) || ShapedType::isDynamic(rows))
      rows = ShapedType::kDynamic;
    else
      rows += dim(v, 0);
  }
  return expectDim(*this, getResult(), 0, rows, "result");
}

LogicalResult AddNormOp::verify() {
  if (!(getEps().convertToDouble() > 0))
    return emitOpError("eps must be > 0, got ") << getEps().convertToDouble();
  int64_t features = dim(getLhs(), 1);
  if (getGain() && failed(expectDim(*this, getGain(), 0, features, "gain")))
    return failure();
  if (getBias() && failed(expectDim(*this, getBias(), 0, features, "bias")))
    return failure();
  return success();
}

LogicalResult QkvRopeOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(),
          hd = getHeadDim(), vhd = getVHeadDim(), rd = getRotaryDim();
  if (heads < 1 || kvHeads < 1 || hd < 1 || vhd < 1)
    return emitOpError("num_heads, num_kv_heads, head_dim and v_head_dim "
                       "must be >= 1");
  if (heads % kvHeads != 0)
    return emitOpError("num_kv_heads ")
           << kvHeads << " does not divide num_heads " << heads;
  if (rd < 2 || rd % 2 != 0 || rd > hd)
    return emitOpError("rotary_dim must be even and in [2, head_dim = ")
           << hd << "], got " << rd;
  if (!(getTheta().convertToDouble() > 0))
    return emitOpError("theta must be > 0");
  if (failed(verifyFreqFactors(*this, getScalingAttr(), rd)))
    return failure();
  if (failed(verifyActQuant(*this, getActQuant(), getWeight())))
    return failure();
  int64_t rows = (heads + kvHeads) * hd + kvHeads * vhd;
  int64_t seq = dim(getInput(), 0);
  if (failed(expectDim(*this, getWeight(), 0, rows, "weight")) ||
      failed(expectDim(*this, getInput(), 1, dim(getWeight(), 1), "input")) ||
      failed(expectDim(*this, getQuery(), 1, heads * hd, "query")) ||
      failed(expectDim(*this, getKey(), 1, kvHeads * hd, "key")) ||
      failed(expectDim(*this, getValue(), 1, kvHeads * vhd, "value")) ||
      failed(expectDim(*this, getQuery(), 0, seq, "query")) ||
      failed(expectDim(*this, getKey(), 0, seq, "key")) ||
      failed(expectDim(*this, getValue(), 0, seq, "value")))
    return failure();
  if (getBias() && failed(expectDim(*this, getBias(), 0, rows, "bias")))
    return failure();
  if (bool(getQGain()) != bool(getNorm()) || !getNormEps() != !getNorm())
    return emitOpError("QK-norm needs the gains, norm and norm_eps together");
  if (getNorm()) {
    int64_t qGroup = heads * hd, kGroup = kvHeads * hd;
    if (auto g = getNormGroup()) {
      qGroup = kGroup = int64_t(*g);
      if (qGroup < 1 || (heads * hd) % qGroup != 0 ||
          (kvHeads * hd) % qGroup != 0)
        return emitOpError("norm_group ")
               << qGroup << " must divide the query and key features";
    }
    if (!(getNormEps()->convertToDouble() > 0))
      return emitOpError("norm_eps must be > 0");
    if (failed(expectDim(*this, getQGain(), 0, qGroup, "q_gain")) ||
        failed(expectDim(*this, getKGain(), 0, kGroup, "k_gain")))
      return failure();
  }
  return success();
}

LogicalResult CachedAttentionOp::verify() {
  if (failed(verifyAttentionAttrs(*this)))
    return failure();
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads(), hd = getHeadDim();
  KvCacheType cache = getCache().getType();
  if (cache.getKvHeads() != kvHeads || cache.getHeadDim() != hd)
    return emitOpError("the cache's kv_heads and head_dim must be ")
           << kvHeads << " and " << hd;
  if (failed(verifyCacheRows(*this, cache, getKey(), getValue())) ||
      failed(expectDim(*this, getQuery(), 1, heads * hd, "query")) ||
      failed(expectDim(*this, getKey(), 0, dim(getQuery(), 0), "key")) ||
      failed(expectDim(*this, getResult(), 0, dim(getQuery(), 0), "result")) ||
      failed(expectDim(*this, getResult(), 1, heads * cache.getVHeadDim(),
                       "result")))
    return failure();
  if (Value bias = getBias())
    if (failed(expectDim(*this, bias, 0, heads, "bias")) ||
        failed(expectDim(*this, bias, 1, dim(getQuery(), 0), "bias")))
      return failure();
  return success();
}

LogicalResult LinearGluOp::verify() {
  int64_t rows = dim(getWeight(), 0);
  if (!ShapedType::isDynamic(rows) && rows % 2 != 0)
    return emitOpError("weight rows must be even (gate then up), got ")
           << rows;
  int64_t f = ShapedType::isDynamic(rows) ? rows : rows / 2;
  if (failed(expectDim(*this, getInput(), 1, dim(getWeight(), 1), "input")) ||
      failed(expectDim(*this, getResult(), 1, f, "result")) ||
      failed(expectDim(*this, getResult(), 0, dim(getInput(), 0), "result")) ||
      failed(verifyActQuant(*this, getActQuant(), getWeight())))
    return failure();
  if (getBias())
    return expectDim(*this, getBias(), 0, rows, "bias");
  return success();
}

//===----------------------------------------------------------------------===//
// Kernel level
//===----------------------------------------------------------------------===//

void KernelOp::build(OpBuilder &builder, OperationState &state, StringRef name,
                     Phase phase) {
  state.addAttribute(getSymNameAttrName(state.name),
                     builder.getStringAttr(name));
  state.addAttribute(getPhaseAttrName(state.name),
                     PhaseAttr::get(builder.getContext(), phase));
  state.addRegion()->emplaceBlock();
}

OperandRange KernelOp::getResultValues() {
  return cast<YieldOp>(getBlock().getTerminator()).getValues();
}

LogicalResult KernelOp::verify() {
  Block &block = getBlock();
  auto yield = dyn_cast_or_null<YieldOp>(
      block.empty() ? nullptr : &block.back());
  if (!yield)
    return emitOpError("body must end with tfm.yield");
  if (yield.getValues().empty())
    return emitOpError("must yield at least one value");
  if (getSchedule() && !getTarget())
    return emitOpError("has a schedule but no target");
  for (Type t : block.getArgumentTypes())
    if (!isa<RankedTensorType, IndexType, KvCacheType>(t))
      return emitOpError("arguments must be ranked tensors, indices or KV "
                         "caches, got ")
             << t;
  return success();
}

LogicalResult LaunchOp::verifySymbolUses(SymbolTableCollection &symbols) {
  auto kernel =
      symbols.lookupNearestSymbolFrom<KernelOp>(*this, getKernelAttr());
  if (!kernel)
    return emitOpError("no tfm.kernel named ") << getKernelAttr();
  TypeRange params = kernel.getBlock().getArgumentTypes();
  if (params != getArgs().getTypes())
    return emitOpError("argument types do not match kernel ")
           << getKernelAttr();
  TypeRange yielded = kernel.getResultValues().getTypes();
  if (yielded != getResultTypes())
    return emitOpError("result types do not match the kernel's");
  int64_t dynamic = 0;
  for (Type t : getResultTypes())
    dynamic += cast<RankedTensorType>(t).getNumDynamicDims();
  if (int64_t(getDims().size()) != dynamic)
    return emitOpError("needs one dims operand per dynamic result dimension (")
           << dynamic << "), got " << getDims().size();
  return success();
}

//===----------------------------------------------------------------------===//
// Semantics helpers shared by every implementation of the ops
//===----------------------------------------------------------------------===//

static SmallVector<double> inverseFrequencies(int64_t rd, double theta,
                                              RopeScalingAttr scaling) {
  if (scaling && scaling.getKind() == RopeScalingKind::ntk) {
    double factor = scaling.getFactor().convertToDouble();
    theta *= std::pow(factor, double(rd) / double(rd - 2));
  }
  SmallVector<double> inv(rd / 2);
  for (int64_t k = 0; k < rd / 2; ++k)
    inv[k] = 1.0 / std::pow(theta, double(2 * k) / double(rd));
  if (!scaling)
    return inv;
  double factor = scaling.getFactor().convertToDouble();
  if (scaling.getKind() == RopeScalingKind::factors) {
    // One divisor per frequency (llama.cpp's rope_freqs, LongRoPE's
    // factors); the verifier checked there are rd/2.
    ArrayRef<double> factors = scaling.getFreqFactors().asArrayRef();
    for (int64_t k = 0; k < rd / 2 && k < int64_t(factors.size()); ++k)
      inv[k] /= factors[k];
  } else if (scaling.getKind() == RopeScalingKind::linear) {
    for (double &f : inv)
      f /= factor;
  } else if (scaling.getKind() == RopeScalingKind::llama3) {
    double low = scaling.getLowFreqFactor().convertToDouble();
    double high = scaling.getHighFreqFactor().convertToDouble();
    double original = double(scaling.getOriginalMaxPositions());
    double lowWavelen = original / low, highWavelen = original / high;
    for (double &f : inv) {
      double wavelen = 2 * M_PI / f;
      if (wavelen < highWavelen)
        continue; // high frequencies: unchanged
      if (wavelen > lowWavelen) {
        f /= factor; // low frequencies: fully scaled
        continue;
      }
      double smooth = (original / wavelen - low) / (high - low);
      f = (1 - smooth) * f / factor + smooth * f;
    }
  } else if (scaling.getKind() == RopeScalingKind::yarn) {
    // Feature pair k turns original·inv[k]/2π times over the original
    // context; the pair index at which that equals r rotations is
    // d·ln(original/(2πr)) / (2·ln θ). Below beta_fast's index the pairs
    // keep their frequency, above beta_slow's they are interpolated, and a
    // linear ramp (over pair indices, rounded outwards) joins the two.
    double original = double(scaling.getOriginalMaxPositions());
    auto pairAt = [&](double rotations) {
      return double(rd) * std::log(original / (rotations * 2 * M_PI)) /
             (2 * std::log(theta));
    };
    double low = std::max(std::floor(pairAt(
                              scaling.getBetaFast().convertToDouble())),
                          0.0);
    double high = std::min(std::ceil(pairAt(
                               scaling.getBetaSlow().convertToDouble())),
                           double(rd - 1));
    if (low == high)
      high += 0.001;
    for (int64_t k = 0; k < rd / 2; ++k) {
      double ramp = std::clamp((double(k) - low) / (high - low), 0.0, 1.0);
      double keep = 1 - ramp; // the extrapolated (unchanged) share
      inv[k] = inv[k] / factor * (1 - keep) + inv[k] * keep;
    }
  }
  return inv;
}

static double attentionFactor(RopeScalingAttr scaling) {
  return scaling ? scaling.getAttentionFactor().convertToDouble() : 1.0;
}

double RopeOp::getAttentionFactor() {
  return attentionFactor(getScalingAttr());
}

double QkvRopeOp::getAttentionFactor() {
  return attentionFactor(getScalingAttr());
}

SmallVector<double> RopeOp::getInverseFrequencies() {
  return inverseFrequencies(getRotaryDim(), getTheta().convertToDouble(),
                            getScalingAttr());
}

SmallVector<double> QkvRopeOp::getInverseFrequencies() {
  return inverseFrequencies(getRotaryDim(), getTheta().convertToDouble(),
                            getScalingAttr());
}

SmallVector<double> AlibiOp::getSlopes(int64_t heads) {
  int64_t closest = 1;
  while (closest * 2 <= heads)
    closest *= 2;
  auto baseFor = [](int64_t n) {
    return std::pow(2.0, -std::pow(2.0, -(std::log2(double(n)) - 3)));
  };
  SmallVector<double> slopes;
  double base = baseFor(closest);
  for (int64_t i = 1; i <= closest; ++i)
    slopes.push_back(std::pow(base, double(i)));
  if (closest != heads) {
    double extra = baseFor(2 * closest);
    int64_t remaining = std::min(closest, heads - closest);
    for (int64_t i = 0; i < remaining; ++i)
      slopes.push_back(std::pow(extra, double(2 * i + 1)));
  }
  return slopes;
}

int64_t RelativeBiasOp::getBucket(int64_t relative, bool bidirectional,
                                  int64_t buckets, int64_t maxDistance) {
  int64_t bucket = 0;
  if (bidirectional) {
    buckets /= 2;
    if (relative > 0)
      bucket += buckets;
    relative = std::abs(relative);
  } else {
    relative = -std::min<int64_t>(relative, 0);
  }
  int64_t maxExact = buckets / 2;
  if (relative < maxExact)
    return bucket + relative;
  float ratio = std::log(float(relative) / float(maxExact)) /
                std::log(float(maxDistance) / float(maxExact));
  int64_t large = maxExact + int64_t(ratio * float(buckets - maxExact));
  return bucket + std::min(large, buckets - 1);
}
