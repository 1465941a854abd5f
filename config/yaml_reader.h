#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

namespace poolwatch {

// The helpers every section reader shares. Each takes the node and its dotted key
// ("alerting.rules[0].cooldown") so that every error names file, line and key; errors are
// thrown as ConfigError. Values go through the parsers of config/value_parsers.h.
class YamlReader {
 public:
  explicit YamlReader(std::string source) : source_(std::move(source)) {}

  // Throws "file:line: key: problem".
  [[noreturn]] void Fail(const YAML::Node& node, const std::string& key,
                         const std::string& problem) const;

  // `map` is a mapping whose keys are all in `allowed`, each once.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 const std::set<std::string>& allowed) const;
  // yaml-cpp keeps both entries of a repeated key and lookups see the first, so the second
  // would be ignored without a word.
  void CheckUnique(const YAML::Node& map, const std::string& path) const;

  static std::string Join(const std::string& path, const std::string& key);

  std::string String(const YAML::Node& node, const std::string& key) const;
  bool Bool(const YAML::Node& node, const std::string& key) const;
  double Number(const YAML::Node& node, const std::string& key, double min, double max) const;
  size_t Count(const YAML::Node& node, const std::string& key, size_t min, size_t max) const;
  std::chrono::milliseconds Duration(const YAML::Node& node, const std::string& key) const;
  // Increasing histogram bucket bounds.
  std::vector<double> Buckets(const YAML::Node& node, const std::string& key) const;
  // One address, or a list of them (each listener served alike), as --web.listen-address
  // repeated.
  std::vector<std::string> ListenAddresses(const YAML::Node& node, const std::string& key) const;
  // A rule's `notify` or notify.default_notifiers: a list of known kinds, each once. Empty
  // only where it means "every notifier" (the default's default), never for a rule: nowhere.
  std::vector<std::string> NotifierKinds(const YAML::Node& node, const std::string& key,
                                         bool empty_means_all) const;

  // The node's text for messages; "<not a scalar>" for a list or a mapping.
  static std::string Scalar(const YAML::Node& node);

  // "file:line" of a node, for the errors only found once everything is merged.
  std::string Where(const YAML::Node& node) const;

 private:
  std::string source_;
};

}  // namespace poolwatch
