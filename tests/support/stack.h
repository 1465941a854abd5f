#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace poolwatch::testing {

// The blue/green stack of the seed README on 127.0.0.1 with free ports: real nginx rendered
// from nginx/nginx.conf.template, two demo apps, optionally the Slack stand-in and poolwatch.
// Everything is stopped by PID when the Stack is destroyed.
// The bot token the Slack stand-in accepts by default (slack_standin.py).
inline constexpr char kSlackStandinToken[] = "xoxb-standin-token";

struct StackOptions {
  std::string active_pool = "blue";
  bool slack = true;  // start tests/support/slack_standin.py and point poolwatch at it
  // With slack: poolwatch talks to the stand-in as a Slack app (kSlackStandinToken, channel
  // #ops, the stand-in as notify.slack_api_url) instead of as an incoming webhook.
  bool slack_app = false;
  bool poolwatch = true;                             // start poolwatch following nginx's access log
  std::vector<std::string> poolwatch_args;           // extra flags
  std::map<std::string, std::string> poolwatch_env;  // extra environment (seed variables…)
  std::string poolwatch_config_yaml;                 // written to a file and passed when not empty
  // More than one makes nginx behave as in production: each worker writes the log through its
  // own descriptor and reopens it on its own after USR1.
  int nginx_workers = 1;
};

class Stack {
 public:
  explicit Stack(StackOptions options = {});
  ~Stack();

  const TempDir& dir() const { return dir_; }
  std::filesystem::path access_log() const { return dir_ / "nginx/logs/access.log"; }
  int nginx_port() const { return nginx_port_; }
  int pool_port(const std::string& pool) const { return pool == "blue" ? blue_port_ : green_port_; }
  int poolwatch_port() const { return poolwatch_port_; }
  int slack_port() const { return slack_port_; }

  // A request through nginx, like the seed's `curl http://localhost:8080/version`.
  HttpResponse Get(const std::string& path = "/version");
  void StartChaos(const std::string& pool, const std::string& mode = "error");
  void StopChaos(const std::string& pool);
  // The demo app's own count of the responses it sent (GET /stats): {"200": n, "500": m}.
  std::map<std::string, int> PoolResponses(const std::string& pool);

  void StartPoolwatch();
  // Environment for the next StartPoolwatch() (e.g. after StopPoolwatch(), to restart it the
  // way the seed restarts its watcher with a changed .env).
  void SetPoolwatchEnv(const std::string& name, const std::string& value) {
    options_.poolwatch_env[name] = value;
  }
  void StopPoolwatch();
  Process* poolwatch() { return poolwatch_.get(); }
  std::string PoolwatchUrl(const std::string& path) const;
  std::string Metrics();
  double Metric(const std::string& name, const std::map<std::string, std::string>& labels = {});

  // Bodies the Slack stand-in accepted (answered 200), in arrival order.
  std::vector<nlohmann::json> SlackMessages();
  // The top-level `text` of each accepted Slack message.
  std::vector<std::string> SlackTexts();
  // Changes how the stand-in answers (see slack_standin.py: ok, 429, 500, 400, hang).
  void SetSlackMode(const nlohmann::json& mode);
  // Slack app mode: the stand-in's top-level messages, each with its current body, number of
  // updates and thread replies (slack_standin.py's GET /_messages).
  std::vector<nlohmann::json> SlackAppMessages();
  // Every Web API call the stand-in received (accepted or not), in arrival order.
  std::vector<nlohmann::json> SlackAppCalls();

  // Lines nginx has written to the access log so far.
  size_t AccessLogLines() const;
  // Re-renders nginx for another primary and reloads it (the seed's ACTIVE_POOL switch);
  // returns once a request is answered by `pool`, with how many requests that took.
  int SwitchActivePool(const std::string& pool);

 private:
  void RenderAndStartNginx();
  std::string RenderNginx();

  StackOptions options_;
  TempDir dir_;
  int nginx_port_, blue_port_, green_port_, poolwatch_port_ = 0, slack_port_ = 0;
  std::unique_ptr<Process> blue_, green_, slack_, poolwatch_;
  std::filesystem::path nginx_conf_;
  pid_t nginx_pid_ = -1;
};

}  // namespace poolwatch::testing
