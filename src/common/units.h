// Parsing and printing of human sizes ("512MiB", "4GiB", "1.5GB", "4096")
// and durations ("500ms", "30s", "5m", "2h").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ctxstore/status.h"

namespace ctxstore {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

// Binary (KiB, MiB, GiB, TiB; also K, M, G, T) and decimal (KB, MB, GB, TB)
// suffixes, case-insensitive; a bare number is bytes.
Result<uint64_t> ParseSize(std::string_view text);
// "1.5 GiB" style, for logs and the CLI.
std::string FormatSize(uint64_t bytes);
// The exact size in the largest binary unit that divides it, as an option
// is written: "1GiB", "256MiB", "1536KiB", "100" (bytes). ParseSize reads
// it back unchanged; the CLI prints defaults with it.
std::string FormatSizeExact(uint64_t bytes);
// ms, s, m, h; a bare number is milliseconds.
Result<uint64_t> ParseDurationMs(std::string_view text);
// Whole seconds as "300s", anything else as "1500ms"; ParseDurationMs reads
// it back unchanged.
std::string FormatDurationMs(uint64_t ms);

}  // namespace ctxstore
