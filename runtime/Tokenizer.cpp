//===- Tokenizer.cpp - text to token ids and back ---------------*- C++ -*-===//

#include "runtime/Tokenizer.h"
#include "runtime/Gguf.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <queue>
#include <unordered_map>

using namespace tfm::rt;

namespace {

/// Bytes in the UTF-8 character that starts with `c` (1 for a stray
/// continuation or invalid byte).
size_t utf8Length(unsigned char c) {
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0)
    return 2;
  if ((c & 0xF0) == 0xE0)
    return 3;
  if ((c & 0xF8) == 0xF0)
    return 4;
  return 1;
}

/// The characters of `s`, each a view into it; a truncated character at
/// the end is one piece.
std::vector<std::string_view> utf8Chars(std::string_view s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    size_t n = std::min(utf8Length(static_cast<unsigned char>(s[i])),
                        s.size() - i);
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

/// The code point of a whole UTF-8 character (as utf8Chars gives it).
uint32_t codePoint(std::string_view c) {
  auto b = [&](size_t i) { return uint32_t(static_cast<unsigned char>(c[i])); };
  switch (c.size()) {
  case 2:
    return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  case 3:
    return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  case 4:
    return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) |
           ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  default:
    return b(0);
  }
}

const char *const kSpmSpace = "\xE2\x96\x81"; // U+2581, SentencePiece's space

std::string replaceAll(std::string_view s, std::string_view from,
                       std::string_view to) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

} // namespace

struct Tokenizer::Index {
  std::unordered_map<std::string, int32_t> ids;
};

Tokenizer::~Tokenizer() = default;

std::optional<int32_t> Tokenizer::lookup(std::string_view text) const {
  auto it = index_->ids.find(std::string(text));
  if (it == index_->ids.end())
    return std::nullopt;
  return it->second;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text,
                                       const EncodeOptions &options) const {
  std::vector<int32_t> out;
  if (options.addSpecial && addBos_ && bos_)
    out.push_back(*bos_);
  // A stretch of text at the start or after a special token may get a
  // space in front (SentencePiece's add_space_prefix).
  bool afterSpecial = true;
  size_t start = 0;
  auto flush = [&](size_t end) {
    if (end > start) {
      encodeText(text.substr(start, end - start), afterSpecial, out);
      afterSpecial = false;
    }
  };
  for (size_t i = 0; options.parseSpecial && i < text.size();) {
    int32_t found = -1;
    for (int32_t id : specials_) {
      const std::string &t = tokens_[size_t(id)];
      if (!t.empty() && text.compare(i, t.size(), t) == 0) {
        found = id;
        break;
      }
    }
    if (found < 0) {
      ++i;
      continue;
    }
    flush(i);
    out.push_back(found);
    afterSpecial = true;
    i += tokens_[size_t(found)].size();
    start = i;
  }
  flush(text.size());
  if (options.addSpecial && addEos_ && eos_)
    out.push_back(*eos_);
  return out;
}

std::string Tokenizer::piece(int32_t id) const {
  if (id < 0 || id >= size())
    return "";
  return pieceOf(id, false);
}

std::string Tokenizer::decode(const std::vector<int32_t> &ids,
                              bool unparseSpecial) const {
  std::string text;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= size())
      continue;
    std::string p = pieceOf(ids[i], unparseSpecial);
    // The space the encoder put in front of the text.
    if (i == 0 && stripFirstSpace_ && !p.empty() && p[0] == ' ')
      p.erase(0, 1);
    text += p;
  }
  return finishDecode(std::move(text));
}

bool Tokenizer::isEndOfGeneration(int32_t id) const {
  return std::find(endOfGeneration_.begin(), endOfGeneration_.end(), id) !=
         endOfGeneration_.end();
}

namespace {

/// SentencePiece-style BPE (llama.cpp's `llama` model): spaces become
/// U+2581 (with one in front of the text, or of each stretch of text after
/// a special token, when add_space_prefix), then the adjacent pair whose
/// concatenation is the vocabulary's best-scored token is merged until none
/// is; characters left outside the vocabulary become byte tokens.
class SpmTokenizer : public tfm::rt::Tokenizer {
public:
  std::vector<float> scores;
  bool addSpacePrefix = true;
  int32_t bytes[256];

  void encodeText(std::string_view text, bool afterSpecial,
                  std::vector<int32_t> &out) const override {
    std::string escaped =
        replaceAll(addSpacePrefix && afterSpecial ? " " + std::string(text)
                                                  : std::string(text),
                   " ", kSpmSpace);
    struct Symbol {
      size_t start, length;
      int prev, next;
    };
    std::vector<Symbol> symbols;
    for (std::string_view c : utf8Chars(escaped)) {
      int n = int(symbols.size());
      symbols.push_back({size_t(c.data() - escaped.data()), c.size(), n - 1,
                         n + 1});
    }
    if (symbols.empty())
      return;
    symbols.back().next = -1;
    struct Bigram {
      float score;
      int left, right;
      size_t length;
      bool operator<(const Bigram &o) const {
        return score < o.score || (score == o.score && left > o.left);
      }
    };
    std::priority_queue<Bigram> queue;
    auto propose = [&](int left, int right) {
      if (left < 0 || right < 0)
        return;
      size_t length = symbols[size_t(left)].length +
                      symbols[size_t(right)].length;
      auto id = lookup(std::string_view(escaped).substr(
          symbols[size_t(left)].start, length));
      if (id)
        queue.push({scores[size_t(*id)], left, right, length});
    };
    for (int i = 1; i < int(symbols.size()); ++i)
      propose(i - 1, i);
    while (!queue.empty()) {
      Bigram b = queue.top();
      queue.pop();
      Symbol &l = symbols[size_t(b.left)], &r = symbols[size_t(b.right)];
      // Stale: a side was merged since the pair was proposed.
      if (l.length == 0 || r.length == 0 || l.length + r.length != b.length)
        continue;
      l.length += r.length;
      r.length = 0;
      l.next = r.next;
      if (r.next >= 0)
        symbols[size_t(r.next)].prev = b.left;
      propose(l.prev, b.left);
      propose(b.left, l.next);
    }
    for (int i = 0; i >= 0; i = symbols[size_t(i)].next) {
      std::string_view s = std::string_view(escaped).substr(
          symbols[size_t(i)].start, symbols[size_t(i)].length);
      if (auto id = lookup(s)) {
        out.push_back(*id);
        continue;
      }
      for (unsigned char c : s) {
        if (bytes[c] >= 0)
          out.push_back(bytes[c]);
        else if (unk_)
          out.push_back(*unk_);
      }
    }
  }

  std::string pieceOf(int32_t id, bool unparseSpecial) const override {
    const std::string &t = tokens_[size_t(id)];
    switch (types_[size_t(id)]) {
    case TokenType::Control:
      return unparseSpecial ? t : "";
    case TokenType::Unknown:
      return "\xE2\x96\x85"; // U+2585, as llama.cpp prints it
    case TokenType::Byte: {
      unsigned value = 0;
      if (t.size() == 6 && std::sscanf(t.c_str(), "<0x%2X>", &value) == 1)
        return std::string(1, char(value));
      return t;
    }
    default:
      return replaceAll(t, kSpmSpace, " ");
    }
  }

};

/// GPT-2's map of the 256 bytes to printable characters.
struct ByteMap {
  std::string toChar[256];
  std::unordered_map<uint32_t, unsigned char> toByte;
  ByteMap() {
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      uint32_t cp = printable ? b : next++;
      appendUtf8(toChar[b], cp);
      toByte[cp] = static_cast<unsigned char>(b);
    }
  }
};
const ByteMap &byteMap() {
  static const ByteMap map;
  return map;
}

/// A compiled pre-tokenizer regex.
struct Regex {
  std::shared_ptr<pcre2_code> code;
};

/// Byte-level BPE (llama.cpp's `gpt2` model): the text is cut by the
/// pre-tokenizer's regexes in turn (each cuts every piece into its matches
/// and the text between), each piece's bytes are mapped to GPT-2's
/// characters and merged by rank.
class BpeTokenizer : public tfm::rt::Tokenizer {
public:
  std::vector<Regex> regexes;
  std::unordered_map<std::string, int32_t> ranks; // "left right" -> rank
  bool ignoreMerges = false;
  bool cleanSpaces = true;

  std::vector<std::string_view> split(std::string_view text) const {
    std::vector<std::string_view> pieces{text};
    for (const Regex &re : regexes) {
      std::vector<std::string_view> next;
      pcre2_match_data *md =
          pcre2_match_data_create_from_pattern(re.code.get(), nullptr);
      for (std::string_view p : pieces) {
        size_t at = 0, done = 0;
        while (at <= p.size()) {
          int rc = pcre2_match(re.code.get(),
                               reinterpret_cast<PCRE2_SPTR>(p.data()),
                               p.size(), at, PCRE2_NO_UTF_CHECK, md, nullptr);
          if (rc < 0)
            break;
          PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
          size_t s = ov[0], e = ov[1];
          if (e == s) { // an empty match: step over one character
            at = s + (s < p.size() ? utf8Length(static_cast<unsigned char>(
                                         p[s]))
                                   : 1);
            continue;
          }
          if (s > done)
            next.push_back(p.substr(done, s - done));
          next.push_back(p.substr(s, e - s));
          done = at = e;
        }
        if (done < p.size())
          next.push_back(p.substr(done));
      }
      pcre2_match_data_free(md);
      pieces = std::move(next);
    }
    return pieces;
  }

  void encodeText(std::string_view text, bool,
                  std::vector<int32_t> &out) const override {
    const ByteMap &map = byteMap();
    for (std::string_view word : split(text)) {
      std::string mapped;
      for (unsigned char c : word)
        mapped += map.toChar[c];
      if (ignoreMerges)
        if (auto id = lookup(mapped)) {
          out.push_back(*id);
          continue;
        }
      std::vector<std::string> symbols;
      for (std::string_view c : utf8Chars(mapped))
        symbols.emplace_back(c);
      // Merge the best-ranked adjacent pair (the leftmost of equals) until
      // no pair has a merge.
      while (symbols.size() > 1) {
        int32_t best = INT32_MAX;
        size_t at = 0;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
          auto it = ranks.find(symbols[i] + " " + symbols[i + 1]);
          if (it != ranks.end() && it->second < best) {
            best = it->second;
            at = i;
          }
        }
        if (best == INT32_MAX)
          break;
        symbols[at] += symbols[at + 1];
        symbols.erase(symbols.begin() + long(at) + 1);
      }
      for (const std::string &s : symbols) {
        if (auto id = lookup(s)) {
          out.push_back(*id);
          continue;
        }
        for (std::string_view c : utf8Chars(s))
          if (auto id = lookup(c))
            out.push_back(*id);
          else if (unk_)
            out.push_back(*unk_);
      }
    }
  }

  std::string pieceOf(int32_t id, bool unparseSpecial) const override {
    const std::string &t = tokens_[size_t(id)];
    switch (types_[size_t(id)]) {
    case TokenType::Control:
      return unparseSpecial ? t : "";
    case TokenType::UserDefined:
      return t;
    default: {
      std::string out;
      const ByteMap &map = byteMap();
      for (std::string_view c : utf8Chars(t)) {
        auto it = map.toByte.find(codePoint(c));
        if (it != map.toByte.end())
          out += char(it->second);
        else
          out += c;
      }
      return out;
    }
    }
  }

  /// The clean-up of decoded text that Hugging Face's
  /// clean_up_tokenization_spaces does and llama.cpp reproduces: no space
  /// before ? ! . , ; a lone apostrophe between spaces loses both; no space
  /// before 's 'm 're 've.
  std::string finishDecode(std::string text) const override {
    if (!cleanSpaces || text.empty())
      return text;
    std::string a;
    a += text[0];
    for (size_t i = 1; i < text.size(); ++i) {
      char x = text[i];
      if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ','))
        a.pop_back();
      a += x;
    }
    std::string b;
    b += a[0];
    for (size_t i = 1; i < a.size(); ++i) {
      char x = a[i];
      if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
        b.pop_back();
        b += x;
        ++i; // the space after
        continue;
      }
      b += x;
    }
    std::string c;
    c += b[0];
    for (size_t i = 1; i < b.size(); ++i) {
      char x = b[i];
      if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
        char x1 = b[i + 1];
        char x2 = i + 2 < b.size() ? b[i + 2] : '\0';
        if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') ||
            (x1 == 'v' && x2 == 'e'))
          c.pop_back();
      }
      c += x;
    }
    return c;
  }
};

/// The pre-tokenizer of each `tokenizer.ggml.pre` tfm knows: its regexes,
/// whether a word that is a token skips the merges, and whether decoding
/// cleans up spaces.
struct PreTokenizer {
  std::vector<std::string_view> names;
  std::vector<const char *> regexes;
  bool ignoreMerges = false;
  bool cleanSpaces = true;
};

#define GPT2_RE                                                                \
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define CONTRACTIONS                                                           \
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

const std::vector<PreTokenizer> &preTokenizers() {
  static const std::vector<PreTokenizer> table = {
      {{"gpt-2", "gpt2", "mpt", "olmo"}, {GPT2_RE}},
      {{"falcon"},
       {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]"}},
      {{"starcoder", "refact", "command-r", "smollm"}, {"\\p{N}", GPT2_RE}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3"},
       {CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
                     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|"
                     "\\s+"},
       /*ignoreMerges=*/true},
      {{"qwen2", "deepseek-r1-qwen"},
       {CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
                     "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|"
                     "\\s+"},
       false, /*cleanSpaces=*/false},
      {{"deepseek-coder"},
       {"[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
        "[\\x{4E00}-\\x{9FA5}\\x{0800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
        "\\p{N}"}},
  };
  return table;
}

} // namespace

/// Reads a tokenizer's metadata, naming the file and key in every error.
struct tfm::rt::TokenizerLoader {
  const GgufFile &file;

  Error error(const std::string &key, const std::string &what) const {
    return Error(fmt::format("{}: {}: {}", file.path(), key, what));
  }

  Expected<std::unique_ptr<Tokenizer>> load() const {
    const GgufValue *model = file.metadata("tokenizer.ggml.model");
    if (!model || model->type != GgufValue::Type::String)
      return error("tokenizer.ggml.model",
                   "missing (the file has no tokenizer; give one with "
                   "--tokenizer)");
    std::unique_ptr<Tokenizer> t;
    SpmTokenizer *spm = nullptr;
    BpeTokenizer *bpe = nullptr;
    if (model->string == "llama") {
      t.reset(spm = new SpmTokenizer());
    } else if (model->string == "gpt2") {
      t.reset(bpe = new BpeTokenizer());
    } else {
      return error("tokenizer.ggml.model",
                   fmt::format("unsupported tokenizer \"{}\" (tfm reads "
                               "llama and gpt2)",
                               model->string));
    }
    t->model_ = model->string;
    if (const GgufValue *c = file.metadata("tokenizer.chat_template");
        c && c->type == GgufValue::Type::String)
      t->chatTemplate_ = c->string;

    const GgufValue *tokens = file.metadata("tokenizer.ggml.tokens");
    if (!tokens || tokens->type != GgufValue::Type::Array ||
        tokens->elementType != GgufValue::Type::String ||
        tokens->array.empty() || tokens->array.size() > (1u << 24))
      return error("tokenizer.ggml.tokens",
                   "missing, or not a list of 1 to 16777216 strings");
    size_t n = tokens->array.size();
    auto index = std::make_shared<Tokenizer::Index>();
    t->tokens_.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      t->tokens_.push_back(tokens->array[i].string);
      index->ids.emplace(tokens->array[i].string, int32_t(i));
    }
    t->index_ = index;

    t->types_.assign(n, Tokenizer::TokenType::Normal);
    if (const GgufValue *types = file.metadata("tokenizer.ggml.token_type")) {
      if (types->type != GgufValue::Type::Array || types->array.size() != n)
        return error("tokenizer.ggml.token_type",
                     fmt::format("expected a list of {} integers", n));
      for (size_t i = 0; i < n; ++i) {
        std::optional<int64_t> v = types->array[i].asInt();
        if (!v || *v < 1 || *v > 6)
          return error("tokenizer.ggml.token_type",
                       fmt::format("entry {} is not a token type (1 to 6)", i));
        t->types_[i] = Tokenizer::TokenType(*v);
      }
    }

    auto id = [&](const char *key, std::optional<int32_t> &out) -> Status {
      const GgufValue *v = file.metadata(key);
      if (!v)
        return Status::ok();
      std::optional<int64_t> i = v->asInt();
      if (!i || *i < 0 || *i >= int64_t(n))
        return error(key, fmt::format("expected a token id below {}", n));
      out = int32_t(*i);
      return Status::ok();
    };
    std::optional<int32_t> eot, eom;
    for (auto [key, out] :
         {std::pair{"tokenizer.ggml.bos_token_id", &t->bos_},
          std::pair{"tokenizer.ggml.eos_token_id", &t->eos_},
          std::pair{"tokenizer.ggml.unknown_token_id", &t->unk_},
          std::pair{"tokenizer.ggml.eot_token_id", &eot},
          std::pair{"tokenizer.ggml.eom_token_id", &eom}})
      if (Status s = id(key, *out); !s)
        return Error(s.message());
    auto flag = [&](const char *key, bool &out) -> Status {
      if (const GgufValue *v = file.metadata(key)) {
        if (v->type != GgufValue::Type::Bool)
          return error(key, "expected a bool");
        out = v->boolean;
      }
      return Status::ok();
    };
    t->addBos_ = spm != nullptr;
    for (auto [key, out] :
         {std::pair{"tokenizer.ggml.add_bos_token", &t->addBos_},
          std::pair{"tokenizer.ggml.add_eos_token", &t->addEos_}})
      if (Status s = flag(key, *out); !s)
        return Error(s.message());

    // Generation ends at EOS, EOT and EOM, and at the end-of-turn tokens
    // chat models use.
    for (const std::optional<int32_t> &e : {t->eos_, eot, eom})
      if (e)
        t->endOfGeneration_.push_back(*e);
    for (const char *text : {"<|eot_id|>", "<|im_end|>", "<|end|>",
                             "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                             "<EOT>", "<|end_of_text|>"})
      if (auto e = t->lookup(text);
          e && t->types_[size_t(*e)] == Tokenizer::TokenType::Control &&
          !t->isEndOfGeneration(*e))
        t->endOfGeneration_.push_back(*e);

    for (size_t i = 0; i < n; ++i)
      if (t->types_[i] == Tokenizer::TokenType::Control ||
          t->types_[i] == Tokenizer::TokenType::UserDefined)
        t->specials_.push_back(int32_t(i));
    std::stable_sort(t->specials_.begin(), t->specials_.end(),
                     [&](int32_t a, int32_t b) {
                       return t->tokens_[size_t(a)].size() >
                              t->tokens_[size_t(b)].size();
                     });

    if (spm) {
      const GgufValue *scores = file.metadata("tokenizer.ggml.scores");
      if (!scores || scores->type != GgufValue::Type::Array ||
          scores->array.size() != n)
        return error("tokenizer.ggml.scores",
                     fmt::format("missing, or not a list of {} numbers", n));
      spm->scores.resize(n);
      for (size_t i = 0; i < n; ++i) {
        std::optional<double> s = scores->array[i].asDouble();
        if (!s)
          return error("tokenizer.ggml.scores",
                       fmt::format("entry {} is not a number", i));
        spm->scores[i] = float(*s);
      }
      if (Status s = flag("tokenizer.ggml.add_space_prefix",
                          spm->addSpacePrefix);
          !s)
        return Error(s.message());
      spm->stripFirstSpace_ = spm->addSpacePrefix;
      for (int b = 0; b < 256; ++b) {
        auto byteId = t->lookup(fmt::format("<0x{:02X}>", b));
        spm->bytes[b] = byteId ? *byteId : -1;
      }
    }
    if (bpe) {
      const GgufValue *merges = file.metadata("tokenizer.ggml.merges");
      if (!merges || merges->type != GgufValue::Type::Array ||
          (!merges->array.empty() &&
           merges->elementType != GgufValue::Type::String))
        return error("tokenizer.ggml.merges",
                     "missing, or not a list of strings");
      for (size_t i = 0; i < merges->array.size(); ++i) {
        const std::string &m = merges->array[i].string;
        size_t space = m.find(' ', 1);
        if (space == std::string::npos)
          return error("tokenizer.ggml.merges",
                       fmt::format("entry {} (\"{}\") is not two tokens "
                                   "separated by a space",
                                   i, m));
        bpe->ranks.emplace(m, int32_t(i));
      }
      std::string pre = "default";
      if (const GgufValue *p = file.metadata("tokenizer.ggml.pre");
          p && p->type == GgufValue::Type::String)
        pre = p->string;
      const PreTokenizer *found = nullptr;
      std::string known;
      for (const PreTokenizer &pt : preTokenizers())
        for (std::string_view name : pt.names) {
          known += (known.empty() ? "" : ", ") + std::string(name);
          if (name == pre)
            found = &pt;
        }
      if (!found)
        return error("tokenizer.ggml.pre",
                     fmt::format("unsupported pre-tokenizer \"{}\" (tfm "
                                 "knows {})",
                                 pre, known));
      bpe->ignoreMerges = found->ignoreMerges;
      bpe->cleanSpaces = found->cleanSpaces;
      for (const char *pattern : found->regexes) {
        int code;
        PCRE2_SIZE offset;
        pcre2_code *re = pcre2_compile(
            reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED,
            PCRE2_UTF | PCRE2_UCP, &code, &offset, nullptr);
        if (!re)
          return error("tokenizer.ggml.pre",
                       fmt::format("pattern of \"{}\" does not compile", pre));
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        bpe->regexes.push_back({std::shared_ptr<pcre2_code>(re, pcre2_code_free)});
      }
    }
    return t;
  }
};

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromGguf(const GgufFile &file) {
  return TokenizerLoader{file}.load();
}

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::load(const std::string &source) {
  namespace fs = std::filesystem;
  std::string path = source;
  std::error_code ec;
  if (fs::is_directory(source, ec)) {
    path.clear();
    for (const auto &entry : fs::directory_iterator(source, ec))
      if (entry.path().extension() == ".gguf") {
        if (!path.empty())
          return Error(source + ": more than one .gguf file; name the one "
                                "with the tokenizer");
        path = entry.path().string();
      }
    if (path.empty())
      return Error(source + ": no .gguf file (tfm reads tokenizers from a "
                            "GGUF file's metadata)");
  }
  auto file = GgufFile::open(path);
  if (!file)
    return Error(file.error().message());
  return fromGguf(**file);
}

std::string Utf8Stream::push(std::string_view bytes) {
  pending_ += bytes;
  // Keep back a character whose bytes have not all come.
  size_t end = pending_.size(), i = end;
  size_t back = 0;
  while (i > 0 && back < 4) {
    --i;
    ++back;
    unsigned char c = static_cast<unsigned char>(pending_[i]);
    if ((c & 0xC0) != 0x80) { // a lead byte (or ASCII)
      if (utf8Length(c) > back)
        end = i;
      break;
    }
  }
  std::string out = pending_.substr(0, end);
  pending_.erase(0, end);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}
