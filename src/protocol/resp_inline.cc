#include "protocol/resp_inline.h"

#include "common/check.h"

namespace ctxstore::protocol {
namespace {

// C isspace() in the "C" locale: what separates arguments and may follow a
// closing quote.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// What ends an unquoted argument. Narrower than IsBlank, as in Redis: \v and
// \f inside an argument are part of it.
bool EndsUnquoted(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// The line as Redis sees it, with a cursor. at(i) past the end reads as NUL,
// like the C string sdssplitargs walks.
class Cursor {
 public:
  explicit Cursor(std::string_view line) : line_(line.substr(0, line.find('\0'))) {}
  char at(size_t ahead = 0) const { return pos_ + ahead < line_.size() ? line_[pos_ + ahead] : 0; }
  bool done() const { return pos_ >= line_.size(); }
  void advance(size_t n = 1) { pos_ += n; }
  // A closing quote at the cursor: is what follows it allowed?
  bool CloseOk() const { return at(1) == 0 || IsBlank(at(1)); }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

// Inside "...": appends one (possibly escaped) byte, or closes. False when the
// line is unbalanced.
bool StepDoubleQuoted(Cursor& c, char* out, size_t* n, bool* in_quotes) {
  const char ch = c.at();
  if (ch == '\\' && c.at(1) == 'x' && HexValue(c.at(2)) >= 0 && HexValue(c.at(3)) >= 0) {
    out[(*n)++] = static_cast<char>(HexValue(c.at(2)) * 16 + HexValue(c.at(3)));
    c.advance(3);
  } else if (ch == '\\' && c.at(1) != 0) {
    c.advance();
    out[(*n)++] = Unescape(c.at());
  } else if (ch == '"') {
    if (!c.CloseOk()) return false;
    *in_quotes = false;
    return true;
  } else if (ch == 0) {
    return false;
  } else {
    out[(*n)++] = ch;
  }
  return true;
}

bool StepSingleQuoted(Cursor& c, char* out, size_t* n, bool* in_quotes) {
  const char ch = c.at();
  if (ch == '\\' && c.at(1) == '\'') {
    c.advance();
    out[(*n)++] = '\'';
  } else if (ch == '\'') {
    if (!c.CloseOk()) return false;
    *in_quotes = false;
    return true;
  } else if (ch == 0) {
    return false;
  } else {
    out[(*n)++] = ch;
  }
  return true;
}

// One argument starting at the cursor (not a blank). Appends its bytes at
// out[*n]. False when unbalanced.
bool ReadArg(Cursor& c, char* out, size_t* n) {
  bool in_double = false;
  bool in_single = false;
  for (;;) {
    // A closed quote ends the argument (the byte after it is a blank or the end).
    bool closed = false;
    if (in_double) {
      if (!StepDoubleQuoted(c, out, n, &in_double)) return false;
      closed = !in_double;
    } else if (in_single) {
      if (!StepSingleQuoted(c, out, n, &in_single)) return false;
      closed = !in_single;
    } else {
      const char ch = c.at();
      if (ch == 0 || EndsUnquoted(ch))
        closed = true;
      else if (ch == '"')
        in_double = true;
      else if (ch == '\'')
        in_single = true;
      else
        out[(*n)++] = ch;
    }
    if (!c.done()) c.advance();
    if (closed) return true;
  }
}

}  // namespace

InlineSplit SplitInlineArgs(std::string_view line, std::span<char> out, std::span<RespArg> args) {
  CTX_CHECK(out.size() >= line.size());
  InlineSplit r;
  Cursor c(line);
  for (;;) {
    while (!c.done() && IsBlank(c.at())) c.advance();
    if (c.done()) return r;
    if (r.argc == args.size()) {
      r.error = InlineSplitError::kTooManyArgs;
      return r;
    }
    const size_t start = r.out_bytes;
    if (!ReadArg(c, out.data(), &r.out_bytes)) {
      r.error = InlineSplitError::kUnbalanced;
      return r;
    }
    args[r.argc++] = RespArg{start, r.out_bytes - start, false};
  }
}

}  // namespace ctxstore::protocol
