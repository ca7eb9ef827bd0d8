#include "twotower/serve/export/export_layout.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/data/dataset.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

void make_version(const fs::path& dir, bool with_manifest) {
  fs::create_directories(dir);
  testing::write_file(dir / "a.bin", "hello");
  if (with_manifest) {
    write_json_file({{"format_version", kExportFormatVersion}, {"files", {{"a.bin", manifest_checksum(dir / "a.bin")}}}},
                    dir / kManifestFile);
  }
}

// Version names are v + 6 digits; anything else is not a version.
TEST(ExportLayout, VersionNames) {
  EXPECT_EQ(export_version_name(7), "v000007");
  EXPECT_EQ(export_version_number("v000007"), 7);
  EXPECT_EQ(export_version_number("v12"), 12);
  EXPECT_EQ(export_version_number("x000007"), -1);
  EXPECT_EQ(export_version_number("v00a"), -1);
  EXPECT_EQ(export_version_number(".v000003.tmp-12"), -1);
}

// The next version follows the highest folder, complete or not; the one loaded is the highest
// with a manifest (a version being written has none yet).
TEST(ExportLayout, NextAndLatestVersions) {
  testing::TempDir dir;
  EXPECT_EQ(next_export_version(dir / "missing"), "v000001");
  make_version(dir / "v000001", true);
  make_version(dir / "v000003", true);
  make_version(dir / "v000004", false);
  EXPECT_EQ(next_export_version(dir.path()), "v000005");
  EXPECT_EQ(resolve_export_dir(dir.path()), dir / "v000003");
  EXPECT_EQ(resolve_export_dir(dir / "v000001"), dir / "v000001");
  testing::expect_error([&] { resolve_export_dir(dir / "v000004"); }, "not an export");
}

// The checksum is zlib's CRC-32 ("hello": 0x3610a686) and the size; a changed file is named.
TEST(ExportLayout, ChecksumsCatchAChangedFile) {
  testing::TempDir dir;
  make_version(dir / "v000001", true);
  EXPECT_EQ(manifest_checksum(dir / "v000001/a.bin"), (nlohmann::json{{"bytes", 5}, {"crc32", "3610a686"}}));
  const nlohmann::json manifest = read_manifest(dir / "v000001");
  verify_export_files(dir / "v000001", manifest);
  testing::write_file(dir / "v000001/a.bin", "hellp");
  testing::expect_error([&] { verify_export_files(dir / "v000001", manifest); },
                        "a.bin: got {\"bytes\":5,\"crc32\":");
  fs::remove(dir / "v000001/a.bin");
  testing::expect_error([&] { verify_export_files(dir / "v000001", manifest); }, "a.bin: not found");
}

// A manifest of another format version is refused with both versions named.
TEST(ExportLayout, FormatVersionIsChecked) {
  testing::TempDir dir;
  write_json_file({{"format_version", 99}}, dir / kManifestFile);
  testing::expect_error([&] { read_manifest(dir.path()); }, "field \"format_version\": got 99, expected 1");
}

// A hostile manifest (export_manifest_fuzz): not an object, a listed name outside the folder (an
// absolute path, "..", a folder part: /dev/zero would be read for ever), a size that differs
// (refused before the CRC is read), fields of the wrong type: each an Error naming the field.
TEST(ExportLayout, HostileManifestsAreRefusedNamingTheField) {
  testing::TempDir dir;
  make_version(dir.path(), false);
  testing::write_file(dir / kManifestFile, "[1, 2]");
  testing::expect_error([&] { read_manifest(dir.path()); }, "got array, expected an object");
  for (const std::string name : {"/dev/zero", "..", ".", "../a.bin", "sub/a.bin", ""}) {
    const nlohmann::json manifest = {{"files", {{name, {{"bytes", 5}, {"crc32", "3610a686"}}}}}};
    testing::expect_error([&] { verify_export_files(dir.path(), manifest); },
                          "expected the name of a file in the export folder");
  }
  const nlohmann::json longer = {{"files", {{"a.bin", {{"bytes", 4}, {"crc32", "3610a686"}}}}}};
  testing::expect_error([&] { verify_export_files(dir.path(), longer); }, "a.bin: got 5 bytes, expected {");
  const nlohmann::json not_object = {{"files", {{"a.bin", "3610a686"}}}};
  testing::expect_error([&] { verify_export_files(dir.path(), not_object); }, "a.bin: got 5 bytes, expected \"3610");
  const nlohmann::json fields = {{"dim", "8"}, {"num_items", -1}, {"cold_user_vector", 1}, {"ok", 3}};
  testing::expect_error([&] { manifest_int(fields, "dim", 1); }, "field \"dim\": got \"8\", expected an integer >= 1");
  testing::expect_error([&] { manifest_int(fields, "num_items", 1); }, "field \"num_items\": got -1, expected an integer >= 1");
  testing::expect_error([&] { manifest_int(fields, "absent", 0); }, "field \"absent\": got null");
  testing::expect_error([&] { manifest_int(nlohmann::json::array(), "dim", 1); }, "field \"dim\": got null");
  EXPECT_EQ(manifest_int(fields, "ok", 0), 3);
  testing::expect_error([&] { manifest_bool(fields, "cold_user_vector", false); }, "got 1, expected true or false");
  EXPECT_TRUE(manifest_bool(fields, "absent", true));
}

}  // namespace
}  // namespace twotower
