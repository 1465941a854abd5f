#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace poolwatch::testing {

// A fresh directory under $TMPDIR, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A child process started with argv (argv[0] looked up in PATH), its stdout and stderr
// written to `log_path`. Stopped with SIGTERM (then SIGKILL after a grace period) when
// destroyed, by PID, so a failing test leaves nothing running.
class Process {
 public:
  Process(std::vector<std::string> argv, std::filesystem::path log_path,
          std::map<std::string, std::string> extra_env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // Sends `signal`; with SIGTERM/SIGINT waits up to `grace` and then kills. Returns the exit
  // status as from waitpid (or -1 if it was already reaped).
  int Stop(int signal = 15, std::chrono::milliseconds grace = std::chrono::seconds(10));
  void Kill9();
  std::string Output() const;  // what the log file holds (earlier runs' lines too, if reused)
  std::string OutputSinceStart() const;  // only what this process wrote
  const std::filesystem::path& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path log_path_;
  size_t output_start_ = 0;  // the log's size before this process appended to it
};

// Runs a command to completion; returns its exit code and fills `output` (stdout+stderr).
int RunCommand(const std::vector<std::string>& argv, std::string* output,
               std::map<std::string, std::string> extra_env = {});

// `poolwatch replay ARGS...` run to completion: its exit code, its whole output, and the JSON
// lines of the notifications it would have sent, in order.
struct ReplayRun {
  int exit_code = -1;
  std::vector<nlohmann::json> notifications;
  std::string output;
};
ReplayRun Replay(const std::vector<std::string>& args,
                 std::map<std::string, std::string> extra_env = {});

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// The same for UDP (a syslog listener).
int FreeUdpPort();

struct HttpResponse {
  long status = 0;  // 0 when the request failed before a response
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;
};
HttpResponse HttpGet(const std::string& url,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));
HttpResponse HttpPost(const std::string& url, const std::string& body = "",
                      const std::string& content_type = "application/json",
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
// A GET with extra request headers ("Accept-Encoding: gzip"); the body is returned as sent
// (not decoded).
HttpResponse HttpGetWithHeaders(const std::string& url,
                                const std::vector<std::string>& request_headers,
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Inflates one gzip member (zlib's own inflate, an independent check of what poolwatch sent).
// False when `compressed` is not exactly one complete member.
bool Gunzip(const std::string& compressed, std::string* out);
// `data` as one gzip member (zlib's deflate at its default level), as gzip(1) writes a file.
std::string Gzip(const std::string& data);

// Polls `condition` every `interval` until it holds or `deadline` passes.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
               std::chrono::milliseconds interval = std::chrono::milliseconds(20));

std::string ReadFile(const std::filesystem::path& path);

// The lines of `text`, sorted: to compare two expositions whatever their order.
std::vector<std::string> SortedLines(const std::string& text);
void WriteFile(const std::filesystem::path& path, const std::string& content);
void AppendFile(const std::filesystem::path& path, const std::string& content);

// One request answered by blue, in poolwatch's default log format, newline included: for
// tests that write the log themselves.
inline const std::string kBlueLogLine =
    "127.0.0.1 - - [26/Nov/2026:07:00:00 +0000] \"GET /version HTTP/1.1\" 200 51 \"-\" "
    "\"curl/7.88.1\" pool=blue release=v1.0.0 upstream_status=200 upstream_addr=127.0.0.1:8081 "
    "request_time=0.012 upstream_response_time=0.010\n";

// One line in the default format, `seconds` after 2026-11-26T07:00:00Z, without the newline;
// upstream status equals `status`, upstream 127.0.0.1:8081.
std::string DefaultFormatLine(int seconds, int status, const std::string& pool = "blue");

// The ports poolwatch said it listens on, in order, from its log (`msg="listening"
// address=HOST:PORT` lines): tests start it on port 0 and read the port back.
std::vector<int> ListeningPorts(const std::string& poolwatch_output);
// Waits until `poolwatch` (started with --web.listen-address 127.0.0.1:0) logs the port it bound
// (in its own output, not an earlier run's in the same log file); 0 if it exits or the deadline
// passes first.
class Process;
int WaitForListeningPort(Process& poolwatch,
                         std::chrono::milliseconds deadline = std::chrono::seconds(20));

// Full path of a program in PATH (also /usr/sbin, where Debian puts nginx), or "".
std::string FindProgram(const std::string& name);

// Value of a sample in Prometheus text exposition, e.g.
// MetricValue(text, "poolwatch_http_requests_total", {{"pool","blue"},{"status","200"}})
// sums every series of that name whose labels include the given ones. Returns -1 when none.
double MetricValue(const std::string& exposition, const std::string& name,
                   const std::map<std::string, std::string>& labels = {});

}  // namespace poolwatch::testing
