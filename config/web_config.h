#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "web/tls_context.h"

namespace poolwatch {

// TLS, basic auth and response headers for poolwatch's HTTP endpoints, read from a file in the
// format of the Prometheus exporter-toolkit (--web.config.file), so one file serves every
// exporter:
//
//   tls_server_config:
//     cert_file: server.crt     # relative paths are relative to this file; or cert: <PEM>
//     key_file: server.key      # or key: <PEM>
//     min_version: TLS13
//     client_auth_type: RequireAndVerifyClientCert
//     client_ca_file: clients-ca.crt
//   http_server_config:
//     headers: {Strict-Transport-Security: max-age=31536000}
//   basic_auth_users:
//     prometheus: $2y$10$...    # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
//
// What poolwatch cannot honour (HTTP/2, client_allowed_sans, rate_limit, TLS 1.0 and 1.1) is
// refused with file, line, key and the reason rather than silently ignored.
struct WebConfig {
  std::string source;  // the file, for messages
  // Certificates and keys as PEM text, read from cert_file/key_file/client_ca_file or inline.
  TlsOptions tls_options;
  std::string cert_file;  // where the certificate came from ("" : inline), absolute
  std::string key_file;   // where the key came from ("" : inline), absolute
  std::map<std::string, std::string> users;  // user → bcrypt hash ($2a$, $2b$ or $2y$)
  // http_server_config.headers, in file order; empty values are left out.
  std::vector<std::pair<std::string, std::string>> headers;

  bool tls() const { return tls_options.enabled(); }
  bool auth() const { return !users.empty(); }
};

// Throws ConfigError ("file:line: key: problem"); never echoes a hash or a key.
WebConfig LoadWebConfig(const std::string& path);
WebConfig ParseWebConfig(const std::string& yaml, const std::string& source);

}  // namespace poolwatch
