// `twotower forget` on a serving export (serve/export/export_layout.h): every version folder under an
// export parent stops knowing the forgotten users (data/forget.h), so neither the served
// version nor one a reload or rollback brings back answers for them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace twotower {

/// In version folder `dir`, for each user index of `users` (those at or past the export's user
/// count are left alone: the export was written before they existed):
///   users.parquet        their user_id becomes "" (the catalogue indexes no empty id: 404);
///   user_embeddings.npy  their row becomes zeros;
///   seen.parquet         their rows are removed, and items.parquet's popularity loses them;
///   model.pt             their row of the user id table (model.use_user_id) becomes zeros;
/// then manifest.json gets the new files' checksums and a "forgotten_users" count. Each file is
/// replaced atomically and the manifest last, so a reader sees the old or the new version
/// (a service that loads between two files finds a checksum mismatch and keeps what it has);
/// a running service serves the new files after its next reload (SIGHUP or POST /reload).
/// Idempotent: a user forgotten before is left as they are. Returns how many of `users` the
/// version knew until now (their ids were not yet blank).
int64_t forget_users_in_export_version(const std::filesystem::path& dir, const std::vector<int64_t>& users);

/// forget_users_in_export_version for every version folder under `parent` (an export parent, as
/// `twotower export --out` names it) or for `parent` itself when it is a version folder; returns
/// the folders changed. Throws naming the folder when there is no export there.
std::vector<std::filesystem::path> forget_users_in_exports(const std::filesystem::path& parent,
                                                           const std::vector<int64_t>& users);

}  // namespace twotower
