#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "web/http_server.h"
#include "web/status.h"

namespace poolwatch {

// The status page: one self-contained HTML document (no external assets, readable on a phone),
// written as web/status_page/index.html, style.css and app.js, and served with the CSS and the
// script inlined. It renders nothing server-side: its script fetches api/v1/status every few
// seconds and fills the DOM, so the page and the JSON API can never disagree. Maintenance
// buttons appear only when the status says the admin API is enabled; they POST
// api/v1/maintenance.
std::string_view StatusPageHtml();

// The page's Content-Security-Policy: its one inline script and style element by SHA-256 hash
// (so an inline style attribute or an injected script would not run), fetches to itself only,
// no framing, no form submission.
std::string StatusPagePolicy();

// Registers GET / (the page), GET /api/v1/status and GET /api/v1/alerts. `snapshot` is called
// on civetweb's threads, once per API request: it must take whatever lock guards its sources.
void RegisterStatusHandlers(HttpServer& server, std::function<StatusSnapshot()> snapshot);

}  // namespace poolwatch
