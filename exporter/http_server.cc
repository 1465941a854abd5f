#include "exporter/http_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include <sstream>

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

bool HttpServer::Start(std::string* error) {
  std::string port = CivetListeningPort(options_.listen_address);
  if (port.empty()) {
    *error = "web.listen_address: expected host:port, got '" + options_.listen_address + "'";
    return false;
  }
  std::vector<std::string> civet_options = {
      "listening_ports", port,
      "num_threads", std::to_string(options_.threads),
      "request_timeout_ms", "10000",
      "enable_keep_alive", "no",
  };
  try {
    server_ = std::make_unique<CivetServer>(civet_options);
  } catch (const std::exception& e) {
    *error = "cannot listen on " + options_.listen_address + ": " + e.what() +
             " (is the port in use?)";
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
