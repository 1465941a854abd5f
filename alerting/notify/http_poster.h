#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace poolwatch {

// What came back from one HTTP POST. Either a response (status > 0) or a transport error.
struct HttpResult {
  long status = 0;          // 0: no HTTP response at all (see `error`)
  std::string body;         // response body, capped (Slack's errors are a few bytes)
  std::string retry_after;  // raw Retry-After header value; "" when absent
  std::string error;        // transport error (connect, TLS, timeout); "" when a response came
};

// The one seam between notifiers and the network, so tests swap in a fake and notifiers stay
// pure apart from this call (Alertmanager's `postJSONFunc`).
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  virtual HttpResult Post(const std::string& url, const std::string& body,
                          const std::string& content_type, std::chrono::milliseconds timeout) = 0;
  // The same with `Authorization: Bearer <bearer_token>` (Slack's Web API). The token is a
  // secret like a webhook URL. A poster that cannot send the header fails the call rather
  // than send it unauthenticated.
  virtual HttpResult PostWithBearer(const std::string& url, const std::string& body,
                                    const std::string& content_type,
                                    const std::string& bearer_token,
                                    std::chrono::milliseconds timeout) {
    (void)url, (void)body, (void)content_type, (void)bearer_token, (void)timeout;
    HttpResult result;
    result.error = "this HTTP poster cannot send an Authorization header";
    return result;
  }
};

// libcurl implementation. Thread-safe: calls are serialized on one easy handle, which keeps
// the TLS connection to Slack alive between posts. Verifies TLS peers and host names, follows
// no redirects, ignores signals (CURLOPT_NOSIGNAL, required in a threaded daemon), and honours
// the usual proxy environment variables. Error strings never contain the URL.
class CurlHttpPoster final : public HttpPoster {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{3000};  // capped by each call's total timeout
    std::string user_agent = "poolwatch";
    size_t max_response_body = 64 * 1024;
  };

  CurlHttpPoster();
  explicit CurlHttpPoster(Options options);
  ~CurlHttpPoster() override;
  CurlHttpPoster(const CurlHttpPoster&) = delete;
  CurlHttpPoster& operator=(const CurlHttpPoster&) = delete;

  HttpResult Post(const std::string& url, const std::string& body, const std::string& content_type,
                  std::chrono::milliseconds timeout) override;
  HttpResult PostWithBearer(const std::string& url, const std::string& body,
                            const std::string& content_type, const std::string& bearer_token,
                            std::chrono::milliseconds timeout) override;

 private:
  HttpResult DoPost(const std::string& url, const std::string& body,
                    const std::string& content_type, const std::string* bearer_token,
                    std::chrono::milliseconds timeout);

  Options options_;
  std::mutex mu_;
  void* curl_ = nullptr;  // CURL*; kept opaque so this header does not pull in curl.h
};

}  // namespace poolwatch
