#pragma once

// A seeded generator of nginx access-log lines in poolwatch's default log format, for scenarios
// whose truth (when an incident is really on) is known, so the alerting can be judged by rates
// over many seeds rather than by one hand-written log.
//
// The model is nginx with the project's upstream block (nginx/nginx.conf.template): a primary
// and a backup server, max_fails=1 fail_timeout=5s, proxy_next_upstream on errors and 5xx.
// A primary that is down is tried once per fail_timeout; that request fails on it and is
// retried on the backup (one line, two attempts); the others go straight to the backup. Errors
// the client sees are 5xx the serving pool answered and nginx passed through (what happens to
// requests it does not retry, such as POSTs).

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_record.h"

namespace poolwatch::sim {

using Millis = std::chrono::milliseconds;

// 2026-11-26T07:00:00Z, where the checked-in logs under tests/testdata start too.
TimePoint DefaultStart();

enum class Arrivals {
  kPoisson,  // exponential gaps: real traffic's bunching
  kEven,     // one request every 1/rate seconds, each gap jittered by up to ±20 %
};

enum class Serving {
  kPrimary,     // the primary answers (once nginx stops counting it as failed)
  kFailover,    // every attempt on the primary fails: the backup serves
  kNoUpstream,  // both pools are out: nginx answers 502 itself
};

// One kind of request in a phase's mix.
struct RequestKind {
  std::string method = "GET";
  std::string path = "/api/items";
  double share = 1;              // relative weight in the mix
  double error_probability = 0;  // the client gets a 5xx from the serving pool
};

// How long the serving pool takes to answer (the line's request_time and the answering
// attempt's upstream_response_time): log-normal around `median_ms`, plus outliers.
struct LatencyModel {
  double median_ms = 0;   // 0: the simulator's plain 4-35 ms, with no extra draws (old logs stay)
  double sigma = 0.5;     // of the log-normal: its p99 is median x e^(2.33 sigma), 3.2x at 0.5
  double slow_share = 0;  // this share of requests takes slow_ms instead (GC pauses, cold caches)
  double slow_ms = 5000;
};

// A second release on the primary pool (a canary, or a rollout in progress): this share of the
// requests the primary answers come from `release`, and fail with `error_probability` instead
// of their kind's. share 0: none (and no extra draw, so older scenarios keep their lines).
struct CanarySpec {
  std::string release;
  double share = 0;
  double error_probability = 0;
};

struct Phase {
  std::string name;
  // How long the phase lasts in log time, or (when `requests` > 0) how many requests it holds.
  Millis duration{0};
  uint64_t requests = 0;
  double rate = 10;  // requests per second; 0: no traffic at all
  Arrivals arrivals = Arrivals::kPoisson;
  std::vector<RequestKind> kinds = {RequestKind{}};
  // A request-count phase with exactly this many errors at random positions (overrides the
  // kinds' error probabilities); negative: draw them from the probabilities.
  int64_t exact_errors = -1;
  Serving serving = Serving::kPrimary;
  LatencyModel latency;
  CanarySpec canary;
  bool incident = false;  // the truth: an incident is really on during this phase
  bool new_file = false;  // the log is rotated just before this phase
};

struct PoolSpec {
  std::string name;
  std::string address;
  std::string release;
};

struct Scenario {
  std::string name;
  std::vector<Phase> phases;
  PoolSpec primary{"blue", "127.0.0.1:8081", "v1.0.0"};
  PoolSpec backup{"green", "127.0.0.1:8082", "v2.0.0"};
  std::string upstream_group = "app_pools";  // what nginx logs as the address with none live
  Millis fail_timeout{5000};                 // the primary's, as in the upstream block
  int primary_failure_status = 502;          // a down primary: connection refused
  TimePoint start = DefaultStart();
};

// A stretch of log time during which the truth says an incident is on: consecutive incident
// phases form one. `first_request` counts the requests logged before it started.
struct Incident {
  TimePoint begin{};
  TimePoint end{};
  uint64_t first_request = 0;
  uint64_t end_request = 0;  // requests logged before it ended
};

// Produces a scenario's lines in log order. Deterministic for a given scenario and seed (its own
// uniform and exponential draws on std::mt19937_64, not the standard distributions, whose output
// differs between standard libraries). The line buffer is reused: a line costs no allocation.
class TrafficSimulator {
 public:
  TrafficSimulator(Scenario scenario, uint64_t seed);

  // Advances to the next request; false when the scenario is over.
  bool Next();

  // The current line, without its newline; valid until the next call to Next().
  std::string_view line() const { return std::string_view(line_).substr(0, line_.size() - 1); }
  // The same with its newline, as it sits in the file.
  std::string_view line_with_newline() const { return line_; }
  TimePoint time() const;  // its exact time; the line shows it to the second
  bool client_error() const { return client_error_; }
  // The request went to the phase's canary release (when the primary answers it).
  bool canary() const { return canary_; }
  // How long the serving pool took to answer, in milliseconds (0 when nginx answered itself).
  uint64_t answer_ms() const { return answer_ms_; }
  bool in_incident() const { return phases_[phase_].incident; }
  size_t file_index() const { return file_index_; }  // bumps at each rotation
  uint64_t requests() const { return requests_; }    // lines produced so far, this one included

  // The truth so far; complete once Next() has returned false.
  const std::vector<Incident>& incidents() const { return incidents_; }
  const Scenario& scenario() const { return scenario_; }

 private:
  double Uniform();  // [0, 1)
  void EnterPhase(size_t index);
  void FinishPhase();
  bool DrawError(const RequestKind& kind);
  uint64_t DrawAnswerMs(uint64_t noise);
  const RequestKind& DrawKind();
  void Format(const RequestKind& kind);

  Scenario scenario_;
  const std::vector<Phase>& phases_;
  std::mt19937_64 rng_;
  size_t phase_ = 0;
  bool started_ = false;
  bool done_ = false;
  int64_t now_ms_ = 0;           // since scenario start
  int64_t phase_end_ms_ = 0;     // duration phases
  uint64_t phase_requests_ = 0;  // requests so far in this phase
  int64_t errors_left_ = 0;      // exact_errors phases
  double kind_weight_total_ = 1;
  int64_t primary_out_until_ms_ = -1;  // nginx counts the primary as failed until then
  size_t file_index_ = 0;
  uint64_t requests_ = 0;
  bool client_error_ = false;
  bool canary_ = false;  // the current request is the phase's canary release's
  uint64_t answer_ms_ = 0;
  std::vector<Incident> incidents_;
  bool incident_open_ = false;

  std::string line_;           // ends with its newline
  int64_t stamp_second_ = -1;  // the second `stamp_` shows
  std::string stamp_;          // "26/Nov/2026:07:00:00 +0000"
};

}  // namespace poolwatch::sim
