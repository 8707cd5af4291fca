// One trainer per run folder. The trainer (rank 0 in distributed runs) holds
// an exclusive lock on <run>/.lock from just before it writes into the folder
// until it exits; a second `duel train` on the same folder (a second
// --resume, a --force over a live run, a second --nproc launch) is refused at
// once, naming the folder and the PID that holds it. The lock is the
// kernel's (flock): it is released on any exit, kill -9 included, so it never
// goes stale. Readers (sample, eval, report, info) take no lock: they read
// files the trainer replaces atomically.
#pragma once
#include <string>

namespace duel {

class RunLock {
 public:
  // Creates the folder when needed and takes the lock, writing this process's
  // PID into the lock file. duel::Error (exit 2) when another process holds it.
  explicit RunLock(const std::string& run_dir);
  ~RunLock();
  // Throws the same duel::Error when a process holds the lock of `run_dir`
  // now, without taking it or creating anything (`duel train --nproc` checks
  // before it starts its ranks, whose rank 0 then takes the lock).
  static void ensure_free(const std::string& run_dir);
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace duel
