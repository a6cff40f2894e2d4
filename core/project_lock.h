// One writer per project: the write lock every writer of a project file (*.formwork) holds.
//
// - ProjectLock(path, activity) takes an exclusive flock(2) on a lock file beside the project,
//   ".<name>.fwlock" in the same directory (the project itself is replaced by a rename on every
//   save, so its inode cannot carry the lock). A symlinked project is locked at its target.
// - A holder writes who it is into the lock file: "formwork train (pid 1234, training, since
//   2026-12-07T08:55:01Z)" (UTC). Another writer waits up to `wait_ms` for the lock, then fails
//   with one fw::Error line naming the holder:
//     "p.formwork: formwork train (pid 1234, training, since 2026-12-07T08:55:01Z) is writing
//      this project; try again when it has finished"
//   The lock is per open file description, so two holders in one process (the GUI's training and
//   its Save) exclude each other as two processes do. A holder that dies releases the lock with
//   its last file descriptor; nothing stale is left to clear by hand.
// - On release the holder removes the lock file while it still holds it; a waiter that then gets
//   the lock of the removed file sees that the name no longer refers to it and tries again, so
//   exactly one process holds the lock of a given project at any time.
// - Long jobs hold it for their whole run (a training run: kernels/train/project_run.h; a
//   search: ProjectAppender); a save takes it for its read-modify-write (core/project_store.h
//   save_project and the callers that load, change and save).
// - set_process_description("formwork train") names this process in the lock files it writes
//   (default: the executable's name).
#pragma once
#include <string>

namespace fw {

inline constexpr int kProjectLockWaitMs = 3000;

class ProjectLock {
 public:
  ProjectLock(const std::string& path, const std::string& activity,
              int wait_ms = kProjectLockWaitMs);
  ~ProjectLock();
  ProjectLock(const ProjectLock&) = delete;
  ProjectLock& operator=(const ProjectLock&) = delete;

  // The project this lock is for, as given, and the file the lock protects (symlinks resolved).
  const std::string& path() const { return path_; }
  const std::string& target() const { return target_; }
  bool covers(const std::string& project_path) const;

 private:
  std::string path_;
  std::string target_;
  std::string lock_path_;
  int fd_ = -1;
};

// Who holds the write lock of `path` ("formwork nas (pid 77, search, since
// 2026-12-07T09:01:12Z)"), or "" when nobody does.
std::string project_lock_holder(const std::string& path);

void set_process_description(const std::string& what);

}  // namespace fw
