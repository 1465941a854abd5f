#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace poolwatch {

// The YAML file, one reader per top-level section. Each checks its keys and values and
// throws ConfigError with file, line and key; what only makes sense once the environment and
// flags are merged is left to ValidateConfig.

void ReadLogSection(const YamlReader& r, const YAML::Node& section, Config& config);
void ReadWebSection(const YamlReader& r, const YAML::Node& section, Config& config);
void ReadStateSection(const YamlReader& r, const YAML::Node& section, Config& config);
void ReadMetricsSection(const YamlReader& r, const YAML::Node& section, MetricsOptions& metrics);
// Rules with a `notify` list of their own record where it was written in `locations`, for
// ValidateConfig.
void ReadAlertingSection(const YamlReader& r, const YAML::Node& section, AlertingConfig& alerting,
                         KeyLocations& locations);
void ReadAlertingRules(const YamlReader& r, const YAML::Node& rules, std::vector<RuleConfig>& out,
                       KeyLocations& locations);
void ReadAlertingRule(const YamlReader& r, const YAML::Node& node, const std::string& path,
                      RuleConfig& rule);
void ReadNotifySection(const YamlReader& r, const YAML::Node& section, NotifyConfig& notify,
                       KeyLocations& locations);
// remote_write: a list of receivers.
void ReadRemoteWriteSection(const YamlReader& r, const YAML::Node& section,
                            std::vector<RemoteWriteOptions>& out);

// The whole document: the top-level keys, each section through its reader. An empty
// document leaves `config` as it is.
void ReadYaml(const YAML::Node& root, const YamlReader& r, Config& config);

}  // namespace poolwatch
