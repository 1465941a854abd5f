#include "config/web_config.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/config.h"

namespace poolwatch {
namespace {

[[noreturn]] void Fail(const std::string& source, const YAML::Node& node, const std::string& key,
                       const std::string& problem) {
  std::ostringstream msg;
  msg << source;
  if (node.IsDefined() && node.Mark().line >= 0) msg << ":" << node.Mark().line + 1;
  msg << ": " << key << ": " << problem;
  throw ConfigError(msg.str());
}

void CheckKeys(const std::string& source, const YAML::Node& map, const std::string& path,
               const std::set<std::string>& allowed, const std::set<std::string>& unsupported) {
  if (!map.IsMap()) Fail(source, map, path, "expected a mapping");
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) Fail(source, entry.first, path, "keys must be plain names");
    const std::string key = entry.first.as<std::string>();
    const std::string where = path.empty() ? key : path + "." + key;
    if (unsupported.count(key) > 0) {
      Fail(source, entry.first, where, "not supported by poolwatch (remove it)");
    }
    if (allowed.count(key) == 0) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
      Fail(source, entry.first, where, "unknown key (known: " + known + ")");
    }
  }
}

std::string String(const std::string& source, const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) Fail(source, node, key, "expected a string");
  return node.Scalar();
}

bool IsBcrypt(const std::string& hash) {
  // $2b$10$ + 22 characters of salt + 31 of hash.
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  return (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && std::isdigit(hash[4]) &&
         std::isdigit(hash[5]);
}

}  // namespace

namespace {

WebConfig ParseWebConfigOrThrowYaml(const std::string& yaml, const std::string& source);

}  // namespace

WebConfig ParseWebConfig(const std::string& yaml, const std::string& source) {
  try {
    return ParseWebConfigOrThrowYaml(yaml, source);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

namespace {

WebConfig ParseWebConfigOrThrowYaml(const std::string& yaml, const std::string& source) {
  WebConfig config;
  config.source = source;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return config;
  CheckKeys(source, root, "", {"tls_server_config", "basic_auth_users"}, {"http_server_config"});

  const std::filesystem::path base = std::filesystem::path(source).parent_path();
  auto resolve = [&](const std::string& file) {
    const std::filesystem::path p(file);
    return (p.is_relative() && !base.empty() ? base / p : p).string();
  };

  if (const auto tls = root["tls_server_config"]) {
    CheckKeys(source, tls, "tls_server_config", {"cert_file", "key_file"},
              {"client_auth_type", "client_ca_file", "client_allowed_sans", "cipher_suites",
               "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites"});
    if (tls["cert_file"])
      config.cert_file = resolve(String(source, tls["cert_file"], "tls_server_config.cert_file"));
    if (tls["key_file"])
      config.key_file = resolve(String(source, tls["key_file"], "tls_server_config.key_file"));
    if (config.cert_file.empty() != config.key_file.empty()) {
      Fail(source, tls, "tls_server_config", "cert_file and key_file go together");
    }
    for (const auto& [key, file] :
         {std::pair<std::string, std::string>{"cert_file", config.cert_file},
          {"key_file", config.key_file}}) {
      if (!file.empty() && ::access(file.c_str(), R_OK) != 0) {
        Fail(source, tls[key], "tls_server_config." + key, "cannot read " + file);
      }
    }
  }

  if (const auto users = root["basic_auth_users"]) {
    if (!users.IsMap() && !users.IsNull()) {
      Fail(source, users, "basic_auth_users", "expected a mapping of user name to bcrypt hash");
    }
    for (const auto& entry : users) {
      if (!entry.first.IsScalar())
        Fail(source, entry.first, "basic_auth_users", "user names must be plain names");
      const std::string user = entry.first.as<std::string>();
      const std::string key = "basic_auth_users." + user;
      if (user.empty() || user.find(':') != std::string::npos) {
        Fail(source, entry.first, key, "a user name must be non-empty and contain no ':'");
      }
      const std::string hash = String(source, entry.second, key);
      if (!IsBcrypt(hash)) {
        // The value is not echoed: it may be a plain password pasted by mistake.
        Fail(source, entry.second, key,
             "expected a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters), e.g. from "
             "htpasswd -nBC 10 \"\" | tr -d ':\\n'");
      }
      config.users[user] = hash;
    }
  }
  return config;
}

}  // namespace

WebConfig LoadWebConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the web configuration file");
  std::stringstream text;
  text << in.rdbuf();
  return ParseWebConfig(text.str(), path);
}

}  // namespace poolwatch
