#include "tests/support/test_support.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace poolwatch::testing {
namespace fs = std::filesystem;

std::string DefaultFormatLine(int seconds, int status, const std::string& pool) {
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "26/Nov/2026:%02d:%02d:%02d +0000", 7 + seconds / 3600,
                seconds / 60 % 60, seconds % 60);
  return std::string("127.0.0.1 - - [")
      .append(stamp)
      .append("] \"GET /version HTTP/1.1\" ")
      .append(std::to_string(status))
      .append(" 51 \"-\" \"curl/7.88.1\" pool=")
      .append(pool)
      .append(" release=v1.0.0 upstream_status=")
      .append(std::to_string(status))
      .append(" upstream_addr=127.0.0.1:8081 request_time=0.012 upstream_response_time=0.010");
}

TempDir::TempDir() {
  // mkdtemp replaces the six trailing 'X'.
  std::string pattern = (fs::temp_directory_path() / "poolwatch-test-").string().append(6, 'X');
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
  // nginx workers run as nobody and must reach files under here.
  fs::permissions(path_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (std::getenv("POOLWATCH_KEEP_TEST_DIRS") == nullptr) fs::remove_all(path_, ignored);
}

namespace {

std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    auto eq = entry.find('=');
    if (eq != std::string::npos) merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) merged[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : merged) out.push_back(k + "=" + v);
  return out;
}

pid_t Spawn(const std::vector<std::string>& argv, const fs::path& log_path,
            const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> env = BuildEnv(extra_env);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  std::string program = FindProgram(argv.at(0));
  if (program.empty()) throw std::runtime_error("program not found: " + argv.at(0));

  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    execve(program.c_str(), cargv.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

Process::Process(std::vector<std::string> argv, fs::path log_path,
                 std::map<std::string, std::string> extra_env)
    : log_path_(std::move(log_path)) {
  std::error_code no_log_yet;
  const uintmax_t size = fs::file_size(log_path_, no_log_yet);
  if (!no_log_yet) output_start_ = static_cast<size_t>(size);
  pid_ = Spawn(argv, log_path_, extra_env);
}

Process::~Process() { Stop(SIGTERM, std::chrono::seconds(5)); }

bool Process::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int Process::Stop(int signal, std::chrono::milliseconds grace) {
  if (!Running()) return status_;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Running()) return status_;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Kill9();
  return status_;
}

void Process::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  status_ = status;
  pid_ = -1;
}

std::string Process::Output() const { return ReadFile(log_path_); }

std::string Process::OutputSinceStart() const {
  const std::string output = Output();
  return output.size() > output_start_ ? output.substr(output_start_) : "";
}

int RunCommand(const std::vector<std::string>& argv, std::string* output,
               std::map<std::string, std::string> extra_env) {
  std::string tmpl = std::string("/tmp/poolwatch-cmd-").append(6, 'X');  // mkstemp fills the 'X's
  int fd = mkstemp(tmpl.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  close(fd);
  pid_t pid = Spawn(argv, tmpl, extra_env);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output != nullptr) *output = ReadFile(tmpl);
  unlink(tmpl.c_str());
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

ReplayRun Replay(const std::vector<std::string>& args,
                 std::map<std::string, std::string> extra_env) {
  std::vector<std::string> argv = {POOLWATCH_BINARY, "replay"};
  argv.insert(argv.end(), args.begin(), args.end());
  ReplayRun run;
  run.exit_code = RunCommand(argv, &run.output, std::move(extra_env));
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.front() == '{') {
      run.notifications.push_back(nlohmann::json::parse(line));
    }
  }
  return run;
}

namespace {
int FreePortOfType(int type) {
  int fd = socket(AF_INET, type, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}
}  // namespace

int FreePort() { return FreePortOfType(SOCK_STREAM); }
int FreeUdpPort() { return FreePortOfType(SOCK_DGRAM); }

namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

HttpResponse Request(const std::string& url, const std::string* post_body,
                     const std::string& content_type, std::chrono::milliseconds timeout,
                     const std::vector<std::string>& request_headers = {}) {
  HttpResponse response;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_slist* headers = nullptr;
  for (const std::string& header : request_headers) {
    headers = curl_slist_append(headers, header.c_str());
  }
  if (post_body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post_body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  }
  if (headers != nullptr) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  } else {
    response.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

}  // namespace

HttpResponse HttpGet(const std::string& url, std::chrono::milliseconds timeout) {
  return Request(url, nullptr, "", timeout);
}

HttpResponse HttpPost(const std::string& url, const std::string& body,
                      const std::string& content_type, std::chrono::milliseconds timeout) {
  return Request(url, &body, content_type, timeout);
}

HttpResponse HttpGetWithHeaders(const std::string& url,
                                const std::vector<std::string>& request_headers,
                                std::chrono::milliseconds timeout) {
  return Request(url, nullptr, "", timeout, request_headers);
}

bool Gunzip(const std::string& compressed, std::string* out) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return false;  // 15 + 16: expect a gzip header
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  out->clear();
  char buffer[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out->append(buffer, sizeof(buffer) - stream.avail_out);
  }
  const bool complete = result == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  return complete;
}

std::string Gzip(const std::string& data) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
               std::chrono::milliseconds interval) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(interval);
  }
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

void AppendFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << content;
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    fs::path candidate = fs::path(dir) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

double MetricValue(const std::string& exposition, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  std::stringstream ss(exposition);
  std::string line;
  double total = 0;
  bool found = false;
  while (std::getline(ss, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != '{' && next != ' ') continue;
    std::string label_part;
    size_t value_pos;
    if (next == '{') {
      size_t close = line.rfind('}');
      label_part = line.substr(name.size() + 1, close - name.size() - 1);
      value_pos = close + 2;
    } else {
      value_pos = name.size() + 1;
    }
    bool match = true;
    for (const auto& [k, v] : labels) {
      if (label_part.find(k + "=\"" + v + "\"") == std::string::npos) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    total += std::strtod(line.c_str() + value_pos, nullptr);
    found = true;
  }
  return found ? total : -1;
}

int WaitForListeningPort(Process& poolwatch, std::chrono::milliseconds deadline) {
  int port = 0;
  WaitUntil(
      [&] {
        const std::vector<int> ports = ListeningPorts(poolwatch.OutputSinceStart());
        if (!ports.empty()) port = ports.front();
        return port != 0 || !poolwatch.Running();
      },
      deadline);
  return port;
}

std::vector<int> ListeningPorts(const std::string& poolwatch_output) {
  static const std::regex kListening(R"(msg="listening" address=[^ ]*:([0-9]+))");
  std::vector<int> ports;
  for (std::sregex_iterator it(poolwatch_output.begin(), poolwatch_output.end(), kListening), end;
       it != end; ++it) {
    ports.push_back(std::stoi((*it)[1]));
  }
  return ports;
}

}  // namespace poolwatch::testing
