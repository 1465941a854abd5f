#include "config/yaml_reader.h"

#include <algorithm>
#include <optional>
#include <sstream>

#include "config/config.h"
#include "config/listen_address.h"
#include "config/value_parsers.h"
#include "web/http_server.h"

namespace poolwatch {

void YamlReader::Fail(const YAML::Node& node, const std::string& key,
                      const std::string& problem) const {
  std::ostringstream msg;
  msg << (source_.empty() ? "config" : source_);
  if (node.IsDefined() && node.Mark().line >= 0) msg << ":" << node.Mark().line + 1;
  msg << ": " << key << ": " << problem;
  throw ConfigError(msg.str());
}

void YamlReader::CheckKeys(const YAML::Node& map, const std::string& path,
                           const std::set<std::string>& allowed) const {
  if (!map.IsMap()) Fail(map, path, "expected a mapping");
  CheckUnique(map, path);
  for (const auto& entry : map) {
    std::string key = entry.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
      Fail(entry.first, Join(path, key), "unknown key (known: " + known + ")");
    }
  }
}

void YamlReader::CheckUnique(const YAML::Node& map, const std::string& path) const {
  std::set<std::string> seen;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar()) Fail(entry.first, path, "keys must be plain names");
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      Fail(entry.first, Join(path, key), "appears twice in the same mapping");
    }
  }
}

std::string YamlReader::Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::vector<std::string> YamlReader::ListenAddresses(const YAML::Node& node,
                                                     const std::string& key) const {
  const bool list = node.IsSequence();
  if (list && node.size() == 0) Fail(node, key, "expected at least one address");
  std::vector<std::string> addresses;
  for (size_t i = 0; i < (list ? node.size() : 1); ++i) {
    const YAML::Node item = list ? node[i] : node;
    const std::string item_key = list ? key + "[" + std::to_string(i) + "]" : key;
    std::string address = String(item, item_key);
    if (std::string problem = ListenAddressProblem(address, CivetwebSupportsIpv6());
        !problem.empty()) {
      Fail(item, item_key, problem);
    }
    addresses.push_back(std::move(address));
    if (RepeatedListenAddress(addresses) == static_cast<int>(i)) {
      Fail(item, item_key, "'" + addresses.back() + "' is given twice");
    }
  }
  return addresses;
}

std::string YamlReader::String(const YAML::Node& node, const std::string& key) const {
  if (!node.IsScalar()) Fail(node, key, "expected a string");
  return node.Scalar();
}

bool YamlReader::Bool(const YAML::Node& node, const std::string& key) const {
  const auto value = node.IsScalar() ? ParseBool(node.Scalar()) : std::nullopt;
  if (!value) Fail(node, key, ExpectedGot(kBoolExpected, Scalar(node)));
  return *value;
}

double YamlReader::Number(const YAML::Node& node, const std::string& key, double min,
                          double max) const {
  const std::string text = Scalar(node);
  const auto parsed = node.IsScalar() ? ParseNumber(text) : std::nullopt;
  if (!parsed) Fail(node, key, ExpectedGot(kNumberExpected, text));
  const double value = *parsed;
  if (value < min || value > max) {
    std::ostringstream range;
    range << "must be between " << min << " and " << max << ", got " << text;
    Fail(node, key, range.str());
  }
  return value;
}

size_t YamlReader::Count(const YAML::Node& node, const std::string& key, size_t min,
                         size_t max) const {
  const std::string text = Scalar(node);
  auto value = node.IsScalar() ? ParseCount(text) : std::nullopt;
  if (!value) Fail(node, key, ExpectedGot(kCountExpected, text));
  if (*value < min || *value > max) {
    Fail(
        node, key,
        "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + text);
  }
  return *value;
}

std::chrono::milliseconds YamlReader::Duration(const YAML::Node& node,
                                               const std::string& key) const {
  auto d = node.IsScalar() ? ParseDuration(node.Scalar()) : std::nullopt;
  if (!d) Fail(node, key, ExpectedGot(kDurationExpected, Scalar(node)));
  return *d;
}

std::vector<double> YamlReader::Buckets(const YAML::Node& node, const std::string& key) const {
  if (!node.IsSequence() || node.size() == 0) Fail(node, key, "expected a list of numbers");
  std::vector<double> out;
  for (size_t i = 0; i < node.size(); ++i) {
    double b = Number(node[i], key + "[" + std::to_string(i) + "]", 0, 1e9);
    if (!out.empty() && b <= out.back()) Fail(node[i], key, "buckets must increase");
    out.push_back(b);
  }
  return out;
}

std::string YamlReader::Scalar(const YAML::Node& node) {
  return node.IsScalar() ? node.Scalar() : std::string("<not a scalar>");
}

std::string YamlReader::Where(const YAML::Node& node) const {
  std::string where = source_.empty() ? "config" : source_;
  if (node.IsDefined() && node.Mark().line >= 0) {
    where.append(":").append(std::to_string(node.Mark().line + 1));
  }
  return where;
}

std::vector<std::string> YamlReader::NotifierKinds(const YAML::Node& node, const std::string& key,
                                                   bool empty_means_all) const {
  const std::string expected =
      std::string("expected a list of notifier kinds, some of: ").append(kNotifierKindList);
  if (!node.IsSequence()) Fail(node, key, expected);
  if (node.size() == 0 && !empty_means_all) {
    Fail(node, key, expected + " (an empty list would send this rule's alerts nowhere)");
  }
  std::vector<std::string> kinds;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string where = key + "[" + std::to_string(i) + "]";
    const std::string text = String(node[i], where);
    std::optional<std::string> kind = ParseNotifierKind(text);
    if (!kind) {
      Fail(node[i], where,
           "unknown notifier '" + text + "' (known: " + std::string(kNotifierKindList) + ")");
    }
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) {
      Fail(node[i], where, "'" + *kind + "' is listed twice");
    }
    kinds.push_back(std::move(*kind));
  }
  return kinds;
}

}  // namespace poolwatch
