#include "common/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>

namespace ctxstore {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "12.5GiB" into 12.5 and "gib"; fails on an empty or non-numeric head.
bool SplitNumber(std::string_view text, double* number, std::string* suffix) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  if (i == 0) return false;
  std::string head(text.substr(0, i));
  char* end = nullptr;
  *number = std::strtod(head.c_str(), &end);
  if (end != head.c_str() + head.size()) return false;
  std::string_view rest = text.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  *suffix = Lower(rest);
  return true;
}

}  // namespace

Result<uint64_t> ParseSize(std::string_view text) {
  double number = 0;
  std::string suffix;
  if (!SplitNumber(text, &number, &suffix)) {
    return Status::Invalid("bad size '" + std::string(text) + "' (expected e.g. 512MiB, 4GiB)");
  }
  double multiplier = 0;
  if (suffix.empty() || suffix == "b")
    multiplier = 1;
  else if (suffix == "k" || suffix == "kib")
    multiplier = 1024.0;
  else if (suffix == "m" || suffix == "mib")
    multiplier = 1024.0 * 1024;
  else if (suffix == "g" || suffix == "gib")
    multiplier = 1024.0 * 1024 * 1024;
  else if (suffix == "t" || suffix == "tib")
    multiplier = 1024.0 * 1024 * 1024 * 1024;
  else if (suffix == "kb")
    multiplier = 1e3;
  else if (suffix == "mb")
    multiplier = 1e6;
  else if (suffix == "gb")
    multiplier = 1e9;
  else if (suffix == "tb")
    multiplier = 1e12;
  else
    return Status::Invalid("bad size unit in '" + std::string(text) + "'");
  double bytes = number * multiplier;
  if (bytes >= 1.8e19) return Status::Invalid("size too large: '" + std::string(text) + "'");
  return static_cast<uint64_t>(std::llround(bytes));
}

std::string FormatSize(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0)
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  return buf;
}

std::string FormatSizeExact(uint64_t bytes) {
  static const char* kUnits[] = {"", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes != 0 && bytes % 1024 == 0 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + kUnits[unit];
}

Result<uint64_t> ParseDurationMs(std::string_view text) {
  double number = 0;
  std::string suffix;
  if (!SplitNumber(text, &number, &suffix)) {
    return Status::Invalid("bad duration '" + std::string(text) + "' (expected e.g. 500ms, 30s)");
  }
  double ms_per_unit = 0;
  if (suffix.empty() || suffix == "ms")
    ms_per_unit = 1;
  else if (suffix == "s")
    ms_per_unit = 1000;
  else if (suffix == "m")
    ms_per_unit = 60'000;
  else if (suffix == "h")
    ms_per_unit = 3'600'000;
  else
    return Status::Invalid("bad duration unit in '" + std::string(text) + "'");
  return static_cast<uint64_t>(std::llround(number * ms_per_unit));
}

std::string FormatDurationMs(uint64_t ms) {
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace ctxstore
