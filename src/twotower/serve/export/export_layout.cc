#include "twotower/serve/export/export_layout.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/checksum.h"
#include "twotower/data/dataset.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

constexpr int kVersionDigits = 6;

// The highest version number under `parent` among folders that pass `accept`; 0 when none.
template <typename Accept>
int64_t highest_version(const fs::path& parent, Accept accept) {
  int64_t best = 0;
  if (!fs::is_directory(parent)) return best;
  for (const auto& entry : fs::directory_iterator(parent)) {
    const int64_t n = export_version_number(entry.path().filename().string());
    if (n > best && entry.is_directory() && accept(entry.path())) best = n;
  }
  return best;
}

}  // namespace

std::string export_version_name(int64_t number) {
  char name[32];
  std::snprintf(name, sizeof(name), "v%0*lld", kVersionDigits, static_cast<long long>(number));
  return name;
}

int64_t export_version_number(const std::string& name) {
  if (name.size() < 2 || name[0] != 'v') return -1;
  int64_t n = 0;
  for (size_t i = 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || i > 18) return -1;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}

std::string next_export_version(const fs::path& parent) {
  return export_version_name(highest_version(parent, [](const fs::path&) { return true; }) + 1);
}

fs::path resolve_export_dir(const fs::path& path) {
  if (fs::exists(path / kManifestFile)) return path;
  const int64_t n = highest_version(path, [](const fs::path& dir) { return fs::exists(dir / kManifestFile); });
  if (n == 0) {
    fail(path.string(), ": not an export (expected ", kManifestFile,
         " in it or in a version folder vNNNNNN under it; `twotower export` writes them)");
  }
  return path / export_version_name(n);
}

nlohmann::json read_manifest(const fs::path& dir) {
  const fs::path path = dir / kManifestFile;
  if (!fs::exists(path)) fail(path.string(), ": not found (an export folder holds its manifest)");
  nlohmann::json manifest = read_json_file(path);
  if (!manifest.is_object()) fail(path.string(), ": got ", manifest.type_name(), ", expected an object");
  const nlohmann::json version = manifest.value("format_version", nlohmann::json());
  if (!version.is_number_integer() || version.get<int64_t>() != kExportFormatVersion) {
    fail(path.string(), ": field \"format_version\": got ", version.dump(), ", expected ", kExportFormatVersion);
  }
  return manifest;
}

int64_t manifest_int(const nlohmann::json& manifest, const char* key, int64_t min) {
  const nlohmann::json v = manifest.is_object() ? manifest.value(key, nlohmann::json()) : nlohmann::json();
  if (!v.is_number_integer() || v.get<int64_t>() < min) {
    fail(kManifestFile, ": field \"", key, "\": got ", v.dump(), ", expected an integer >= ", min);
  }
  return v.get<int64_t>();
}

bool manifest_bool(const nlohmann::json& manifest, const char* key, bool fallback) {
  if (!manifest.is_object() || !manifest.contains(key)) return fallback;
  const nlohmann::json& v = manifest[key];
  if (!v.is_boolean()) fail(kManifestFile, ": field \"", key, "\": got ", v.dump(), ", expected true or false");
  return v.get<bool>();
}

nlohmann::json manifest_checksum(const fs::path& path) {
  const FileChecksum sum = file_checksum(path);
  return {{"bytes", sum.bytes}, {"crc32", crc32_hex(sum.crc32)}};
}

void verify_export_files(const fs::path& dir, const nlohmann::json& manifest) {
  if (!manifest.contains("files") || !manifest["files"].is_object()) {
    fail((dir / kManifestFile).string(), ": field \"files\": got none, expected {name: {bytes, crc32}}");
  }
  for (const auto& [name, expected] : manifest["files"].items()) {
    const fs::path listed(name);
    if (name.empty() || name == "." || name == ".." || listed.filename() != listed) {
      fail((dir / kManifestFile).string(), ": field \"files\": got \"", name,
           "\", expected the name of a file in the export folder");
    }
    const fs::path path = dir / listed;
    if (!fs::is_regular_file(path)) fail(path.string(), ": not found, expected by ", kManifestFile);
    const nlohmann::json stated_bytes = expected.is_object() ? expected.value("bytes", nlohmann::json()) : nlohmann::json();
    if (stated_bytes != nlohmann::json(fs::file_size(path))) {
      fail(path.string(), ": got ", fs::file_size(path), " bytes, expected ", expected.dump(), " (", kManifestFile,
           "): the file changed after the export");
    }
    const nlohmann::json got = manifest_checksum(path);
    if (got != expected) {
      fail(path.string(), ": got ", got.dump(), ", expected ", expected.dump(), " (", kManifestFile,
           "): the file changed after the export");
    }
  }
}

}  // namespace twotower
