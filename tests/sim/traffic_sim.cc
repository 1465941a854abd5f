#include "tests/sim/traffic_sim.h"

#include <cmath>
#include <ctime>
#include <utility>

namespace poolwatch::sim {
namespace {

constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr const char* kAgents[] = {"curl/7.88.1", "Mozilla/5.0 (X11; Linux x86_64; rv:120.0)",
                                   "python-requests/2.28.1", "Go-http-client/1.1"};

void AppendUnsigned(std::string& out, uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) out.push_back(digits[--n]);
}

// nginx writes times in seconds with three decimals: 12 ms is "0.012".
void AppendSeconds(std::string& out, uint64_t millis) {
  AppendUnsigned(out, millis / 1000);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + millis / 100 % 10));
  out.push_back(static_cast<char>('0' + millis / 10 % 10));
  out.push_back(static_cast<char>('0' + millis % 10));
}

void AppendTwoDigits(std::string& out, int value) {
  out.push_back(static_cast<char>('0' + value / 10 % 10));
  out.push_back(static_cast<char>('0' + value % 10));
}

}  // namespace

TimePoint DefaultStart() { return Clock::from_time_t(1795676400); }  // 2026-11-26T07:00:00Z

TrafficSimulator::TrafficSimulator(Scenario scenario, uint64_t seed)
    : scenario_(std::move(scenario)), phases_(scenario_.phases), rng_(seed) {
  line_.reserve(512);
}

TimePoint TrafficSimulator::time() const { return scenario_.start + Millis(now_ms_); }

double TrafficSimulator::Uniform() {
  // The top 53 bits: every double in [0, 1) that this can return is equally likely.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void TrafficSimulator::EnterPhase(size_t index) {
  phase_ = index;
  const Phase& phase = phases_[index];
  phase_requests_ = 0;
  phase_end_ms_ = now_ms_ + phase.duration.count();
  errors_left_ = phase.exact_errors;
  kind_weight_total_ = 0;
  for (const RequestKind& kind : phase.kinds) kind_weight_total_ += kind.share;
  if (phase.new_file && requests_ > 0) ++file_index_;
  if (phase.incident && !incident_open_) {
    incidents_.push_back(Incident{time(), time(), requests_, requests_});
    incident_open_ = true;
  } else if (!phase.incident && incident_open_) {
    incidents_.back().end = time();
    incidents_.back().end_request = requests_;
    incident_open_ = false;
  }
}

void TrafficSimulator::FinishPhase() {
  if (phases_[phase_].requests == 0) now_ms_ = phase_end_ms_;
}

const RequestKind& TrafficSimulator::DrawKind() {
  const std::vector<RequestKind>& kinds = phases_[phase_].kinds;
  if (kinds.size() == 1) return kinds.front();
  double pick = Uniform() * kind_weight_total_;
  for (const RequestKind& kind : kinds) {
    if (pick < kind.share) return kind;
    pick -= kind.share;
  }
  return kinds.back();
}

bool TrafficSimulator::DrawError(const RequestKind& kind) {
  const Phase& phase = phases_[phase_];
  if (phase.exact_errors < 0 || phase.requests == 0) return Uniform() < kind.error_probability;
  // Selection sampling: each of the remaining requests fails with the share of errors still
  // to place, so exactly `exact_errors` fail, every placement equally likely.
  const uint64_t remaining = phase.requests - (phase_requests_ - 1);
  if (errors_left_ <= 0) return false;
  if (Uniform() * static_cast<double>(remaining) < static_cast<double>(errors_left_)) {
    --errors_left_;
    return true;
  }
  return false;
}

uint64_t TrafficSimulator::DrawAnswerMs(uint64_t noise) {
  const LatencyModel& model = phases_[phase_].latency;
  if (model.median_ms <= 0) return 4 + (noise >> 8 & 0x1f);
  // Three draws whatever the outcome, so a phase's later requests do not depend on its outliers.
  const bool slow = Uniform() < model.slow_share;
  // Box-Muller: a standard normal from two uniforms (1 - u keeps the logarithm finite).
  const double radius = std::sqrt(-2 * std::log(1 - Uniform()));
  const double normal = radius * std::cos(2 * 3.141592653589793 * Uniform());
  if (slow) return static_cast<uint64_t>(std::llround(model.slow_ms));
  return static_cast<uint64_t>(std::llround(model.median_ms * std::exp(model.sigma * normal)));
}

bool TrafficSimulator::Next() {
  if (done_) return false;
  if (!started_) {
    started_ = true;
    if (phases_.empty()) {
      done_ = true;
      return false;
    }
    EnterPhase(0);
  }
  while (true) {
    const Phase& phase = phases_[phase_];
    const bool by_count = phase.requests > 0;
    if (phase.rate > 0 && (!by_count || phase_requests_ < phase.requests)) {
      const double mean_gap_ms = 1000.0 / phase.rate;
      double gap_ms;
      if (phase.arrivals == Arrivals::kPoisson) {
        gap_ms = -std::log1p(-Uniform()) * mean_gap_ms;
      } else {
        gap_ms = mean_gap_ms * (0.8 + 0.4 * Uniform());
      }
      const int64_t at = now_ms_ + std::llround(gap_ms);
      if (by_count || at < phase_end_ms_) {
        now_ms_ = at;
        ++phase_requests_;
        ++requests_;
        const RequestKind& kind = DrawKind();
        canary_ = phase.canary.share > 0 && Uniform() < phase.canary.share;
        client_error_ = canary_ ? Uniform() < phase.canary.error_probability : DrawError(kind);
        Format(kind);
        return true;
      }
    }
    FinishPhase();
    if (phase_ + 1 >= phases_.size()) {
      if (incident_open_) {
        incidents_.back().end = time();
        incidents_.back().end_request = requests_;
        incident_open_ = false;
      }
      done_ = true;
      return false;
    }
    EnterPhase(phase_ + 1);
  }
}

void TrafficSimulator::Format(const RequestKind& kind) {
  const Phase& phase = phases_[phase_];
  const uint64_t noise = rng_();
  const PoolSpec& primary = scenario_.primary;
  const PoolSpec& backup = scenario_.backup;

  // Who answers, as nginx decides it.
  const PoolSpec* serving = &primary;
  bool probe_failed = false;  // the primary was tried first and failed: two attempts
  if (phase.serving == Serving::kNoUpstream) {
    serving = nullptr;
  } else if (phase.serving == Serving::kFailover) {
    serving = &backup;
    if (now_ms_ >= primary_out_until_ms_) {
      probe_failed = true;
      primary_out_until_ms_ = now_ms_ + scenario_.fail_timeout.count();
    }
  } else if (now_ms_ < primary_out_until_ms_) {
    serving = &backup;  // recovered, but nginx still counts the primary as failed
  }
  const int status = serving == nullptr ? 502 : client_error_ ? 500 : 200;
  if (serving == nullptr) client_error_ = true;

  line_.clear();
  line_.append("10.0.");
  AppendUnsigned(line_, noise >> 56);
  line_.push_back('.');
  AppendUnsigned(line_, (noise >> 48 & 0xff) % 254 + 1);
  line_.append(" - - [");
  const int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                             scenario_.start.time_since_epoch() + Millis(now_ms_))
                             .count();
  if (second != stamp_second_) {
    stamp_second_ = second;
    const std::time_t t = static_cast<std::time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    stamp_.clear();
    AppendTwoDigits(stamp_, tm.tm_mday);
    stamp_.push_back('/');
    stamp_.append(kMonths[tm.tm_mon]);
    stamp_.push_back('/');
    AppendUnsigned(stamp_, static_cast<uint64_t>(tm.tm_year + 1900));
    stamp_.push_back(':');
    AppendTwoDigits(stamp_, tm.tm_hour);
    stamp_.push_back(':');
    AppendTwoDigits(stamp_, tm.tm_min);
    stamp_.push_back(':');
    AppendTwoDigits(stamp_, tm.tm_sec);
    stamp_.append(" +0000");
  }
  line_.append(stamp_);
  line_.append("] \"");
  line_.append(kind.method);
  line_.push_back(' ');
  line_.append(kind.path);
  line_.append(" HTTP/1.1\" ");
  AppendUnsigned(line_, static_cast<uint64_t>(status));
  line_.append(status == 200 ? " 51 \"-\" \"" : " 157 \"-\" \"");
  line_.append(kAgents[noise >> 40 & 3]);
  line_.append("\" pool=");
  // Response times: a failed attempt on a down primary is quick (refused), an answer as the
  // phase's latency model says.
  const uint64_t answer_ms = serving == nullptr ? 0 : DrawAnswerMs(noise);
  answer_ms_ = answer_ms;
  const uint64_t refused_ms = 1 + (noise >> 16 & 3);
  if (serving == nullptr) {
    line_.append("- release=- upstream_status=502 upstream_addr=");
    line_.append(scenario_.upstream_group);
    line_.append(" request_time=0.000 upstream_response_time=0.000\n");
    return;
  }
  line_.append(serving->name);
  line_.append(" release=");
  line_.append(canary_ && serving == &primary ? phase.canary.release : serving->release);
  line_.append(" upstream_status=");
  if (probe_failed) {
    AppendUnsigned(line_, static_cast<uint64_t>(scenario_.primary_failure_status));
    line_.append(", ");
  }
  AppendUnsigned(line_, static_cast<uint64_t>(status));
  line_.append(" upstream_addr=");
  if (probe_failed) {
    line_.append(primary.address);
    line_.append(", ");
  }
  line_.append(serving->address);
  line_.append(" request_time=");
  AppendSeconds(line_, answer_ms + (probe_failed ? refused_ms : 0) + 1);
  line_.append(" upstream_response_time=");
  if (probe_failed) {
    AppendSeconds(line_, refused_ms);
    line_.append(", ");
  }
  AppendSeconds(line_, answer_ms);
  line_.push_back('\n');
}

}  // namespace poolwatch::sim
