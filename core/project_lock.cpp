#include "core/project_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "core/format.h"

namespace fs = std::filesystem;

namespace fw {

namespace {

std::mutex g_description_mutex;
std::string g_description;  // empty: the executable's name

std::string process_description() {
  std::lock_guard<std::mutex> g(g_description_mutex);
  if (!g_description.empty()) return g_description;
  std::ifstream comm("/proc/self/comm");
  std::string name;
  std::getline(comm, name);
  return name.empty() ? "a Formwork process" : name;
}

// The file a save of `path` replaces: symlinks resolved, also for a file not written yet.
std::string lock_target(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec || p.empty()) return fs::absolute(path).lexically_normal().string();
  return p.string();
}

std::string lock_file_of(const std::string& target) {
  const fs::path t(target);
  std::string name = ".";  // appended (GCC 12 warns wrongly of "." + string: -Wrestrict)
  name += t.filename().string();
  name += ".fwlock";
  return (t.parent_path() / name).string();
}

std::string read_holder(int fd) {
  char buf[512];
  const ssize_t n = pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return "";
  std::string s(buf, size_t(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

std::string busy_message(const std::string& path, const std::string& holder) {
  return path + ": " + (holder.empty() ? std::string("another Formwork process") : holder) +
         " is writing this project; try again when it has finished";
}

}  // namespace

void set_process_description(const std::string& what) {
  std::lock_guard<std::mutex> g(g_description_mutex);
  g_description = what;
}

ProjectLock::ProjectLock(const std::string& path, const std::string& activity, int wait_ms)
    : path_(path), target_(lock_target(path)), lock_path_(lock_file_of(target_)) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    const int fd = open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
      const int err = errno;
      // A folder nobody may write to (or one that does not exist) cannot take the project
      // either: the save itself reports that, with the project's name.
      if (err == ENOENT || err == EACCES || err == EROFS || err == EPERM || err == ENOTDIR) return;
      throw Error(path + ": cannot lock (" + lock_path_ + ": " + std::strerror(err) + ")");
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
      struct stat by_fd {
      }, by_name{};
      if (fstat(fd, &by_fd) == 0 && stat(lock_path_.c_str(), &by_name) == 0 &&
          by_fd.st_ino == by_name.st_ino && by_fd.st_dev == by_name.st_dev) {
        const std::string me = process_description() + " (pid " + std::to_string(getpid()) + ", " +
                               activity + ", since " + now_iso8601() + ")\n";
        if (ftruncate(fd, 0) == 0) {
          ssize_t ignored = pwrite(fd, me.data(), me.size(), 0);
          (void)ignored;  // the holder's name is a courtesy; the lock itself is taken
        }
        fd_ = fd;
        return;
      }
      close(fd);  // its holder removed it as we took it: lock the file now under that name
      continue;
    }
    const int err = errno;
    if (err != EWOULDBLOCK) {
      close(fd);
      throw Error(path + ": cannot lock (" + std::strerror(err) + ")");
    }
    const std::string holder = read_holder(fd);
    close(fd);
    if (std::chrono::steady_clock::now() >= deadline) throw Error(busy_message(path, holder));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ProjectLock::~ProjectLock() {
  if (fd_ < 0) return;
  unlink(lock_path_.c_str());  // still ours: nobody else can hold it while we do
  close(fd_);
}

bool ProjectLock::covers(const std::string& project_path) const {
  return lock_target(project_path) == target_;
}

std::string project_lock_holder(const std::string& path) {
  const std::string lock_path = lock_file_of(lock_target(path));
  const int fd = open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  std::string holder;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    holder = read_holder(fd);
    if (holder.empty()) holder = "another Formwork process";
  }
  close(fd);
  return holder;
}

}  // namespace fw
