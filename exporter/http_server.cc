#include "exporter/http_server.h"

#include <CivetServer.h>
#include <dlfcn.h>
#include <prometheus/text_serializer.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "exporter/basic_auth.h"

namespace poolwatch {

std::string HttpRequest::QueryParam(const std::string& name) const {
  std::string value;
  if (!CivetServer::getParam(query, name.c_str(), value)) return "";
  return value;
}

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
  bool Handle(mg_connection* conn, const char* method) {
    if (owner_->auth_) {
      const char* authorization = mg_get_header(conn, "Authorization");
      if (!owner_->auth_->Allows(authorization != nullptr ? authorization : "")) {
        static constexpr char kBody[] = "unauthorized\n";
        mg_printf(conn,
                  "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"poolwatch\", "
                  "charset=\"UTF-8\"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                  sizeof(kBody) - 1, kBody);
        return true;
      }
    }
    const mg_request_info* info = mg_get_request_info(conn);
    HttpRequest request;
    request.method = method;
    request.path = info->local_uri != nullptr ? info->local_uri : "/";
    request.query = info->query_string != nullptr ? info->query_string : "";
    request.remote_addr = info->remote_addr;
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
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
              reply.status, mg_get_response_code_text(conn, reply.status),
              reply.content_type.c_str(), reply.body.size());
    if (request.method != "HEAD") mg_write(conn, reply.body.data(), reply.body.size());
    return true;
  }

  HttpServer* owner_;
};

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

namespace {

// Directories the TLS shims may be in: next to the executable (build tree) and
// ../lib/poolwatch/ (installed).
std::vector<std::filesystem::path> ShimDirectories() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return {exe.parent_path(), exe.parent_path().parent_path() / "lib" / "poolwatch"};
}

// civetweb wants key and certificate in one PEM file. It is written to a private directory
// and removed as soon as civetweb has read it.
class CombinedPem {
 public:
  bool Write(const std::string& cert, const std::string& key, std::string* error) {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/poolwatch-tls-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      *error = "cannot create a temporary directory for the TLS key: " + std::string(strerror(errno));
      return false;
    }
    dir_ = pattern;
    path_ = dir_ + "/server.pem";
    std::ifstream k(key), c(cert);
    if (!k || !c) {
      *error = "cannot read " + (!k ? key : cert);
      return false;
    }
    std::ofstream out(path_);
    out << k.rdbuf() << "\n" << c.rdbuf() << "\n";
    if (!out) {
      *error = "cannot write " + path_;
      return false;
    }
    return true;
  }
  ~CombinedPem() {
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

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
      if (std::filesystem::exists(shim) && dlopen(shim.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
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
      *error = std::string("TLS needs libpoolwatch-tls-ssl.so and libpoolwatch-tls-crypto.so next to "
                           "the poolwatch executable or in ../lib/poolwatch/ (civetweb 1.15 with "
                           "OpenSSL 3 crashes on every TLS connection without them)");
      return false;
    }
  }
  done = true;
  return true;
}

bool HttpServer::Start(std::string* error) {
  std::string port = CivetListeningPort(options_.listen_address);
  if (port.empty()) {
    *error = "web.listen_address: expected host:port, got '" + options_.listen_address + "'";
    return false;
  }
  std::vector<std::string> civet_options = {
      "num_threads", std::to_string(options_.threads),
      "request_timeout_ms", "10000",
      "enable_keep_alive", "no",
  };
  CombinedPem pem;
  if (!options_.tls_cert_file.empty()) {
    if (!PrepareCivetwebTls(error) ||
        !pem.Write(options_.tls_cert_file, options_.tls_key_file, error)) {
      *error = "TLS: " + *error;
      return false;
    }
    port += "s";  // civetweb: this port speaks TLS
    civet_options.insert(civet_options.end(), {"ssl_certificate", pem.path(),
                                               "ssl_protocol_version", "4"});  // TLS 1.2+
  }
  civet_options.insert(civet_options.begin(), {"listening_ports", port});
  if (!options_.basic_auth_users.empty()) {
    auth_ = std::make_unique<BasicAuth>(options_.basic_auth_users);
  }
  try {
    server_ = std::make_unique<CivetServer>(civet_options);
  } catch (const std::exception& e) {
    *error = "cannot listen on " + options_.listen_address + ": " + e.what() +
             (options_.tls_cert_file.empty() ? " (is the port in use?)"
                                             : " (is the port in use, or the certificate or key unusable?)");
    return false;
  }
  dispatch_ = std::make_unique<Dispatch>(this);
  server_->addHandler("/", dispatch_.get());
  auto ports = server_->getListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return true;
}

void HttpServer::Stop() {
  if (server_) {
    server_->close();
    server_.reset();
  }
}

std::string HttpServer::RenderMetrics() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

HttpReply HttpServer::Serve(const HttpRequest& request) {
  if (auto it = handlers_.find({request.method, request.path}); it != handlers_.end()) {
    return it->second(request);
  }
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (get && request.path == options_.telemetry_path) {
    return {200, "text/plain; version=0.0.4; charset=utf-8", RenderMetrics()};
  }
  if (get && request.path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n"};
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
