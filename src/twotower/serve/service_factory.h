// How a front end (`twotower serve`, `recommend`) gets a RecommendService for an export folder
// without depending on the class that implements it (serve/recommender.h).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "twotower/serve/recommend_service.h"

namespace twotower {

/// Loads export `version` of `export_dir` ("" for the default: the newest export, so that a reload
/// with "" picks up one written since) with a top-K index of `index_kind` ("exact" or "hnsw").
/// Throws NotFoundError for an unknown version, Error for a malformed export or index kind.
/// `version` may come from an HTTP client (POST /reload): it names a version, it is not a path
/// (one with '/' or ".." is an Error).
std::shared_ptr<RecommendService> load_recommend_service(const std::filesystem::path& export_dir,
                                                         const std::string& version,
                                                         const std::string& index_kind);

}  // namespace twotower
