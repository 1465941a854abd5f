#pragma once

#include <map>
#include <string>

namespace poolwatch {

// TLS and basic auth for poolwatch's HTTP endpoints, read from a file in the format of the
// Prometheus exporter-toolkit (--web.config.file), so one file serves every exporter:
//
//   tls_server_config:
//     cert_file: server.crt     # relative paths are relative to this file
//     key_file: server.key
//   basic_auth_users:
//     prometheus: $2y$10$...    # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
//
// What poolwatch does not implement (client certificates, TLS versions and ciphers,
// http_server_config) is rejected with file, line and key rather than silently ignored.
struct WebConfig {
  std::string source;                        // the file, for messages
  std::string cert_file;                     // PEM; absolute after loading
  std::string key_file;                      // PEM, unencrypted
  std::map<std::string, std::string> users;  // user → bcrypt hash ($2a$, $2b$ or $2y$)

  bool tls() const { return !cert_file.empty(); }
  bool auth() const { return !users.empty(); }
};

// Throws ConfigError ("file:line: key: problem"); never echoes a hash.
WebConfig LoadWebConfig(const std::string& path);
WebConfig ParseWebConfig(const std::string& yaml, const std::string& source);

}  // namespace poolwatch
