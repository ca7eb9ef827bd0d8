#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/forget.h"
#include "twotower/serve/export/export_forget.h"
#include "twotower/serve/export/export_layout.h"

namespace fs = std::filesystem;

namespace twotower::cli {
namespace {

struct ForgetArgs {
  fs::path data;
  std::vector<std::string> users;
  fs::path users_file;
  std::vector<fs::path> exports;
};

// The ids of --user and of --users-file (one a line, blank lines skipped).
std::vector<std::string> requested_ids(const ForgetArgs& a) {
  std::vector<std::string> ids = a.users;
  if (!a.users_file.empty()) {
    std::ifstream in(a.users_file);
    if (!in) fail(a.users_file.string(), ": cannot open for reading");
    for (std::string line; std::getline(in, line);) {
      const std::string id(trim(line));
      if (!id.empty()) ids.push_back(id);
    }
  }
  if (ids.empty()) fail("forget: got no user id, expected --user ID or --users-file FILE with at least one");
  return ids;
}

// Every check first (the ids are in the data, each export is one), then the exports, then the
// data folder: a failure part way leaves the data folder as it was, so the same command reruns.
void run_forget(const ForgetArgs& a) {
  const std::vector<std::string> ids = requested_ids(a);
  const std::vector<int64_t> users = resolve_forget_users(a.data, ids);
  for (const fs::path& e : a.exports) resolve_export_dir(e);
  for (const fs::path& e : a.exports) {
    for (const fs::path& version : forget_users_in_exports(e, users)) {
      std::cout << "forget: " << version.string() << ": users removed (reload a running service: SIGHUP or POST /reload)\n";
    }
  }
  const ForgetResult r = forget_users_in_data(a.data, ids);
  std::cout << "forget: " << a.data.string() << ": " << r.users.size() << " users forgotten, " << r.interactions_removed
            << " interactions removed (indices kept; " << kForgottenFile << " lists them)\n";
}

}  // namespace

void add_forget_command(CLI::App& app) {
  auto args = std::make_shared<ForgetArgs>();
  CLI::App* cmd = app.add_subcommand(
      "forget", "Remove users who ask to be forgotten from a prepared data set and its exports");
  cmd->add_option("--data", args->data, "prepared data folder (twotower prepare --out)")->required();
  cmd->add_option("--user", args->users, "a raw user id (repeat for more)");
  cmd->add_option("--users-file", args->users_file, "a file of raw user ids, one a line");
  cmd->add_option("--export", args->exports, "an export folder (twotower export --out): every version in it (repeat for more)");
  cmd->callback([args] { run_forget(*args); });
}

}  // namespace twotower::cli
