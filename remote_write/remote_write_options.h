#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "alerting/notify/http_poster.h"

namespace poolwatch {

// One `remote_write:` entry. Key names follow Prometheus' own remote_write configuration where
// it has them (url, name, remote_timeout, headers, basic_auth, bearer_token(_file), tls_config,
// queue_config); `interval` and `external_labels` are per entry here because poolwatch
// snapshots its own metrics instead of scraping. Secrets (the password, the bearer token, the
// URL's user info, header values) are read into this value and leave it only in the HTTP call.
struct RemoteWriteOptions {
  std::string url;
  std::string name;  // the `remote` label of the self-metrics; "" : the URL without secrets
  std::chrono::milliseconds interval{std::chrono::seconds(15)};        // between snapshots
  std::chrono::milliseconds remote_timeout{std::chrono::seconds(30)};  // one POST
  std::vector<std::pair<std::string, std::string>> headers;
  std::string basic_auth_username;
  std::string basic_auth_password;
  std::string bearer_token;
  HttpTlsClientOptions tls;
  // Added to every series that does not have the label already (as Prometheus does).
  std::map<std::string, std::string> external_labels;

  // queue_config
  size_t capacity = 50000;  // samples waiting to be sent; beyond it the oldest are dropped
  size_t max_samples_per_send = 2000;
  std::chrono::milliseconds min_backoff{30};
  std::chrono::milliseconds max_backoff{std::chrono::seconds(5)};

  bool operator==(const RemoteWriteOptions&) const = default;
};

}  // namespace poolwatch
