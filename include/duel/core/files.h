// Durable file output: every file duel writes (images, checkpoints, JSON,
// datasets, ONNX models, reports) goes through write_file_atomic, so a kill
// or a full disk never leaves half a file under the final name. It lives in
// core so that formats, checkpoints and pipelines share it without
// including an image or checkpoint header for it.
#pragma once
#include <string>

namespace duel {

// Writes bytes to path atomically: temp file in the same folder, fsync, rename.
// Throws duel::Error (with a "disk may be full" hint for ENOSPC/EDQUOT/EFBIG);
// the previous file under `path`, if any, is then intact.
void write_file_atomic(const std::string& path, const std::string& bytes);

// The temporary file write_file_atomic writes before its rename: ".<name>.tmp.<pid>"
// in the folder of `path`.
std::string atomic_temp_path(const std::string& path);

}  // namespace duel
