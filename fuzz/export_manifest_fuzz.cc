// An export version folder as `serve`, `recommend` and `forget` read it before the model: the
// input's NUL-separated parts are manifest.json, features.json and seen.parquet (items.parquet and
// users.parquet are valid, written once). What is fuzzed is the version lookup, the manifest and
// its fields, the file checksums it lists and the id catalogue (Parquet columns, index ranges).
// The model (model.pt) is LibTorch's archive, behind the manifest's CRC-32 of it.
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "twotower/common/error.h"
#include "twotower/data/parquet_io.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/export/export_layout.h"

namespace {

using namespace twotower;

std::vector<std::string> split_at_nul(const uint8_t* data, size_t size, size_t parts) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> out;
  size_t start = 0;
  while (out.size() + 1 < parts) {
    const size_t end = input.find('\0', start);
    if (end == std::string::npos) break;
    out.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  out.push_back(input.substr(std::min(start, input.size())));
  out.resize(parts);
  return out;
}

/// The folder `parent`/v000001 with valid items.parquet and users.parquet (3 items, 2 users).
std::filesystem::path version_folder() {
  static const std::filesystem::path dir = [] {
    const auto parent = fuzz::input_file(nullptr, 0, "unused").parent_path() / "export";
    const auto d = parent / export_version_name(1);
    std::filesystem::create_directories(d);
    ParquetWriter items;
    items.add_int64("item_idx", {0, 1, 2});
    items.add_string("item_id", {"a", "b", "c"});
    items.add_string("title", {"A", "", "C"});
    items.add_int64("category_idx", {0, 1, 0});
    items.add_int64("brand_idx", {0, 0, 1});
    items.add_int64("popularity", {3, 1, 2});
    items.write(d / kItemsFile);
    ParquetWriter users;
    users.add_int64("user_idx", {0, 1});
    users.add_string("user_id", {"u", "v"});
    users.write(d / kUsersFile);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path dir = version_folder();
  const std::vector<std::string> parts = split_at_nul(data, size, 3);
  const char* names[] = {kManifestFile, kFeaturesFile, kSeenFile};
  for (size_t i = 0; i < parts.size(); ++i) {
    std::filesystem::rename(fuzz::input_file(reinterpret_cast<const uint8_t*>(parts[i].data()), parts[i].size(),
                                             std::string("part") + std::to_string(i)),
                            dir / names[i]);
  }
  try {
    const std::filesystem::path found = resolve_export_dir(dir.parent_path());
    const nlohmann::json manifest = read_manifest(found);
    verify_export_files(found, manifest);
    for (const char* key : {"dim", "num_users", "num_items", "num_categories", "num_brands", "text_dim"}) {
      manifest_int(manifest, key, 0);
    }
    manifest_bool(manifest, "cold_user_vector", false);
  } catch (const Error&) {
  }
  try {
    const ExportCatalogue c = read_export_catalogue(dir);
    for (size_t u = 0; u < c.user_ids.size(); ++u) c.seen(static_cast<int64_t>(u));
  } catch (const Error&) {
  }
  return 0;
}
