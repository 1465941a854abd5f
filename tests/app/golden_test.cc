// Golden end-to-end test of the exporter: a checked-in access log in, the exact exposition out.
// To refresh after an intended change: POOLWATCH_UPDATE_GOLDEN=1 ./golden_test, then review
// the diff of tests/testdata/golden/expected.prom line by line.
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <sstream>

#include "app/pipeline.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

std::string Golden(const std::string& name) {
  return std::string(POOLWATCH_SOURCE_DIR) + "/tests/testdata/golden/" + name;
}

TEST(Golden, AccessLogBecomesTheExpectedExposition) {
  Config config;
  prometheus::Registry registry;
  Pipeline pipeline(config, registry);
  std::istringstream log(testing::ReadFile(Golden("access.log")));
  std::string line;
  while (std::getline(log, line)) pipeline.ProcessLine(line);

  std::ostringstream exposition;
  prometheus::TextSerializer().Serialize(exposition, registry.Collect());
  if (std::getenv("POOLWATCH_UPDATE_GOLDEN") != nullptr) {
    testing::WriteFile(Golden("expected.prom"), exposition.str());
  }
  EXPECT_EQ(exposition.str(), testing::ReadFile(Golden("expected.prom")));
  EXPECT_EQ(pipeline.lines_parsed(), 15u);
  EXPECT_EQ(pipeline.lines_malformed(), 3u);
}

}  // namespace
}  // namespace poolwatch
