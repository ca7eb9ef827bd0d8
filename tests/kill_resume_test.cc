// A training process killed with SIGKILL at any point, then rerun with --resume, ends with the
// same weights as an unbroken run: checkpoints are written atomically with a checksum, and a
// resumed run continues the generators and counters exactly.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "twotower/data/generator.h"
#include "train_test_util.h"

extern char** environ;

namespace twotower {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> train_args(const fs::path& data, const fs::path& out, bool resume) {
  std::vector<std::string> args{testing::cli_path().string(),
                                "train",
                                "--config",
                                (testing::source_dir() / "configs" / "pair.yaml").string(),
                                "data.data_path=" + data.string(),
                                "training.output_dir=" + out.string(),
                                "training.num_epochs=4",
                                "training.batch_size=256",
                                "training.threads=1",
                                "--no-eval"};
  args.push_back("training.best_metric=train_loss");
  if (resume) args.push_back("--resume");
  return args;
}

// Starts the CLI with `args`, its output appended to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "posix_spawn " << argv[0];
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Kill points, each a line the run's train.log reaches: while the data loads and the model is
// built, during epoch 1 (no checkpoint yet), after epoch 1's and after epoch 2's checkpoint (the
// kill then lands in the next epoch or while its checkpoint is written). After each kill, --resume
// (or a fresh start where no checkpoint exists yet) must end at the unbroken run's weights.
TEST(KillResume, SigkillAtAnyPointThenResumeEqualsAnUnbrokenRun) {
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 2000, 800, 40000);
  const fs::path data = dir / "data";
  ASSERT_EQ(wait_exit(spawn(train_args(data, dir / "whole", false), dir / "whole.out")), 0)
      << testing::read_file(dir / "whole.out");
  const std::string whole_users = testing::read_file(dir / "whole" / "user_embeddings.npy");
  const std::string whole_items = testing::read_file(dir / "whole" / "item_embeddings.npy");
  ASSERT_FALSE(whole_users.empty());

  int killed = 0;
  for (const std::string mark : {"model: ", "training pairs", "epoch 1/4: ", "epoch 2/4: "}) {
    const fs::path out = dir / ("killed-" + std::to_string(killed + 1));
    const pid_t pid = spawn(train_args(data, out, false), dir / "killed.out");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool reached = false;
    while (!reached && std::chrono::steady_clock::now() < deadline) {
      reached = testing::read_file(out / "train.log").find(mark) != std::string::npos;
      if (!reached) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(reached) << mark;
    kill(pid, SIGKILL);
    const int code = wait_exit(pid);
    if (code == 128 + SIGKILL) ++killed;
    const bool has_checkpoint = fs::exists(out / "checkpoints" / "last.pt");
    ASSERT_EQ(wait_exit(spawn(train_args(data, out, has_checkpoint), dir / "resumed.out")), 0)
        << mark << "\n" << testing::read_file(dir / "resumed.out");
    EXPECT_TRUE(testing::read_file(out / "user_embeddings.npy") == whole_users) << "killed at \"" << mark << "\"";
    EXPECT_TRUE(testing::read_file(out / "item_embeddings.npy") == whole_items) << "killed at \"" << mark << "\"";
  }
  EXPECT_GE(killed, 3) << "most kill points should land while the run is alive";
}

// Every file of a folder by name (stats.json without its "seconds", which differ run to run).
std::map<std::string, std::string> folder_files(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string bytes = testing::read_file(entry.path());
    if (entry.path().filename() == "stats.json") {
      nlohmann::json stats = nlohmann::json::parse(bytes);
      stats.erase("seconds");
      bytes = stats.dump();
    }
    files[entry.path().filename().string()] = bytes;
  }
  return files;
}

// `prepare --overwrite` killed at seeded points from its start to its end leaves the folder it
// replaces whole, or the new one whole once it is renamed into place (an atomic exchange), never
// neither; the next run cleans up what the killed one left and writes the new folder.
TEST(KillResume, SigkillDuringPrepareOverwriteLeavesTheOldOrTheNewFolder) {
  testing::TempDir dir;
  GeneratorOptions g;
  g.users = 20000;
  g.items = 4000;
  g.reviews = 400000;
  g.review_words = 0;
  const GeneratedFiles big = generate_dataset(g, dir / "raw");
  testing::prepare_generated(dir / "small", 300, 100, 3000);
  const fs::path out = dir / "out";
  const std::vector<std::string> args{testing::cli_path().string(), "prepare", "--reviews", big.reviews.string(),
                                      "--meta", big.meta.string(), "--out", out.string(), "--overwrite"};
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(wait_exit(spawn(args, dir / "whole.out")), 0) << testing::read_file(dir / "whole.out");
  const auto whole_time = std::chrono::steady_clock::now() - start;
  const auto new_files = folder_files(out);
  const auto old_files = folder_files(dir / "small" / "data");

  std::mt19937 rng(19);
  std::uniform_real_distribution<double> at(0.0, 1.0);
  int killed = 0, kept_old = 0;
  for (int k = 0; k < 8; ++k) {
    fs::remove_all(out);
    fs::copy(dir / "small" / "data", out);
    const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(whole_time * at(rng));
    const pid_t pid = spawn(args, dir / "killed.out");
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    if (wait_exit(pid) == 128 + SIGKILL) ++killed;
    ASSERT_TRUE(fs::is_directory(out)) << "killed after " << delay.count() << " us";
    const auto files = folder_files(out);
    EXPECT_TRUE(files == old_files || files == new_files) << "killed after " << delay.count() << " us";
    if (files == old_files) ++kept_old;
  }
  ASSERT_EQ(wait_exit(spawn(args, dir / "after.out")), 0) << testing::read_file(dir / "after.out");
  EXPECT_TRUE(folder_files(out) == new_files);
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir.path())) left.push_back(entry.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"after.out", "killed.out", "out", "raw", "small", "whole.out"}));
  EXPECT_GE(killed, 4) << "most kill points should land while prepare runs";
  EXPECT_GE(kept_old, 2) << "some kills should land before the new folder is complete";
}

}  // namespace
}  // namespace twotower
