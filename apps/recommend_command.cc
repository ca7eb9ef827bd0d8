#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>

#include "commands.h"
#include "serve_options.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/parquet_io.h"

namespace twotower::cli {
namespace {

struct RecommendArgs {
  ExportFlags export_flags;
  std::string user;
  std::filesystem::path users;
  std::vector<std::string> history;
  std::vector<std::string> exclude;
  std::filesystem::path out;
  int64_t k = kDefaultK;
  bool exclude_seen = RecommendRequest().exclude_seen;
};

void print(const RecommendResult& result) {
  std::cout << "source: " << to_string(result.source) << '\n' << "rank\titem_id\tscore\ttitle\n";
  for (size_t r = 0; r < result.items.size(); ++r) {
    const Recommendation& rec = result.items[r];
    std::cout << r + 1 << '\t' << rec.item_id << '\t' << std::fixed << std::setprecision(4) << rec.score << '\t'
              << rec.title << '\n';
  }
}

// One user id per line of `path` (blank lines skipped) -> Parquet (user_id, rank, item_id, score).
void recommend_batch(const Recommender& service, const RecommendArgs& a) {
  if (a.out.empty()) fail("--users: got no --out, expected a Parquet file to write the lists to");
  std::ifstream in(a.users);
  if (!in) fail(a.users.string(), ": cannot open for reading");
  std::vector<std::string> user_col, item_col;
  std::vector<int64_t> rank_col;
  std::vector<float> score_col;
  std::string line;
  for (long long n = 1; std::getline(in, line); ++n) {
    const std::string id(trim(line));
    if (id.empty()) continue;
    RecommendRequest req{id, {}, a.k, a.exclude_seen, a.exclude};
    RecommendResult result;
    try {
      result = service.recommend(req);
    } catch (const NotFoundError& e) {
      fail(a.users.string(), ":", n, ": ", e.what());
    }
    for (size_t r = 0; r < result.items.size(); ++r) {
      user_col.push_back(id);
      rank_col.push_back(static_cast<int64_t>(r + 1));
      item_col.push_back(result.items[r].item_id);
      score_col.push_back(result.items[r].score);
    }
  }
  ParquetWriter w;
  w.add_string("user_id", user_col);
  w.add_int64("rank", rank_col);
  w.add_string("item_id", item_col);
  w.add_float_view_nan_as_null("score", score_col);
  w.write(a.out);
  std::cout << "wrote " << rank_col.size() << " rows to " << a.out.string() << '\n';
}

void run_recommend(const RecommendArgs& a) {
  const int given = (a.user.empty() ? 0 : 1) + (a.users.empty() ? 0 : 1) + (a.history.empty() ? 0 : 1);
  if (given > 1) fail("recommend: got ", given, " of --user, --users and --history, expected at most one");
  const std::unique_ptr<Recommender> service = load_recommender(a.export_flags);
  if (!a.users.empty()) {
    recommend_batch(*service, a);
    return;
  }
  print(service->recommend(RecommendRequest{a.user, a.history, a.k, a.exclude_seen, a.exclude}));
}

}  // namespace

void add_recommend_command(CLI::App& app) {
  auto args = std::make_shared<RecommendArgs>();
  CLI::App* cmd = app.add_subcommand(
      "recommend", "Top-k items of an export for a known user, a list of users, an item history or a cold user");
  add_export_flags(cmd, args->export_flags);
  cmd->add_option("--user", args->user, "a known user id");
  cmd->add_option("--users", args->users, "a file of known user ids, one per line (writes --out)");
  cmd->add_option("--history", args->history, "item ids, oldest first, comma-separated")->delimiter(',');
  cmd->add_option("--exclude", args->exclude, "item ids to leave out, comma-separated")->delimiter(',');
  cmd->add_option("--out", args->out, "Parquet output of --users: user_id, rank, item_id, score");
  cmd->add_option("--k", args->k, "items per list")->capture_default_str();
  cmd->add_flag("--exclude-seen,!--include-seen", args->exclude_seen,
                "leave out the user's train + valid items (or the history); --include-seen keeps them")
      ->capture_default_str();
  cmd->callback([args] { run_recommend(*args); });
}

}  // namespace twotower::cli
