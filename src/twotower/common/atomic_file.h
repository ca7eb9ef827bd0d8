// Writing a file so that readers see either the old content or the new, never a partial one.
#pragma once

#include <filesystem>
#include <functional>

namespace twotower {

/// Calls `write(temporary)` with a path beside `path` (`path` + ".tmp", same folder, so the
/// rename stays on one file system), then renames the temporary over `path`.
/// If `write` throws, or the rename fails, the temporary is removed, `path` is left as it was,
/// and the exception propagates (a failed rename throws twotower::Error naming both paths).
/// `write` must create the temporary itself and close it before returning.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path& temporary)>& write);

/// write_file_atomically, then the checksum sidecar of the new content (common/checksum.h),
/// computed from the temporary before the rename. A crash between the file's rename and the
/// sidecar's leaves a mismatch, which verify_checksum reports: never a damaged file taken as good.
void write_checksummed_file(const std::filesystem::path& path,
                            const std::function<void(const std::filesystem::path& temporary)>& write);

}  // namespace twotower
