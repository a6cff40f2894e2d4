// Whole-file I/O: atomic replacement of a file, and whole-file reads. Every Formwork writer of
// user files (safetensors, npy, project store, exporters) goes through write_file_atomic*.
//
// Atomic replacement
//  - write_file_atomic(path, body): body(fd) writes the complete new contents into an open, empty
//    temp file in the same directory as `path`. Then the temp file is fsync'ed, renamed over `path`
//    and the directory is fsync'ed. Readers see the old file or the complete new one, never a mix,
//    even across a crash, a kill or a full disk.
//  - write_file_atomic_at(path, body): the same for writers that need a file name (SQLite):
//    body(tmp_path) gets the path of an existing empty temp file, fills it through its own handles
//    and closes them before returning.
//  - On any failure (body throws, a write, fsync or rename fails) the temp file is removed, an
//    existing `path` is left untouched, and fw::Error is thrown. System errors name the file and
//    carry errno's text: "w.safetensors: cannot write (No space left on device)". An fw::Error
//    thrown by body passes through unchanged.
//  - Temp files are named ".<name>.fwtmp-<pid>-<n>" beside the target and hold an flock(2) while
//    in use. A process that dies mid-write leaves its temp file behind; the next atomic write of
//    the same target removes such stale temp files (those no live writer holds locked).
//  - A symlink at `path` is followed: the file it points to is replaced, the link stays.
//  - An existing target keeps its permission bits; a new file gets 0666 & ~umask.
//  - Two processes replacing one target at once are safe; the last rename wins.
//
// Several files at once
//  - write_files_atomic({{path, bytes}, ...}): a command's outputs, all or none: every file is
//    written to its temp file and synced first; only when all of them were written are they
//    renamed into place, one after another. A failure while writing (a missing directory, a full
//    disk) leaves every target as it was. The same target given twice is an fw::Error.
//  - write_dir_atomic(dir, body): body(tmp_dir) fills a new, empty directory beside `dir`, which
//    is then renamed to `dir`. `dir` must not exist, or be an empty directory (replaced); a
//    non-empty one is an fw::Error before anything is written. On failure the temp directory is
//    removed and `dir` is left as it was.
//
// Reading
//  - read_file_bytes(path): the whole file; fw::Error "x: cannot open (No such file or directory)".
//
// Writing helpers for bodies
//  - write_all(fd, data, size, what): writes everything, retrying short writes and EINTR;
//    fw::Error "what: cannot write (<errno text>)" on failure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fw {

void write_file_atomic(const std::string& path, const std::function<void(int fd)>& body);
void write_file_atomic_at(const std::string& path,
                          const std::function<void(const std::string& tmp_path)>& body);

void write_files_atomic(const std::vector<std::pair<std::string, std::vector<uint8_t>>>& files);

void write_dir_atomic(const std::string& dir, const std::function<void(const std::string& tmp_dir)>& body);

void write_all(int fd, const void* data, size_t size, const std::string& what);

// At most `max_bytes` from the start (a header peek) when given; regular files only.
std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes = SIZE_MAX);

// "No space left on device" for ENOSPC; thread-safe strerror.
std::string errno_text(int err);

namespace testing {
// Test-only: called with the temp file's path after the body has written it, before fsync and
// rename (a test can _exit() there to simulate a crash). Pass {} to remove. Not thread-safe.
void set_atomic_write_hook(std::function<void(const std::string& tmp_path)> hook);
}  // namespace testing

}  // namespace fw
