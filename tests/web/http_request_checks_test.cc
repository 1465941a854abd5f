// The pure checks behind the admin API's refusals and the status page's policy.
#include <gtest/gtest.h>

#include <string>

#include "web/http_server.h"

namespace poolwatch {
namespace {

HttpRequest Request(std::string host, std::string origin, std::string sec_fetch_site = "") {
  HttpRequest r;
  r.method = "POST";
  r.host = std::move(host);
  r.origin = std::move(origin);
  r.sec_fetch_site = std::move(sec_fetch_site);
  return r;
}

TEST(CrossSiteRefusal, lets_through_clients_that_send_no_browser_headers) {
  EXPECT_EQ(CrossSiteRefusal(Request("127.0.0.1:10090", "")), "");
  EXPECT_EQ(CrossSiteRefusal(Request("", "")), "");
}

TEST(CrossSiteRefusal, lets_through_the_same_origin_in_any_letter_case_and_default_port) {
  EXPECT_EQ(CrossSiteRefusal(Request("127.0.0.1:10090", "http://127.0.0.1:10090", "same-origin")),
            "");
  EXPECT_EQ(CrossSiteRefusal(Request("Poolwatch.Example:10090", "http://poolwatch.example:10090")),
            "");
  EXPECT_EQ(CrossSiteRefusal(Request("poolwatch.example", "https://poolwatch.example")), "");
  EXPECT_EQ(CrossSiteRefusal(Request("poolwatch.example:443", "https://poolwatch.example")), "");
  EXPECT_EQ(CrossSiteRefusal(Request("poolwatch.example:80", "http://poolwatch.example")), "");
  EXPECT_EQ(CrossSiteRefusal(Request("[::1]:10090", "http://[::1]:10090")), "");
}

TEST(CrossSiteRefusal, refuses_another_origin_even_on_the_same_host) {
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "https://evil.example")), "");
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "http://127.0.0.1:3000")), "");
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "http://127.0.0.1:100900")), "");
  // The default port belongs to the scheme: https on :80 is another origin.
  EXPECT_NE(CrossSiteRefusal(Request("poolwatch.example:80", "https://poolwatch.example")), "");
  EXPECT_NE(CrossSiteRefusal(Request("", "http://127.0.0.1:10090")), "");
}

TEST(CrossSiteRefusal, refuses_opaque_origins_and_what_the_browser_calls_cross_site) {
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "null")), "");
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "", "cross-site")), "");
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "", "Cross-Site")), "");
  // Even when Origin matches: the browser knows better (a redirect, say).
  EXPECT_NE(CrossSiteRefusal(Request("127.0.0.1:10090", "http://127.0.0.1:10090", "cross-site")),
            "");
  const std::string why = CrossSiteRefusal(Request("127.0.0.1:10090", "https://evil.example"));
  EXPECT_NE(why.find("https://evil.example"), std::string::npos) << why;
}

TEST(IsJsonContentType, accepts_json_with_parameters_and_any_case_only) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON;charset=UTF-8"));
  EXPECT_TRUE(IsJsonContentType(" application/json "));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonContentType("multipart/form-data; boundary=x"));
  EXPECT_FALSE(IsJsonContentType("application/jsonp"));
  EXPECT_FALSE(IsJsonContentType("text/plain; application/json"));
}

TEST(CspHashSource, is_the_base64_sha256_of_the_text_in_csp_syntax) {
  EXPECT_EQ(CspHashSource(""), "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
  EXPECT_EQ(CspHashSource("abc"), "'sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='");
}

}  // namespace
}  // namespace poolwatch
