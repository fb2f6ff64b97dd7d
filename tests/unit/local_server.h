// Real servers for unit tests (memcached, an SMTP sink): a process started on 127.0.0.1 with
// fork/exec, ready once its port accepts connections, stopped by its PID (SIGTERM, then SIGKILL).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace natomedia::testing {

// A TCP port on 127.0.0.1 that nobody listens on right now (-1 when none could be had).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

inline bool port_accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class LocalServer {
 public:
  // `argv[0]` is the program's path; output goes to `log` ("" for none).
  LocalServer(std::vector<std::string> argv, int port, std::string log = "")
      : argv_(std::move(argv)), port_(port), log_(std::move(log)) {}
  ~LocalServer() { stop(); }
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  int port() const { return port_; }

  // False when the process exits (its port taken meanwhile, say) or never listens in 10 s.
  bool start() {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_.empty() ? "/dev/null" : log_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                    0644);
      dup2(fd, 1);
      dup2(fd, 2);
      setenv("PYTHONUNBUFFERED", "1", 1);
      std::vector<char*> argv;
      for (auto& a : argv_) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    for (int i = 0; i < 1000; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) != 0) {
        pid_ = -1;
        return false;
      }
      if (port_accepts(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void stop(bool hard = false) {
    if (pid_ <= 0) return;
    kill(pid_, hard ? SIGKILL : SIGTERM);
    for (int i = 0; i < 300 && waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (waitpid(pid_, nullptr, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

 private:
  std::vector<std::string> argv_;
  int port_;
  std::string log_;
  pid_t pid_ = -1;
};

}  // namespace natomedia::testing
