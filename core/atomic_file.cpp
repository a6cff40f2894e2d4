#include "core/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "core/error.h"

namespace fw {
namespace {

std::function<void(const std::string&)>& atomic_write_hook() {
  static std::function<void(const std::string&)> hook;
  return hook;
}

[[noreturn]] void throw_errno(const std::string& what, const char* doing, int err) {
  throw Error(what + ": " + doing + " (" + errno_text(err) + ")");
}

// The file a write to `path` must replace: symlinks are followed (a dangling one is replaced).
std::string resolve_target(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char buf[PATH_MAX];
    if (realpath(path.c_str(), buf)) return buf;
  }
  return path;
}

void split_path(const std::string& path, std::string& dir, std::string& base) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    dir.assign(1, '.');  // not = ".": GCC 12 warns falsely (-Wrestrict, PR 105329)
    base = path;
  } else {
    dir.assign(path, 0, slash == 0 ? 1 : slash);  // "/name" is in "/"
    base.assign(path, slash + 1, std::string::npos);
  }
}

std::string temp_prefix(const std::string& base) { return "." + base + ".fwtmp-"; }

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Removes temp files of `base` in `dir` left by writers that died: those whose flock we can take.
void remove_stale_temps(const std::string& dir, const std::string& base) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  const std::string prefix = temp_prefix(base);
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string full = dir + "/" + name;
    const int fd = open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat by_fd, by_name;
    // Unlink while holding the lock, and only the file we locked; a writer that takes the lock
    // after us sees its file unlinked and makes a new one (create_temp).
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &by_fd) == 0 &&
        lstat(full.c_str(), &by_name) == 0 && same_file(by_fd, by_name)) {
      unlink(full.c_str());
    }
    close(fd);
  }
  closedir(d);
}

// An open, locked, empty temp file; removed on destruction unless release()d.
class TempFile {
 public:
  TempFile(const std::string& dir, const std::string& base, const std::string& what) {
    static std::atomic<unsigned> counter{0};
    for (int attempt = 0; attempt < 1000; ++attempt) {
      std::string p = dir + "/" + temp_prefix(base) + std::to_string(getpid()) + "-" +
                      std::to_string(counter++);
      const int fd = open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0) {
        if (errno == EEXIST) continue;
        throw_errno(what, ("cannot create a temp file in " + dir).c_str(), errno);
      }
      struct stat by_fd, by_name;
      if (flock(fd, LOCK_EX) != 0) {
        const int err = errno;
        close(fd);
        unlink(p.c_str());
        throw_errno(what, "cannot lock a temp file", err);
      }
      if (fstat(fd, &by_fd) == 0 && by_fd.st_nlink > 0 && lstat(p.c_str(), &by_name) == 0 &&
          same_file(by_fd, by_name)) {
        fd_ = fd;
        path_ = std::move(p);
        return;
      }
      close(fd);  // a stale-temp sweep removed it between open and flock: try a new name
    }
    throw Error(what + ": cannot create a temp file in " + dir + " (too many attempts)");
  }
  ~TempFile() {
    if (!path_.empty()) unlink(path_.c_str());
    if (fd_ >= 0) close(fd_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }  // renamed into place: do not unlink

 private:
  int fd_ = -1;
  std::string path_;
};

void fsync_dir(const std::string& dir, const std::string& what) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw_errno(what, "written, but cannot open its directory to sync it", errno);
  // Some file systems cannot sync directories (EINVAL): nothing more can be done there.
  if (fsync(fd) != 0 && errno != EINVAL) {
    const int err = errno;
    close(fd);
    throw_errno(what, "written, but syncing its directory failed", err);
  }
  close(fd);
}

void replace_atomically(const std::string& path, const std::function<void(TempFile&)>& fill) {
  const std::string target = resolve_target(path);
  std::string dir, base;
  split_path(target, dir, base);
  if (base.empty() || base == "." || base == "..") throw Error(path + ": not a file name");
  struct stat old;
  const bool exists = stat(target.c_str(), &old) == 0;
  if (exists && S_ISDIR(old.st_mode)) throw Error(path + ": is a directory");

  remove_stale_temps(dir, base);
  TempFile tmp(dir, base, path);
  fill(tmp);
  if (atomic_write_hook()) atomic_write_hook()(tmp.path());
  if (exists && fchmod(tmp.fd(), old.st_mode & 07777) != 0)
    throw_errno(path, "cannot set permissions of the temp file", errno);
  if (fsync(tmp.fd()) != 0) throw_errno(path, "cannot write", errno);
  if (rename(tmp.path().c_str(), target.c_str()) != 0) throw_errno(path, "cannot replace", errno);
  tmp.release();
  fsync_dir(dir, path);
}

[[noreturn]] void throw_same_target(const std::string& path, const std::string& other) {
  std::string msg = path;
  msg.append(": the same file as ").append(other).append(" (two outputs cannot share a file)");
  throw Error(msg);
}

// A file of a multi-file write: the target, its directory and whether it existed (and how).
struct Staged {
  std::string path, target, dir, base;
  struct stat old {};
  bool exists = false;
  std::unique_ptr<TempFile> tmp;
};

}  // namespace

void write_files_atomic(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files) {
  std::vector<Staged> staged(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    Staged& f = staged[i];
    f.path = files[i].first;
    f.target = resolve_target(f.path);
    split_path(f.target, f.dir, f.base);
    if (f.base.empty() || f.base == "." || f.base == "..")
      throw Error(f.path + ": not a file name");
    for (size_t k = 0; k < i; ++k)
      if (staged[k].target == f.target) throw_same_target(f.path, staged[k].path);
    f.exists = stat(f.target.c_str(), &f.old) == 0;
    if (f.exists && S_ISDIR(f.old.st_mode)) throw Error(f.path + ": is a directory");
  }
  // Every file is written and synced beside its target before any is renamed into place; a
  // failure before the renames removes the temp files and leaves every target as it was.
  for (size_t i = 0; i < files.size(); ++i) {
    Staged& f = staged[i];
    remove_stale_temps(f.dir, f.base);
    f.tmp = std::make_unique<TempFile>(f.dir, f.base, f.path);
    write_all(f.tmp->fd(), files[i].second.data(), files[i].second.size(), f.path);
    if (atomic_write_hook()) atomic_write_hook()(f.tmp->path());
    if (f.exists && fchmod(f.tmp->fd(), f.old.st_mode & 07777) != 0)
      throw_errno(f.path, "cannot set permissions of the temp file", errno);
    if (fsync(f.tmp->fd()) != 0) throw_errno(f.path, "cannot write", errno);
  }
  for (Staged& f : staged) {
    if (rename(f.tmp->path().c_str(), f.target.c_str()) != 0)
      throw_errno(f.path, "cannot replace", errno);
    f.tmp->release();
  }
  for (const Staged& f : staged) fsync_dir(f.dir, f.path);
}

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string&)>& body) {
  std::string target = dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string parent, base;
  split_path(target, parent, base);
  if (base.empty() || base == "." || base == "..") throw Error(dir + ": not a directory name");
  struct stat st;
  bool replace = false;
  if (lstat(target.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw Error(dir + ": exists and is not a directory");
    DIR* d = opendir(target.c_str());
    if (!d) throw_errno(dir, "cannot open", errno);
    bool empty = true;
    while (const dirent* e = readdir(d))
      if (std::string n = e->d_name; n != "." && n != "..") empty = false;
    closedir(d);
    if (!empty) throw Error(dir + ": exists and is not empty (give a new or an empty directory)");
    replace = true;
  }
  static std::atomic<unsigned> counter{0};
  const std::string tmp = parent + "/" + temp_prefix(base) + std::to_string(getpid()) + "-d" +
                          std::to_string(counter++);
  if (mkdir(tmp.c_str(), 0777) != 0)
    throw_errno(dir, ("cannot create a directory in " + parent).c_str(), errno);
  try {
    body(tmp);
    if (replace && rmdir(target.c_str()) != 0) throw_errno(dir, "cannot replace", errno);
    if (rename(tmp.c_str(), target.c_str()) != 0) throw_errno(dir, "cannot create", errno);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
    throw;
  }
  fsync_dir(parent, dir);
}

std::string errno_text(int err) { return std::generic_category().message(err); }

void write_all(int fd, const void* data, size_t size, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const size_t chunk = size < (size_t{1} << 30) ? size : (size_t{1} << 30);
    const ssize_t n = ::write(fd, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(what, "cannot write", errno);
    }
    if (n == 0) throw_errno(what, "cannot write", ENOSPC);
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void write_file_atomic(const std::string& path, const std::function<void(int fd)>& body) {
  replace_atomically(path, [&](TempFile& tmp) { body(tmp.fd()); });
}

void write_file_atomic_at(const std::string& path,
                          const std::function<void(const std::string& tmp_path)>& body) {
  replace_atomically(path, [&](TempFile& tmp) { body(tmp.path()); });
}

std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (regular files ignore the flag).
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw_errno(path, "cannot open", errno);
  auto fail = [&](int err) {
    close(fd);
    throw_errno(path, "cannot read", err);
  };
  struct stat st;
  if (fstat(fd, &st) != 0) fail(errno);
  if (S_ISDIR(st.st_mode)) fail(EISDIR);
  if (!S_ISREG(st.st_mode)) {
    // A FIFO blocks forever and /dev/zero never ends: inputs are regular files only.
    close(fd);
    const char* what = S_ISFIFO(st.st_mode)   ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    throw Error(path + ": cannot read " + what + "; give a regular file");
  }
  std::vector<uint8_t> bytes(
      std::min(st.st_size > 0 ? static_cast<size_t>(st.st_size) : size_t(0), max_bytes));
  size_t have = 0;
  uint8_t extra[65536];  // the file grew since fstat, or is not a regular file
  for (;;) {
    const bool into_bytes = have < bytes.size();
    const ssize_t n = into_bytes ? ::read(fd, bytes.data() + have, bytes.size() - have)
                                 : ::read(fd, extra, sizeof extra);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno);
    }
    if (n == 0) break;
    if (!into_bytes) bytes.insert(bytes.end(), extra, extra + n);
    have += static_cast<size_t>(n);
    if (have >= max_bytes) break;
  }
  close(fd);
  bytes.resize(std::min(have, max_bytes));
  return bytes;
}

namespace testing {
void set_atomic_write_hook(std::function<void(const std::string& tmp_path)> hook) {
  atomic_write_hook() = std::move(hook);
}
}  // namespace testing

}  // namespace fw
