#include "web/admin_api.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "exporter/log_format.h"

namespace poolwatch {
namespace {

HttpReply JsonReply(int status, const nlohmann::json& body) {
  return {status, "application/json", body.dump() + "\n"};
}

nlohmann::json MaintenanceJson(const MaintenanceMode& mode) {
  nlohmann::json json = {{"maintenance", mode.enabled}};
  if (mode.until) json["until"] = FormatRfc3339(*mode.until);
  return json;
}

// The answer refusing an admin call (admin API off, cross-site, not JSON), or none.
std::optional<HttpReply> AdminRefusal(const AdminActions& actions, const HttpRequest& request,
                                      bool body_expected) {
  if (!actions.enabled()) {
    return JsonReply(
        403, {{"error", "the admin API is disabled; start poolwatch with --web.enable-admin-api"}});
  }
  if (std::string refusal = CrossSiteRefusal(request); !refusal.empty()) {
    actions.warn(std::string("admin API: ")
                     .append(refusal)
                     .append(" (from ")
                     .append(request.remote_addr)
                     .append(")"));
    return JsonReply(403, {{"error", refusal}});
  }
  // An HTML form can only send form or text bodies, and a cross-site script can send JSON only
  // after a CORS preflight that poolwatch never grants: requiring JSON keeps both out, even in
  // a browser that sends no Origin.
  if ((body_expected || !request.content_type.empty()) &&
      !IsJsonContentType(request.content_type)) {
    return JsonReply(
        415,
        {{"error", std::string("Content-Type must be application/json, got ")
                       .append(request.content_type.empty() ? "none" : request.content_type)}});
  }
  return std::nullopt;
}

HttpReply SetMaintenance(const AdminActions& actions, const HttpRequest& request) {
  // Muting alerts is too consequential for defaults: the state and the end are spelled out in
  // the JSON body, never in the URL, and a value of the wrong type is an error, not ignored.
  if (!request.query.empty()) {
    return JsonReply(400, {{"error", "put the parameters in the JSON body, not in the URL"}});
  }
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return JsonReply(400, {{"error",
                            "body must be a JSON object like {\"enabled\": true, \"until\": "
                            "\"2026-11-26T08:00:00Z\"}"}});
  }
  if (!body.contains("enabled") || !body["enabled"].is_boolean()) {
    return JsonReply(400, {{"error", "enabled is required and must be true or false"}});
  }
  MaintenanceMode mode;
  mode.enabled = body["enabled"].get<bool>();
  if (body.contains("until")) {
    const nlohmann::json& value = body["until"];
    if (value.is_string()) mode.until = ParseTimeIso8601(value.get<std::string>());
    if (!mode.until) {
      return JsonReply(400, {{"error", std::string("until must be an RFC 3339 time string like "
                                                   "\"2026-11-26T08:00:00Z\", got ")
                                           .append(value.dump())}});
    }
  }
  actions.set_maintenance(mode, request.remote_addr);
  return JsonReply(200, MaintenanceJson(mode));
}

}  // namespace

void RegisterAdminHandlers(HttpServer& server, AdminActions actions) {
  auto shared = std::make_shared<const AdminActions>(std::move(actions));
  server.Handle("GET", "/api/v1/maintenance", [shared](const HttpRequest&) {
    return JsonReply(200, MaintenanceJson(shared->maintenance()));
  });
  server.Handle("POST", "/api/v1/maintenance", [shared](const HttpRequest& request) {
    if (auto refusal = AdminRefusal(*shared, request, /*body_expected=*/true)) return *refusal;
    return SetMaintenance(*shared, request);
  });
  // No body needed, so `curl -X POST` works as for Prometheus.
  server.Handle("POST", "/-/reload", [shared](const HttpRequest& request) {
    if (auto refusal = AdminRefusal(*shared, request, /*body_expected=*/false)) return *refusal;
    shared->reload(request.remote_addr);
    return JsonReply(202, {{"reload", "requested"}});
  });
}

}  // namespace poolwatch
