#include "web/status_page.h"

#include <memory>
#include <utility>

namespace poolwatch {
namespace status_page_files {
// The files of web/status_page/, embedded by web/embed_files.cmake (see web/CMakeLists.txt).
extern const std::string_view kIndexHtml, kStyleCss, kAppJs;
}  // namespace status_page_files

namespace {

HttpReply Json(const std::string& body) { return {200, "application/json", body}; }

// `page` with `text` put right after the first `open_tag` (an empty element of index.html).
std::string Inline(std::string_view page, std::string_view open_tag, std::string_view text) {
  const size_t at = page.find(open_tag) + open_tag.size();
  std::string inlined(page.substr(0, at));
  inlined.append(text).append(page.substr(at));
  return inlined;
}

}  // namespace

std::string_view StatusPageHtml() {
  static const std::string page =
      Inline(Inline(status_page_files::kIndexHtml, "<style>", status_page_files::kStyleCss),
             "<script>", status_page_files::kAppJs);
  return page;
}

std::string StatusPagePolicy() {
  // Only the page's own script and style run (by hash, so nothing injected does), its fetches
  // go to poolwatch itself, no other site may frame it, and it submits no forms.
  static const std::string policy =
      std::string("default-src 'none'; script-src ")
          .append(CspHashSource(status_page_files::kAppJs))
          .append("; style-src ")
          .append(CspHashSource(status_page_files::kStyleCss))
          .append(
              "; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'");
  return policy;
}

void RegisterStatusHandlers(HttpServer& server, std::function<StatusSnapshot()> snapshot) {
  auto source = std::make_shared<std::function<StatusSnapshot()>>(std::move(snapshot));
  server.Handle("GET", "/", [](const HttpRequest&) {
    return HttpReply{200, "text/html; charset=utf-8", std::string(StatusPageHtml()),
                     StatusPagePolicy()};
  });
  server.Handle("GET", "/api/v1/status",
                [source](const HttpRequest&) { return Json(StatusJson((*source)())); });
  server.Handle("GET", "/api/v1/alerts",
                [source](const HttpRequest&) { return Json(AlertsJson((*source)())); });
}

}  // namespace poolwatch
