#include "web/verdict_api.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

namespace poolwatch {
namespace {

using nlohmann::ordered_json;

ordered_json Seconds(double seconds) {
  return seconds < 0 ? ordered_json() : ordered_json(seconds);
}

ordered_json Side(const VerdictSide& side, bool is_release) {
  const ReleaseSummary& s = side.summary;
  ordered_json out;
  out["release"] = side.release.empty() ? ordered_json() : ordered_json(side.release);
  if (is_release) {
    out["serving_since"] =
        side.serving_since ? ordered_json(FormatRfc3339(*side.serving_since)) : ordered_json();
  } else {
    out["pool"] = side.pool.empty() ? ordered_json() : ordered_json(side.pool);
    out["releases"] = side.releases;
  }
  out["requests"] = s.requests;
  out["errors_5xx"] = s.errors;
  out["error_percent"] = s.ErrorPercent();
  out["latency_p50_seconds"] = Seconds(s.LatencyQuantile(0.5));
  out["latency_p99_seconds"] = Seconds(s.LatencyQuantile(0.99));
  return out;
}

std::string_view FindingName(RegressionFinding finding) {
  switch (finding) {
    case RegressionFinding::kTooFewRequests:
      return "too_few_requests";
    case RegressionFinding::kNotWorse:
      return "not_worse";
    case RegressionFinding::kNotSignificant:
      return "not_significant";
    case RegressionFinding::kWorse:
      return "worse";
  }
  return "too_few_requests";
}

HttpReply JsonReply(int status, const std::string& body) {
  return HttpReply{status, "application/json", body};
}

HttpReply BadQuery(const std::string& error) {
  return JsonReply(400, ordered_json{{"error", error}}.dump());
}

}  // namespace

int VerdictHttpStatus(VerdictOutcome outcome, bool always_200) {
  if (always_200) return 200;
  switch (outcome) {
    case VerdictOutcome::kPass:
      return 200;
    case VerdictOutcome::kFail:
      return 412;
    case VerdictOutcome::kInconclusive:
      return 425;
  }
  return 425;
}

std::string VerdictJson(const RolloutVerdict& v) {
  ordered_json out;
  out["verdict"] = VerdictOutcomeName(v.outcome);
  out["reason"] = v.reason;
  out["pool"] = v.pool;
  out["window_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(v.window).count();
  out["compare"] = v.compare == RegressionBaseline::kOtherPools ? "pools" : "releases";
  out["release"] = Side(v.release, true);
  out["baseline"] = Side(v.baseline, false);
  out["test"] = {
      {"finding", FindingName(v.judgement.finding)},
      {"bound_percent", v.judgement.bound_percent},
      {"min_increase_points", v.settings.min_increase_points},
      {"min_ratio", v.settings.min_ratio},
      {"min_requests", v.settings.min_requests},
      {"confidence", v.settings.confidence_percent},
  };
  ordered_json alerts = ordered_json::array();
  for (const VerdictAlert& a : v.alerts) {
    alerts.push_back({{"name", a.name},
                      {"kind", RuleKindName(a.kind)},
                      {"firing", a.firing},
                      {"value", a.value},
                      {"labels", a.labels}});
  }
  out["alerts"] = std::move(alerts);
  out["at"] = FormatRfc3339(v.at);
  return out.dump();
}

void RegisterVerdictHandler(HttpServer& server, VerdictSource source) {
  auto shared = std::make_shared<VerdictSource>(std::move(source));
  const HttpHandler handler = [shared](const HttpRequest& request) {
    RolloutQuery query;
    query.pool = request.QueryParam("pool");
    query.release = request.QueryParam("release");
    if (const std::string window = request.QueryParam("window"); !window.empty()) {
      const std::optional<std::chrono::milliseconds> parsed = shared->parse_duration(window);
      if (!parsed)
        return BadQuery("window: expected a duration like 5m or 300s, got '" + window + "'");
      query.window = *parsed;
    }
    if (const std::string compare = request.QueryParam("compare"); !compare.empty()) {
      if (compare != "releases" && compare != "pools") {
        return BadQuery("compare: expected releases or pools, got '" + compare + "'");
      }
      query.compare =
          compare == "pools" ? RegressionBaseline::kOtherPools : RegressionBaseline::kOtherReleases;
    }
    const std::string always = request.QueryParam("always_200");
    if (!always.empty() && always != "true" && always != "false") {
      return BadQuery("always_200: expected true or false, got '" + always + "'");
    }
    const RolloutVerdict verdict = shared->decide(query);
    if (!verdict.error.empty()) return BadQuery(verdict.error);
    return JsonReply(VerdictHttpStatus(verdict.outcome, always == "true"), VerdictJson(verdict));
  };
  server.Handle("GET", "/api/v1/verdict", handler);
  server.Handle("POST", "/api/v1/verdict", handler);
}

}  // namespace poolwatch
