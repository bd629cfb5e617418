//===- HostPlan.cpp - kernel-level IR → host plan ---------------*- C++ -*-===//

#include "compiler/link/HostPlan.h"
#include "compiler/StorageTypes.h"

#include "dialects/Tfm/TfmOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
namespace ir = mlir::tfm;
using llvm::formatv;

namespace tfm::link {
namespace {

constexpr int64_t kAlignment = 64;

class EntryBuilder {
public:
  EntryBuilder(rt::Plan &plan, llvm::StringMap<int> &weightIndex,
               llvm::StringMap<int> &kernelIndex, int64_t tokenBound)
      : plan_(plan), weightIndex_(weightIndex), kernelIndex_(kernelIndex),
        tokenBound_(tokenBound) {}

  bool build(func::FuncOp fn, rt::EntryPlan &entry, std::string &error) {
    entry_ = &entry;
    entry.name = fn.getName().str();
    Block &body = fn.getBody().front();
    if (body.getNumArguments() < 2) {
      error = "@" + entry.name + " does not take (tokens, pos, caches...)";
      return false;
    }
    // Arguments: tokens, position, one cache per layer.
    int tokens = addRegister({rt::ScalarDef::Kind::Tokens}, tokenBound_);
    int pos = addRegister({rt::ScalarDef::Kind::Pos}, plan_.maxSeqLen);
    regs_[body.getArgument(1)] = pos;
    rt::BufferDef tokenBuffer;
    tokenBuffer.kind = rt::BufferDef::Kind::Tokens;
    tokenBuffer.isInt = true;
    auto tokenType = cast<RankedTensorType>(body.getArgument(0).getType());
    tokenBuffer.shape = {tokenType.isDynamicDim(0)
                             ? rt::Size{0, tokens}
                             : rt::Size{tokenType.getDimSize(0), -1}};
    bufs_[body.getArgument(0)] = addBuffer(tokenBuffer, 0);
    for (unsigned i = 2; i < body.getNumArguments(); ++i)
      layers_[body.getArgument(i)] = int(i - 2);

    for (Operation &op : body) {
      if (!lower(&op, error)) {
        if (error.empty())
          error = formatv("the host plan cannot run '{0}' in @{1}",
                          op.getName(), entry.name)
                      .str();
        return false;
      }
    }
    planArena();
    return true;
  }

private:
  int addRegister(rt::ScalarDef def, int64_t bound) {
    entry_->registers.push_back(def);
    bounds_.push_back(bound);
    return int(entry_->registers.size() - 1);
  }

  int addBuffer(rt::BufferDef def, int64_t bytes) {
    entry_->buffers.push_back(def);
    bytes_.push_back(bytes);
    firstUse_.push_back(int(entry_->steps.size()));
    lastUse_.push_back(int(entry_->steps.size()));
    return int(entry_->buffers.size() - 1);
  }

  void use(int buffer) {
    lastUse_[size_t(buffer)] = int(entry_->steps.size());
  }

  /// A size of a dimension: static, or the register holding it.
  bool sizeOf(Value dim, rt::Size &out) {
    auto it = regs_.find(dim);
    if (it == regs_.end())
      return false;
    out = {0, it->second};
    return true;
  }

  int64_t bound(const rt::Size &s) {
    return s.reg >= 0 ? bounds_[size_t(s.reg)] : s.constant;
  }

  bool lower(Operation *op, std::string &error) {
    return llvm::TypeSwitch<Operation *, bool>(op)
        .Case([&](arith::ConstantOp c) {
          auto value = dyn_cast<IntegerAttr>(c.getValue());
          if (!value || !c.getType().isIndex())
            return false;
          rt::ScalarDef d{rt::ScalarDef::Kind::Const, value.getInt()};
          regs_[c.getResult()] = addRegister(d, value.getInt());
          return true;
        })
        .Case([&](arith::AddIOp a) {
          auto l = regs_.find(a.getLhs()), r = regs_.find(a.getRhs());
          if (l == regs_.end() || r == regs_.end())
            return false;
          rt::ScalarDef d{rt::ScalarDef::Kind::Add, 0, l->second, r->second};
          int64_t b = std::min(bounds_[size_t(l->second)] +
                                   bounds_[size_t(r->second)],
                               plan_.maxSeqLen);
          regs_[a.getResult()] = addRegister(d, b);
          return true;
        })
        .Case([&](tensor::DimOp d) {
          auto buffer = bufs_.find(d.getSource());
          auto index = d.getConstantIndex();
          if (buffer == bufs_.end() || !index)
            return false;
          rt::Size s = entry_->buffers[size_t(buffer->second)]
                           .shape[size_t(*index)];
          if (s.reg >= 0)
            regs_[d.getResult()] = s.reg;
          else
            regs_[d.getResult()] = addRegister(
                {rt::ScalarDef::Kind::Const, s.constant}, s.constant);
          return true;
        })
        .Case([&](ir::WeightOp w) {
          auto shape = w.getResult().getType().getShape();
          auto [it, added] = weightIndex_.try_emplace(
              w.getName(), int(plan_.weights.size()));
          if (added)
            plan_.weights.push_back({w.getName().str(),
                                     {shape.begin(), shape.end()},
                                     runtimeStorage(w.getResult().getType()),
                                     {}});
          rt::BufferDef def;
          def.kind = rt::BufferDef::Kind::Weight;
          def.index = it->second;
          for (int64_t d : shape)
            def.shape.push_back({d, -1});
          bufs_[w.getResult()] = addBuffer(def, 0);
          return true;
        })
        .Case([&](ir::LaunchOp l) {
          auto kernel = kernelIndex_.find(l.getKernel());
          if (kernel == kernelIndex_.end()) {
            error = ("no kernel @" + l.getKernel()).str();
            return false;
          }
          rt::Step step;
          step.kernel = kernel->second;
          for (Value arg : l.getArgs()) {
            if (auto b = bufs_.find(arg); b != bufs_.end()) {
              step.args.push_back({false, b->second});
              use(b->second);
            } else if (auto r = regs_.find(arg); r != regs_.end()) {
              step.args.push_back({true, r->second});
            } else if (auto layer = layers_.find(arg); layer != layers_.end()) {
              // A KV cache: its keys and values, every position.
              auto cache = cast<ir::KvCacheType>(arg.getType());
              auto [keys, values] =
                  cacheViews(cache, layer->second, {cache.getLen(), -1});
              step.args.push_back({false, keys});
              step.args.push_back({false, values});
            } else {
              error = "a launch argument the host plan does not know";
              return false;
            }
          }
          size_t nextDim = 0;
          for (Value result : l.getResults()) {
            auto type = cast<RankedTensorType>(result.getType());
            rt::BufferDef def;
            def.kind = rt::BufferDef::Kind::Arena;
            int64_t elements = 1;
            for (int64_t d : type.getShape()) {
              rt::Size s{d, -1};
              if (ShapedType::isDynamic(d) &&
                  !sizeOf(l.getDims()[nextDim++], s)) {
                error = "a launch size the host plan does not know";
                return false;
              }
              def.shape.push_back(s);
              elements *= bound(s);
            }
            bindCacheSlots(l, result, def);
            int buffer = addBuffer(
                def, def.kind == rt::BufferDef::Kind::Arena ? elements * 4 : 0);
            step.results.push_back(buffer);
            bufs_[result] = buffer;
          }
          entry_->steps.push_back(step);
          return true;
        })
        .Case([&](ir::KvWriteOp w) {
          auto layer = layers_.find(w.getCache());
          auto k = bufs_.find(w.getKey()), v = bufs_.find(w.getValue());
          auto p = regs_.find(w.getPos());
          if (layer == layers_.end() || k == bufs_.end() ||
              v == bufs_.end() || p == regs_.end())
            return false;
          layers_[w.getResult()] = layer->second;
          auto isSlot = [&](int b) {
            auto kind = entry_->buffers[size_t(b)].kind;
            return kind == rt::BufferDef::Kind::KeySlots ||
                   kind == rt::BufferDef::Kind::ValueSlots;
          };
          // The kernel wrote both straight into the cache.
          if (isSlot(k->second) && isSlot(v->second))
            return true;
          rt::Step step;
          step.kind = rt::Step::Kind::KvWrite;
          step.layer = layer->second;
          step.keys = k->second;
          step.values = v->second;
          step.pos = p->second;
          use(k->second);
          use(v->second);
          entry_->steps.push_back(step);
          return true;
        })
        .Case([&](ir::ConcatOp c) {
          // Rows of weights, stacked once at load time.
          rt::WeightDef def;
          std::vector<std::string> names;
          for (Value part : c.getInputs()) {
            auto b = bufs_.find(part);
            if (b == bufs_.end() ||
                entry_->buffers[size_t(b->second)].kind !=
                    rt::BufferDef::Kind::Weight) {
              error = "tfm.concat of something other than weights";
              return false;
            }
            int index = entry_->buffers[size_t(b->second)].index;
            def.parts.push_back(index);
            names.push_back(plan_.weights[size_t(index)].name);
          }
          def.name = llvm::join(names, "+");
          def.storage = runtimeStorage(c.getResult().getType());
          auto shape = c.getResult().getType().getShape();
          def.shape.assign(shape.begin(), shape.end());
          auto [it, added] =
              weightIndex_.try_emplace(def.name, int(plan_.weights.size()));
          if (added)
            plan_.weights.push_back(def);
          rt::BufferDef buffer;
          buffer.kind = rt::BufferDef::Kind::Weight;
          buffer.index = it->second;
          for (int64_t d : shape)
            buffer.shape.push_back({d, -1});
          bufs_[c.getResult()] = addBuffer(buffer, 0);
          return true;
        })
        .Case([&](ir::KvReadOp r) {
          auto layer = layers_.find(r.getCache());
          rt::Size len;
          if (layer == layers_.end() || !sizeOf(r.getLen(), len))
            return false;
          ir::KvCacheType cache = r.getCache().getType();
          if (cache.getStorage() == ir::Storage::f32) {
            // The kernels read the cache's rows in place.
            auto [keys, values] = cacheViews(cache, layer->second, len);
            bufs_[r.getKey()] = keys;
            bufs_[r.getValue()] = values;
            return true;
          }
          // The kernels take f32 tensors: the host loads the rows into the
          // arena.
          rt::Step step;
          step.kind = rt::Step::Kind::KvRead;
          step.layer = layer->second;
          int buffers[2];
          for (bool keys : {true, false}) {
            rt::BufferDef def;
            int64_t width = cacheWidth(cache, keys);
            def.shape = {len, {width, -1}};
            buffers[keys ? 0 : 1] = addBuffer(def, bound(len) * width * 4);
          }
          step.keys = buffers[0];
          step.values = buffers[1];
          bufs_[r.getKey()] = buffers[0];
          bufs_[r.getValue()] = buffers[1];
          entry_->steps.push_back(step);
          return true;
        })
        .Case([&](func::ReturnOp ret) {
          auto it = bufs_.find(ret.getOperand(0));
          if (it == bufs_.end())
            return false;
          entry_->logits = it->second;
          use(it->second);
          lastUse_[size_t(it->second)] = int(entry_->steps.size()) + 1;
          return true;
        })
        .Default([](Operation *) { return false; });
  }

  /// The elements of one cached row of keys (or of values) of `cache`.
  static int64_t cacheWidth(ir::KvCacheType cache, bool keys) {
    return cache.getKvHeads() *
           (keys ? cache.getHeadDim() : cache.getVHeadDim());
  }

  /// Views of the keys and the values of `layer`'s cache, rows [0, rows).
  std::pair<int, int> cacheViews(ir::KvCacheType cache, int layer,
                                 rt::Size rows) {
    int views[2];
    for (bool keys : {true, false}) {
      rt::BufferDef def;
      def.kind =
          keys ? rt::BufferDef::Kind::Keys : rt::BufferDef::Kind::Values;
      def.index = layer;
      def.shape = {rows, {cacheWidth(cache, keys), -1}};
      views[keys ? 0 : 1] = addBuffer(def, 0);
    }
    return {views[0], views[1]};
  }

  /// The one cache write among `v`'s readers, when every other reader is a
  /// kernel launch (which may read the rows from the cache as well).
  static ir::KvWriteOp onlyCacheWrite(Value v) {
    ir::KvWriteOp write;
    for (Operation *user : v.getUsers()) {
      if (auto w = dyn_cast<ir::KvWriteOp>(user)) {
        if (write && write != w)
          return nullptr;
        write = w;
      } else if (!isa<ir::LaunchOp>(user)) {
        return nullptr;
      }
    }
    return write;
  }

  /// A launch result that is written to the cache (and otherwise only read
  /// by kernels), together with the other half of that write from the same
  /// launch (the fused QKV kernel's K and V), is written by the kernel
  /// straight into its cache rows; kernels that read it read those rows.
  void bindCacheSlots(ir::LaunchOp launch, Value result, rt::BufferDef &def) {
    ir::KvWriteOp write = onlyCacheWrite(result);
    // A cache stored in another type than f32 is written by the host,
    // which rounds the rows (the kernels' results stay f32).
    if (!write || write.getKey() == write.getValue() ||
        write.getCache().getType().getStorage() != ir::Storage::f32)
      return;
    Value other = write.getKey() == result ? write.getValue() : write.getKey();
    auto layer = layers_.find(write.getCache());
    auto pos = regs_.find(write.getPos());
    if (other.getDefiningOp() != launch.getOperation() ||
        onlyCacheWrite(other) != write || layer == layers_.end() ||
        pos == regs_.end())
      return;
    def.kind = write.getKey() == result ? rt::BufferDef::Kind::KeySlots
                                        : rt::BufferDef::Kind::ValueSlots;
    def.index = layer->second;
    def.at = pos->second;
  }

  /// First-fit placement of every kernel result in one arena: a buffer
  /// lives from the step that writes it to the last step that reads it.
  void planArena() {
    struct Live {
      int64_t offset, size;
      int last;
    };
    std::vector<Live> live;
    int64_t total = 0;
    for (size_t b = 0; b < entry_->buffers.size(); ++b) {
      rt::BufferDef &def = entry_->buffers[b];
      if (def.kind != rt::BufferDef::Kind::Arena)
        continue;
      int at = firstUse_[b];
      llvm::erase_if(live, [&](const Live &l) { return l.last < at; });
      std::sort(live.begin(), live.end(),
                [](const Live &a, const Live &b) { return a.offset < b.offset; });
      int64_t size = (bytes_[b] + kAlignment - 1) / kAlignment * kAlignment;
      int64_t offset = 0;
      for (const Live &l : live) {
        if (l.offset - offset >= size)
          break;
        offset = std::max(offset, l.offset + l.size);
      }
      def.offset = offset;
      live.push_back({offset, size, lastUse_[b]});
      total = std::max(total, offset + size);
    }
    entry_->arenaBytes = total;
  }

  rt::Plan &plan_;
  llvm::StringMap<int> &weightIndex_;
  llvm::StringMap<int> &kernelIndex_;
  int64_t tokenBound_;
  rt::EntryPlan *entry_ = nullptr;
  DenseMap<Value, int> regs_, bufs_, layers_;
  std::vector<int64_t> bounds_, bytes_;
  std::vector<int> firstUse_, lastUse_;
};

} // namespace

bool buildPlan(ModuleOp module, int64_t prefillChunk,
               const std::function<std::string(Operation *)> &functionName,
               rt::Plan &plan, std::string &error) {
  auto model =
      module->getAttrOfType<ir::ModelAttr>(ir::TfmDialect::kModelAttrName);
  if (!model) {
    error = formatv("the module has no '{0}' attribute (the model facts a "
                    "program needs: vocabulary, cache geometry, weight "
                    "layout)",
                    ir::TfmDialect::kModelAttrName)
                .str();
    return false;
  }
  plan.model = module.getSymName().value_or("").str();
  plan.vocabSize = model.getVocab();
  plan.maxSeqLen = model.getMaxSeqLen();
  plan.prefillChunk = std::min(prefillChunk, model.getMaxSeqLen());
  plan.layers = model.getLayers();
  plan.kvHeads = model.getCacheKvHeads();
  plan.headDim = model.getCacheHeadDim();
  plan.vHeadDim = model.getCacheVHeadDim();
  // Every cache of every entry has the same type (the dialect verifies the
  // model's caches match it).
  for (auto fn : module.getOps<func::FuncOp>())
    for (Type type : fn.getArgumentTypes())
      if (auto cache = dyn_cast<ir::KvCacheType>(type))
        plan.kvStorage = runtimeStorage(cache.getStorage());
  plan.layout.naming = model.getNaming().str();
  plan.layout.numHeads = model.getHeads();
  plan.layout.numKvHeads = model.getKvHeads();
  plan.layout.headDim = model.getHeadDim();
  plan.layout.rotaryDim = model.getRotaryDim();
  plan.layout.vHeadDim = model.getVHeadDim();
  plan.layout.latentRank = model.getLatentRank();
  plan.layout.ropeInterleaved = model.getRopeInterleaved();
  plan.layout.layers = model.getLayers();
  plan.layout.hidden = model.getHidden();
  plan.layout.ropeTheta = model.getRopeTheta().convertToDouble();
  plan.layout.normEps = model.getNormEps().convertToDouble();

  llvm::StringMap<int> kernelIndex, weightIndex;
  for (ir::KernelOp k : module.getOps<ir::KernelOp>()) {
    kernelIndex[k.getSymName()] = int(plan.kernels.size());
    plan.kernels.push_back({k.getSymName().str(), functionName(k)});
  }
  auto prefill = module.lookupSymbol<func::FuncOp>("prefill");
  auto decode = module.lookupSymbol<func::FuncOp>("decode");
  if (!prefill || !decode) {
    error = "the module has no @prefill or @decode";
    return false;
  }
  EntryBuilder p(plan, weightIndex, kernelIndex, plan.prefillChunk);
  EntryBuilder d(plan, weightIndex, kernelIndex, 1);
  return p.build(prefill, plan.prefill, error) &&
         d.build(decode, plan.decode, error);
}

} // namespace tfm::link
