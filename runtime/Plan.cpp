//===- Plan.cpp - host plans as text ----------------------------*- C++ -*-===//

#include "runtime/Plan.h"
#include "runtime/Quant.h"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <sstream>

using namespace tfm::rt;

std::string tfm::rt::escapeWord(std::string_view text) {
  std::string out = text.empty() ? "%" : "";
  for (unsigned char c : text) {
    bool plain = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                 (c >= 'A' && c <= 'Z') || c == '_' || c == '.' || c == '-' ||
                 c == '+' || c == '/';
    out += plain ? std::string(1, char(c)) : fmt::format("%{:02X}", c);
  }
  return out;
}

std::optional<std::string> tfm::rt::unescapeWord(std::string_view word) {
  if (word == "%")
    return std::string();
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    if (word[i] != '%') {
      out += word[i];
      continue;
    }
    if (i + 2 >= word.size())
      return std::nullopt;
    int hi = hex(word[i + 1]), lo = hex(word[i + 2]);
    if (hi < 0 || lo < 0)
      return std::nullopt;
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

namespace {

std::string sizeText(const Size &s) {
  return s.reg >= 0 ? fmt::format("%{}", s.reg) : std::to_string(s.constant);
}

std::string shapeText(const std::vector<Size> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + sizeText(shape[i]);
  return out + "]";
}

void printEntry(std::string &out, const EntryPlan &e) {
  out += fmt::format("entry {} arena {} registers {} buffers {}\n", e.name,
                     e.arenaBytes, e.registers.size(), e.buffers.size());
  for (size_t r = 0; r < e.registers.size(); ++r) {
    const ScalarDef &d = e.registers[r];
    switch (d.kind) {
    case ScalarDef::Kind::Pos:
      out += fmt::format("  %{} = pos\n", r);
      break;
    case ScalarDef::Kind::Tokens:
      out += fmt::format("  %{} = tokens\n", r);
      break;
    case ScalarDef::Kind::Const:
      out += fmt::format("  %{} = const {}\n", r, d.value);
      break;
    case ScalarDef::Kind::Add:
      out += fmt::format("  %{} = add %{} %{}\n", r, d.a, d.b);
      break;
    }
  }
  for (size_t b = 0; b < e.buffers.size(); ++b) {
    const BufferDef &d = e.buffers[b];
    std::string shape = shapeText(d.shape);
    switch (d.kind) {
    case BufferDef::Kind::Weight:
      out += fmt::format("  b{} = weight {} {}\n", b, d.index, shape);
      break;
    case BufferDef::Kind::Tokens:
      out += fmt::format("  b{} = tokens {}\n", b, shape);
      break;
    case BufferDef::Kind::Arena:
      out += fmt::format("  b{} = arena {} {}\n", b, d.offset, shape);
      break;
    case BufferDef::Kind::Keys:
      out += fmt::format("  b{} = keys {} {}\n", b, d.index, shape);
      break;
    case BufferDef::Kind::Values:
      out += fmt::format("  b{} = values {} {}\n", b, d.index, shape);
      break;
    case BufferDef::Kind::KeySlots:
      out += fmt::format("  b{} = key_slots {} %{} {}\n", b, d.index, d.at,
                         shape);
      break;
    case BufferDef::Kind::ValueSlots:
      out += fmt::format("  b{} = value_slots {} %{} {}\n", b, d.index, d.at,
                         shape);
      break;
    }
  }
  for (const Step &s : e.steps) {
    if (s.kind == Step::Kind::KvWrite) {
      out += fmt::format("  kv_write {} keys b{} values b{} at %{}\n", s.layer,
                         s.keys, s.values, s.pos);
      continue;
    }
    if (s.kind == Step::Kind::KvRead) {
      out += fmt::format("  kv_read {} keys b{} values b{}\n", s.layer, s.keys,
                         s.values);
      continue;
    }
    std::string args;
    for (size_t i = 0; i < s.args.size(); ++i)
      args += fmt::format("{}{}{}", i ? ", " : "", s.args[i].isScalar ? "%" : "b",
                          s.args[i].index);
    std::string results;
    for (size_t i = 0; i < s.results.size(); ++i)
      results += fmt::format("{}b{}", i ? ", " : "", s.results[i]);
    out += fmt::format("  launch {} ({}) -> {}\n", s.kernel, args, results);
  }
  out += fmt::format("  return b{}\nend\n", e.logits);
}

/// Line-by-line reader with error context.
class Reader {
public:
  explicit Reader(const std::string &text) : in_(text) {}

  bool next() {
    while (std::getline(in_, line_)) {
      ++number_;
      words_.clear();
      std::istringstream ws(line_);
      std::string w;
      while (ws >> w)
        words_.push_back(w);
      if (!words_.empty())
        return true;
    }
    return false;
  }
  const std::vector<std::string> &words() const { return words_; }
  Error error(const std::string &what) const {
    return Error(fmt::format("host plan line {}: {} ('{}')", number_, what,
                             line_));
  }

private:
  std::istringstream in_;
  std::string line_;
  std::vector<std::string> words_;
  int number_ = 0;
};

bool toInt(const std::string &s, int64_t &out) {
  if (s.empty())
    return false;
  char *end = nullptr;
  out = std::strtoll(s.c_str(), &end, 10);
  return *end == '\0';
}

bool toReal(const std::string &s, double &out) {
  if (s.empty())
    return false;
  char *end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return *end == '\0' && std::isfinite(out) && out >= 0;
}

/// "%3" → 3, "b7" → 7.
bool prefixed(const std::string &s, char prefix, int &out) {
  int64_t v;
  if (s.size() < 2 || s[0] != prefix || !toInt(s.substr(1), v) || v < 0)
    return false;
  out = int(v);
  return true;
}

/// Parses "[a, %b, c]" spread over words starting at `i`.
bool parseShape(const std::vector<std::string> &w, size_t i,
                std::vector<Size> &shape) {
  std::string joined;
  for (; i < w.size(); ++i)
    joined += w[i];
  if (joined.size() < 2 || joined.front() != '[' || joined.back() != ']')
    return false;
  joined = joined.substr(1, joined.size() - 2);
  std::istringstream items(joined);
  std::string item;
  while (std::getline(items, item, ',')) {
    Size s;
    if (!prefixed(item, '%', s.reg) && !toInt(item, s.constant))
      return false;
    shape.push_back(s);
  }
  return true;
}

Status parseEntry(Reader &r, EntryPlan &e) {
  while (r.next()) {
    const auto &w = r.words();
    if (w[0] == "end")
      return Status::ok();
    if (w[0] == "return" && w.size() == 2 && prefixed(w[1], 'b', e.logits))
      continue;
    int index;
    if (w.size() >= 3 && prefixed(w[0], '%', index) && w[1] == "=") {
      ScalarDef d;
      if (w[2] == "pos")
        d.kind = ScalarDef::Kind::Pos;
      else if (w[2] == "tokens")
        d.kind = ScalarDef::Kind::Tokens;
      else if (w[2] == "const" && w.size() == 4 && toInt(w[3], d.value))
        d.kind = ScalarDef::Kind::Const;
      else if (w[2] == "add" && w.size() == 5 && prefixed(w[3], '%', d.a) &&
               prefixed(w[4], '%', d.b))
        d.kind = ScalarDef::Kind::Add;
      else
        return r.error("bad register definition");
      if (size_t(index) != e.registers.size())
        return r.error("registers must be defined in order");
      e.registers.push_back(d);
      continue;
    }
    if (w.size() >= 4 && prefixed(w[0], 'b', index) && w[1] == "=") {
      BufferDef d;
      size_t shapeAt = 3;
      int64_t v = 0;
      if (w[2] == "weight" && toInt(w[3], v)) {
        d.kind = BufferDef::Kind::Weight;
        d.index = int(v);
        shapeAt = 4;
      } else if (w[2] == "tokens") {
        d.kind = BufferDef::Kind::Tokens;
        d.isInt = true;
      } else if (w[2] == "arena" && toInt(w[3], v)) {
        d.kind = BufferDef::Kind::Arena;
        d.offset = v;
        shapeAt = 4;
      } else if ((w[2] == "key_slots" || w[2] == "value_slots") &&
                 w.size() >= 5 && toInt(w[3], v) && prefixed(w[4], '%', d.at)) {
        d.kind = w[2] == "key_slots" ? BufferDef::Kind::KeySlots
                                     : BufferDef::Kind::ValueSlots;
        d.index = int(v);
        shapeAt = 5;
      } else if ((w[2] == "keys" || w[2] == "values") && toInt(w[3], v)) {
        d.kind = w[2] == "keys" ? BufferDef::Kind::Keys
                                : BufferDef::Kind::Values;
        d.index = int(v);
        shapeAt = 4;
      } else {
        return r.error("bad buffer definition");
      }
      if (!parseShape(w, shapeAt, d.shape))
        return r.error("bad shape");
      if (size_t(index) != e.buffers.size())
        return r.error("buffers must be defined in order");
      e.buffers.push_back(d);
      continue;
    }
    if (w[0] == "launch" && w.size() >= 4) {
      Step s;
      int64_t k;
      if (!toInt(w[1], k))
        return r.error("bad kernel index");
      s.kernel = int(k);
      size_t arrow = 2;
      while (arrow < w.size() && w[arrow] != "->")
        ++arrow;
      std::string results;
      for (size_t i = arrow + 1; i < w.size(); ++i)
        results += w[i];
      std::istringstream resultItems(results);
      std::string item;
      while (std::getline(resultItems, item, ',')) {
        int b;
        if (!prefixed(item, 'b', b))
          return r.error("bad result '" + item + "'");
        s.results.push_back(b);
      }
      if (arrow == w.size() || s.results.empty())
        return r.error("expected '-> bN, ...'");
      std::string args;
      for (size_t i = 2; i < arrow; ++i)
        args += w[i];
      if (args.size() < 2 || args.front() != '(' || args.back() != ')')
        return r.error("expected (args)");
      std::istringstream items(args.substr(1, args.size() - 2));
      while (std::getline(items, item, ',')) {
        PlanArg a;
        if (prefixed(item, '%', a.index))
          a.isScalar = true;
        else if (!prefixed(item, 'b', a.index))
          return r.error("bad argument '" + item + "'");
        s.args.push_back(a);
      }
      e.steps.push_back(s);
      continue;
    }
    if (w[0] == "kv_write" && w.size() == 8) {
      Step s;
      s.kind = Step::Kind::KvWrite;
      int64_t layer;
      if (!toInt(w[1], layer) || w[2] != "keys" ||
          !prefixed(w[3], 'b', s.keys) || w[4] != "values" ||
          !prefixed(w[5], 'b', s.values) || w[6] != "at" ||
          !prefixed(w[7], '%', s.pos))
        return r.error("bad kv_write");
      s.layer = int(layer);
      e.steps.push_back(s);
      continue;
    }
    if (w[0] == "kv_read" && w.size() == 6) {
      Step s;
      s.kind = Step::Kind::KvRead;
      int64_t layer;
      if (!toInt(w[1], layer) || w[2] != "keys" ||
          !prefixed(w[3], 'b', s.keys) || w[4] != "values" ||
          !prefixed(w[5], 'b', s.values))
        return r.error("bad kv_read");
      s.layer = int(layer);
      e.steps.push_back(s);
      continue;
    }
    return r.error("unknown statement");
  }
  return r.error("missing 'end'");
}

} // namespace

Expected<Plan> tfm::rt::parsePlan(const std::string &text) {
  Plan p;
  Reader r(text);
  if (!r.next() || r.words() != std::vector<std::string>{"tfm-plan", "2"})
    return r.error("expected 'tfm-plan 2'");
  while (r.next()) {
    const auto &w = r.words();
    int64_t a = 0, b = 0, c = 0;
    if (w[0] == "model" && w.size() == 2) {
      std::optional<std::string> name = unescapeWord(w[1]);
      if (!name)
        return r.error("bad escape in the model name");
      p.model = *name;
    } else if (w[0] == "vocab" && w.size() == 2 && toInt(w[1], a)) {
      p.vocabSize = a;
    } else if (w[0] == "max_seq_len" && w.size() == 2 && toInt(w[1], a)) {
      p.maxSeqLen = a;
    } else if (w[0] == "prefill_chunk" && w.size() == 2 && toInt(w[1], a)) {
      p.prefillChunk = a;
    } else if (w[0] == "cache" && w.size() == 6 && toInt(w[1], p.layers) &&
               toInt(w[2], a) && toInt(w[3], b) && toInt(w[4], c)) {
      p.kvHeads = a;
      p.headDim = b;
      p.vHeadDim = c;
      std::optional<DType> storage = storageNamed(w[5]);
      if (!storage || !(*storage == DType::F32 || *storage == DType::F16 ||
                        *storage == DType::BF16 || *storage == DType::Q8_0))
        return r.error("bad KV cache storage type");
      p.kvStorage = *storage;
    } else if (w[0] == "layout" && w.size() == 7) {
      int64_t interleaved;
      std::optional<std::string> naming = unescapeWord(w[1]);
      if (!naming || !toInt(w[2], p.layout.numHeads) ||
          !toInt(w[3], p.layout.numKvHeads) ||
          !toInt(w[4], p.layout.headDim) ||
          !toInt(w[5], p.layout.rotaryDim) || !toInt(w[6], interleaved))
        return r.error("bad layout");
      p.layout.naming = *naming;
      p.layout.ropeInterleaved = interleaved != 0;
    } else if (w[0] == "latent" && w.size() == 3 &&
               toInt(w[1], p.layout.vHeadDim) &&
               toInt(w[2], p.layout.latentRank)) {
    } else if (w[0] == "hparams" && w.size() == 5 &&
               toInt(w[1], p.layout.layers) && toInt(w[2], p.layout.hidden) &&
               toReal(w[3], p.layout.ropeTheta) &&
               toReal(w[4], p.layout.normEps)) {
    } else if (w[0] == "weight" && w.size() >= 5 && toInt(w[1], a) &&
               a == int64_t(p.weights.size())) {
      std::optional<std::string> name = unescapeWord(w[2]);
      if (!name)
        return r.error("bad weight name");
      WeightDef d{*name, {}, DType::F32, {}};
      std::optional<DType> storage = storageNamed(w[3]);
      if (!storage)
        return r.error("bad weight storage type");
      d.storage = *storage;
      size_t i = 4;
      for (; i < w.size() && w[i] != "of"; ++i) {
        if (!toInt(w[i], b))
          return r.error("bad weight shape");
        d.shape.push_back(b);
      }
      // "of I J ...": rows of earlier weights, stacked.
      for (++i; i < w.size(); ++i) {
        if (!toInt(w[i], b) || b < 0 || b >= a)
          return r.error("a concatenation must name earlier weights");
        d.parts.push_back(int(b));
      }
      p.weights.push_back(d);
    } else if (w[0] == "kernel" && w.size() == 4 && toInt(w[1], a) &&
               a == int64_t(p.kernels.size())) {
      std::optional<std::string> symbol = unescapeWord(w[2]);
      if (!symbol)
        return r.error("bad kernel name");
      p.kernels.push_back({*symbol, w[3]});
    } else if (w[0] == "entry" && w.size() == 8 &&
               (w[1] == "prefill" || w[1] == "decode")) {
      EntryPlan &e = w[1] == "prefill" ? p.prefill : p.decode;
      e.name = w[1];
      if (!toInt(w[3], e.arenaBytes))
        return r.error("bad arena size");
      if (Status s = parseEntry(r, e); !s)
        return Error(s.message());
    } else {
      return r.error("unknown statement");
    }
  }
  if (p.prefill.name.empty() || p.decode.name.empty())
    return Error("host plan: missing the prefill or decode entry");
  return p;
}

std::string tfm::rt::printPlan(const Plan &p) {
  std::string out = "tfm-plan 2\n";
  out += fmt::format("model {}\nvocab {}\nmax_seq_len {}\nprefill_chunk {}\n",
                     escapeWord(p.model), p.vocabSize, p.maxSeqLen,
                     p.prefillChunk);
  out += fmt::format("cache {} {} {} {} {}\n", p.layers, p.kvHeads, p.headDim,
                     p.vHeadDim, storageName(p.kvStorage));
  out += fmt::format("layout {} {} {} {} {} {}\n", escapeWord(p.layout.naming),
                     p.layout.numHeads, p.layout.numKvHeads, p.layout.headDim,
                     p.layout.rotaryDim, p.layout.ropeInterleaved ? 1 : 0);
  if (p.layout.latentRank > 0)
    out += fmt::format("latent {} {}\n", p.layout.vHeadDim,
                       p.layout.latentRank);
  out += fmt::format("hparams {} {} {:.17g} {:.17g}\n", p.layout.layers,
                     p.layout.hidden, p.layout.ropeTheta, p.layout.normEps);
  for (size_t i = 0; i < p.weights.size(); ++i) {
    const WeightDef &w = p.weights[i];
    out += fmt::format("weight {} {} {} {}", i, escapeWord(w.name),
                       storageName(w.storage), fmt::join(w.shape, " "));
    if (!w.parts.empty())
      out += fmt::format(" of {}", fmt::join(w.parts, " "));
    out += "\n";
  }
  for (size_t i = 0; i < p.kernels.size(); ++i)
    out += fmt::format("kernel {} {} {}\n", i, escapeWord(p.kernels[i].symbol),
                       p.kernels[i].function);
  printEntry(out, p.prefill);
  printEntry(out, p.decode);
  return out;
}

int64_t tfm::rt::cacheRowBytes(const Plan &p, bool keys) {
  return storageSize(p.kvStorage,
                     p.kvHeads * (keys || p.valuesInKeys() ? p.headDim
                                                           : p.vHeadDim));
}

int64_t tfm::rt::cacheBytesPerPosition(const Plan &p) {
  return p.layers * (cacheRowBytes(p, true) +
                     (p.valuesInKeys() ? 0 : cacheRowBytes(p, false)));
}
