//===- Tokenizer.cpp - text to token ids and back ---------------*- C++ -*-===//

#include "runtime/Tokenizer.h"
#include "runtime/Gguf.h"
#include "runtime/Json.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>
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

/// Bytes of the well-formed UTF-8 character at the start of `s` (RFC 3629:
/// no overlong forms, surrogates or code points past U+10FFFF); 0 if it is
/// not one.
size_t validCharLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto tail = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return i < s.size() && byte(i) >= lo && byte(i) <= hi;
  };
  unsigned c = byte(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return tail(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return tail(1, lo, hi) && tail(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return tail(1, lo, hi) && tail(2) && tail(3) ? 4 : 0;
  }
  return 0;
}

/// `text` with every byte that does not belong to a well-formed UTF-8
/// character replaced by U+FFFD, as llama.cpp's tokenizer reads it.
std::string wellFormed(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = validCharLength(text.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

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

/// Merges adjacent pieces of `word` (its characters at first): the pair
/// `priority(left, right)` rates highest (the leftmost of equals), then the
/// next, until no pair has a priority. Returns the pieces, as views of
/// `word`. A priority queue of pairs keeps it near-linear on long text.
template <typename Priority>
std::vector<std::string_view> mergePairs(std::string_view word,
                                         Priority priority) {
  struct Symbol {
    size_t start, length;
    int prev, next;
  };
  std::vector<Symbol> symbols;
  for (std::string_view c : utf8Chars(word)) {
    int n = int(symbols.size());
    symbols.push_back({size_t(c.data() - word.data()), c.size(), n - 1, n + 1});
  }
  std::vector<std::string_view> pieces;
  if (symbols.empty())
    return pieces;
  symbols.back().next = -1;
  struct Pair {
    double priority;
    int left, right;
    size_t leftLength, rightLength;
    bool operator<(const Pair &o) const {
      return priority < o.priority ||
             (priority == o.priority && left > o.left);
    }
  };
  std::priority_queue<Pair> queue;
  auto view = [&](const Symbol &s) { return word.substr(s.start, s.length); };
  auto propose = [&](int left, int right) {
    if (left < 0 || right < 0)
      return;
    const Symbol &l = symbols[size_t(left)], &r = symbols[size_t(right)];
    if (std::optional<double> p = priority(view(l), view(r)))
      queue.push({*p, left, right, l.length, r.length});
  };
  for (int i = 1; i < int(symbols.size()); ++i)
    propose(i - 1, i);
  while (!queue.empty()) {
    Pair p = queue.top();
    queue.pop();
    Symbol &l = symbols[size_t(p.left)], &r = symbols[size_t(p.right)];
    // Stale: a side was merged since the pair was proposed.
    if (l.length != p.leftLength || r.length != p.rightLength ||
        l.next != p.right)
      continue;
    l.length += r.length;
    r.length = 0;
    l.next = r.next;
    if (r.next >= 0)
      symbols[size_t(r.next)].prev = p.left;
    propose(l.prev, p.left);
    propose(p.left, l.next);
  }
  for (int i = 0; i >= 0; i = symbols[size_t(i)].next)
    pieces.push_back(view(symbols[size_t(i)]));
  return pieces;
}

} // namespace

struct Tokenizer::Index {
  std::unordered_map<std::string, int32_t> ids;
};

Tokenizer::Tokenizer() {
  std::fill(std::begin(byteTokens_), std::end(byteTokens_), -1);
}

Tokenizer::~Tokenizer() = default;

std::optional<int32_t> Tokenizer::lookup(const std::string &text) const {
  auto it = index_->ids.find(text);
  if (it == index_->ids.end())
    return std::nullopt;
  return it->second;
}

std::optional<int32_t> Tokenizer::lookup(std::string_view text) const {
  return lookup(std::string(text));
}

std::vector<int32_t> Tokenizer::encode(std::string_view input,
                                       const EncodeOptions &options) const {
  // The pre-tokenizers' regexes need well-formed UTF-8.
  std::string valid = wellFormed(input);
  std::string_view text(valid);
  std::vector<int32_t> out;
  if (options.addSpecial && addBos_ && bos_)
    out.push_back(*bos_);
  // A stretch of text at the start or after a special token may get a
  // space in front (SentencePiece's add_space_prefix).
  bool afterSpecial = true;
  size_t start = 0;
  auto flush = [&](size_t end) {
    if (end > start) {
      encodeText(text.substr(start, end - start), afterSpecial, start == 0,
                 out);
      afterSpecial = false;
    }
  };
  for (size_t i = 0; options.parseSpecial && i < text.size();) {
    int32_t found = -1;
    for (int32_t id :
         specialsByByte_[static_cast<unsigned char>(text[i])]) {
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

void Tokenizer::indexSpecials() {
  std::stable_sort(specials_.begin(), specials_.end(), [&](int32_t a, int32_t b) {
    return tokens_[size_t(a)].size() > tokens_[size_t(b)].size();
  });
  specialsByByte_.assign(256, {});
  for (int32_t id : specials_)
    if (!tokens_[size_t(id)].empty())
      specialsByByte_[static_cast<unsigned char>(tokens_[size_t(id)][0])]
          .push_back(id);
}

void Tokenizer::indexByteTokens(bool markType) {
  for (int b = 0; b < 256; ++b) {
    std::optional<int32_t> id = lookup(fmt::format("<0x{:02X}>", b));
    byteTokens_[b] = id ? *id : -1;
    if (id && markType)
      types_[size_t(*id)] = TokenType::Byte;
  }
}

void Tokenizer::appendBytes(std::string_view piece,
                            std::vector<int32_t> &out) const {
  for (unsigned char c : piece)
    if (byteTokens_[c] >= 0)
      out.push_back(byteTokens_[c]);
    else if (unk_)
      out.push_back(*unk_);
}

std::optional<char> Tokenizer::byteOfToken(const std::string &text) {
  unsigned value = 0;
  if (text.size() == 6 && std::sscanf(text.c_str(), "<0x%2X>", &value) == 1)
    return char(value);
  return std::nullopt;
}

void Tokenizer::addEndOfTurnTokens() {
  for (const char *text : {"<|eot_id|>", "<|im_end|>", "<|end|>",
                           "<end_of_turn>", "<|endoftext|>", "<|eom_id|>",
                           "<EOT>", "<|end_of_text|>"})
    if (auto e = lookup(text);
        e && types_[size_t(*e)] == TokenType::Control && !isEndOfGeneration(*e))
      endOfGeneration_.push_back(*e);
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

  void encodeText(std::string_view text, bool afterSpecial, bool,
                  std::vector<int32_t> &out) const override {
    std::string escaped =
        replaceAll(addSpacePrefix && afterSpecial ? " " + std::string(text)
                                                  : std::string(text),
                   " ", kSpmSpace);
    std::string joined;
    auto score = [&](std::string_view l,
                     std::string_view r) -> std::optional<double> {
      joined.assign(l);
      joined += r;
      if (auto id = lookup(joined))
        return scores[size_t(*id)];
      return std::nullopt;
    };
    for (std::string_view s : mergePairs(escaped, score)) {
      if (auto id = lookup(s)) {
        out.push_back(*id);
        continue;
      }
      appendBytes(s, out);
    }
  }

  std::string pieceOf(int32_t id, bool unparseSpecial) const override {
    const std::string &t = tokens_[size_t(id)];
    switch (types_[size_t(id)]) {
    case TokenType::Control:
      return unparseSpecial ? t : "";
    case TokenType::Unknown:
      return "\xE2\x96\x85"; // U+2585, as llama.cpp prints it
    case TokenType::Byte:
      if (std::optional<char> b = byteOfToken(t))
        return std::string(1, *b);
      return t;
    default:
      return replaceAll(t, kSpmSpace, " ");
    }
  }

};

/// The clean-up of decoded text that Hugging Face's
/// clean_up_tokenization_spaces does and llama.cpp reproduces: no space
/// before ? ! . , ; a lone apostrophe between spaces loses both; no space
/// before 's 'm 're 've.
std::string cleanUpSpaces(std::string text) {
  if (text.empty())
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
      // The space after goes too, and no longer counts as the space before
      // a next apostrophe (" ' ' ' " keeps every other space).
      a[++i] = '\0';
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

/// `pattern` compiled for UTF-8 with Unicode properties (and JIT where
/// PCRE2 has it); none, with the byte where it fails in `offset`, if it
/// does not compile.
std::optional<Regex> compileRegex(const std::string &pattern,
                                  size_t &offset) {
  int code;
  PCRE2_SIZE at = 0;
  pcre2_code *re =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()),
                    PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code, &at,
                    nullptr);
  offset = size_t(at);
  if (!re)
    return std::nullopt;
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
  return Regex{std::shared_ptr<pcre2_code>(re, pcre2_code_free)};
}

/// BPE over merge ranks. Byte-level (llama.cpp's `gpt2` model, Hugging
/// Face's ByteLevel): the text is cut by the pre-tokenizer's regexes in
/// turn (each cuts every piece into its matches and the text between),
/// each piece's bytes are mapped to GPT-2's characters and merged. Else
/// SentencePiece-style (Hugging Face's Metaspace or Replace/Prepend
/// normalizers): spaces become U+2581, one is put in front of the text, and
/// characters the vocabulary lacks fall back to byte tokens.
class BpeTokenizer : public tfm::rt::Tokenizer {
public:
  bool byteLevel = true;
  std::vector<Regex> regexes;
  std::unordered_map<std::string, int32_t> ranks; // "left right" -> rank
  bool ignoreMerges = false;
  bool cleanSpaces = true;
  /// SentencePiece-style: when a U+2581 goes in front of a stretch of
  /// text: never, at the start of the input, or after every special token
  /// too.
  enum class Prepend { Never, First, Always } prepend = Prepend::Never;
  /// SentencePiece-style: each U+2581 starts a new word.
  bool splitAtSpaces = false;
  bool byteFallback = false;

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

  /// Merges the characters of `word` by rank (the best-ranked adjacent
  /// pair first, the leftmost of equals) and appends the pieces' ids.
  void mergeWord(std::string_view word, std::vector<int32_t> &out) const {
    if (ignoreMerges)
      if (auto id = lookup(word)) {
        out.push_back(*id);
        return;
      }
    std::string key;
    auto rank = [&](std::string_view l,
                    std::string_view r) -> std::optional<double> {
      key.assign(l);
      key += ' ';
      key += r;
      auto it = ranks.find(key);
      if (it == ranks.end())
        return std::nullopt;
      return -double(it->second); // the lowest rank first
    };
    for (std::string_view piece : mergePairs(word, rank)) {
      if (auto id = lookup(piece)) {
        out.push_back(*id);
        continue;
      }
      if (byteFallback) {
        appendBytes(piece, out);
        continue;
      }
      for (std::string_view c : utf8Chars(piece))
        if (auto id = lookup(c))
          out.push_back(*id);
        else if (unk_)
          out.push_back(*unk_);
    }
  }

  void encodeText(std::string_view text, bool afterSpecial, bool atStart,
                  std::vector<int32_t> &out) const override {
    if (byteLevel) {
      const ByteMap &map = byteMap();
      std::string mapped;
      for (std::string_view word : split(text)) {
        mapped.clear();
        for (unsigned char c : word)
          mapped += map.toChar[c];
        mergeWord(mapped, out);
      }
      return;
    }
    bool front = prepend == Prepend::Always ||
                 (prepend == Prepend::First && atStart && afterSpecial);
    std::string escaped =
        replaceAll(front ? " " + std::string(text) : std::string(text), " ",
                   kSpmSpace);
    if (!splitAtSpaces) {
      mergeWord(escaped, out);
      return;
    }
    std::string_view all(escaped);
    size_t start = 0;
    for (size_t i = 1; i <= all.size(); ++i)
      if (i == all.size() || all.compare(i, 3, kSpmSpace) == 0) {
        mergeWord(all.substr(start, i - start), out);
        start = i;
      }
  }

  std::string pieceOf(int32_t id, bool unparseSpecial) const override {
    const std::string &t = tokens_[size_t(id)];
    switch (types_[size_t(id)]) {
    case TokenType::Control:
      return unparseSpecial ? t : "";
    case TokenType::UserDefined:
      return t;
    case TokenType::Byte:
      if (std::optional<char> b = byteOfToken(t))
        return std::string(1, *b);
      return t;
    default: {
      if (!byteLevel)
        return replaceAll(t, kSpmSpace, " ");
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

  std::string finishDecode(std::string text) const override {
    return cleanSpaces ? cleanUpSpaces(std::move(text)) : text;
  }
};

/// WordPiece (llama.cpp's `bert` model, from BERT's tokenizer): the text
/// is cleaned (control characters dropped, every space a plain one, CJK
/// ideographs set apart), accents stripped (NFD, then the non-spacing marks
/// dropped) and lowercased, cut at spaces and around each punctuation
/// character; each word is then the longest vocabulary token that starts
/// it, then the longest that continues it, and so on, or one unknown token
/// if a piece matches nothing. llama.cpp's vocabulary marks the pieces that
/// start a word with U+2581 (BERT's "##" marks the others).
class WpmTokenizer : public tfm::rt::Tokenizer {
public:
  static bool isCjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
  }
  static bool isPunctuation(uint32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
      return true;
    switch (u_charType(UChar32(c))) {
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
      return true;
    default:
      return false;
    }
  }

  /// The words of `text`, normalized as BERT's tokenizer does.
  std::vector<std::string> words(std::string_view text) const {
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *nfd = unorm2_getNFDInstance(&status);
    std::vector<std::string> out;
    std::string word;
    auto endWord = [&] {
      if (!word.empty())
        out.push_back(std::move(word));
      word.clear();
    };
    for (std::string_view ch : utf8Chars(text)) {
      uint32_t c = codePoint(ch);
      if (c == 0 || c == 0xFFFD)
        continue;
      if (c == '\t' || c == '\n' || c == '\r' || u_isUWhiteSpace(UChar32(c))) {
        endWord();
        continue;
      }
      int8_t type = u_charType(UChar32(c));
      if (type == U_CONTROL_CHAR || type == U_FORMAT_CHAR ||
          type == U_PRIVATE_USE_CHAR || type == U_SURROGATE ||
          type == U_UNASSIGNED)
        continue;
      if (isCjk(c) || isPunctuation(c)) {
        endWord();
        appendUtf8(word, c);
        endWord();
        continue;
      }
      // NFD, the non-spacing marks dropped, lowercased.
      UChar decomposed[32];
      int32_t n = U_SUCCESS(status)
                      ? unorm2_getDecomposition(nfd, UChar32(c), decomposed,
                                                32, &status)
                      : -1;
      if (n < 0 || !U_SUCCESS(status)) {
        status = U_ZERO_ERROR;
        n = 0;
        U16_APPEND_UNSAFE(decomposed, n, UChar32(c));
      }
      for (int32_t i = 0; i < n;) {
        UChar32 d;
        U16_NEXT(decomposed, i, n, d);
        if (u_charType(d) == U_NON_SPACING_MARK)
          continue;
        appendUtf8(word, uint32_t(u_tolower(d)));
      }
    }
    endWord();
    return out;
  }

  void encodeText(std::string_view text, bool, bool,
                  std::vector<int32_t> &out) const override {
    for (const std::string &w : words(text)) {
      std::string word = kSpmSpace + w;
      std::vector<int32_t> pieces;
      bool unknown = utf8Chars(w).size() > 100;
      for (size_t at = 0; !unknown && at < word.size();) {
        // The longest token from `at` (the first one carries the U+2581).
        size_t end = word.size();
        std::optional<int32_t> id;
        for (; end > at; --end) {
          if (end < word.size() &&
              (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80)
            continue; // not a character boundary
          if ((id = lookup(std::string_view(word).substr(at, end - at))))
            break;
        }
        if (!id || (at == 0 && end <= 3)) {
          unknown = true;
          break;
        }
        pieces.push_back(*id);
        at = end;
      }
      if (unknown) {
        if (unk_)
          out.push_back(*unk_);
        continue;
      }
      out.insert(out.end(), pieces.begin(), pieces.end());
    }
  }

  std::string pieceOf(int32_t id, bool unparseSpecial) const override {
    const std::string &t = tokens_[size_t(id)];
    if (types_[size_t(id)] == TokenType::Control)
      return unparseSpecial ? t : "";
    return replaceAll(t, kSpmSpace, " ");
  }

  std::string finishDecode(std::string text) const override {
    return cleanUpSpaces(std::move(text));
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

#define LLAMA3_RE(DIGITS)                                                      \
  CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" DIGITS                        \
               "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define BLOOM_RE " ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"

/// The regexes of each pre-tokenizer, as llama.cpp's vocabulary loader
/// names them (`tokenizer.ggml.pre`).
const std::vector<PreTokenizer> &preTokenizers() {
  static const std::vector<PreTokenizer> table = {
      {{"default"},
       {"[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2_RE, "\\p{N}+", "[0-9][0-9][0-9]"}},
      {{"gpt-2", "gpt2", "phi-2", "roberta-bpe", "mpt", "olmo", "jais"},
       {GPT2_RE}},
      {{"falcon"},
       {"[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2_RE, "[0-9][0-9][0-9]"}},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b"},
       {"\\p{N}", GPT2_RE}},
      {{"command-r", "smollm"}, {"\\p{N}", GPT2_RE}, false, false},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3"},
       {LLAMA3_RE("\\p{N}{1,3}")},
       /*ignoreMerges=*/true},
      {{"dbrx", "smaug-bpe"}, {LLAMA3_RE("\\p{N}{1,3}")}},
      {{"qwen2", "deepseek-r1-qwen"},
       {LLAMA3_RE("\\p{N}")},
       false,
       /*cleanSpaces=*/false},
      {{"stablelm2"}, {LLAMA3_RE("\\p{N}")}},
      {{"chatglm-bpe"}, {LLAMA3_RE("\\p{N}{1,3}")}},
      {{"deepseek-llm"},
       {"[\r\n]",
        "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}"
        "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-"
        "\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-"
        "\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-"
        "\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}"
        "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}"
        "\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}"
        "\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}"
        "\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}"
        "\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-"
        "\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-"
        "\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}"
        "\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}"
        "\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"
        "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}"
        "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}"
        "\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-"
        "\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}"
        "\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}"
        "\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}"
        "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"
        "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
        "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+", "\\s+$",
        "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
        "\\p{N}+"},
       false,
       false},
      {{"deepseek-coder"},
       {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+",
        "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+", "\\p{N}"},
       false,
       false},
      {{"bloom", "gpt3-finnish"}, {BLOOM_RE}},
      {{"poro-chat"}, {BLOOM_RE}, false, false},
      {{"viking"}, {BLOOM_RE, "\\p{N}"}, false, false},
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
    WpmTokenizer *wpm = nullptr;
    if (model->string == "llama") {
      t.reset(spm = new SpmTokenizer());
    } else if (model->string == "gpt2") {
      t.reset(bpe = new BpeTokenizer());
    } else if (model->string == "bert") {
      t.reset(wpm = new WpmTokenizer());
    } else {
      return error("tokenizer.ggml.model",
                   fmt::format("unsupported tokenizer \"{}\" (tfm reads "
                               "llama, gpt2 and bert)",
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
    if (wpm) {
      // BERT's input is [CLS] text [SEP].
      std::optional<int32_t> cls, sep;
      for (auto [key, out] :
           {std::pair{"tokenizer.ggml.cls_token_id", &cls},
            std::pair{"tokenizer.ggml.seperator_token_id", &sep}})
        if (Status s = id(key, *out); !s)
          return Error(s.message());
      if (!t->bos_)
        t->bos_ = cls;
      if (!t->eos_)
        t->eos_ = sep;
      t->addBos_ = t->addEos_ = true;
    }
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
    t->addEndOfTurnTokens();

    for (size_t i = 0; i < n; ++i)
      if (t->types_[i] == Tokenizer::TokenType::Control ||
          t->types_[i] == Tokenizer::TokenType::UserDefined)
        t->specials_.push_back(int32_t(i));
    t->indexSpecials();

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
      spm->indexByteTokens(/*markType=*/false);
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
        size_t offset;
        std::optional<Regex> re = compileRegex(pattern, offset);
        if (!re)
          return error("tokenizer.ggml.pre",
                       fmt::format("pattern of \"{}\" does not compile", pre));
        bpe->regexes.push_back(*re);
      }
    }
    return t;
  }
};

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromGguf(const GgufFile &file) {
  return TokenizerLoader{file}.load();
}

namespace {

/// Reads a file of at most `limit` bytes.
Expected<std::string> readSmallFile(const std::string &path, size_t limit) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return Error(path + ": cannot open");
  std::streamoff size = in.tellg();
  if (size < 0 || uint64_t(size) > limit)
    return Error(fmt::format("{}: {} bytes, more than the {} a tokenizer "
                             "file may have",
                             path, int64_t(size), limit));
  std::string text(size_t(size), '\0');
  in.seekg(0);
  in.read(text.data(), size);
  if (!in)
    return Error(path + ": read failed");
  return text;
}

/// A token's text in tokenizer_config.json: a string or {"content": ...}.
std::optional<std::string> tokenText(const Json *v) {
  if (!v)
    return std::nullopt;
  if (v->is_string())
    return v->get<std::string>();
  if (const Json *c = jsonMember(*v, "content"); c && c->is_string())
    return c->get<std::string>();
  return std::nullopt;
}

} // namespace

/// Reads Hugging Face's tokenizer.json (a BPE model, byte-level or
/// SentencePiece-style) and, beside it, tokenizer_config.json (special
/// tokens, BOS/EOS flags, clean-up, chat template). Errors name the file
/// and the JSON path.
struct tfm::rt::JsonTokenizerLoader {
  std::string path;

  Error error(const std::string &where, const std::string &what) const {
    return Error(fmt::format("{}: {}: {}", path, where, what));
  }

  Expected<std::unique_ptr<Tokenizer>> load() const {
    constexpr size_t kMaxBytes = size_t(1) << 30;
    auto text = readSmallFile(path, kMaxBytes);
    if (!text)
      return text.error();
    auto parsed = parseJson(*text);
    if (!parsed)
      return Error(path + ": " + parsed.error().message());
    const Json &root = *parsed;
    const Json *model = jsonMember(root, "model");
    if (!model || !model->is_object())
      return error("model", "missing (an object)");
    std::string type = "BPE";
    if (const Json *t = jsonMember(*model, "type"); t && t->is_string())
      type = t->get<std::string>();
    if (type != "BPE")
      return error("model.type",
                   fmt::format("unsupported tokenizer model \"{}\" (tfm reads "
                               "BPE)",
                               type));
    auto bpe = std::make_unique<BpeTokenizer>();
    BpeTokenizer &t = *bpe;
    t.model_ = "BPE";

    // The vocabulary and the added tokens give every id its text.
    constexpr int64_t kMaxId = int64_t(1) << 24;
    std::vector<std::pair<std::string, int64_t>> entries;
    const Json *vocab = jsonMember(*model, "vocab");
    if (!vocab || !vocab->is_object() || vocab->empty())
      return error("model.vocab", "missing, or not an object of token ids");
    for (auto it = vocab->begin(); it != vocab->end(); ++it) {
      std::optional<int64_t> id = jsonInt(it.value());
      if (!id || *id < 0 || *id >= kMaxId)
        return error(fmt::format("model.vocab[{}]", jsonQuote(it.key())),
                     "expected a token id below 2^24");
      entries.push_back({it.key(), *id});
    }
    struct Added {
      std::string content;
      int64_t id;
      bool special;
    };
    std::vector<Added> added;
    if (const Json *a = jsonMember(root, "added_tokens")) {
      if (!a->is_array())
        return error("added_tokens", "expected a list");
      for (size_t i = 0; i < a->size(); ++i) {
        const Json &e = (*a)[i];
        const Json *c = jsonMember(e, "content");
        const Json *idValue = jsonMember(e, "id");
        std::optional<int64_t> id;
        if (idValue)
          id = jsonInt(*idValue);
        if (!c || !c->is_string() || !id || *id < 0 || *id >= kMaxId)
          return error(fmt::format("added_tokens[{}]", i),
                       "expected content (a string) and an id below 2^24");
        const Json *sp = jsonMember(e, "special");
        added.push_back({c->get<std::string>(), *id,
                         sp && sp->is_boolean() && sp->get<bool>()});
      }
    }
    int64_t n = 0;
    for (const auto &[_, id] : entries)
      n = std::max(n, id + 1);
    for (const Added &a : added)
      n = std::max(n, a.id + 1);
    t.tokens_.assign(size_t(n), "");
    t.types_.assign(size_t(n), Tokenizer::TokenType::Unused);
    for (const auto &[token, id] : entries) {
      t.tokens_[size_t(id)] = token;
      t.types_[size_t(id)] = Tokenizer::TokenType::Normal;
    }
    for (const Added &a : added) {
      t.tokens_[size_t(a.id)] = a.content;
      t.types_[size_t(a.id)] = a.special ? Tokenizer::TokenType::Control
                                         : Tokenizer::TokenType::UserDefined;
      t.specials_.push_back(int32_t(a.id));
    }
    auto index = std::make_shared<Tokenizer::Index>();
    for (int64_t i = 0; i < n; ++i)
      if (t.types_[size_t(i)] != Tokenizer::TokenType::Unused)
        index->ids.emplace(t.tokens_[size_t(i)], int32_t(i));
    t.index_ = index;
    t.indexSpecials();

    // Merges: "left right" strings or [left, right] pairs, best first.
    const Json *merges = jsonMember(*model, "merges");
    if (!merges || !merges->is_array())
      return error("model.merges", "missing (a list)");
    for (size_t i = 0; i < merges->size(); ++i) {
      const Json &m = (*merges)[i];
      std::string key;
      if (m.is_string() && m.get<std::string>().find(' ', 1) !=
                               std::string::npos) {
        key = m.get<std::string>();
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
                 m[1].is_string()) {
        key = m[0].get<std::string>() + " " + m[1].get<std::string>();
      } else {
        return error(fmt::format("model.merges[{}]", i),
                     "expected \"left right\" or [left, right]");
      }
      t.ranks.emplace(std::move(key), int32_t(i));
    }
    auto flag = [&](const Json &obj, const char *key, bool fallback) {
      const Json *v = jsonMember(obj, key);
      return v && v->is_boolean() ? v->get<bool>() : fallback;
    };
    t.ignoreMerges = flag(*model, "ignore_merges", false);
    t.byteFallback = flag(*model, "byte_fallback", false);
    if (auto unk = tokenText(jsonMember(*model, "unk_token")))
      if (auto id = t.lookup(*unk))
        t.unk_ = *id;
    if (t.byteFallback)
      t.indexByteTokens(/*markType=*/true);

    if (Status s = readPreTokenizer(root, t); !s)
      return Error(s.message());
    t.cleanSpaces = false;
    if (Status s = readConfig(root, t); !s)
      return Error(s.message());
    return std::unique_ptr<Tokenizer>(bpe.release());
  }

  /// Byte-level (ByteLevel, alone or after Split regexes) or
  /// SentencePiece-style (Metaspace, or the normalizers that put U+2581 for
  /// spaces and in front).
  Status readPreTokenizer(const Json &root, BpeTokenizer &t) const {
    t.byteLevel = false;
    std::vector<std::string> patterns;
    const Json *pre = jsonMember(root, "pre_tokenizer");
    std::vector<std::pair<std::string, const Json *>> steps;
    if (pre && pre->is_object()) {
      const Json *list = jsonMember(*pre, "pretokenizers");
      if (list && list->is_array())
        for (size_t i = 0; i < list->size(); ++i)
          steps.push_back({fmt::format("pre_tokenizer.pretokenizers[{}]", i),
                           &(*list)[i]});
      else
        steps.push_back({"pre_tokenizer", pre});
    }
    for (const auto &[where, step] : steps) {
      const Json *type = jsonMember(*step, "type");
      std::string kind = type && type->is_string() ? type->get<std::string>()
                                                    : "";
      if (kind == "ByteLevel") {
        t.byteLevel = true;
        if (flag(*step, "add_prefix_space", false))
          return error(where + ".add_prefix_space",
                       "a space put in front of the text is not supported");
        if (flag(*step, "use_regex", true))
          patterns.push_back(GPT2_RE);
      } else if (kind == "Split") {
        const Json *pattern = jsonMember(*step, "pattern");
        const Json *regex = pattern ? jsonMember(*pattern, "Regex") : nullptr;
        const Json *behavior = jsonMember(*step, "behavior");
        if (!regex || !regex->is_string() || !behavior ||
            *behavior != "Isolated" || flag(*step, "invert", false))
          return error(where, "tfm reads Split with a Regex pattern, "
                              "behavior Isolated and no invert");
        patterns.push_back(regex->get<std::string>());
      } else if (kind == "Digits") {
        patterns.push_back(flag(*step, "individual_digits", false)
                               ? "\\p{N}"
                               : "\\p{N}+");
      } else if (kind == "Metaspace") {
        const Json *scheme = jsonMember(*step, "prepend_scheme");
        std::string p = scheme && scheme->is_string()
                            ? scheme->get<std::string>()
                            : (flag(*step, "add_prefix_space", true)
                                   ? "always"
                                   : "never");
        t.prepend = p == "never"   ? BpeTokenizer::Prepend::Never
                    : p == "first" ? BpeTokenizer::Prepend::First
                                   : BpeTokenizer::Prepend::Always;
        t.splitAtSpaces = flag(*step, "split", false);
      } else {
        return error(where + ".type",
                     fmt::format("unsupported pre-tokenizer \"{}\" (tfm "
                                 "reads ByteLevel, Split, Digits and "
                                 "Metaspace)",
                                 kind));
      }
    }
    // SentencePiece-style normalizers: Prepend "▁" and Replace " " by "▁".
    if (const Json *norm = jsonMember(root, "normalizer");
        norm && norm->is_object()) {
      std::vector<const Json *> list;
      if (const Json *n = jsonMember(*norm, "normalizers"); n && n->is_array())
        for (const Json &e : *n)
          list.push_back(&e);
      else
        list.push_back(norm);
      for (const Json *e : list) {
        const Json *type = jsonMember(*e, "type");
        std::string kind = type && type->is_string() ? type->get<std::string>()
                                                      : "";
        if (kind == "Prepend") {
          t.prepend = BpeTokenizer::Prepend::Always;
        } else if (kind == "Replace") {
          // Only " " -> "▁", which the SentencePiece style does anyway.
          const Json *pattern = jsonMember(*e, "pattern");
          const Json *from = pattern ? jsonMember(*pattern, "String") : nullptr;
          const Json *to = jsonMember(*e, "content");
          if (!from || *from != " " || !to || *to != kSpmSpace)
            return Error(fmt::format("{}: normalizer: tfm reads a Replace of "
                                     "\" \" by \"\\u2581\" only",
                                     path));
        } else if (kind != "NFC" && kind != "NFKC") {
          return Error(fmt::format("{}: normalizer: unsupported \"{}\"", path,
                                   kind));
        }
      }
    }
    for (const std::string &pattern : patterns) {
      size_t offset;
      std::optional<Regex> re = compileRegex(pattern, offset);
      if (!re)
        return error("pre_tokenizer",
                     fmt::format("regex {} does not compile (at byte {})",
                                 jsonQuote(pattern), offset));
      t.regexes.push_back(*re);
    }
    t.stripFirstSpace_ = !t.byteLevel && t.prepend != BpeTokenizer::Prepend::Never;
    return Status::ok();
  }

  static bool flag(const Json &obj, const char *key, bool fallback) {
    const Json *v = jsonMember(obj, key);
    return v && v->is_boolean() ? v->get<bool>() : fallback;
  }

  /// BOS/EOS: tokenizer_config.json beside the file, else the
  /// post-processor's template; the chat template and clean-up from the
  /// config.
  Status readConfig(const Json &root, BpeTokenizer &t) const {
    Json config = Json::object();
    std::string configPath =
        (std::filesystem::path(path).parent_path() / "tokenizer_config.json")
            .string();
    std::error_code ec;
    if (std::filesystem::exists(configPath, ec)) {
      auto text = readSmallFile(configPath, size_t(64) << 20);
      if (!text)
        return text.error();
      auto parsed = parseJson(*text);
      if (!parsed)
        return Error(configPath + ": " + parsed.error().message());
      config = parsed.take();
    }
    for (auto [key, out] : {std::pair{"bos_token", &t.bos_},
                            std::pair{"eos_token", &t.eos_}})
      if (auto text = tokenText(jsonMember(config, key)))
        if (auto id = t.lookup(*text))
          *out = *id;
    // The post-processor's template: a special token before the text is
    // BOS, one after it EOS.
    bool templateBos = false, templateEos = false;
    if (const Json *post = jsonMember(root, "post_processor")) {
      const Json *single = jsonMember(*post, "single");
      if (single && single->is_array() && !single->empty()) {
        auto special = [&](const Json &e) -> std::optional<int32_t> {
          const Json *st = jsonMember(e, "SpecialToken");
          const Json *id = st ? jsonMember(*st, "id") : nullptr;
          if (id && id->is_string())
            return t.lookup(id->get<std::string>());
          return std::nullopt;
        };
        if (auto id = special(single->front())) {
          templateBos = true;
          if (!t.bos_)
            t.bos_ = *id;
        }
        if (single->size() > 1)
          if (auto id = special(single->back())) {
            templateEos = true;
            if (!t.eos_)
              t.eos_ = *id;
          }
      }
    }
    t.addBos_ = flag(config, "add_bos_token", templateBos);
    t.addEos_ = flag(config, "add_eos_token", templateEos);
    t.cleanSpaces = flag(config, "clean_up_tokenization_spaces", false);
    if (const Json *c = jsonMember(config, "chat_template"); c && c->is_string())
      t.chatTemplate_ = c->get<std::string>();
    if (t.eos_)
      t.endOfGeneration_.push_back(*t.eos_);
    t.addEndOfTurnTokens();
    return Status::ok();
  }
};

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::fromJson(const std::string &path) {
  return JsonTokenizerLoader{path}.load();
}

Expected<std::unique_ptr<Tokenizer>>
Tokenizer::load(const std::string &source) {
  namespace fs = std::filesystem;
  std::string path = source;
  std::error_code ec;
  auto endsWith = [](const std::string &s, const char *end) {
    size_t n = std::strlen(end);
    return s.size() >= n && s.compare(s.size() - n, n, end) == 0;
  };
  if (endsWith(source, ".json"))
    return fromJson(source);
  if (fs::is_directory(source, ec) &&
      fs::exists(fs::path(source) / "tokenizer.json", ec))
    return fromJson((fs::path(source) / "tokenizer.json").string());
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
      return Error(source + ": no tokenizer.json and no .gguf file");
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
