#include "bench/trace.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <utility>

namespace ctxstore::bench {
namespace {

using nlohmann::json;

// The non-negative integer field `key` of `obj`, or an error naming it.
Result<uint64_t> UnsignedField(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Invalid(std::string("missing \"") + key + "\"");
  if (!it->is_number_unsigned()) {
    return Status::Invalid(std::string("\"") + key + "\" is not a non-negative integer");
  }
  return it->get<uint64_t>();
}

// Appends one request, parsed from `line`, to `trace`.
Status ParseRequest(const std::string& line, Trace& trace) {
  json obj = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return Status::Invalid("not valid JSON");
  if (!obj.is_object()) return Status::Invalid("not a JSON object");
  TraceRequest r;
  for (auto [key, field] :
       {std::pair{"timestamp", &r.timestamp_ms}, std::pair{"input_length", &r.input_length},
        std::pair{"output_length", &r.output_length}}) {
    Result<uint64_t> v = UnsignedField(obj, key);
    if (!v.ok()) return v.status();
    *field = *v;
  }
  auto ids = obj.find("hash_ids");
  if (ids == obj.end()) return Status::Invalid("missing \"hash_ids\"");
  if (!ids->is_array()) return Status::Invalid("\"hash_ids\" is not an array");
  r.first_block = trace.blocks.size();
  for (const json& id : *ids) {
    if (!id.is_number_unsigned()) {
      trace.blocks.resize(r.first_block);
      return Status::Invalid("\"hash_ids\" holds something other than a non-negative integer");
    }
    trace.blocks.push_back(id.get<uint64_t>());
  }
  r.block_count = trace.blocks.size() - r.first_block;
  trace.requests.push_back(r);
  return Status::Ok();
}

bool Blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

}  // namespace

Result<Trace> ParseTrace(std::istream& in, std::string_view name, size_t max_requests) {
  Trace trace;
  trace.name = std::string(name);
  std::string line;
  for (uint64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (max_requests != 0 && trace.requests.size() >= max_requests) break;
    if (Blank(line)) continue;
    Status st = ParseRequest(line, trace);
    if (!st.ok()) {
      return Status::Invalid(trace.name + ":" + std::to_string(line_no) + ": " + st.message());
    }
  }
  if (in.bad()) return Status::IoError("cannot read " + trace.name);
  return trace;
}

Result<Trace> LoadTrace(const std::string& path, size_t max_requests) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot open " + path + ": " + std::strerror(errno));
  // Errors name the path; the trace is named after the file.
  Result<Trace> trace = ParseTrace(in, path, max_requests);
  if (trace.ok()) trace->name = path.substr(path.find_last_of('/') + 1);
  return trace;
}

}  // namespace ctxstore::bench
