// The HTTP transport of canvass-server: cpp-httplib's request parser and router behind
// connection handling of our own, so that slow, idle and hostile clients cannot exhaust the
// server.
//
// Why: Debian's cpp-httplib 0.11 reads the request line and headers byte by byte into a buffer
// that grows without limit (one endless header line takes all memory), resets its read timeout on
// every byte (a client sending a byte a second holds a worker for hours), and runs connections on
// a fixed thread pool (a thousand idle connections queue every honest device behind them). Here
// every connection gets a thread from an elastic pool, and each request's header block is read
// here, bounded in bytes and in time from its first byte, before httplib parses it from memory.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <memory>
#include <string>

namespace canvass::server {

struct ConnectionLimits {
  std::size_t max_header_bytes = 64 * 1024;  // request line and headers; more → 431
  int request_timeout_ms = 60000;            // first byte of a request to the end of its body
  int idle_timeout_ms = 5000;                // wait for the next request on a kept-alive connection
  int io_timeout_ms = 10000;                 // one read or write that makes no progress
  std::size_t max_requests_per_connection = 1000;
  std::size_t min_threads = 8;     // kept ready
  std::size_t max_threads = 4096;  // one per connection up to this; beyond it connections wait
};

// A server for plain HTTP, or HTTPS when tls_cert and tls_key are given (PEM files). Returns
// nullptr and sets *error when the certificate or key cannot be loaded.
std::unique_ptr<httplib::Server> MakeHttpServer(const std::string& tls_cert,
                                                const std::string& tls_key,
                                                const ConnectionLimits& limits, std::string* error);

// Binds to host:port (port 0: a free one) with a listen backlog wider than httplib's; returns the
// port, or -1.
int Bind(httplib::Server& server, const std::string& host, int port);

// Raises this process's open-file limit to its hard limit (each connection is a descriptor);
// returns the new soft limit.
long RaiseOpenFileLimit();

}  // namespace canvass::server
