//===- TokenizeCommand.cpp - `tfmc tokenize` and `tfmc detokenize` -*- C++ -*-===//
//
// Text on stdin to token ids on stdout, and back, with the tokenizer of a
// GGUF file (or of the one .gguf in a folder).
//
//===----------------------------------------------------------------------===//

#include "compiler/tfmc/Driver.h"
#include "runtime/Tokenizer.h"

#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

using namespace tfm;

namespace {

const char *kTokenizeUsage =
    "usage: tfmc tokenize SOURCE [--lines SEP] [--no-bos] [--no-special]\n"
    "       tfmc detokenize SOURCE [--lines SEP] [--no-special]\n"
    "\n"
    "tokenize reads text on stdin and prints its token ids, space-separated;\n"
    "with --lines SEP the input is cut at each SEP (a last empty piece is\n"
    "dropped) and each piece's ids are one line. detokenize reads lines of\n"
    "ids and prints each line's text, followed by SEP with --lines.\n"
    "\n"
    "SOURCE is a GGUF file, or a folder with one .gguf file.\n"
    "  --lines SEP     one sequence per piece of the input (\\n in SEP is a\n"
    "                  newline)\n"
    "  --no-bos        tokenize: add no BOS/EOS (the vocabulary's\n"
    "                  add_bos_token and add_eos_token are ignored)\n"
    "  --no-special    tokenize: special-token text is plain text;\n"
    "                  detokenize: control tokens print nothing (by default\n"
    "                  they print their text)\n";

std::string unescape(const std::string &s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char c = s[++i];
      out += c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += s[i];
    }
  }
  return out;
}

} // namespace

int tfm::tokenizeCommand(int argc, char **argv) {
  bool decode = std::strcmp(argv[1], "detokenize") == 0;
  const char *name = decode ? "detokenize" : "tokenize";
  std::string source, separator;
  bool lines = false, noBos = false, noSpecial = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kTokenizeUsage, stdout);
      return 0;
    }
    if (a == "--lines" && i + 1 < argc) {
      lines = true;
      separator = unescape(argv[++i]);
    } else if (a == "--no-bos" && !decode) {
      noBos = true;
    } else if (a == "--no-special") {
      noSpecial = true;
    } else if (!a.empty() && a[0] != '-' && source.empty()) {
      source = a;
    } else {
      std::fprintf(stderr, "tfmc %s: error: unexpected argument '%s'\n%s",
                   name, a.c_str(), kTokenizeUsage);
      return 2;
    }
  }
  if (source.empty()) {
    std::fprintf(stderr, "tfmc %s: error: expected SOURCE\n%s", name,
                 kTokenizeUsage);
    return 2;
  }
  if (lines && separator.empty()) {
    std::fprintf(stderr, "tfmc %s: error: --lines needs a non-empty "
                         "separator\n",
                 name);
    return 2;
  }
  auto tokenizer = rt::Tokenizer::load(source);
  if (!tokenizer) {
    std::fprintf(stderr, "tfmc %s: error: %s\n", name,
                 tokenizer.error().message().c_str());
    return 1;
  }
  const rt::Tokenizer &t = **tokenizer;
  std::string input(std::istreambuf_iterator<char>(std::cin), {});

  if (!decode) {
    std::vector<std::string> pieces;
    if (lines) {
      size_t at = 0;
      for (size_t next; (next = input.find(separator, at)) !=
                        std::string::npos;
           at = next + separator.size())
        pieces.push_back(input.substr(at, next - at));
      if (at < input.size())
        pieces.push_back(input.substr(at));
    } else {
      pieces.push_back(input);
    }
    rt::Tokenizer::EncodeOptions options;
    options.addSpecial = !noBos;
    options.parseSpecial = !noSpecial;
    std::string out;
    for (const std::string &piece : pieces) {
      std::vector<int32_t> ids = t.encode(piece, options);
      for (size_t i = 0; i < ids.size(); ++i)
        out += (i ? " " : "") + std::to_string(ids[i]);
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

  std::istringstream in(input);
  std::string line, out;
  int lineNo = 0;
  while (std::getline(in, line)) {
    ++lineNo;
    std::vector<int32_t> ids;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      char *end = nullptr;
      long long v = std::strtoll(w.c_str(), &end, 10);
      if (*end != '\0' || v < 0 || v >= t.size()) {
        std::fprintf(stderr,
                     "tfmc detokenize: error: line %d: '%s' is not a token "
                     "id below %lld\n",
                     lineNo, w.c_str(), (long long)t.size());
        return 2;
      }
      ids.push_back(int32_t(v));
    }
    out += t.decode(ids, /*unparseSpecial=*/!noSpecial);
    out += lines ? separator : "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
