#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "config/config.h"
#include "config/go_tls_names.h"

namespace poolwatch {
namespace {

// exporter-toolkit lets users set only these, to keep the Prometheus ecosystem consistent; an
// empty list of values means any value.
const std::map<std::string, std::vector<std::string>>& SettableHeaders() {
  static const std::map<std::string, std::vector<std::string>> headers = {
      {"Content-Security-Policy", {}},
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
  };
  return headers;
}

std::string JoinNames(const std::vector<std::string>& names, const std::string& last) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " " + last + " " : ", ";
    out += names[i];
  }
  return out;
}

bool IsBcrypt(const std::string& hash) {
  // $2b$10$ + 22 characters of salt + 31 of hash.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  return (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && std::isdigit(hash[4]) &&
         std::isdigit(hash[5]);
}

// Reads one web configuration, remembering the file so that every error names file, line and
// key.
class WebConfigReader {
 public:
  explicit WebConfigReader(std::string source)
      : source_(std::move(source)), base_(std::filesystem::path(source_).parent_path()) {}

  WebConfig Read(const YAML::Node& root) {
    WebConfig config;
    config.source = source_;
    if (root.IsNull()) return config;
    CheckKeys(root, "", {"tls_server_config", "basic_auth_users", "http_server_config"},
              {{"rate_limit", "not supported by poolwatch: it does not limit request rates"}});
    if (const YAML::Node tls = root["tls_server_config"]) ReadTls(tls, config);
    if (const YAML::Node http = root["http_server_config"]) ReadHttp(http, config);
    if (const YAML::Node users = root["basic_auth_users"]) ReadUsers(users, config);
    return config;
  }

 private:
  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& problem) const {
    std::ostringstream msg;
    msg << source_;
    if (node.IsDefined() && node.Mark().line >= 0) msg << ":" << node.Mark().line + 1;
    msg << ": " << key << ": " << problem;
    throw ConfigError(msg.str());
  }

  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed,
                 const std::map<std::string, std::string>& refused) const {
    if (!map.IsMap()) Fail(map, path, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) Fail(entry.first, path, "keys must be plain names");
      const std::string key = entry.first.Scalar();
      const std::string where = path.empty() ? key : path + "." + key;
      if (auto reason = refused.find(key); reason != refused.end()) {
        Fail(entry.first, where, reason->second);
      }
      if (allowed.count(key) == 0) {
        std::string known;
        for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
        Fail(entry.first, where, "unknown key (known: " + known + ")");
      }
      if (!seen.insert(key).second) Fail(entry.first, where, "appears twice in the same mapping");
    }
  }

  std::string String(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) Fail(node, key, "expected a string");
    return node.Scalar();
  }

  bool Bool(const YAML::Node& node, const std::string& key) const {
    bool value;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      Fail(node, key, "expected true or false");
    }
    return value;
  }

  std::vector<std::pair<std::string, YAML::Node>> Strings(const YAML::Node& node,
                                                          const std::string& key) const {
    if (!node.IsSequence()) Fail(node, key, "expected a list");
    std::vector<std::pair<std::string, YAML::Node>> items;
    for (size_t i = 0; i < node.size(); ++i) {
      items.emplace_back(String(node[i], key + "[" + std::to_string(i) + "]"), node[i]);
    }
    return items;
  }

  // The PEM text of `inline_key` or of the file `file_key` names (relative to this file);
  // nothing when neither is set. Both at once is an error, as in exporter-toolkit.
  std::optional<std::string> Pem(const YAML::Node& tls, const std::string& inline_key,
                                 const std::string& file_key, std::string* file) const {
    const std::string in = "tls_server_config." + inline_key;
    const std::string fk = "tls_server_config." + file_key;
    const std::string text = tls[inline_key] ? String(tls[inline_key], in) : "";
    const std::string path = tls[file_key] ? String(tls[file_key], fk) : "";
    if (!text.empty() && !path.empty()) {
      Fail(tls[inline_key], in, "give " + inline_key + " or " + file_key + ", not both");
    }
    if (path.empty()) return text.empty() ? std::nullopt : std::optional<std::string>(text);
    const std::filesystem::path p(path);
    *file = (p.is_relative() && !base_.empty() ? base_ / p : p).string();
    std::ifstream in_file(*file);
    if (!in_file) Fail(tls[file_key], fk, "cannot read " + *file);
    std::stringstream content;
    content << in_file.rdbuf();
    return content.str();
  }

  void ReadTls(const YAML::Node& tls, WebConfig& config) const {
    CheckKeys(tls, "tls_server_config",
              {"cert_file", "key_file", "cert", "key", "client_auth_type", "client_ca_file",
               "client_ca", "cipher_suites", "curve_preferences", "min_version", "max_version",
               "prefer_server_cipher_suites"},
              {{"client_allowed_sans",
                "not supported by poolwatch: client certificates are verified against the CA "
                "(client_ca_file), their subject alternative names are not matched"}});
    TlsOptions& out = config.tls_options;
    std::string ca_file;
    const auto cert = Pem(tls, "cert", "cert_file", &config.cert_file);
    const auto key = Pem(tls, "key", "key_file", &config.key_file);
    const auto client_ca = Pem(tls, "client_ca", "client_ca_file", &ca_file);
    if (!cert && !key) {
      // exporter-toolkit then serves plain HTTP and ignores the rest; poolwatch says so.
      for (const auto& entry : tls) {
        if (entry.second.IsNull() || (entry.second.IsScalar() && entry.second.Scalar().empty())) {
          continue;
        }
        Fail(entry.first, "tls_server_config." + entry.first.Scalar(),
             "needs cert (or cert_file) and key (or key_file): without them poolwatch serves "
             "plain HTTP");
      }
      return;
    }
    if (!cert) Fail(tls, "tls_server_config", "missing cert or cert_file (key given)");
    if (!key) Fail(tls, "tls_server_config", "missing key or key_file (cert given)");
    out.cert_pem = *cert;
    out.key_pem = *key;
    out.client_ca_pem = client_ca.value_or("");
    const std::string cert_key = config.cert_file.empty() ? "cert" : "cert_file";
    const std::string key_key = config.key_file.empty() ? "key" : "key_file";

    if (std::string problem = CertificateChainProblem(out.cert_pem); !problem.empty()) {
      Fail(tls[cert_key], "tls_server_config." + cert_key,
           (config.cert_file.empty() ? "" : config.cert_file + " ") + problem);
    }
    if (std::string problem = PrivateKeyProblem(out.key_pem, out.cert_pem); !problem.empty()) {
      Fail(tls[key_key], "tls_server_config." + key_key, "the key " + problem);
    }

    ReadVersions(tls, out);
    if (const YAML::Node suites = tls["cipher_suites"]) ReadCipherSuites(suites, out);
    if (const YAML::Node curves = tls["curve_preferences"]) {
      for (const auto& [name, node] : Strings(curves, "tls_server_config.curve_preferences")) {
        const auto group = OpenSslGroupOfGoCurve(name);
        if (!group) {
          Fail(node, "tls_server_config.curve_preferences",
               "unknown curve '" + name + "' (CurveP256, CurveP384, CurveP521 or X25519)");
        }
        if (!out.groups.empty()) out.groups += ':';
        out.groups.append(*group);
      }
    }
    if (const YAML::Node prefer = tls["prefer_server_cipher_suites"]) {
      out.prefer_server_ciphers = Bool(prefer, "tls_server_config.prefer_server_cipher_suites");
    }
    ReadClientAuth(tls, out, client_ca.has_value(), ca_file);
  }

  void ReadVersions(const YAML::Node& tls, TlsOptions& out) const {
    auto version = [&](const char* name) -> std::optional<int> {
      const YAML::Node node = tls[name];
      if (!node) return std::nullopt;
      const std::string key = std::string("tls_server_config.") + name;
      const std::string text = String(node, key);
      const auto value = TlsVersionOfGoName(text);
      if (!value) Fail(node, key, "unknown TLS version '" + text + "' (TLS12 or TLS13)");
      if (*value < kTls12) {
        Fail(node, key,
             text +
                 " cannot be honoured: OpenSSL 3 no longer negotiates TLS 1.0 or 1.1 at its "
                 "default security level (their handshakes rest on SHA-1 and MD5); use TLS12 "
                 "or TLS13");
      }
      return value;
    };
    if (auto v = version("min_version")) out.min_version = *v;
    if (auto v = version("max_version")) out.max_version = *v;
    if (out.min_version > out.max_version) {
      Fail(tls["max_version"] ? tls["max_version"] : tls["min_version"],
           "tls_server_config.max_version", "is below min_version: no version would be left");
    }
  }

  void ReadCipherSuites(const YAML::Node& suites, TlsOptions& out) const {
    const std::string key = "tls_server_config.cipher_suites";
    bool any_tls12 = false;
    for (const auto& [name, node] : Strings(suites, key)) {
      const GoCipherSuite* suite = FindGoCipherSuite(name);
      if (suite == nullptr) {
        Fail(node, key,
             "unknown cipher suite '" + name +
                 "' (Go's names as exporter-toolkit takes them, e.g. "
                 "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)");
      }
      // As in Go, TLS 1.3's suites cannot be chosen: all three stay on.
      if (suite->tls13) continue;
      any_tls12 = true;
      if (!out.cipher_list.empty()) out.cipher_list += ':';
      out.cipher_list.append(suite->openssl_name);
    }
    if (!any_tls12 && out.max_version < kTls13) {
      Fail(suites, key,
           "lists no TLS 1.2 suite while max_version is TLS12: no connection could be made");
    }
    if (!any_tls12 && suites.size() > 0 && out.min_version < kTls13) {
      Fail(suites, key,
           "lists only TLS 1.3 suites, which cannot be configured (as in Go, all three are "
           "always on); list TLS 1.2 suites too, or set min_version: TLS13");
    }
  }

  void ReadClientAuth(const YAML::Node& tls, TlsOptions& out, bool has_ca,
                      const std::string& ca_file) const {
    static const std::map<std::string, ClientCertPolicy> kPolicies = {
        {"NoClientCert", ClientCertPolicy::kNone},
        {"RequestClientCert", ClientCertPolicy::kRequest},
        {"RequireAnyClientCert", ClientCertPolicy::kRequireAny},
        {"RequireClientCert", ClientCertPolicy::kRequireAny},  // exporter-toolkit's old name
        {"VerifyClientCertIfGiven", ClientCertPolicy::kVerifyIfGiven},
        {"RequireAndVerifyClientCert", ClientCertPolicy::kRequireAndVerify},
    };
    if (const YAML::Node node = tls["client_auth_type"]) {
      const std::string name = String(node, "tls_server_config.client_auth_type");
      if (!name.empty()) {
        auto it = kPolicies.find(name);
        if (it == kPolicies.end()) {
          Fail(node, "tls_server_config.client_auth_type",
               "unknown '" + name +
                   "' (NoClientCert, RequestClientCert, RequireAnyClientCert, "
                   "VerifyClientCertIfGiven or RequireAndVerifyClientCert)");
        }
        out.client_certs = it->second;
      }
    }
    if (!has_ca) return;
    const std::string ca_key = ca_file.empty() ? "client_ca" : "client_ca_file";
    const YAML::Node ca = tls[ca_key];
    if (std::string problem = CaCertificatesProblem(out.client_ca_pem); !problem.empty()) {
      Fail(ca, "tls_server_config." + ca_key, (ca_file.empty() ? "" : ca_file + " ") + problem);
    }
    if (out.client_certs == ClientCertPolicy::kNone) {
      Fail(ca, "tls_server_config." + ca_key,
           "client CAs are set but client_auth_type asks for no client certificate (set "
           "client_auth_type, e.g. RequireAndVerifyClientCert)");
    }
  }

  void ReadHttp(const YAML::Node& http, WebConfig& config) const {
    CheckKeys(http, "http_server_config", {"headers", "http2"}, {});
    if (const YAML::Node http2 = http["http2"]) {
      if (Bool(http2, "http_server_config.http2")) {
        Fail(http2, "http_server_config.http2",
             "HTTP/2 is not available: poolwatch's HTTP server (civetweb 1.15 as Debian 12 "
             "builds it) speaks HTTP/1.1 only; set http2: false");
      }
    }
    const YAML::Node headers = http["headers"];
    if (!headers || headers.IsNull()) return;
    if (!headers.IsMap()) Fail(headers, "http_server_config.headers", "expected a mapping");
    std::set<std::string> seen;
    for (const auto& entry : headers) {
      const std::string name = String(entry.first, "http_server_config.headers");
      const std::string key = "http_server_config.headers." + name;
      auto settable = SettableHeaders().find(name);
      if (settable == SettableHeaders().end()) {
        std::vector<std::string> names;
        for (const auto& [n, values] : SettableHeaders()) names.push_back(n);
        Fail(entry.first, key,
             "this header cannot be configured (exporter-toolkit allows only " +
                 JoinNames(names, "and") + ")");
      }
      if (!seen.insert(name).second) Fail(entry.first, key, "appears twice in the same mapping");
      const std::string value = entry.second.IsNull() ? "" : String(entry.second, key);
      const auto& allowed = settable->second;
      if (!value.empty() && !allowed.empty() &&
          std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        Fail(entry.second, key, "expected " + JoinNames(allowed, "or") + ", got '" + value + "'");
      }
      if (std::any_of(value.begin(), value.end(),
                      [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        Fail(entry.second, key, "a header value cannot hold control characters or line breaks");
      }
      if (!value.empty()) config.headers.emplace_back(name, value);
    }
  }

  void ReadUsers(const YAML::Node& users, WebConfig& config) const {
    if (!users.IsMap() && !users.IsNull()) {
      Fail(users, "basic_auth_users", "expected a mapping of user name to bcrypt hash");
    }
    for (const auto& entry : users) {
      if (!entry.first.IsScalar())
        Fail(entry.first, "basic_auth_users", "user names must be plain names");
      const std::string user = entry.first.as<std::string>();
      const std::string key = "basic_auth_users." + user;
      if (user.empty() || user.find(':') != std::string::npos) {
        Fail(entry.first, key, "a user name must be non-empty and contain no ':'");
      }
      const std::string hash = String(entry.second, key);
      if (!IsBcrypt(hash)) {
        // The value is not echoed: it may be a plain password pasted by mistake.
        Fail(entry.second, key,
             "expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), e.g. from "
             "htpasswd -nBC 10 \"\" | tr -d ':\\n'");
      }
      config.users[user] = hash;
    }
  }

  std::string source_;
  std::filesystem::path base_;
};

}  // namespace

WebConfig ParseWebConfig(const std::string& yaml, const std::string& source) {
  try {
    return WebConfigReader(source).Read(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

WebConfig LoadWebConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the web configuration file");
  std::stringstream text;
  text << in.rdbuf();
  return ParseWebConfig(text.str(), path);
}

}  // namespace poolwatch
