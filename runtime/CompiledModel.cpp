//===- CompiledModel.cpp - executing host plans -----------------*- C++ -*-===//

#include "runtime/CompiledModel.h"
#include "runtime/Quant.h"
#include "runtime/ThreadPool.h"

#include "HalideRuntime.h"

#include <algorithm>
#include <new>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <fmt/format.h>
#include <mutex>
#include <sys/mman.h>

using namespace tfm::rt;

namespace {

std::mutex errorMutex;
std::string lastKernelError;

/// Halide's runtime reports kernel errors (a bounds violation, an allocation
/// failure) here; the kernel then returns non-zero.
extern "C" void tfmHalideError(void *, const char *message) {
  std::lock_guard<std::mutex> lock(errorMutex);
  lastKernelError = message;
}

std::string takeKernelError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  std::string message = lastKernelError;
  lastKernelError.clear();
  return message;
}

constexpr size_t kAlignment = 64;

} // namespace

uint64_t CompiledModel::concatenatedBytes() const {
  uint64_t bytes = 0;
  for (const std::vector<uint8_t> &c : concatenated_)
    bytes += c.size();
  return bytes;
}

void tfm::rt::setNumThreads(int threads) {
  if (threads > 0)
    setPoolThreads(threads);
}

Expected<std::unique_ptr<CompiledModel>>
CompiledModel::load(const EmbeddedModel &embedded,
                    const std::string &weightsPath, uint64_t seed,
                    std::optional<DType> convertTo) {
  halide_set_error_handler(tfmHalideError);
  // The kernels' parallel loops on workers that spin between loops.
  halide_set_custom_do_par_for(poolParallelFor);
  auto plan = parsePlan(embedded.planText);
  if (!plan)
    return Error("internal: " + plan.error().message());
  std::unique_ptr<CompiledModel> model(new CompiledModel());
  model->plan_ = plan.take();
  const Plan &p = model->plan_;
  if (p.kernels.size() != embedded.numKernels)
    return Error("internal: the plan names a different number of kernels "
                 "than the program holds");
  model->kernels_.assign(embedded.kernels,
                         embedded.kernels + embedded.numKernels);
  std::vector<WeightRequest> requests;
  for (const WeightDef &w : p.weights)
    if (w.parts.empty())
      requests.push_back({w.name, w.shape, w.storage});
  if (convertTo) {
    // The type most matrices are kept in: what --weight-type must name.
    std::map<DType, int> count;
    for (const WeightRequest &r : requests)
      if (r.shape.size() >= 2)
        ++count[r.storage];
    DType kept = DType::F32;
    for (const auto &[type, n] : count)
      if (n > count[kept])
        kept = type;
    if (*convertTo != kept)
      return Error(fmt::format(
          "--weight-type {}: this program keeps its matrices as {}; compile "
          "it with --weight-type {} to keep them as {}",
          storageName(*convertTo), storageName(kept), storageName(*convertTo),
          storageName(*convertTo)));
  }
  auto weights = weightsPath.empty()
                     ? randomWeights(requests, seed)
                     : loadWeights(weightsPath, requests, p.layout,
                                   convertTo.has_value());
  if (!weights)
    return weights.error();
  model->weights_ = weights.take();
  // A weight read only through its concatenations is not kept twice: its
  // converted copy is freed once the last concatenation using it is built
  // (a view of the mapped file costs nothing to keep).
  std::vector<bool> bound(p.weights.size(), false); // read by a kernel
  for (const EntryPlan *entry : {&p.prefill, &p.decode})
    for (const Step &step : entry->steps)
      for (const PlanArg &a : step.args) {
        if (a.isScalar)
          continue;
        const BufferDef &d = entry->buffers[size_t(a.index)];
        if (d.kind == BufferDef::Kind::Weight)
          bound[size_t(d.index)] = true;
      }
  // The concatenations are new memory: check they fit before building.
  double concatBytes = 0;
  for (const WeightDef &w : p.weights)
    if (!w.parts.empty()) {
      double n = 1;
      for (int64_t d : w.shape)
        n *= double(d);
      concatBytes += n * double(blockBytes(w.storage)) /
                     double(blockElements(w.storage));
    }
  if (double available = availableMemoryBytes(); concatBytes > available)
    return Error(fmt::format("the fused weights (stacked projections) need "
                             "{:.2f} GiB of memory; the system has {:.2f} "
                             "GiB available",
                             concatBytes / (1 << 30), available / (1 << 30)));
  std::vector<int> pendingUses(p.weights.size(), 0);
  for (const WeightDef &w : p.weights)
    for (int part : w.parts)
      ++pendingUses[size_t(part)];
  for (const WeightDef &w : p.weights) {
    if (w.parts.empty()) {
      model->weightData_.push_back(model->weights_.find(w.name)->data);
      continue;
    }
    // A concatenation the fusions asked for: built once, here, of parts
    // stored alike (the verifier of tfm.concat sees to it).
    auto bytesOf = [](const WeightDef &def) {
      int64_t n = 1;
      for (int64_t d : def.shape)
        n *= d;
      return storageSize(def.storage, n);
    };
    int64_t size = bytesOf(w);
    std::vector<uint8_t> &data = model->concatenated_.emplace_back();
    try {
      data.reserve(size_t(size));
    } catch (const std::bad_alloc &) {
      return Error(fmt::format("cannot allocate {:.1f} MiB for the fused "
                               "weight '{}'",
                               double(size) / (1 << 20), w.name));
    }
    for (int part : w.parts) {
      const WeightDef &source = p.weights[size_t(part)];
      if (source.storage != w.storage)
        return Error("internal: concatenated weight " + w.name +
                     " has parts of another storage type");
      int64_t n = bytesOf(source);
      const uint8_t *from =
          static_cast<const uint8_t *>(model->weightData_[size_t(part)]);
      data.insert(data.end(), from, from + n);
    }
    if (int64_t(data.size()) != size)
      return Error("internal: concatenated weight " + w.name +
                   " has the wrong size");
    model->weightData_.push_back(data.data());
    for (int part : w.parts)
      if (--pendingUses[size_t(part)] == 0 && !bound[size_t(part)] &&
          model->weights_.release(p.weights[size_t(part)].name))
        model->weightData_[size_t(part)] = nullptr;
  }
  return model;
}

namespace {
/// How a buffer's elements are stored: a weight as its weight, a view of
/// the cache as the cache, anything else (activations, tokens) as it is.
DType storedAs(const BufferDef &d, const Plan &plan) {
  switch (d.kind) {
  case BufferDef::Kind::Weight:
    return plan.weights[size_t(d.index)].storage;
  case BufferDef::Kind::Keys:
  case BufferDef::Kind::Values:
  case BufferDef::Kind::KeySlots:
  case BufferDef::Kind::ValueSlots:
    return plan.kvStorage;
  case BufferDef::Kind::Tokens:
  case BufferDef::Kind::Arena:
    break;
  }
  return DType::F32;
}
} // namespace

/// An entry's buffers and argument arrays, built once per session so a call
/// only refreshes sizes and pointers.
struct Session::Bound {
  const EntryPlan &entry;
  std::vector<halide_buffer_t> buffers;
  std::vector<std::array<halide_dimension_t, 4>> dims;
  std::vector<int32_t> scalars; // register values as the kernels take them
  std::vector<std::vector<void *>> args;
  /// The step that computes the logits (the LM head, with its prologue
  /// norm and epilogue; it works row by row), and its buffers that may hold
  /// one row per token: activations and tokens, not weights or caches.
  int logitsStep = -1;
  std::vector<int> logitsRowBuffers;

  Bound(const EntryPlan &e, const Plan &plan) : entry(e) {
    buffers.resize(e.buffers.size());
    dims.resize(e.buffers.size());
    scalars.resize(e.registers.size());
    for (size_t i = 0; i < buffers.size(); ++i) {
      halide_buffer_t &b = buffers[i];
      const BufferDef &d = e.buffers[i];
      b = halide_buffer_t();
      b.type = d.isInt ? halide_type_t(halide_type_int, 32)
                       : halide_type_t(halide_type_float, 32);
      // A weight or the cache as stored: the kernels take f16 and bf16 as
      // their bits, a block format as its bytes.
      DType storage = storedAs(d, plan);
      if (isBlockFormat(storage))
        b.type = halide_type_t(halide_type_uint, 8);
      else if (storage != DType::F32)
        b.type = halide_type_t(halide_type_uint, 16);
      b.dimensions = int32_t(e.buffers[i].shape.size());
      b.dim = dims[i].data();
    }
    for (size_t i = 0; i < e.steps.size(); ++i) {
      const Step &s = e.steps[i];
      if (s.kind == Step::Kind::Launch &&
          std::find(s.results.begin(), s.results.end(), e.logits) !=
              s.results.end())
        logitsStep = int(i);
    }
    if (logitsStep >= 0) {
      const Step &s = e.steps[size_t(logitsStep)];
      std::vector<int> used = s.results;
      for (const PlanArg &a : s.args)
        if (!a.isScalar)
          used.push_back(a.index);
      for (int index : used) {
        const BufferDef &d = e.buffers[size_t(index)];
        if ((d.kind == BufferDef::Kind::Arena ||
             d.kind == BufferDef::Kind::Tokens) &&
            d.shape.size() >= 2 && std::find(logitsRowBuffers.begin(), logitsRowBuffers.end(),
                      index) == logitsRowBuffers.end())
          logitsRowBuffers.push_back(index);
      }
    }
    for (const Step &s : e.steps) {
      std::vector<void *> a;
      if (s.kind == Step::Kind::Launch) {
        for (const PlanArg &arg : s.args)
          a.push_back(arg.isScalar ? static_cast<void *>(&scalars[arg.index])
                                   : static_cast<void *>(&buffers[arg.index]));
        for (int r : s.results)
          a.push_back(&buffers[size_t(r)]);
      }
      args.push_back(std::move(a));
    }
  }
};

ZeroPages::ZeroPages(size_t bytes) : bytes_(bytes) {
  if (bytes == 0)
    return;
  // Private anonymous pages read as zero and are committed on first write;
  // no reservation, so a long context's cache is not refused up front.
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED)
    data_ = static_cast<uint8_t *>(p);
}

ZeroPages::~ZeroPages() {
  if (data_)
    munmap(data_, bytes_);
}

namespace {
size_t cacheBytes(const Plan &p) {
  return size_t(p.maxSeqLen) * size_t(cacheBytesPerPosition(p));
}

} // namespace

uint8_t *Session::keys(int64_t layer) const {
  const Plan &p = model_.plan();
  return cache_.data() + layer * p.maxSeqLen * cacheRowBytes(p, true);
}

uint8_t *Session::values(int64_t layer) const {
  const Plan &p = model_.plan();
  if (p.valuesInKeys())
    return keys(layer);
  return cache_.data() + p.layers * p.maxSeqLen * cacheRowBytes(p, true) +
         layer * p.maxSeqLen * cacheRowBytes(p, false);
}

Session::Session(const CompiledModel &model)
    : model_(model), cache_(cacheBytes(model.plan())) {
  const Plan &p = model.plan();
  size_t arena = size_t(std::max(p.prefill.arenaBytes, p.decode.arenaBytes));
  arena = (arena + kAlignment - 1) / kAlignment * kAlignment;
  arena_ = static_cast<float *>(std::aligned_alloc(kAlignment,
                                                   std::max(arena, kAlignment)));
  prefillBound_ = std::make_unique<Bound>(p.prefill, p);
  decodeBound_ = std::make_unique<Bound>(p.decode, p);
}

Session::~Session() { std::free(arena_); }

Status Session::status() const {
  const Plan &p = model_.plan();
  if (cache_.bytes() > 0 && !cache_.data())
    return Error(fmt::format("cannot map {:.1f} GiB for the KV cache of {} "
                             "positions",
                             double(cache_.bytes()) / double(1 << 30),
                             p.maxSeqLen));
  if (!arena_)
    return Error("cannot allocate the activation arena");
  return Status::ok();
}

Status Session::run(const EntryPlan &entry, const int32_t *tokens,
                    int64_t count, int64_t pos, float *logits,
                    LogitRows rows) {
  const Plan &p = model_.plan();
  Bound &bound = &entry == &p.decode ? *decodeBound_ : *prefillBound_;
  if (Status s = status(); !s)
    return s;
  if (pos < 0 || count < 1 || pos + count > p.maxSeqLen)
    return Error(fmt::format("positions [{}, {}) are outside the KV cache of "
                             "{} positions",
                             pos, pos + count, p.maxSeqLen));

  std::vector<int64_t> regs(entry.registers.size());
  for (size_t r = 0; r < regs.size(); ++r) {
    const ScalarDef &d = entry.registers[r];
    switch (d.kind) {
    case ScalarDef::Kind::Pos: regs[r] = pos; break;
    case ScalarDef::Kind::Tokens: regs[r] = count; break;
    case ScalarDef::Kind::Const: regs[r] = d.value; break;
    case ScalarDef::Kind::Add: regs[r] = regs[d.a] + regs[d.b]; break;
    }
    bound.scalars[r] = int32_t(regs[r]);
  }
  auto sizeOf = [&](const Size &s) {
    return s.reg >= 0 ? regs[s.reg] : s.constant;
  };
  for (size_t i = 0; i < entry.buffers.size(); ++i) {
    const BufferDef &d = entry.buffers[i];
    halide_buffer_t &b = bound.buffers[i];
    int rank = int(d.shape.size());
    int64_t stride = 1;
    // A row of a block-format weight or cache is its bytes.
    DType storage = storedAs(d, p);
    // Values kept in the keys are read with the keys' row stride.
    bool inKeys = p.valuesInKeys() && (d.kind == BufferDef::Kind::Values ||
                                       d.kind == BufferDef::Kind::ValueSlots);
    for (int k = 0; k < rank; ++k) {
      int64_t extent = sizeOf(d.shape[size_t(rank - 1 - k)]);
      if (k == 0 && isBlockFormat(storage))
        extent = storageSize(storage, extent);
      b.dim[k] = halide_dimension_t(0, int32_t(extent), int32_t(stride));
      stride *= k == 0 && inKeys ? cacheRowBytes(p, true) / b.type.bytes() : extent;
    }
    switch (d.kind) {
    case BufferDef::Kind::Weight:
      b.host = static_cast<uint8_t *>(const_cast<void *>(model_.weight(d.index)));
      break;
    case BufferDef::Kind::Tokens:
      b.host = reinterpret_cast<uint8_t *>(const_cast<int32_t *>(tokens));
      break;
    case BufferDef::Kind::Arena:
      b.host = reinterpret_cast<uint8_t *>(arena_) + d.offset;
      break;
    case BufferDef::Kind::Keys:
      b.host = keys(d.index);
      break;
    case BufferDef::Kind::Values:
      b.host = values(d.index);
      break;
    case BufferDef::Kind::KeySlots:
      b.host = keys(d.index) +
               regs[size_t(d.at)] * b.dim[0].extent * b.type.bytes();
      break;
    case BufferDef::Kind::ValueSlots:
      b.host = values(d.index) + regs[size_t(d.at)] * cacheRowBytes(p, false);
      break;
    }
  }

  bool lastRowOnly = rows == LogitRows::Last && count > 1;
  for (size_t i = 0; i < entry.steps.size(); ++i) {
    const Step &s = entry.steps[i];
    bool logitsStep = int(i) == bound.logitsStep;
    if (logitsStep && rows == LogitRows::None)
      continue;
    // For the last row's logits alone, the logits step's per-row buffers
    // are narrowed to that row for the call, then restored.
    struct Narrowed {
      halide_buffer_t *buffer;
      uint8_t *host;
      int32_t extent;
    };
    std::vector<Narrowed> narrowed;
    if (logitsStep && lastRowOnly)
      for (int index : bound.logitsRowBuffers) {
        halide_buffer_t &b = bound.buffers[size_t(index)];
        halide_dimension_t &rowsDim = b.dim[b.dimensions - 1];
        if (rowsDim.extent != count)
          continue;
        narrowed.push_back({&b, b.host, rowsDim.extent});
        b.host += (count - 1) * int64_t(rowsDim.stride) *
                  int64_t(b.type.bytes());
        rowsDim.extent = 1;
      }
    if (s.kind == Step::Kind::KvWrite) {
      // Rows [at, at + rows) of the cache, rounded to its storage.
      const halide_buffer_t &k = bound.buffers[size_t(s.keys)];
      const halide_buffer_t &v = bound.buffers[size_t(s.values)];
      int64_t rows = k.dim[1].extent, at = regs[s.pos];
      storeValues(p.kvStorage, reinterpret_cast<const float *>(k.host),
                  rows * k.dim[0].extent,
                  keys(s.layer) + at * cacheRowBytes(p, true));
      // Values kept in the keys were written with them.
      if (!p.valuesInKeys())
        storeValues(p.kvStorage, reinterpret_cast<const float *>(v.host),
                    rows * v.dim[0].extent,
                    values(s.layer) + at * cacheRowBytes(p, false));
      continue;
    }
    if (s.kind == Step::Kind::KvRead) {
      // Rows [0, rows) of the cache as f32, for a kernel that takes them so.
      halide_buffer_t &k = bound.buffers[size_t(s.keys)];
      halide_buffer_t &v = bound.buffers[size_t(s.values)];
      loadValues(p.kvStorage, keys(s.layer), k.dim[1].extent * k.dim[0].extent,
                 reinterpret_cast<float *>(k.host));
      float *to = reinterpret_cast<float *>(v.host);
      if (p.valuesInKeys()) {
        // The values are the first columns of the rows just widened.
        const float *from = reinterpret_cast<const float *>(k.host);
        for (int64_t r = 0; r < v.dim[1].extent; ++r)
          std::copy_n(from + r * k.dim[0].extent, v.dim[0].extent,
                      to + r * v.dim[0].extent);
      } else {
        loadValues(p.kvStorage, values(s.layer),
                   v.dim[1].extent * v.dim[0].extent, to);
      }
      continue;
    }
    std::chrono::steady_clock::time_point start;
    if (profiling_)
      start = std::chrono::steady_clock::now();
    int rc = model_.kernel(s.kernel)(bound.args[i].data());
    if (profiling_)
      account(s, bound, pos + count, std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count());
    for (const Narrowed &n : narrowed) {
      n.buffer->host = n.host;
      n.buffer->dim[n.buffer->dimensions - 1].extent = n.extent;
    }
    if (rc != 0)
      return Error(fmt::format("kernel {} failed ({}): {}",
                               p.kernels[size_t(s.kernel)].symbol, rc,
                               takeKernelError()));
  }
  if (logits && rows != LogitRows::None) {
    const float *from = reinterpret_cast<const float *>(
        bound.buffers[size_t(entry.logits)].host);
    int64_t first = rows == LogitRows::Last ? count - 1 : 0;
    std::memcpy(logits, from + first * p.vocabSize,
                size_t((count - first) * p.vocabSize) * sizeof(float));
  }
  return Status::ok();
}

namespace {

int64_t elements(const halide_buffer_t &b) {
  int64_t n = 1;
  for (int i = 0; i < b.dimensions; ++i)
    n *= b.dim[i].extent;
  return n;
}

} // namespace

void Session::account(const Step &step, const Bound &bound,
                      int64_t cachedRows, double seconds) {
  if (stats_.size() < model_.plan().kernels.size())
    stats_.resize(model_.plan().kernels.size());
  KernelStats &k = stats_[size_t(step.kernel)];
  ++k.calls;
  k.seconds += seconds;
  // Bytes moved: every buffer argument read once, the results written once;
  // of a view of the whole cache, the positions filled so far; of an
  // embedding table, the rows of the tokens looked up.
  const std::string &symbol = model_.plan().kernels[size_t(step.kernel)].symbol;
  bool embedding = symbol.find("_embed") != std::string::npos;
  double bytes = 0;
  for (int r : step.results)
    bytes += 4.0 * double(elements(bound.buffers[size_t(r)]));
  int64_t resultRows =
      step.results.empty()
          ? 0
          : bound.buffers[size_t(step.results[0])].dim[
                bound.buffers[size_t(step.results[0])].dimensions - 1].extent;
  for (const PlanArg &a : step.args) {
    if (a.isScalar)
      continue;
    const halide_buffer_t &b = bound.buffers[size_t(a.index)];
    BufferDef::Kind kind = bound.entry.buffers[size_t(a.index)].kind;
    bool cache = kind == BufferDef::Kind::Keys ||
                 kind == BufferDef::Kind::Values;
    bool table = embedding && kind == BufferDef::Kind::Weight &&
                 b.dimensions == 2;
    bytes += double(b.type.bytes()) *
             (cache   ? double(b.dim[0].extent) *
                            double(std::min<int64_t>(b.dim[1].extent,
                                                     cachedRows))
              : table ? double(b.dim[0].extent) *
                            double(std::min<int64_t>(b.dim[1].extent,
                                                     resultRows))
                      : double(elements(b)));
  }
  k.bytes += bytes;
  // FLOPs of projections (the bulk of the work): 2·rows·N·K.
  bool projection = symbol.find("_linear") != std::string::npos ||
                    symbol.find("_lm_head") != std::string::npos ||
                    symbol.find("_qkv_rope") != std::string::npos;
  if (projection && !step.args.empty() && !step.args[0].isScalar) {
    // The input is the first argument; the weight the first later weight
    // matrix with as many columns (a prologue's residual and gains come in
    // between).
    const halide_buffer_t &x = bound.buffers[size_t(step.args[0].index)];
    for (size_t i = 1; i < step.args.size() && x.dimensions == 2; ++i) {
      if (step.args[i].isScalar ||
          bound.entry.buffers[size_t(step.args[i].index)].kind !=
              BufferDef::Kind::Weight)
        continue;
      const BufferDef &def = bound.entry.buffers[size_t(step.args[i].index)];
      const halide_buffer_t &w = bound.buffers[size_t(step.args[i].index)];
      DType storage = model_.plan().weights[size_t(def.index)].storage;
      if (w.dimensions == 2 &&
          storageSize(storage, x.dim[0].extent) == w.dim[0].extent *
                                                       w.type.bytes()) {
        k.flops += 2.0 * x.dim[1].extent * double(w.dim[1].extent) *
                   double(x.dim[0].extent);
        break;
      }
    }
  }
}

std::string Session::profileReport() const {
  std::vector<size_t> order;
  double total = 0;
  for (size_t i = 0; i < stats_.size(); ++i)
    if (stats_[i].calls) {
      order.push_back(i);
      total += stats_[i].seconds;
    }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return stats_[a].seconds > stats_[b].seconds;
  });
  std::string out = fmt::format("{:<32} {:>7} {:>10} {:>6} {:>9} {:>8} {:>10}\n",
                                "kernel", "calls", "ms", "%", "GFLOP/s",
                                "GB/s", "KB/call");
  for (size_t i : order) {
    const KernelStats &k = stats_[i];
    out += fmt::format(
        "{:<32} {:>7} {:>10.3f} {:>6.1f} {:>9} {:>8.2f} {:>10.1f}\n",
        model_.plan().kernels[i].symbol, k.calls, k.seconds * 1e3,
        100.0 * k.seconds / total,
        k.flops > 0 ? fmt::format("{:.2f}", k.flops / k.seconds / 1e9)
                    : std::string("-"),
        k.bytes / k.seconds / 1e9, k.bytes / double(k.calls) / 1e3);
  }
  out += fmt::format("{:<32} {:>7} {:>10.3f}\n", "total", "", total * 1e3);
  return out;
}

Status Session::prefill(const std::vector<int32_t> &ids, int64_t pos,
                        std::vector<float> &logits, LogitRows rows) {
  const Plan &p = model_.plan();
  size_t vocab = size_t(p.vocabSize);
  logits.resize(rows == LogitRows::All    ? ids.size() * vocab
                : rows == LogitRows::Last ? vocab
                                          : 0);
  for (size_t start = 0; start < ids.size();
       start += size_t(p.prefillChunk)) {
    int64_t count =
        std::min<int64_t>(p.prefillChunk, int64_t(ids.size() - start));
    bool last = start + size_t(count) == ids.size();
    LogitRows chunkRows =
        rows == LogitRows::All || last ? rows : LogitRows::None;
    float *out = rows == LogitRows::All ? logits.data() + start * vocab
                 : last                 ? logits.data()
                                        : nullptr;
    if (Status s = run(p.prefill, ids.data() + start, count,
                       pos + int64_t(start), out, chunkRows);
        !s)
      return s;
  }
  return Status::ok();
}

Status Session::decode(int32_t id, int64_t pos, std::vector<float> &logits) {
  logits.resize(size_t(model_.plan().vocabSize));
  return run(model_.plan().decode, &id, 1, pos, logits.data());
}
