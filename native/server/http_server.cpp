#include "http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "http_message.h"

namespace canvass::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int MsUntil(Clock::time_point deadline) {
  const long long ms = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, INT_MAX));
}

// Waits until fd is ready for `events` or the deadline passes.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = poll(&p, 1, MsUntil(deadline));
    if (rc > 0) return true;
    if (rc == 0 || errno != EINTR) return false;
  }
}

// The bytes of one accepted connection (non-blocking), each call bounded by a deadline.
class Transport {
 public:
  explicit Transport(int fd) : fd_(fd) {}
  virtual ~Transport() = default;
  int fd() const { return fd_; }
  virtual bool Start(Clock::time_point /*deadline*/) { return true; }  // the TLS handshake
  // > 0: bytes read; 0: the peer closed; -1: an error, or the deadline passed.
  virtual ssize_t Read(char* p, size_t n, Clock::time_point deadline) = 0;
  virtual ssize_t Write(const char* p, size_t n, Clock::time_point deadline) = 0;
  virtual bool Buffered() const { return false; }  // bytes read from the socket, not yet returned
  virtual void Finish() {}

 protected:
  int fd_;
};

class PlainTransport final : public Transport {
 public:
  using Transport::Transport;
  ssize_t Read(char* p, size_t n, Clock::time_point deadline) override {
    for (;;) {
      const ssize_t r = recv(fd_, p, n, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !WaitFor(fd_, POLLIN, deadline)) return -1;
    }
  }
  ssize_t Write(const char* p, size_t n, Clock::time_point deadline) override {
    for (;;) {
      const ssize_t r = send(fd_, p, n, MSG_NOSIGNAL);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK) || !WaitFor(fd_, POLLOUT, deadline)) return -1;
    }
  }
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, SSL_CTX* ctx) : Transport(fd), ssl_(SSL_new(ctx)) {
    if (ssl_ != nullptr) SSL_set_fd(ssl_, fd);
  }
  ~TlsTransport() override {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  bool Start(Clock::time_point deadline) override {
    if (ssl_ == nullptr) return false;
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_accept(ssl_);
      if (rc == 1) return true;
      if (!Wait(SSL_get_error(ssl_, rc), deadline)) return false;
    }
  }
  ssize_t Read(char* p, size_t n, Clock::time_point deadline) override {
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_read(ssl_, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
      if (rc > 0) return rc;
      const int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_ZERO_RETURN) return 0;
      if (!Wait(err, deadline)) return -1;
    }
  }
  ssize_t Write(const char* p, size_t n, Clock::time_point deadline) override {
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_write(ssl_, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
      if (rc > 0) return rc;
      if (!Wait(SSL_get_error(ssl_, rc), deadline)) return -1;
    }
  }
  bool Buffered() const override { return SSL_pending(ssl_) > 0; }
  void Finish() override {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // one close_notify, without waiting for the peer's
  }

 private:
  bool Wait(int err, Clock::time_point deadline) {
    if (err == SSL_ERROR_WANT_READ) return WaitFor(fd_, POLLIN, deadline);
    if (err == SSL_ERROR_WANT_WRITE) return WaitFor(fd_, POLLOUT, deadline);
    ERR_clear_error();
    return false;
  }
  SSL* ssl_;
};

void Address(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage a{};
  socklen_t len = sizeof(a);
  const int rc = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
                      : getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (rc != 0) return;
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof(text));
    port = ntohs(in->sin6_port);
  }
  ip = text;
}

// What httplib's request parser reads from: first the header block read here, then the socket,
// every read bounded by the request's deadline.
class ConnectionStream final : public httplib::Stream {
 public:
  enum class Next { kRequest, kClosed, kTooLarge, kTimedOut };

  ConnectionStream(Transport& t, const ConnectionLimits& limits) : t_(t), limits_(limits) {}

  bool is_readable() const override {
    return pos_ < buf_.size() || t_.Buffered() || WaitFor(t_.fd(), POLLIN, IoDeadline());
  }
  bool is_writable() const override { return WaitFor(t_.fd(), POLLOUT, IoDeadline()); }

  ssize_t read(char* p, size_t n) override {
    if (pos_ < buf_.size()) {
      const size_t k = std::min(n, buf_.size() - pos_);
      std::memcpy(p, buf_.data() + pos_, k);
      pos_ += k;
      return static_cast<ssize_t>(k);
    }
    return t_.Read(p, n, std::min(IoDeadline(), request_deadline_));
  }
  ssize_t write(const char* p, size_t n) override {
    size_t done = 0;
    while (done < n) {
      const ssize_t r = t_.Write(p + done, n - done, IoDeadline());
      if (r <= 0) return -1;
      done += static_cast<size_t>(r);
    }
    return static_cast<ssize_t>(n);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(t_.fd(), true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(t_.fd(), false, ip, port);
  }
  socket_t socket() const override { return t_.fd(); }

  // Waits for the next request (while `open` says the server still runs) and reads its request
  // line and headers into the buffer, within the header limit and the request timeout.
  Next ReadHeaderBlock(const std::function<bool()>& open) {
    buf_.erase(0, pos_);  // what the last request left: a pipelined next one, or nothing
    pos_ = 0;
    if (buf_.empty()) {
      const Clock::time_point idle_end = Clock::now() + milliseconds(limits_.idle_timeout_ms);
      for (;;) {  // in slices, so that a stopping server closes idle connections at once
        if (!open()) return Next::kClosed;
        if (t_.Buffered()) break;
        const Clock::time_point slice = std::min(idle_end, Clock::now() + milliseconds(200));
        if (WaitFor(t_.fd(), POLLIN, slice)) break;
        if (Clock::now() >= idle_end) return Next::kClosed;
      }
    }
    request_deadline_ = Clock::now() + milliseconds(limits_.request_timeout_ms);
    size_t searched = 0;
    char chunk[16 * 1024];
    for (;;) {
      if (buf_.size() >= 4) {
        const size_t end = buf_.find("\r\n\r\n", searched);
        if (end != std::string::npos) {
          return end + 4 > limits_.max_header_bytes ? Next::kTooLarge : Next::kRequest;
        }
        searched = buf_.size() - 3;
      }
      if (buf_.size() > limits_.max_header_bytes) return Next::kTooLarge;
      const ssize_t r = t_.Read(chunk, sizeof(chunk), std::min(IoDeadline(), request_deadline_));
      if (r == 0 && buf_.empty()) return Next::kClosed;
      if (r <= 0) return buf_.empty() ? Next::kClosed : Next::kTimedOut;
      buf_.append(chunk, static_cast<size_t>(r));
    }
  }

  // An answer of our own (the API's error body), for requests httplib never sees; the
  // connection closes after it.
  void Refuse(int status, const char* reason, const std::string& code, const std::string& message) {
    const HttpResponse answer = ErrorResponse(status, code, message);
    const std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                             "\r\nContent-Type: " + answer.content_type +
                             "\r\nContent-Length: " + std::to_string(answer.body.size()) +
                             "\r\nConnection: close\r\n\r\n";
    write(head.data(), head.size());
    write(answer.body.data(), answer.body.size());
  }

 private:
  Clock::time_point IoDeadline() const {
    return Clock::now() + milliseconds(limits_.io_timeout_ms);
  }

  Transport& t_;
  const ConnectionLimits& limits_;
  std::string buf_;
  size_t pos_ = 0;
  Clock::time_point request_deadline_ = Clock::time_point::max();
};

// The status of the last answer written on this thread (each connection runs on one thread).
thread_local int last_status = 0;

class Widenable {
 public:
  virtual ~Widenable() = default;
  virtual void WidenBacklog() = 0;
};

// httplib's server (plain or TLS) with the connection loop above in place of its own.
template <class Base>
class GuardedServer final : public Base, public Widenable {
 public:
  template <class... Args>
  explicit GuardedServer(const ConnectionLimits& limits, Args&&... args)
      : Base(std::forward<Args>(args)...), limits_(limits) {}

  // httplib listens with a backlog of 5; a burst of devices (or a thousand idle connections)
  // would see dropped SYNs and second-long retries.
  void WidenBacklog() override {
    if (this->svr_sock_ != INVALID_SOCKET) ::listen(this->svr_sock_, SOMAXCONN);
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
    std::unique_ptr<Transport> t;
    if constexpr (std::is_same_v<Base, httplib::SSLServer>) {
      t = std::make_unique<TlsTransport>(sock, this->ssl_context());
    } else {
      t = std::make_unique<PlainTransport>(sock);
    }
    bool ok = t->Start(Clock::now() + milliseconds(limits_.request_timeout_ms)) && Serve(*t);
    t->Finish();
    LingeringClose(sock);
    return ok;
  }

  // Closing a socket with unread input makes the kernel send a reset, and a reset can reach the
  // client before our refusal (431, 413) does, so the client never reads why. So: end our side,
  // then read and discard what is still coming, a second and 1 MiB at most.
  static void LingeringClose(int sock) {
    ::shutdown(sock, SHUT_WR);
    const Clock::time_point deadline = Clock::now() + milliseconds(1000);
    char sink[16 * 1024];
    for (size_t drained = 0; drained < (1u << 20);) {
      const ssize_t r = recv(sock, sink, sizeof(sink), 0);
      if (r > 0) {
        drained += static_cast<size_t>(r);
      } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
                 !WaitFor(sock, POLLIN, deadline)) {
        break;
      }
    }
    ::close(sock);
  }

  bool Serve(Transport& t) {
    ConnectionStream strm(t, limits_);
    const auto open = [this] { return this->svr_sock_ != INVALID_SOCKET; };
    for (size_t n = 1; n <= limits_.max_requests_per_connection; ++n) {
      switch (strm.ReadHeaderBlock(open)) {
        case ConnectionStream::Next::kRequest:
          break;
        case ConnectionStream::Next::kClosed:
          return true;
        case ConnectionStream::Next::kTooLarge:
          strm.Refuse(431, "Request Header Fields Too Large", "too_large",
                      "the request line and headers exceed " +
                          std::to_string(limits_.max_header_bytes / 1024) +
                          " KiB; send fewer or shorter headers");
          return false;
        case ConnectionStream::Next::kTimedOut:
          strm.Refuse(408, "Request Timeout", "timeout",
                      "the request did not arrive whole within the request timeout; send it "
                      "again");
          return false;
      }
      const bool last = n == limits_.max_requests_per_connection || !open();
      bool closed_by_client = false;
      last_status = 0;
      if (!this->process_request(strm, last, closed_by_client, nullptr)) return false;
      // httplib refused the request before reading its body (or could not parse it): what
      // follows on the connection is not a request.
      if (last_status == 400 || last_status == 413 || last_status == 414) return false;
      if (last || closed_by_client) return true;
    }
    return true;
  }

  ConnectionLimits limits_;
};

// A thread per connection, up to max_threads: a slow or idle connection holds only its own.
// Threads above min_threads retire after a while without work.
class ElasticPool final : public httplib::TaskQueue {
 public:
  ElasticPool(size_t min_threads, size_t max_threads)
      : min_(std::max<size_t>(1, min_threads)), max_(std::max(min_, max_threads)) {}
  ~ElasticPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    std::vector<std::thread> retired;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(fn));
      if (idle_ < tasks_.size() && threads_.size() < max_) {
        std::thread t(&ElasticPool::Work, this);
        const std::thread::id id = t.get_id();
        threads_.emplace(id, std::move(t));
      }
      retired.swap(retired_);
    }
    cv_.notify_one();
    for (std::thread& t : retired) t.join();
  }

  void shutdown() override {
    std::map<std::thread::id, std::thread> threads;
    std::vector<std::thread> retired;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return running_ == 0; });
      threads.swap(threads_);
      retired.swap(retired_);
    }
    for (auto& [id, t] : threads) t.join();
    for (std::thread& t : retired) t.join();
  }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    ++running_;
    for (;;) {
      ++idle_;
      const bool got = cv_.wait_for(lock, std::chrono::seconds(30),
                                    [this] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty() && (stopping_ || (!got && threads_.size() > min_))) break;
      if (tasks_.empty()) continue;
      std::function<void()> fn = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
    }
    // Hand this thread's handle to whoever joins next (the next enqueue, or shutdown).
    auto self = threads_.find(std::this_thread::get_id());
    if (self != threads_.end()) {
      retired_.push_back(std::move(self->second));
      threads_.erase(self);
    }
    --running_;
    done_.notify_all();
  }

  const size_t min_, max_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  std::deque<std::function<void()>> tasks_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread> retired_;
  size_t idle_ = 0, running_ = 0;
  bool stopping_ = false;
};

template <class Server>
void Configure(Server& s, const ConnectionLimits& limits) {
  s.new_task_queue = [limits] { return new ElasticPool(limits.min_threads, limits.max_threads); };
  s.set_read_timeout(limits.io_timeout_ms / 1000, (limits.io_timeout_ms % 1000) * 1000);
  s.set_write_timeout(limits.io_timeout_ms / 1000, (limits.io_timeout_ms % 1000) * 1000);
  s.set_logger(
      [](const httplib::Request&, const httplib::Response& res) { last_status = res.status; });
}

}  // namespace

std::unique_ptr<httplib::Server> MakeHttpServer(const std::string& tls_cert,
                                                const std::string& tls_key,
                                                const ConnectionLimits& limits,
                                                std::string* error) {
  if (!tls_cert.empty()) {
    auto s = std::make_unique<GuardedServer<httplib::SSLServer>>(limits, tls_cert.c_str(),
                                                                 tls_key.c_str());
    if (!s->is_valid()) {
      *error = "cannot load the TLS certificate " + tls_cert + " and key " + tls_key +
               " (PEM files, readable by this user)";
      return nullptr;
    }
    Configure(*s, limits);
    return s;
  }
  auto s = std::make_unique<GuardedServer<httplib::Server>>(limits);
  Configure(*s, limits);
  return s;
}

int Bind(httplib::Server& server, const std::string& host, int port) {
  if (port == 0) {
    port = server.bind_to_any_port(host);
  } else if (!server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port >= 0) {
    if (auto* w = dynamic_cast<Widenable*>(&server)) w->WidenBacklog();
  }
  return port;
}

long RaiseOpenFileLimit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return -1;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  return static_cast<long>(r.rlim_cur);
}

}  // namespace canvass::server
