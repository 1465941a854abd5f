#include "config/restart_settings.h"

namespace poolwatch {

std::vector<std::string> ChangedRestartSettings(const Config& a, const Config& b) {
  std::vector<std::string> changed;
  auto check = [&changed](bool differs, const char* key) {
    if (differs) changed.emplace_back(key);
  };
  // The log set, its labeler and the formats are made when the daemon starts.
  check(a.log_paths != b.log_paths, "log.path");
  check(a.path_label != b.path_label, "log.path_label");
  check(a.log_files != b.log_files, "log.files");
  check(a.log_format != b.log_format, "log.format");
  check(a.format_options.escape != b.format_options.escape, "log.escape");
  check(a.format_options.pool_variable != b.format_options.pool_variable, "log.pool_variable");
  check(a.format_options.release_variable != b.format_options.release_variable,
        "log.release_variable");
  check(a.pools != b.pools, "log.pools");
  // Where a log without a saved position is first read: only a start reads from there.
  check(a.start_at_beginning != b.start_at_beginning, "log.start_at");
  check(a.syslog_listen != b.syslog_listen, "log.syslog.listen");
  check(a.syslog_labels != b.syslog_labels, "log.syslog.labels");
  check(a.listen_addresses != b.listen_addresses, "web.listen_address");
  check(a.telemetry_path != b.telemetry_path, "web.telemetry_path");
  check(a.web_config_file != b.web_config_file, "web.config_file");
  // The request families' buckets and caps are fixed when they are registered.
  const MetricsOptions& m = a.metrics;
  const MetricsOptions& n = b.metrics;
  check(m.request_duration_buckets != n.request_duration_buckets,
        "metrics.request_duration_buckets");
  check(m.upstream_duration_buckets != n.upstream_duration_buckets,
        "metrics.upstream_duration_buckets");
  check(m.max_releases_per_pool != n.max_releases_per_pool, "metrics.max_releases_per_pool");
  check(m.release_eviction_after != n.release_eviction_after, "metrics.release_eviction_after");
  check(m.max_pools != n.max_pools, "metrics.max_pools");
  check(m.max_upstreams != n.max_upstreams, "metrics.max_upstreams");
  check(m.allowed_pools != n.allowed_pools, "metrics.allowed_pools");
  check(a.state_path != b.state_path, "state.path");
  check(a.state_interval != b.state_interval, "state.checkpoint_interval");
  check(a.remote_write != b.remote_write, "remote_write");
  return changed;
}

}  // namespace poolwatch
