//===- Plan.h - the host plan of a compiled model ---------------*- C++ -*-===//
//
// What a compiled program does per entry point (prefill, decode): index
// arithmetic, buffer bindings (weights, arena slices, KV-cache views), kernel
// launches and cache writes, in order. tfmc writes the plan as text (the
// output of `tfmc --emit=host`); the program parses that same text at start.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_PLAN_H
#define TFM_RUNTIME_PLAN_H

#include "runtime/Status.h"
#include "runtime/WeightNames.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

namespace tfm::rt {

/// A scalar register's definition.
struct ScalarDef {
  enum class Kind { Pos, Tokens, Const, Add } kind = Kind::Const;
  int64_t value = 0; // Const
  int a = -1, b = -1; // Add
};

/// A size: a constant, or the value of a register.
struct Size {
  int64_t constant = 0;
  int reg = -1;
};

struct BufferDef {
  /// Keys/Values: cache rows [0, n) of a layer; KeySlots/ValueSlots: the
  /// rows [at, at + n) a kernel writes new keys or values into.
  enum class Kind {
    Weight,
    Tokens,
    Arena,
    Keys,
    Values,
    KeySlots,
    ValueSlots
  } kind = Kind::Arena;
  int index = 0;      // weight index, or cache layer
  int at = -1;        // KeySlots/ValueSlots: the register of the first row
  int64_t offset = 0; // arena byte offset
  std::vector<Size> shape; // outermost first
  bool isInt = false;      // tokens are i32
};

struct PlanArg {
  bool isScalar = false;
  int index = 0; // buffer or register
};

/// A kernel launch, or a cache access by the host: KvWrite stores the rows
/// of two buffers (keys, values) into a layer's cache at a position,
/// rounded to the cache's storage; KvRead loads the cache's rows [0, n) as
/// f32 into two arena buffers (for a kernel that takes the cache as f32
/// tensors while the cache stores another type).
struct Step {
  enum class Kind { Launch, KvWrite, KvRead } kind = Kind::Launch;
  int kernel = 0;
  std::vector<PlanArg> args;
  std::vector<int> results; // Launch: result buffers
  int layer = 0;           // KvWrite, KvRead
  int keys = 0, values = 0; // KvWrite: sources; KvRead: destinations
  int pos = 0;              // KvWrite: position register
};

struct EntryPlan {
  std::string name;
  int64_t arenaBytes = 0;
  std::vector<ScalarDef> registers;
  std::vector<BufferDef> buffers;
  std::vector<Step> steps;
  int logits = -1;
};

struct WeightDef {
  std::string name;
  std::vector<int64_t> shape;
  /// The type the program keeps it in (F32, F16 or BF16).
  DType storage = DType::F32;
  /// A concatenation (rows of earlier weights, stacked) built at load
  /// time; empty for a weight read from the weights file.
  std::vector<int> parts;
};

struct KernelDef {
  std::string symbol;
  std::string function;
};

struct Plan {
  std::string model;
  int64_t vocabSize = 0;
  int64_t maxSeqLen = 0;
  int64_t prefillChunk = 0;
  int64_t layers = 0;
  int64_t kvHeads = 0, headDim = 0, vHeadDim = 0;
  /// How the KV cache stores keys and values (F32, F16, BF16 or Q8_0).
  DType kvStorage = DType::F32;
  WeightLayout layout;
  /// Latent attention's values are the first vHeadDim features of each
  /// cached key row (the latent), so the cache keeps keys alone.
  bool valuesInKeys() const { return layout.latentRank > 0; }
  std::vector<WeightDef> weights;
  std::vector<KernelDef> kernels;
  EntryPlan prefill, decode;
};

/// Bytes from one cached row of keys (or of values) to the next, as the
/// cache stores them; values kept in the keys step by key rows.
int64_t cacheRowBytes(const Plan &plan, bool keys);

/// Bytes the KV cache takes per position, every layer's keys and values
/// as the plan's kvStorage stores them.
int64_t cacheBytesPerPosition(const Plan &plan);

/// A string as one word of the plan text: bytes other than letters, digits
/// and `_.-+/` as %HH (an empty string is `%`), so a model name from a
/// config can hold any byte and still never split or end a line.
std::string escapeWord(std::string_view text);
/// The inverse of escapeWord; nullopt for a malformed escape.
std::optional<std::string> unescapeWord(std::string_view word);

/// Parses the text form. Errors give the line.
Expected<Plan> parsePlan(const std::string &text);

/// The text form (what `tfmc --emit=host` prints).
std::string printPlan(const Plan &plan);

} // namespace tfm::rt

#endif // TFM_RUNTIME_PLAN_H
