// poolwatch: nginx access log → Prometheus metrics and Slack alerts. Parses flags and hands
// over to the daemon, replay or check-config; everything else lives in poolwatch_app.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "app/daemon.h"
#include "app/replay.h"
#include "config/value_parsers.h"
#include "exporter/metrics.h"

namespace {

// A flag checked by the parser the file and the environment use for the same kind of value.
template <typename Parse>
CLI::Validator ParsedBy(Parse parse, std::string_view expected) {
  return CLI::Validator(
      [parse, expected](std::string& text) {
        return parse(text) ? std::string() : poolwatch::ExpectedGot(expected, text);
      },
      std::string(expected));
}

}  // namespace

int main(int argc, char** argv) {
  using poolwatch::FlagOverrides;
  CLI::App app{"poolwatch: nginx blue/green access log → Prometheus metrics and Slack alerts"};
  app.set_version_flag("--version", std::string("poolwatch ") +
                                        std::string(poolwatch::PoolwatchVersion()) + " (" +
                                        std::string(poolwatch::PoolwatchRevision()) + ")");
  app.require_subcommand(0, 1);

  std::string config_path;
  if (const char* env = std::getenv("POOLWATCH_CONFIG")) config_path = env;
  FlagOverrides flags;
  app.add_option("--config.file,-c", config_path, "YAML configuration file (env POOLWATCH_CONFIG)");
  std::vector<std::string> log_paths;
  app.add_option("--log.path", log_paths,
                 "access log (path or glob) to follow; repeat it to follow several")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--log.start-at", flags.start_at,
                 "where to start in an existing log: end or beginning")
      ->check(ParsedBy(poolwatch::ParseStartAt, poolwatch::kStartAtExpected));
  std::vector<std::string> listen_addresses;
  app.add_option("--web.listen-address", listen_addresses,
                 "host:port for /metrics and the API (default :10090); repeat it to listen on "
                 "several addresses")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--web.telemetry-path", flags.telemetry_path,
                 "path of the metrics (default /metrics)");
  app.add_flag("--web.enable-admin-api", flags.enable_admin_api,
               "allow POST /api/v1/maintenance and POST /-/reload");
  app.add_option("--log.level", flags.log_level, "debug, info, warn or error")
      ->check(ParsedBy(poolwatch::ParseLogLevel, poolwatch::kLogLevelExpected));
  app.add_option("--instance", flags.instance, "node identity (default: host name)");
  app.add_option("--web.config.file", flags.web_config_file,
                 "TLS and basic-auth settings for every endpoint (Prometheus exporter-toolkit "
                 "format: tls_server_config, basic_auth_users)");
  app.add_option("--state.path", flags.state_path,
                 "file keeping the log position and alerting state across restarts "
                 "(env POOLWATCH_STATE_PATH)");

  poolwatch::ReplayOptions replay;
  CLI::App* replay_cmd =
      app.add_subcommand("replay",
                         "run whole logs through metrics and rules with the log's clock; print the "
                         "notifications that would have been sent as JSON lines");
  replay_cmd->add_option("--config,-c", replay.config_path, "YAML configuration file");
  replay_cmd->add_option("--metrics-out", replay.metrics_out, "write the final exposition here");
  replay_cmd->add_flag("--report", replay.report,
                       "after the notifications, print an incident report on stderr: one line "
                       "per incident (rule, labels, start, end, duration, peak, messages sent "
                       "and held back, whether it was announced) and a summary per rule");
  replay_cmd->add_option("--report-file", replay.report_file,
                         "write the incident report to this file instead of stderr (implies "
                         "--report)");
  replay_cmd
      ->add_option("--report-format", replay.report_format,
                   "text (an aligned table, the default) or json (implies --report)")
      ->check(CLI::IsMember({"text", "json"}));
  replay_cmd
      ->add_option("--order", replay.order,
                   "time (the default: the logs by the time of their first line, so a shell "
                   "glob of rotated logs is read oldest first) or given (as listed)")
      ->check(CLI::IsMember({"time", "given"}));
  replay_cmd
      ->add_option("logs", replay.logs,
                   "access logs, plain or gzip'd (recognised by their first bytes); - reads "
                   "standard input")
      ->required();

  std::string check_path;
  CLI::App* check_cmd =
      app.add_subcommand("check-config", "validate a configuration file and exit");
  check_cmd->add_option("file", check_path, "YAML configuration file")->required();

  CLI11_PARSE(app, argc, argv);
  if (!listen_addresses.empty()) flags.listen_addresses = listen_addresses;
  if (!log_paths.empty()) flags.log_paths = log_paths;

  if (*replay_cmd) {
    if (replay.config_path.empty()) replay.config_path = config_path;
    return poolwatch::RunReplay(replay);
  }
  if (*check_cmd) {
    try {
      poolwatch::Config config = poolwatch::LoadEffectiveConfig(check_path, FlagOverrides{});
      std::cout << check_path << ": OK (" << config.alerting.rules.size() << " rules, primary pool "
                << config.alerting.active_pool;
      // The inputs; none is fine here, since --log.path may give them when the daemon starts.
      const size_t paths = poolwatch::LogPatterns(config).size();
      if (paths > 0) std::cout << ", " << paths << " log path" << (paths == 1 ? "" : "s");
      if (!config.syslog_listen.empty()) {
        std::cout << ", syslog on " << config.syslog_listen.size() << " listener"
                  << (config.syslog_listen.size() == 1 ? "" : "s");
      }
      if (!config.remote_write.empty()) {
        std::cout << ", remote write to " << config.remote_write.size() << " receiver"
                  << (config.remote_write.size() == 1 ? "" : "s");
      }
      std::cout << ")\n";
      return 0;
    } catch (const poolwatch::ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  return poolwatch::RunDaemon(config_path, flags);
}
