#pragma once

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "web/tls_context.h"

class CivetServer;

namespace poolwatch {

class BasicAuth;

struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;  // raw query string, without '?'
  std::string body;
  std::string remote_addr;
  // The request headers the admin API's checks need ("" when absent).
  std::string content_type;
  std::string host;
  std::string origin;
  std::string sec_fetch_site;
  std::string accept_encoding;  // /metrics answers gzip'd when it allows
  // Returns the decoded value of a query parameter, or "" when absent.
  std::string QueryParam(const std::string& name) const;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Sent as Content-Security-Policy; empty: the server's default, which allows nothing (right
  // for JSON and text, where no browser should run or load anything).
  std::string content_security_policy{};
  std::string content_encoding{};  // sent as Content-Encoding when not empty ("gzip")
  std::string vary{};              // sent as Vary when not empty
};

// Why a request that changes state looks like it came from another site's page (a form or
// script there, riding on the browser's saved basic auth), or "" when it does not: Sec-Fetch-Site
// says cross-site, or an Origin is sent that is not this server's (Host). Requests without either
// header (curl, scripts) pass: they carry no browser's credentials by accident.
std::string CrossSiteRefusal(const HttpRequest& request);

// True for "application/json", with or without parameters (charset), in any letter case.
bool IsJsonContentType(const std::string& content_type);

// "'sha256-<base64>'" for a Content-Security-Policy source list: lets exactly that inline
// <script> or <style> element's text run, and nothing injected next to it.
std::string CspHashSource(std::string_view element_text);

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

// The one HTTP server of poolwatch (civetweb): /metrics, /healthz, /-/healthy, /-/ready and
// whatever the daemon adds (admin API, status). Handlers run on civetweb's threads and must be
// thread-safe.
class HttpServer {
 public:
  struct Options {
    // host:port each, all served alike; port 0 picks a free one.
    std::vector<std::string> listen_addresses = {":10090"};
    std::string telemetry_path = "/metrics";
    int threads = 4;
    TlsOptions tls{};  // TLS on every listener when enabled()
    // Basic auth on every endpoint when not empty: user → bcrypt hash.
    std::map<std::string, std::string> basic_auth_users{};
    // Sent with every answer (http_server_config.headers). X-Frame-Options and
    // X-Content-Type-Options replace poolwatch's own; any other is added.
    std::vector<std::pair<std::string, std::string>> headers{};
  };

  HttpServer(Options options, std::shared_ptr<prometheus::Registry> registry);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Registers a handler for an exact path and method; call before Start().
  void Handle(const std::string& method, const std::string& path, HttpHandler handler);

  // Appends more of /metrics after the registry's families: series kept outside the registry
  // and written directly, or a prometheus::Collectable (a prometheus-cpp 1.0.1 Registry cannot
  // hold one) through AppendTextExposition. Runs on civetweb's threads; call before Start().
  void AddExposition(std::function<void(std::string& out)> append);
  // Appends the text /metrics serves (the registry, then every AddExposition part), for those
  // who push it elsewhere (remote write). Thread-safe, as scrapes are.
  void AppendMetricsText(std::string& out) const;

  // Binds and starts serving. Returns false with `error` set when the address is unusable.
  bool Start(std::string* error);
  void Stop();
  // The port of the first listener, as bound (also when port 0 was asked).
  int port() const { return bound_.empty() ? 0 : bound_.front().port; }
  // Every listener as bound, in the order of Options::listen_addresses: "127.0.0.1:41234",
  // "0.0.0.0:10090" for ":10090".
  std::vector<std::string> BoundAddresses() const;

  // /-/ready answers 200 only once the daemon says so (log opened, first read done);
  // /-/healthy (and /healthz) as soon as the server answers at all, as Prometheus's do.
  void SetReady(bool ready) { ready_ = ready; }

 private:
  class Dispatch;
  HttpReply Serve(const HttpRequest& request);
  HttpReply ServeMetrics(const HttpRequest& request) const;

  Options options_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<std::function<void(std::string&)>> expositions_;
  std::map<std::pair<std::string, std::string>, HttpHandler> handlers_;  // (method, path)
  std::unique_ptr<Dispatch> dispatch_;
  std::unique_ptr<BasicAuth> auth_;  // null without users
  std::unique_ptr<CivetServer> server_;
  std::atomic<bool> ready_{false};
  struct Bound {
    std::string host;
    int port;
  };
  std::vector<Bound> bound_;
  std::string response_headers_;  // CRLF-terminated lines sent with every answer
  std::string tls_error_;         // why OpenSSL refused the TLS options, for Start()'s error
};

// ":10090" → "0.0.0.0:10090" as civetweb wants it; "[::1]:80" kept. Empty when unusable.
std::string CivetListeningPort(const std::string& listen_address);

// Whether this civetweb can listen on IPv6 addresses. Debian 12's is built without
// (mg_check_feature(8) is 0): it cannot even parse "[::1]:10090".
bool CivetwebSupportsIpv6();

// Makes civetweb's TLS usable with OpenSSL 3 (see web/tls_shim/civetweb_tls_shim.cc):
// loads the two shim objects from next to the executable or from ../lib/poolwatch/. False with
// `error` set when they are needed and missing. Idempotent.
bool PrepareCivetwebTls(std::string* error);

}  // namespace poolwatch
