// poolwatch-demo-app: a small HTTP server that stands in for the user's blue and green
// application images, so the stack, the local demo and the end-to-end tests have real
// upstreams whose failures can be switched on and off.
//
//   GET  /, /version         {"pool","release","hostname"}
//   GET  /healthz            {"status":"ok",...}
//   POST /chaos/start?mode=error|timeout
//   POST /chaos/stop
//   GET  /stats              {"pool","requests","by_status":{"200":n,...}}: responses sent so
//                            far, all but those of /stats and /chaos/* (so tests can check
//                            what nginx logged against what this upstream really answered)
//
// Every response carries X-App-Pool and X-Release-Id: nginx logs them as
// $upstream_http_x_app_pool / $upstream_http_x_release_id, which is how poolwatch learns
// which pool answered.

#include <CivetServer.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

enum class ChaosMode { kNone, kError, kTimeout };

const char* ChaosName(ChaosMode mode) {
  switch (mode) {
    case ChaosMode::kError:
      return "error";
    case ChaosMode::kTimeout:
      return "timeout";
    case ChaosMode::kNone:
      break;
  }
  return "none";
}

struct Options {
  std::string listen = "127.0.0.1";
  int port = 3000;
  std::string pool = "unknown";
  std::string release = "unknown";
  // Longer than nginx's proxy_read_timeout (2s in nginx/nginx.conf.template), so that in
  // timeout mode nginx gives up on this pool and retries the request on the backup.
  std::chrono::milliseconds chaos_delay{5000};
};

// Chaos state shared by the request threads. The condition variable lets a request that is
// sleeping in timeout mode return at once when chaos stops or the server shuts down, so
// neither waits for the full delay.
class Chaos {
 public:
  ChaosMode mode() {
    std::lock_guard lock(mutex_);
    return mode_;
  }
  void Set(ChaosMode mode) {
    {
      std::lock_guard lock(mutex_);
      mode_ = mode;
    }
    changed_.notify_all();
  }
  void Shutdown() {
    {
      std::lock_guard lock(mutex_);
      shutting_down_ = true;
    }
    changed_.notify_all();
  }
  // Sleeps for `delay` unless timeout mode ends (or shutdown starts) first.
  void SleepWhileTimeoutMode(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, delay,
                      [this] { return shutting_down_ || mode_ != ChaosMode::kTimeout; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  ChaosMode mode_ = ChaosMode::kNone;
  bool shutting_down_ = false;
};

// Responses sent, by status. Shared by the request threads.
class ServedCount {
 public:
  void Add(int status) {
    std::lock_guard lock(mutex_);
    ++by_status_[status];
    ++total_;
  }
  nlohmann::json ToJson() {
    std::lock_guard lock(mutex_);
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& [status, n] : by_status_) by_status[std::to_string(status)] = n;
    return {{"requests", total_}, {"by_status", by_status}};
  }

 private:
  std::mutex mutex_;
  std::map<int, uint64_t> by_status_;
  uint64_t total_ = 0;
};

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 500:
      return "Internal Server Error";
  }
  return "Unknown";
}

class AppHandler : public CivetHandler {
 public:
  AppHandler(const Options& options, Chaos* chaos) : options_(options), chaos_(chaos) {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0) hostname_ = name;
  }

  bool handleGet(CivetServer* /*server*/, mg_connection* conn) override {
    std::string_view path = Path(conn);
    if (path.starts_with("/chaos/")) {
      return Reply(conn, 405, {{"error", "use POST"}}, /*counted=*/false);
    }
    if (path == "/stats") {
      nlohmann::json body = served_.ToJson();
      body["pool"] = options_.pool;
      return Reply(conn, 200, body, /*counted=*/false);
    }
    if (!ApplyChaos(conn)) return true;
    if (path == "/" || path == "/version") return Reply(conn, 200, Identity());
    if (path == "/healthz") {
      nlohmann::json body = Identity();
      body["status"] = "ok";
      body["chaos"] = ChaosName(chaos_->mode());
      return Reply(conn, 200, body);
    }
    return Reply(conn, 404, {{"error", "not found"}});
  }

  bool handlePost(CivetServer* /*server*/, mg_connection* conn) override {
    std::string_view path = Path(conn);
    if (path == "/chaos/start") {
      const mg_request_info* info = mg_get_request_info(conn);
      std::string query = info->query_string != nullptr ? info->query_string : "";
      std::string mode;
      CivetServer::getParam(query, "mode", mode);
      if (mode == "error") {
        chaos_->Set(ChaosMode::kError);
      } else if (mode == "timeout") {
        chaos_->Set(ChaosMode::kTimeout);
      } else {
        return Reply(conn, 400, {{"error", "mode must be error or timeout"}}, /*counted=*/false);
      }
      std::cout << "chaos started: " << mode << std::endl;
      return Reply(conn, 200, {{"chaos", mode}, {"pool", options_.pool}}, /*counted=*/false);
    }
    if (path == "/chaos/stop") {
      chaos_->Set(ChaosMode::kNone);
      std::cout << "chaos stopped" << std::endl;
      return Reply(conn, 200, {{"chaos", "none"}, {"pool", options_.pool}}, /*counted=*/false);
    }
    if (!ApplyChaos(conn)) return true;
    return Reply(conn, 405, {{"error", "method not allowed"}});
  }

 private:
  static std::string_view Path(mg_connection* conn) {
    const mg_request_info* info = mg_get_request_info(conn);
    return info->local_uri != nullptr ? info->local_uri : "/";
  }

  nlohmann::json Identity() const {
    nlohmann::json body = {{"pool", options_.pool}, {"release", options_.release}};
    if (!hostname_.empty()) body["hostname"] = hostname_;
    return body;
  }

  // Returns false when chaos already answered the request.
  bool ApplyChaos(mg_connection* conn) {
    switch (chaos_->mode()) {
      case ChaosMode::kError:
        Reply(conn, 500, {{"error", "chaos mode error"}, {"pool", options_.pool}});
        return false;
      case ChaosMode::kTimeout:
        // Answer late rather than never: nginx will have given up and retried on the
        // backup, and a late answer lets this thread go back to the pool.
        chaos_->SleepWhileTimeoutMode(options_.chaos_delay);
        return true;
      case ChaosMode::kNone:
        break;
    }
    return true;
  }

  // `counted`: whether /stats includes it. A reply sent after the client gave up (timeout
  // mode) is counted too: this app cannot tell.
  bool Reply(mg_connection* conn, int status, const nlohmann::json& body, bool counted = true) {
    if (counted) served_.Add(status);
    std::string text = body.dump() + "\n";
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: %zu\r\n"
              "Cache-Control: no-store\r\n"
              "X-App-Pool: %s\r\n"
              "X-Release-Id: %s\r\n"
              "Connection: close\r\n\r\n",
              status, ReasonPhrase(status), text.size(), options_.pool.c_str(),
              options_.release.c_str());
    mg_write(conn, text.data(), text.size());
    return true;
  }

  const Options& options_;
  Chaos* chaos_;
  ServedCount served_;
  std::string hostname_;
};

void Usage(std::ostream& out) {
  out << "usage: poolwatch-demo-app [--listen ADDR] [--port N] [--pool NAME] [--release ID]\n"
         "                          [--chaos-delay-ms N]\n"
         "  --listen ADDR        address to bind (default 127.0.0.1; 0.0.0.0 in containers)\n"
         "  --port N             port (default $PORT, else 3000; 0 picks a free one)\n"
         "  --pool NAME          value of X-App-Pool (default $APP_POOL)\n"
         "  --release ID         value of X-Release-Id (default $RELEASE_ID)\n"
         "  --chaos-delay-ms N   how long timeout mode holds a request (default 5000)\n";
}

std::optional<int> ParseNonNegative(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoi(text);
}

// Flags win over the environment, which wins over the defaults.
std::optional<Options> ParseOptions(int argc, char** argv) {
  Options options;
  auto env = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  std::string port_text = env("PORT");
  if (!env("APP_POOL").empty()) options.pool = env("APP_POOL");
  if (!env("RELEASE_ID").empty()) options.release = env("RELEASE_ID");
  std::string delay_text;

  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      Usage(std::cout);
      std::exit(0);
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        std::cerr << "poolwatch-demo-app: " << arg << " needs a value\n";
        return std::nullopt;
      }
      value = args[++i];
    }
    if (arg == "--listen") {
      options.listen = value;
    } else if (arg == "--port") {
      port_text = value;
    } else if (arg == "--pool") {
      options.pool = value;
    } else if (arg == "--release") {
      options.release = value;
    } else if (arg == "--chaos-delay-ms") {
      delay_text = value;
    } else {
      std::cerr << "poolwatch-demo-app: unknown flag " << arg << "\n";
      Usage(std::cerr);
      return std::nullopt;
    }
  }
  if (!port_text.empty()) {
    auto port = ParseNonNegative(port_text);
    if (!port || *port > 65535) {
      std::cerr << "poolwatch-demo-app: bad port '" << port_text << "'\n";
      return std::nullopt;
    }
    options.port = *port;
  }
  if (!delay_text.empty()) {
    auto delay = ParseNonNegative(delay_text);
    if (!delay) {
      std::cerr << "poolwatch-demo-app: bad --chaos-delay-ms '" << delay_text << "'\n";
      return std::nullopt;
    }
    options.chaos_delay = std::chrono::milliseconds(*delay);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = ParseOptions(argc, argv);
  if (!options) return 2;

  // Block the stop signals before civetweb starts its threads, so they inherit the mask and
  // only sigwait() below ever sees them. A client that hangs up mid-reply (nginx after its
  // read timeout) must not kill the process with SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  Chaos chaos;
  AppHandler handler(*options, &chaos);
  std::string listening = options->listen + ":" + std::to_string(options->port);
  // Eight threads: in timeout mode a few requests sit in the delay while health checks and
  // the chaos endpoints must still get an answer.
  std::vector<std::string> civet_options = {"listening_ports",    listening, "num_threads", "8",
                                            "request_timeout_ms", "30000"};
  int exit_code = 0;
  try {
    CivetServer server(civet_options);
    server.addHandler("/", handler);
    std::vector<int> ports = server.getListeningPorts();
    std::cout << "poolwatch-demo-app pool=" << options->pool << " release=" << options->release
              << " listening on " << options->listen << ":"
              << (ports.empty() ? options->port : ports.front()) << std::endl;

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    std::cout << "stopping on signal " << signal_number << std::endl;
    chaos.Shutdown();
    server.close();
  } catch (const CivetException& e) {
    std::cerr << "poolwatch-demo-app: cannot listen on " << listening << ": " << e.what() << "\n";
    exit_code = 1;
  }
  return exit_code;
}
