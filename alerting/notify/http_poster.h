#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

// Remote write: a POST that needs more than a JSON notifier's.
// What a client of a metrics receiver (remote write) sends besides a body: its own headers,
// credentials and TLS settings. The secrets in it never reach an error string.
struct HttpTlsClientOptions {
  std::string ca_file;    // "" : the system's trust store
  std::string cert_file;  // client certificate (with key_file), "" : none
  std::string key_file;
  std::string server_name;  // the name the certificate must carry, "" : the URL's host
  bool insecure_skip_verify = false;

  bool operator==(const HttpTlsClientOptions&) const = default;
};
struct HttpPostRequest {
  std::string url;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // name, value; sent as given
  std::string basic_auth_username;                           // "" : none
  std::string basic_auth_password;
  std::string bearer_token;  // "" : none
  HttpTlsClientOptions tls;
  std::chrono::milliseconds timeout{5000};
  // Polled while the request runs (about once a second at least); true ends it at once as a
  // transport error. Empty: the request runs until it ends or times out.
  std::function<bool()> cancelled;
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
  // The same POST with headers, credentials and TLS settings of the request's own (remote
  // write). Post() and PostWithBearer() are this with none of them, or the token only.
  HttpResult Send(const HttpPostRequest& request);

 private:
  Options options_;
  std::mutex mu_;
  void* curl_ = nullptr;  // CURL*; kept opaque so this header does not pull in curl.h
};

}  // namespace poolwatch
