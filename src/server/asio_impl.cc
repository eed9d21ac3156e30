// asio's own non-template code, compiled once for the whole program.
//
// asio is header-only by default: every file that includes it compiles
// (and, in the sanitizer builds, instruments) all of asio's socket, reactor
// and TLS implementation again. With ASIO_SEPARATE_COMPILATION, set for
// every target in CMakeLists.txt, the headers declare that code and this
// file defines it. This roughly halves the cost of each asio file in the
// ASan+UBSan build, which is what keeps CI inside its time budget.
#include <asio/impl/src.hpp>
#include <asio/ssl/impl/src.hpp>
