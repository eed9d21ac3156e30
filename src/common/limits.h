// The store's fixed limits, defined once: the engine checks them, the
// protocol sizes its frames and parsers by them, the client checks them
// before sending, and the CLI prints them in its help. Limits an operator
// sets (value size, batch sizes, timeouts) live in the options structs
// (EngineOptions, ServerOptions) with their defaults.
#pragma once

#include <cstddef>

namespace ctxstore {

// Keys are opaque bytes: 1 to kMaxKeyBytes.
inline constexpr size_t kMaxKeyBytes = 512;
// A group (session tag) names a set of objects: 0 (none) to kMaxGroupBytes.
inline constexpr size_t kMaxGroupBytes = 512;
// A parent is the key of the previous chunk of a prefix.
inline constexpr size_t kMaxParentBytes = kMaxKeyBytes;
// The client's metadata blob stored with an object (dtype, shape, model
// fingerprint).
inline constexpr size_t kMaxMetaBytes = 4096;
// Provenance: the token id, or the client's name, that wrote an object.
// Longer client names are cut to it.
inline constexpr size_t kMaxWriterBytes = 256;
// Namespace names: 1 to kMaxNamespaceNameBytes of [A-Za-z0-9._-].
inline constexpr size_t kMaxNamespaceNameBytes = 64;
// Names of encryption keys (serve --encryption-key NAME=FILE).
inline constexpr size_t kMaxKeyNameBytes = 64;

}  // namespace ctxstore
