#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/log_record.h"
#include "web/http_server.h"

namespace poolwatch {

struct MaintenanceMode {
  bool enabled = false;
  std::optional<TimePoint> until;  // none: until switched off
};

// What the admin API acts on, supplied by whoever owns the alert engine (the daemon), so this
// folder knows the HTTP side only. Every function runs on civetweb's threads and must take the
// lock that guards what it touches. `from` is the client's address, for the caller's log.
struct AdminActions {
  // Read on every call: a reload may switch the admin API on or off.
  std::function<bool()> enabled;
  std::function<MaintenanceMode()> maintenance;
  std::function<void(const MaintenanceMode& mode, const std::string& from)> set_maintenance;
  // Asks for a reload (as SIGHUP does) and returns without waiting for it.
  std::function<void(const std::string& from)> reload;
  // Why a call was refused as cross-site: worth a warning, it may be an attack.
  std::function<void(std::string_view line)> warn;
};

// GET and POST /api/v1/maintenance and POST /-/reload (as Prometheus's). The POSTs answer 403
// while the admin API is disabled or the call looks cross-site, and 415 unless the body (or,
// for the reload, any body sent) is JSON; GET /api/v1/maintenance is always readable.
void RegisterAdminHandlers(HttpServer& server, AdminActions actions);

}  // namespace poolwatch
