#include "alerting/notify/http_poster.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>

#include "alerting/notify/redact.h"

namespace poolwatch {
namespace {

struct Response {
  HttpResult* result;
  size_t max_body;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  size_t n = size * count;
  std::string& body = response->result->body;
  // Keep reading past the cap (returning less would abort the transfer as an error).
  if (body.size() < response->max_body) {
    body.append(data, std::min(n, response->max_body - body.size()));
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
      }
      while (!value.empty() &&
             (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      response->result->retry_after = std::string(value);
    }
  }
  return n;
}

void GlobalInitOnce() {
  // curl_global_init is not thread-safe in older libcurl; do it once before any handle.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

CurlHttpPoster::CurlHttpPoster() : CurlHttpPoster(Options{}) {}

CurlHttpPoster::CurlHttpPoster(Options options) : options_(std::move(options)) {
  GlobalInitOnce();
  curl_ = curl_easy_init();
}

CurlHttpPoster::~CurlHttpPoster() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResult CurlHttpPoster::Post(const std::string& url, const std::string& body,
                                const std::string& content_type,
                                std::chrono::milliseconds timeout) {
  return DoPost(url, body, content_type, nullptr, timeout);
}

HttpResult CurlHttpPoster::PostWithBearer(const std::string& url, const std::string& body,
                                          const std::string& content_type,
                                          const std::string& bearer_token,
                                          std::chrono::milliseconds timeout) {
  return DoPost(url, body, content_type, &bearer_token, timeout);
}

HttpResult CurlHttpPoster::DoPost(const std::string& url, const std::string& body,
                                  const std::string& content_type, const std::string* bearer_token,
                                  std::chrono::milliseconds timeout) {
  HttpResult result;
  std::lock_guard<std::mutex> lock(mu_);
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  // Reset options but keep the connection cache, so consecutive posts reuse the connection.
  curl_easy_reset(curl);

  long total_ms = std::max<long>(1, static_cast<long>(timeout.count()));
  long connect_ms = std::min<long>(total_ms, static_cast<long>(options_.connect_timeout.count()));
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Response response{&result, options_.max_response_body};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  // Without this, curl waits up to 1 s for "100 Continue" before sending bodies over 1 KiB,
  // which servers that do not answer it (many) turn into a second of latency per alert.
  headers = curl_slist_append(headers, "Expect:");
  if (bearer_token != nullptr) {
    // The token only ever goes into this header, never into the URL or an error string.
    std::string authorization = "Authorization: Bearer ";
    authorization += *bearer_token;
    headers = curl_slist_append(headers, authorization.c_str());
  }

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is a misconfigured URL
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.status = 0;
    result.body.clear();
    result.error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    // Defence in depth: curl's messages name hosts, not paths, but a URL must never leak.
    result.error = ScrubSecret(std::move(result.error), url);
  }
  // The handle must not keep pointers into this stack frame.
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  return result;
}

}  // namespace poolwatch
