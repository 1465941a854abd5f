#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/registry.h>

class CivetServer;

namespace poolwatch {

class BasicAuth;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;  // raw query string, without '?'
  std::string body;
  std::string remote_addr;
  // Returns the decoded value of a query parameter, or "" when absent.
  std::string QueryParam(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

// The one HTTP server of poolwatch (civetweb): /metrics, /healthz, /-/ready and whatever the
// daemon adds (admin API, status). Handlers run on civetweb's threads and must be thread-safe.
class HttpServer {
 public:
  struct Options {
    std::string listen_address = ":10090";  // host:port; port 0 picks a free one
    std::string telemetry_path = "/metrics";
    int threads = 4;
    // TLS on every endpoint when both are set (PEM files; the key unencrypted).
    std::string tls_cert_file{};
    std::string tls_key_file{};
    // Basic auth on every endpoint when not empty: user → bcrypt hash.
    std::map<std::string, std::string> basic_auth_users{};
  };

  HttpServer(Options options, std::shared_ptr<prometheus::Registry> registry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact path and method; call before Start().
  void Handle(const std::string& method, const std::string& path, HttpHandler handler);

  // Binds and starts serving. Returns false with `error` set when the address is unusable.
  bool Start(std::string* error);
  void Stop();
  int port() const { return port_; }

  // /-/ready answers 200 only once the daemon says so (log opened, first read done).
  void SetReady(bool ready) { ready_ = ready; }

  // The registry's exposition in Prometheus text format (what /metrics serves).
  std::string RenderMetrics() const;

 private:
  class Dispatch;
  HttpReply Serve(const HttpRequest& request);

  Options options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::map<std::pair<std::string, std::string>, HttpHandler> handlers_;  // (method, path)
  std::unique_ptr<Dispatch> dispatch_;
  std::unique_ptr<BasicAuth> auth_;  // null without users
  std::unique_ptr<CivetServer> server_;
  std::atomic<bool> ready_{false};
  int port_ = 0;
};

// ":10090" → "0.0.0.0:10090" as civetweb wants it; "[::1]:80" kept. Empty when unusable.
std::string CivetListeningPort(const std::string& listen_address);

// Makes civetweb's TLS usable with OpenSSL 3 (see exporter/tls_shim/civetweb_tls_shim.cc):
// loads the two shim objects from next to the executable or from ../lib/poolwatch/. False with
// `error` set when they are needed and missing. Idempotent.
bool PrepareCivetwebTls(std::string* error);

}  // namespace poolwatch
