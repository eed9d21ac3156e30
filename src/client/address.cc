// ParseServerAddress and FormatServerAddress (ctxstore/client.h): the one
// reading of a server address that the CLI, the Python package and the
// benchmarks share.
#include <sys/un.h>

#include <charconv>
#include <string>
#include <string_view>

#include "ctxstore/client.h"

namespace ctxstore {
namespace {

constexpr uint16_t kDefaultPort = 7070;
constexpr std::string_view kUnixScheme = "unix://";
constexpr std::string_view kPlainScheme = "ctxstore://";
constexpr std::string_view kTlsScheme = "ctxstores://";

Status Bad(std::string_view address, std::string_view why) {
  return Status::Invalid("address '" + std::string(address) + "': " + std::string(why));
}

bool ParsePort(std::string_view text, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

// HOST, HOST:PORT or [IPv6]:PORT (the brackets are not part of the host).
Status ParseHostPort(std::string_view address, std::string_view text, std::string* host,
                     uint16_t* port) {
  *port = kDefaultPort;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Bad(address, "an IPv6 literal lacks its ']'");
    *host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Bad(address, "expected ':PORT' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return Bad(address, "the port is empty");
    }
  } else {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return Bad(address, "an IPv6 literal needs brackets: [ADDRESS]:PORT");
    }
    *host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return Bad(address, "the port is empty");
    }
  }
  if (host->empty()) return Bad(address, "the host is empty");
  if (host->find_first_of("/@?# \t") != std::string::npos) {
    return Bad(address, "expected HOST[:PORT], ctxstore://HOST[:PORT] or unix:///PATH");
  }
  if (!port_text.empty() && !ParsePort(port_text, port)) {
    return Bad(address, "the port must be a number from 1 to 65535");
  }
  return Status::Ok();
}

}  // namespace

Status ParseServerAddress(std::string_view address, ClientOptions* options) {
  if (address.starts_with(kUnixScheme)) {
    std::string_view path = address.substr(kUnixScheme.size());
    if (path.empty() || path.front() != '/') {
      return Bad(address, "a Unix socket is unix:///ABSOLUTE/PATH");
    }
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return Bad(address, "a Unix socket path is at most " +
                              std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + " bytes");
    }
    options->unix_path = std::string(path);
    options->tls = false;
    return Status::Ok();
  }
  bool tls = false;
  std::string_view rest = address;
  if (address.starts_with(kTlsScheme)) {
    tls = true;
    rest = address.substr(kTlsScheme.size());
  } else if (address.starts_with(kPlainScheme)) {
    rest = address.substr(kPlainScheme.size());
  } else if (address.find("://") != std::string_view::npos) {
    return Bad(address, "the scheme must be ctxstore://, ctxstores:// or unix://");
  }
  if (rest.ends_with('/') && rest.size() != address.size()) rest.remove_suffix(1);
  std::string host;
  uint16_t port = 0;
  CTX_RETURN_IF_ERROR(ParseHostPort(address, rest, &host, &port));
  options->host = std::move(host);
  options->port = port;
  options->unix_path.clear();
  options->tls = tls;
  return Status::Ok();
}

std::string FormatServerAddress(const ClientOptions& options) {
  if (!options.unix_path.empty()) return std::string(kUnixScheme) + options.unix_path;
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]"
                                                                 : options.host;
  std::string text = host + ":" + std::to_string(options.port);
  return options.tls ? std::string(kTlsScheme) + text : text;
}

}  // namespace ctxstore
