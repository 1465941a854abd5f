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

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancelled = static_cast<const std::function<bool()>*>(user);
  return (*cancelled)() ? 1 : 0;
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
  HttpPostRequest request;
  request.url = url;
  request.body = body;
  request.content_type = content_type;
  request.timeout = timeout;
  return Send(request);
}

HttpResult CurlHttpPoster::PostWithBearer(const std::string& url, const std::string& body,
                                          const std::string& content_type,
                                          const std::string& bearer_token,
                                          std::chrono::milliseconds timeout) {
  HttpPostRequest request;
  request.url = url;
  request.body = body;
  request.content_type = content_type;
  request.bearer_token = bearer_token;
  request.timeout = timeout;
  return Send(request);
}

HttpResult CurlHttpPoster::Send(const HttpPostRequest& request) {
  const std::string& url = request.url;
  HttpResult result;
  std::lock_guard<std::mutex> lock(mu_);
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    result.error = "curl_easy_init failed";
    return result;
  }
  // Reset options but keep the connection cache, so consecutive posts reuse the connection.
  curl_easy_reset(curl);

  long total_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
  long connect_ms = std::min<long>(total_ms, static_cast<long>(options_.connect_timeout.count()));
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Response response{&result, options_.max_response_body};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Content-Type: " + request.content_type).c_str());
  // Without this, curl waits up to 1 s for "100 Continue" before sending bodies over 1 KiB,
  // which servers that do not answer it (many) turn into a second of latency per alert.
  headers = curl_slist_append(headers, "Expect:");
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  if (!request.bearer_token.empty()) {
    // The token only ever goes into this header, never into the URL or an error string.
    std::string authorization = "Authorization: Bearer ";
    authorization += request.bearer_token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  // The certificate must carry server_name while the connection goes to the URL's host: the
  // URL names server_name (TLS SNI and verification follow it) and CONNECT_TO sends it to the
  // original host and port.
  std::string effective_url = url;
  std::string connect_to_entry;
  curl_slist* connect_to = nullptr;
  if (!request.tls.server_name.empty()) {
    CURLU* parsed = curl_url();
    char* host = nullptr;
    char* port = nullptr;
    char* rewritten = nullptr;
    if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_set(parsed, CURLUPART_HOST, request.tls.server_name.c_str(), 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_URL, &rewritten, 0) == CURLUE_OK) {
      effective_url = rewritten;
      connect_to_entry = std::string("::") + host + ":" + port;
      connect_to = curl_slist_append(connect_to, connect_to_entry.c_str());
    }
    curl_free(host);
    curl_free(port);
    curl_free(rewritten);
    curl_url_cleanup(parsed);
  }

  curl_easy_setopt(curl, CURLOPT_URL, effective_url.c_str());
  if (connect_to != nullptr) curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  const bool verify = !request.tls.insecure_skip_verify;
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (!request.tls.ca_file.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, request.tls.ca_file.c_str());
  if (!request.tls.cert_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.tls.cert_file.c_str());
  if (!request.tls.key_file.empty())
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.tls.key_file.c_str());
  if (!request.basic_auth_username.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.basic_auth_username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.basic_auth_password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect is a misconfigured URL
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &request.cancelled);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }

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
  curl_easy_setopt(curl, CURLOPT_CONNECT_TO, nullptr);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  return result;
}

}  // namespace poolwatch
