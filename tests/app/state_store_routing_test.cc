// The outbox keeps where each notification goes: a cooldown-held transition saved before a
// crash must still reach only Alertmanager after the restart, and a rule's notify list holds.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/state_codec.h"

namespace poolwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StateStoreRouting, the_outbox_keeps_each_notifications_notifiers_and_state_only) {
  PersistedState saved;
  Notification held;
  held.rule = "failover";
  held.labels = {{"pool", "blue"}};
  held.notifiers = {"alertmanager", "slack"};
  held.state_only = true;
  saved.outbox.push_back(held);
  Notification everyone;
  everyone.rule = "error_rate";
  saved.outbox.push_back(everyone);

  PersistedState loaded;
  std::string error;
  ASSERT_TRUE(DecodeState(EncodeState(saved), &loaded, &error)) << error;
  ASSERT_EQ(loaded.outbox.size(), 2u);
  EXPECT_THAT(loaded.outbox[0].notifiers, ElementsAre("alertmanager", "slack"));
  EXPECT_TRUE(loaded.outbox[0].state_only);
  EXPECT_THAT(loaded.outbox[1].notifiers, IsEmpty());
  EXPECT_FALSE(loaded.outbox[1].state_only);
}

}  // namespace
}  // namespace poolwatch
