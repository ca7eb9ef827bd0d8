#include "twotower/serve/service_factory.h"

#include "twotower/serve/export/export_layout.h"
#include "twotower/serve/recommender.h"
#include "twotower/serve/index/topk_index.h"

namespace fs = std::filesystem;

namespace twotower {

std::shared_ptr<RecommendService> load_recommend_service(const fs::path& export_dir, const std::string& version,
                                                         const std::string& index_kind) {
  RecommenderOptions options;
  options.index.kind = parse_index_kind(index_kind, "--index");
  if (version.empty()) return std::make_shared<Recommender>(resolve_export_dir(export_dir), options);
  // A version is a name such as v000003, never a path.
  if (export_version_number(version) < 0) {
    fail("export version: got \"", version, "\", expected a version name such as ", export_version_name(3));
  }
  const fs::path dir = export_dir / version;
  if (!fs::exists(dir / kManifestFile)) {
    throw NotFoundError(str_cat("export version \"", version, "\": no ", (dir / kManifestFile).string()));
  }
  return std::make_shared<Recommender>(dir, options);
}

}  // namespace twotower
