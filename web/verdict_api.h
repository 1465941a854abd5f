#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "alerting/rollout_verdict.h"
#include "web/http_server.h"

namespace poolwatch {

// GET (and POST, which Flagger's webhooks send) /api/v1/verdict?pool=P&release=R&window=5m:
// the rollout verdict as JSON. Answers 200 for pass, 412 (Precondition Failed) for fail and 425
// (Too Early) for inconclusive, so a gate that only looks at the status code (Flagger: any 2xx
// passes) never lets an inconclusive rollout through. With always_200=true every verdict
// answers 200: Argo Rollouts' web provider takes a non-2xx answer as a measurement error, not a
// failure, and should judge the JSON's "verdict" instead. A bad query (no or unknown pool, a
// bad window or compare, a window longer than what is kept) answers 400 with {"error": ...}.
// A POST's body is ignored: the query string says what to judge.

// The HTTP status of a verdict.
int VerdictHttpStatus(VerdictOutcome outcome, bool always_200);

// The verdict as the endpoint's JSON. Pure.
std::string VerdictJson(const RolloutVerdict& verdict);

struct VerdictSource {
  // A duration as the configuration reads one (config's ParseDuration; config depends on this
  // folder, so the daemon hands it in).
  std::function<std::optional<std::chrono::milliseconds>(std::string_view)> parse_duration;
  // The verdict for a parsed query, taken under the lock that guards the engine.
  std::function<RolloutVerdict(const RolloutQuery&)> decide;
};

void RegisterVerdictHandler(HttpServer& server, VerdictSource source);

}  // namespace poolwatch
