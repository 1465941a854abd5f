#include "tests/support/stack.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace poolwatch::testing {
namespace fs = std::filesystem;

namespace {
constexpr auto kStartDeadline = std::chrono::seconds(20);

void WaitForHttp(const std::string& url, const std::string& what) {
  if (!WaitUntil([&] { return HttpGet(url, std::chrono::milliseconds(500)).status > 0; },
                 kStartDeadline)) {
    throw std::runtime_error(what + " did not come up at " + url);
  }
}

// The processes whose parent is `parent`, from /proc.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // it exited meanwhile
    // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read after the last ')'.
    const size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) children.push_back(std::stoi(name));
  }
  return children;
}

std::string SourcePath(const std::string& relative) {
  return std::string(POOLWATCH_SOURCE_DIR) + "/" + relative;
}
}  // namespace

Stack::Stack(StackOptions options)
    : options_(std::move(options)),
      nginx_port_(FreePort()),
      blue_port_(FreePort()),
      green_port_(FreePort()) {
  auto start_app = [&](const std::string& pool, int port, const std::string& release) {
    auto app = std::make_unique<Process>(
        std::vector<std::string>{POOLWATCH_DEMO_APP_BINARY, "--port", std::to_string(port),
                                 "--pool", pool, "--release", release, "--chaos-delay-ms", "3000"},
        dir_ / (pool + ".log"));
    WaitForHttp("http://127.0.0.1:" + std::to_string(port) + "/healthz", pool + " app");
    return app;
  };
  blue_ = start_app("blue", blue_port_, "v1.0.0");
  green_ = start_app("green", green_port_, "v2.0.0");

  if (options_.slack) {
    slack_ = std::make_unique<Process>(
        std::vector<std::string>{"python3", SourcePath("tests/support/slack_standin.py"), "0"},
        dir_ / "slack.log");
    std::string out;
    if (!WaitUntil(
            [&] {
              out = slack_->Output();
              return out.find("PORT ") != std::string::npos && out.find('\n') != std::string::npos;
            },
            kStartDeadline)) {
      throw std::runtime_error("slack stand-in did not start: " + out);
    }
    slack_port_ = std::stoi(out.substr(out.find("PORT ") + 5));
  }

  RenderAndStartNginx();
  if (options_.poolwatch) StartPoolwatch();
}

Stack::~Stack() {
  StopPoolwatch();
  if (nginx_pid_ > 0) {
    kill(nginx_pid_, SIGQUIT);
    WaitUntil([&] { return kill(nginx_pid_, 0) != 0; }, std::chrono::seconds(5));
    kill(nginx_pid_, SIGKILL);
  }
}

std::string Stack::RenderNginx() {
  fs::create_directories(dir_ / "nginx");
  fs::permissions(dir_ / "nginx", fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
  nginx_conf_ = dir_ / "nginx/nginx.conf";
  std::string out;
  int rc = RunCommand({"sh", SourcePath("nginx/render.sh"), nginx_conf_.string()}, &out,
                      {{"ACTIVE_POOL", options_.active_pool},
                       {"BLUE_UPSTREAM", "127.0.0.1:" + std::to_string(blue_port_)},
                       {"GREEN_UPSTREAM", "127.0.0.1:" + std::to_string(green_port_)},
                       {"NGINX_PORT", std::to_string(nginx_port_)},
                       {"NGINX_RUN_DIR", (dir_ / "nginx").string()},
                       {"NGINX_WORKER_PROCESSES", std::to_string(options_.nginx_workers)}});
  if (rc != 0) throw std::runtime_error("nginx/render.sh failed: " + out);
  return out;
}

void Stack::RenderAndStartNginx() {
  RenderNginx();
  std::string nginx = FindProgram("nginx");
  if (nginx.empty()) throw std::runtime_error("nginx is not installed");
  std::string out;
  int rc = RunCommand({nginx, "-p", (dir_ / "nginx").string(), "-c", nginx_conf_.string()}, &out);
  // FreePort() only says the port was free a moment ago: a test running in parallel may have
  // taken it since. Another port then, a few times.
  for (int retry = 0;
       rc != 0 && retry < 3 && out.find("Address already in use") != std::string::npos; ++retry) {
    nginx_port_ = FreePort();
    RenderNginx();
    rc = RunCommand({nginx, "-p", (dir_ / "nginx").string(), "-c", nginx_conf_.string()}, &out);
  }
  if (rc != 0) throw std::runtime_error("nginx failed to start: " + out);
  fs::path pid_file;
  for (const auto& candidate : {dir_ / "nginx/nginx.pid", dir_ / "nginx/logs/nginx.pid"}) {
    if (WaitUntil([&] { return fs::exists(candidate); }, std::chrono::milliseconds(500))) {
      pid_file = candidate;
      break;
    }
  }
  if (pid_file.empty())
    throw std::runtime_error("nginx wrote no pid file under " + dir_.path().string());
  nginx_pid_ = std::stoi(ReadFile(pid_file));
  WaitForHttp("http://127.0.0.1:" + std::to_string(nginx_port_) + "/", "nginx");
  // The probe above is a request too; start every test from an empty log.
  WaitUntil([&] { return AccessLogLines() >= 1; }, std::chrono::seconds(5));
  std::ofstream(access_log(), std::ios::trunc);
}

int Stack::SwitchActivePool(const std::string& pool) {
  options_.active_pool = pool;
  RenderNginx();
  const std::vector<pid_t> old_workers = ChildrenOf(nginx_pid_);
  kill(nginx_pid_, SIGHUP);
  // nginx applies a reload asynchronously, and a worker of the old configuration may still
  // accept a request after a new one answered: wait until the old workers are gone, then until
  // the new primary answers. The probes are counted rather than read back from the log, which
  // nginx writes after the response is sent.
  if (!WaitUntil(
          [&] {
            return std::none_of(old_workers.begin(), old_workers.end(),
                                [](pid_t pid) { return kill(pid, 0) == 0; });
          },
          std::chrono::seconds(10), std::chrono::milliseconds(20))) {
    throw std::runtime_error("nginx's old workers did not exit after the reload");
  }
  int probes = 0;
  if (!WaitUntil(
          [&] {
            ++probes;
            return Get().headers["x-app-pool"] == pool;
          },
          std::chrono::seconds(10), std::chrono::milliseconds(50))) {
    throw std::runtime_error("nginx did not switch to " + pool);
  }
  return probes;
}

void Stack::StartPoolwatch() {
  // Port 0, read back from its log: no window for another test to take the port meanwhile.
  std::vector<std::string> argv = {POOLWATCH_BINARY, "--log.path", access_log().string(),
                                   "--web.listen-address", "127.0.0.1:0"};
  if (!options_.poolwatch_config_yaml.empty()) {
    WriteFile(dir_ / "poolwatch.yml", options_.poolwatch_config_yaml);
    argv.push_back("--config.file");
    argv.push_back((dir_ / "poolwatch.yml").string());
  }
  argv.insert(argv.end(), options_.poolwatch_args.begin(), options_.poolwatch_args.end());
  // A second of clear traffic resolves (the default minute would make every test wait): tests
  // of the timing itself set their own.
  std::map<std::string, std::string> env = {{"ACTIVE_POOL", options_.active_pool},
                                            {"POOLWATCH_RESOLVE_FOR_SEC", "1"}};
  if (slack_ && options_.slack_app) {
    env["SLACK_BOT_TOKEN"] = kSlackStandinToken;
    env["SLACK_CHANNEL"] = "#ops";
    env["POOLWATCH_SLACK_API_URL"] = "http://127.0.0.1:" + std::to_string(slack_port_) + "/api";
  } else if (slack_) {
    env["SLACK_WEBHOOK_URL"] =
        "http://127.0.0.1:" + std::to_string(slack_port_) + "/services/T000/B000/secret-token";
  }
  for (const auto& [k, v] : options_.poolwatch_env) env[k] = v;
  poolwatch_ = std::make_unique<Process>(argv, dir_ / "poolwatch.log", env);
  poolwatch_port_ = WaitForListeningPort(*poolwatch_, kStartDeadline);
  if (poolwatch_port_ == 0) {
    throw std::runtime_error("poolwatch did not start listening: " + poolwatch_->Output());
  }
  if (!WaitUntil(
          [&] {
            return HttpGet(PoolwatchUrl("/-/ready"), std::chrono::milliseconds(500)).status == 200;
          },
          kStartDeadline)) {
    throw std::runtime_error("poolwatch did not become ready: " + poolwatch_->Output());
  }
}

void Stack::StopPoolwatch() {
  if (poolwatch_) {
    poolwatch_->Stop(SIGTERM, std::chrono::seconds(15));
  }
}

std::string Stack::PoolwatchUrl(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(poolwatch_port_) + path;
}

HttpResponse Stack::Get(const std::string& path) {
  return HttpGet("http://127.0.0.1:" + std::to_string(nginx_port_) + path,
                 std::chrono::seconds(15));
}

void Stack::StartChaos(const std::string& pool, const std::string& mode) {
  auto r =
      HttpPost("http://127.0.0.1:" + std::to_string(pool_port(pool)) + "/chaos/start?mode=" + mode);
  if (r.status != 200) throw std::runtime_error("chaos start failed on " + pool + ": " + r.body);
}

void Stack::StopChaos(const std::string& pool) {
  auto r = HttpPost("http://127.0.0.1:" + std::to_string(pool_port(pool)) + "/chaos/stop");
  if (r.status != 200) throw std::runtime_error("chaos stop failed on " + pool + ": " + r.body);
}

std::map<std::string, int> Stack::PoolResponses(const std::string& pool) {
  auto r = HttpGet("http://127.0.0.1:" + std::to_string(pool_port(pool)) + "/stats");
  if (r.status != 200) throw std::runtime_error("GET /stats failed on " + pool + ": " + r.body);
  const nlohmann::json stats = nlohmann::json::parse(r.body);  // outlives the loop below
  std::map<std::string, int> out;
  for (const auto& [status, n] : stats.at("by_status").items()) {
    out[status] = n.get<int>();
  }
  return out;
}

std::string Stack::Metrics() { return HttpGet(PoolwatchUrl("/metrics")).body; }

double Stack::Metric(const std::string& name, const std::map<std::string, std::string>& labels) {
  return MetricValue(Metrics(), name, labels);
}

std::vector<nlohmann::json> Stack::SlackMessages() {
  std::vector<nlohmann::json> out;
  auto r = HttpGet("http://127.0.0.1:" + std::to_string(slack_port_) + "/_received");
  auto all = nlohmann::json::parse(r.body, nullptr, false);
  if (!all.is_array()) return out;
  for (const auto& d : all) {
    if (d.value("status", 0) == 200 && d.contains("json") && d["json"].is_object()) {
      out.push_back(d["json"]);
    }
  }
  return out;
}

std::vector<std::string> Stack::SlackTexts() {
  std::vector<std::string> texts;
  for (const auto& m : SlackMessages()) texts.push_back(m.value("text", ""));
  return texts;
}

std::vector<nlohmann::json> Stack::SlackAppMessages() {
  auto r = HttpGet("http://127.0.0.1:" + std::to_string(slack_port_) + "/_messages");
  auto all = nlohmann::json::parse(r.body, nullptr, false);
  if (!all.is_array()) return {};
  return {all.begin(), all.end()};
}

std::vector<nlohmann::json> Stack::SlackAppCalls() {
  std::vector<nlohmann::json> out;
  auto r = HttpGet("http://127.0.0.1:" + std::to_string(slack_port_) + "/_received");
  auto all = nlohmann::json::parse(r.body, nullptr, false);
  if (!all.is_array()) return out;
  for (const auto& d : all) {
    if (d.contains("method")) out.push_back(d);
  }
  return out;
}

void Stack::SetSlackMode(const nlohmann::json& mode) {
  HttpPost("http://127.0.0.1:" + std::to_string(slack_port_) + "/_mode", mode.dump());
}

size_t Stack::AccessLogLines() const {
  std::string text = ReadFile(access_log());
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace poolwatch::testing
