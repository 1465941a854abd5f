#include "web/http_server.h"

#include <CivetServer.h>
#include <dlfcn.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>

#include "exporter/exposition.h"
#include "web/basic_auth.h"
#include "web/content_coding.h"

namespace poolwatch {

std::string HttpRequest::QueryParam(const std::string& name) const {
  std::string value;
  if (!CivetServer::getParam(query, name.c_str(), value)) return "";
  return value;
}

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "host:80" for http and "host:443" for https name the same origin as "host": browsers leave
// the default port out of Origin, and clients may or may not put it in Host.
std::string WithoutDefaultPort(const std::string& authority, const std::string& scheme) {
  const std::string port = scheme == "https" ? ":443" : ":80";
  if (authority.size() > port.size() &&
      authority.compare(authority.size() - port.size(), port.size(), port) == 0) {
    return authority.substr(0, authority.size() - port.size());
  }
  return authority;
}

}  // namespace

std::string CrossSiteRefusal(const HttpRequest& request) {
  if (Lower(request.sec_fetch_site) == "cross-site") {
    return "refused: the request comes from another site's page (Sec-Fetch-Site: cross-site)";
  }
  if (request.origin.empty()) return "";
  const std::string origin = Lower(request.origin);
  const size_t sep = origin.find("://");
  if (sep == std::string::npos) {
    return "refused: the request comes from an opaque origin (Origin: " + request.origin + ")";
  }
  const std::string scheme = origin.substr(0, sep);
  const std::string authority = WithoutDefaultPort(origin.substr(sep + 3), scheme);
  if (request.host.empty() || authority != WithoutDefaultPort(Lower(request.host), scheme)) {
    return "refused: the request comes from another site's page (Origin " + request.origin +
           " is not this server, " + (request.host.empty() ? "no Host" : request.host) + ")";
  }
  return "";
}

bool IsJsonContentType(const std::string& content_type) {
  std::string media = Lower(content_type.substr(0, content_type.find(';')));
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  media.erase(media.begin(), std::find_if(media.begin(), media.end(), not_space));
  media.erase(std::find_if(media.rbegin(), media.rend(), not_space).base(), media.end());
  return media == "application/json";
}

std::string CspHashSource(std::string_view element_text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  EVP_Digest(element_text.data(), element_text.size(), digest, &digest_size, EVP_sha256(), nullptr);
  unsigned char base64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(base64, digest, static_cast<int>(digest_size));
  return std::string("'sha256-")
      .append(reinterpret_cast<const char*>(base64), static_cast<size_t>(n))
      .append("'");
}

namespace {

// On every answer, errors included: no other site may frame a page of poolwatch (clickjacking
// the maintenance buttons), and no browser may guess a type other than the one sent. A
// configured X-Frame-Options or X-Content-Type-Options replaces poolwatch's (browsers ignore
// the header when it comes twice with different values); a second Content-Security-Policy is
// enforced by browsers together with poolwatch's own, so it can only narrow what is allowed.
std::string ResponseHeaders(const std::vector<std::pair<std::string, std::string>>& configured) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Frame-Options", "DENY"},
      {"X-Content-Type-Options", "nosniff"},
      {"Referrer-Policy", "no-referrer"},
  };
  for (const auto& [name, value] : configured) {
    const std::string lower = Lower(name);
    const bool replaces = lower == "x-frame-options" || lower == "x-content-type-options";
    auto same = std::find_if(headers.begin(), headers.end(),
                             [&](const auto& h) { return Lower(h.first) == lower; });
    if (replaces && same != headers.end()) {
      same->second = value;
    } else {
      headers.emplace_back(name, value);
    }
  }
  std::string lines;
  for (const auto& [name, value] : headers) lines += name + ": " + value + "\r\n";
  return lines;
}

}  // namespace

// civetweb calls one CivetHandler per URI prefix; this one routes every request to Serve().
class HttpServer::Dispatch : public CivetHandler {
 public:
  explicit Dispatch(HttpServer* owner) : owner_(owner) {}
  bool handleGet(CivetServer*, mg_connection* conn) override { return Handle(conn, "GET"); }
  bool handlePost(CivetServer*, mg_connection* conn) override { return Handle(conn, "POST"); }
  bool handleHead(CivetServer*, mg_connection* conn) override { return Handle(conn, "HEAD"); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return Handle(conn, "PUT"); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return Handle(conn, "DELETE"); }

 private:
  static constexpr char kDefaultPolicy[] = "default-src 'none'; frame-ancestors 'none'";

  bool Handle(mg_connection* conn, const char* method) {
    if (owner_->auth_) {
      const char* authorization = mg_get_header(conn, "Authorization");
      if (!owner_->auth_->Allows(authorization != nullptr ? authorization : "")) {
        static constexpr char kBody[] = "unauthorized\n";
        mg_printf(conn,
                  "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"poolwatch\", "
                  "charset=\"UTF-8\"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Security-Policy: %s\r\n%s"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  kDefaultPolicy, owner_->response_headers_.c_str(), sizeof(kBody) - 1, kBody);
        return true;
      }
    }
    const mg_request_info* info = mg_get_request_info(conn);
    HttpRequest request;
    request.method = method;
    request.path = info->local_uri != nullptr ? info->local_uri : "/";
    request.query = info->query_string != nullptr ? info->query_string : "";
    request.remote_addr = info->remote_addr;
    const auto header = [conn](const char* name) {
      const char* value = mg_get_header(conn, name);
      return std::string(value != nullptr ? value : "");
    };
    request.content_type = header("Content-Type");
    request.host = header("Host");
    request.origin = header("Origin");
    request.sec_fetch_site = header("Sec-Fetch-Site");
    request.accept_encoding = header("Accept-Encoding");
    if (request.method == "POST" || request.method == "PUT") {
      // Admin calls carry tiny JSON bodies; anything larger is refused rather than buffered.
      constexpr size_t kMaxBody = 64 * 1024;
      char buf[4096];
      int n;
      while ((n = mg_read(conn, buf, sizeof(buf))) > 0) {
        request.body.append(buf, static_cast<size_t>(n));
        if (request.body.size() > kMaxBody) break;
      }
    }
    HttpReply reply = request.body.size() > 64 * 1024
                          ? HttpReply{413, "text/plain; charset=utf-8", "request body too large\n"}
                          : owner_->Serve(request);
    std::string coding_headers;
    if (!reply.content_encoding.empty()) {
      coding_headers += "Content-Encoding: " + reply.content_encoding + "\r\n";
    }
    if (!reply.vary.empty()) coding_headers += "Vary: " + reply.vary + "\r\n";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
              "Content-Security-Policy: %s\r\n%s"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              reply.status, mg_get_response_code_text(conn, reply.status),
              reply.content_type.c_str(), reply.body.size(), coding_headers.c_str(),
              reply.content_security_policy.empty() ? kDefaultPolicy
                                                    : reply.content_security_policy.c_str(),
              owner_->response_headers_.c_str());
    if (request.method != "HEAD") mg_write(conn, reply.body.data(), reply.body.size());
    return true;
  }

  HttpServer* owner_;
};

bool CivetwebSupportsIpv6() { return mg_check_feature(MG_FEATURES_IPV6) != 0; }

std::string CivetListeningPort(const std::string& listen_address) {
  auto colon = listen_address.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen_address.size()) return "";
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  for (char c : port) {
    if (c < '0' || c > '9') return "";
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  return host + ":" + port;
}

HttpServer::HttpServer(Options options, std::shared_ptr<prometheus::Registry> registry)
    : options_(std::move(options)), registry_(std::move(registry)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(const std::string& method, const std::string& path, HttpHandler handler) {
  handlers_[{method, path}] = std::move(handler);
}

void HttpServer::AddExposition(std::function<void(std::string& out)> append) {
  expositions_.push_back(std::move(append));
}

namespace {

// Directories the TLS shims may be in: next to the executable (build tree) and
// ../lib/poolwatch/ (installed).
std::vector<std::filesystem::path> ShimDirectories() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return {exe.parent_path(), exe.parent_path().parent_path() / "lib" / "poolwatch"};
}

}  // namespace

bool PrepareCivetwebTls(std::string* error) {
  static std::mutex mu;
  static bool done = false;
  std::lock_guard<std::mutex> lock(mu);
  if (done) return true;
  if (!mg_check_feature(MG_FEATURES_TLS)) {
    *error = "this civetweb was built without TLS support";
    return false;
  }
  int loaded = 0;
  for (const auto& dir : ShimDirectories()) {
    for (const char* name : {"libpoolwatch-tls-crypto.so", "libpoolwatch-tls-ssl.so"}) {
      const std::filesystem::path shim = dir / name;
      if (std::filesystem::exists(shim) &&
          dlopen(shim.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
        ++loaded;
      }
    }
    if (loaded == 2) break;
  }
  if (loaded < 2) {
    // Without the shims, civetweb needs a libssl that still exports SSL_get_peer_certificate.
    void* ssl = dlopen("libssl.so", RTLD_NOW);
    const bool usable = ssl != nullptr && dlsym(ssl, "SSL_get_peer_certificate") != nullptr;
    if (!usable) {
      *error = std::string(
          "TLS needs libpoolwatch-tls-ssl.so and libpoolwatch-tls-crypto.so next to "
          "the poolwatch executable or in ../lib/poolwatch/ (civetweb 1.15 with "
          "OpenSSL 3 crashes on every TLS connection without them)");
      return false;
    }
  }
  done = true;
  return true;
}

bool HttpServer::Start(std::string* error) {
  std::string ports;
  std::vector<std::string> hosts;
  for (const std::string& address : options_.listen_addresses) {
    std::string port = CivetListeningPort(address);
    if (port.empty()) {
      *error = "web.listen_address: expected host:port, got '" + address + "'";
      return false;
    }
    hosts.push_back(port.substr(0, port.rfind(':')));
    if (options_.tls.enabled()) port += "s";  // civetweb: this port speaks TLS
    ports += (ports.empty() ? "" : ",") + port;
  }
  if (hosts.empty()) {
    *error = "web.listen_address: no address to listen on";
    return false;
  }
  std::vector<std::string> civet_options = {
      "num_threads",        std::to_string(options_.threads),
      "request_timeout_ms", "10000",
      "enable_keep_alive",  "no",
  };
  civet_options.insert(civet_options.begin(), {"listening_ports", ports});
  CivetCallbacks callbacks;
  if (options_.tls.enabled()) {
    if (!PrepareCivetwebTls(error)) {
      *error = "TLS: " + *error;
      return false;
    }
    // A floor under what ConfigureTlsContext sets: TLS 1.2 and later.
    civet_options.insert(civet_options.end(), {"ssl_protocol_version", "4"});
    // civetweb hands over its SSL_CTX before it loads any certificate; returning 1 tells it
    // that everything (certificate, key, client checks) is set up already.
    callbacks.init_ssl = [](void* ssl_ctx, void* user_data) {
      const auto* civet = static_cast<const CivetServer*>(user_data);
      auto* self = static_cast<HttpServer*>(const_cast<void*>(civet->getUserContext()));
      return ConfigureTlsContext(ssl_ctx, self->options_.tls, &self->tls_error_) ? 1 : -1;
    };
  }
  if (!options_.basic_auth_users.empty()) {
    auth_ = std::make_unique<BasicAuth>(options_.basic_auth_users);
  }
  response_headers_ = ResponseHeaders(options_.headers);
  std::string listening;
  for (const std::string& address : options_.listen_addresses) {
    listening += (listening.empty() ? "" : ", ") + address;
  }
  try {
    server_ = std::make_unique<CivetServer>(civet_options, &callbacks, this);
  } catch (const std::exception& e) {
    *error = "cannot listen on " + listening + ": " + e.what() +
             (!tls_error_.empty()      ? " (TLS: " + tls_error_ + ")"
              : options_.tls.enabled() ? " (is a port in use, or the certificate unusable?)"
                                       : " (is a port in use?)");
    return false;
  }
  dispatch_ = std::make_unique<Dispatch>(this);
  server_->addHandler("/", dispatch_.get());
  // civetweb reports its listeners in the order of listening_ports, with the port as bound.
  const std::vector<int> bound_ports = server_->getListeningPorts();
  bound_.clear();
  for (size_t i = 0; i < hosts.size() && i < bound_ports.size(); ++i) {
    bound_.push_back({hosts[i], bound_ports[i]});
  }
  return true;
}

std::vector<std::string> HttpServer::BoundAddresses() const {
  std::vector<std::string> addresses;
  for (const Bound& b : bound_) addresses.push_back(b.host + ":" + std::to_string(b.port));
  return addresses;
}

void HttpServer::Stop() {
  if (server_) {
    server_->close();
    server_.reset();
  }
}

void HttpServer::AppendMetricsText(std::string& out) const {
  AppendTextExposition(registry_->Collect(), out);
  for (const auto& append : expositions_) append(out);
}

HttpReply HttpServer::ServeMetrics(const HttpRequest& request) const {
  // Each of civetweb's worker threads keeps the text of its last scrape: at the cardinality caps
  // it is about 1.6 MB, and a fresh string would fault those pages in again on every scrape.
  thread_local std::string text;
  text.clear();
  AppendMetricsText(text);
  HttpReply reply{200, "text/plain; version=0.0.4; charset=utf-8", ""};
  reply.vary = "Accept-Encoding";  // a cache must not hand the gzip'd body to another client
  if (GzipAccepted(request.accept_encoding)) {
    reply.content_encoding = "gzip";
    AppendGzip(text, kMetricsGzipLevel, reply.body);
  } else {
    reply.body = text;
  }
  return reply;
}

HttpReply HttpServer::Serve(const HttpRequest& request) {
  if (auto it = handlers_.find({request.method, request.path}); it != handlers_.end()) {
    return it->second(request);
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (get && request.path == options_.telemetry_path) return ServeMetrics(request);
  // Prometheus's pair: healthy while the process answers, ready once it can do its job.
  // /healthz is the older name, kept for existing probes.
  if (get && (request.path == "/-/healthy" || request.path == "/healthz")) {
    return {200, "text/plain; charset=utf-8", "ok\n"};
  }
  if (get && request.path == "/-/ready") {
    return ready_ ? HttpReply{200, "text/plain; charset=utf-8", "ready\n"}
                  : HttpReply{503, "text/plain; charset=utf-8", "not ready\n"};
  }
  for (const auto& [key, handler] : handlers_) {
    if (key.second == request.path) {
      return {405, "text/plain; charset=utf-8", "method not allowed\n"};
    }
  }
  return {404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace poolwatch
