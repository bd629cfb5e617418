//===- Tokenizer.h - text to token ids and back -----------------*- C++ -*-===//
//
// The tokenizers llama.cpp reads from GGUF metadata (`tokenizer.ggml.*`):
// SentencePiece-style BPE over scores with byte fallback (`llama`) and
// byte-level BPE over ranked merges after regex pre-tokenization (`gpt2`).
// Pre-tokenizer regexes run on PCRE2 (UTF-8, Unicode properties): it has
// the lookahead the GPT-2 family's patterns use, which RE2 lacks, and
// matches them as Hugging Face's tokenizers do.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_TOKENIZER_H
#define TFM_RUNTIME_TOKENIZER_H

#include "runtime/Status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfm::rt {

class GgufFile;
struct TokenizerLoader;
struct JsonTokenizerLoader;

class Tokenizer {
public:
  /// llama.cpp's token types (`tokenizer.ggml.token_type`).
  enum class TokenType : int32_t {
    Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5,
    Byte = 6
  };

  /// The tokenizer a GGUF file's metadata describes; an error names the
  /// file and the key.
  static Expected<std::unique_ptr<Tokenizer>> fromGguf(const GgufFile &file);
  /// Hugging Face's tokenizer.json (BPE, byte-level or SentencePiece-style),
  /// with tokenizer_config.json beside it if there is one.
  static Expected<std::unique_ptr<Tokenizer>> fromJson(const std::string &path);
  /// The tokenizer of a GGUF file or a tokenizer.json; in a folder, its
  /// tokenizer.json, else its one .gguf file.
  static Expected<std::unique_ptr<Tokenizer>> load(const std::string &path);
  virtual ~Tokenizer();

  struct EncodeOptions {
    /// Add BOS/EOS where the vocabulary says (add_bos_token,
    /// add_eos_token).
    bool addSpecial = true;
    /// Text that spells a control or user-defined token becomes that
    /// token (otherwise it is tokenized as plain text).
    bool parseSpecial = true;
  };
  std::vector<int32_t> encode(std::string_view text,
                              const EncodeOptions &options) const;
  std::vector<int32_t> encode(std::string_view text) const {
    return encode(text, EncodeOptions());
  }

  /// The text of `ids` as llama.cpp's detokenizer gives it: control tokens
  /// spelled out when `unparseSpecial`, else dropped; a leading space the
  /// encoder added removed; spaces before punctuation cleaned up where the
  /// vocabulary asks.
  std::string decode(const std::vector<int32_t> &ids,
                     bool unparseSpecial = false) const;
  /// The bytes of one token as generation prints it (control tokens
  /// print nothing); may be part of a UTF-8 character.
  std::string piece(int32_t id) const;

  int64_t size() const { return int64_t(tokens_.size()); }
  std::optional<int32_t> bos() const { return bos_; }
  std::optional<int32_t> eos() const { return eos_; }
  /// Whether generation stops at `id` (EOS, EOT, end-of-turn tokens).
  bool isEndOfGeneration(int32_t id) const;
  /// The model name (`tokenizer.ggml.model`).
  const std::string &model() const { return model_; }
  /// The Jinja chat template the file carries (`tokenizer.chat_template`;
  /// empty if none).
  const std::string &chatTemplate() const { return chatTemplate_; }

protected:
  Tokenizer();
  /// Raw text (no special tokens inside) to ids: `afterSpecial` when it
  /// starts the input or follows a special token, `atStart` when it starts
  /// the input.
  virtual void encodeText(std::string_view text, bool afterSpecial,
                          bool atStart, std::vector<int32_t> &out) const = 0;
  /// One token's text as printed.
  virtual std::string pieceOf(int32_t id, bool unparseSpecial) const = 0;
  virtual std::string finishDecode(std::string text) const { return text; }

  std::optional<int32_t> lookup(std::string_view text) const;
  std::optional<int32_t> lookup(const std::string &text) const;
  std::optional<int32_t> lookup(const char *text) const {
    return lookup(std::string_view(text));
  }

  std::string model_;
  std::string chatTemplate_;
  std::vector<std::string> tokens_;
  std::vector<TokenType> types_;
  std::optional<int32_t> bos_, eos_, unk_;
  std::vector<int32_t> endOfGeneration_;
  bool addBos_ = false, addEos_ = false;
  /// Decoding drops one leading space of the first token (the one
  /// add_space_prefix put there).
  bool stripFirstSpace_ = false;
  /// Control and user-defined tokens, longest first, for parseSpecial.
  std::vector<int32_t> specials_;
  /// The byte tokens "<0x00>" .. "<0xFF>" (-1: none), for byte fallback.
  int32_t byteTokens_[256];
  /// Fills byteTokens_; with `markType` the tokens found get TokenType::Byte.
  void indexByteTokens(bool markType);
  /// Appends the byte tokens of `piece` (the unknown token for a byte
  /// without one).
  void appendBytes(std::string_view piece, std::vector<int32_t> &out) const;
  /// The byte a "<0xXX>" token stands for.
  static std::optional<char> byteOfToken(const std::string &text);
  /// Adds to endOfGeneration_ the end-of-turn control tokens chat models
  /// use, by their text.
  void addEndOfTurnTokens();
  /// specials_ by their first byte (filled by indexSpecials).
  std::vector<std::vector<int32_t>> specialsByByte_;
  /// Sorts specials_ longest first and indexes them by first byte.
  void indexSpecials();

private:
  struct Index;
  std::shared_ptr<const Index> index_;
  friend struct TokenizerLoader;
  friend struct JsonTokenizerLoader;
};

/// Emits whole UTF-8 characters from a stream of token bytes: `push`
/// returns the complete characters so far and keeps a split one for the
/// next call.
class Utf8Stream {
public:
  std::string push(std::string_view bytes);
  /// What is left (an incomplete character at the end of generation).
  std::string flush();

private:
  std::string pending_;
};

} // namespace tfm::rt

#endif // TFM_RUNTIME_TOKENIZER_H
