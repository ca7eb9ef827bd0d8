#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "commands.h"
#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower_build_paths.h"

namespace twotower::cli {
namespace {

struct EmbedArgs {
  std::string data;
  std::string model = "all-minilm-l6-v2";
  std::string model_dir;
  std::string out;
  int batch_size = 64;
  int threads = 0;
};

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs scripts/embed.py (sentence-transformers, offline) in the project's Python environment.
void run_embed(const EmbedArgs& a) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(a.data) / "items.parquet")) {
    fail("embed: ", (fs::path(a.data) / "items.parquet").string(), " does not exist (run twotower prepare first)");
  }
  std::string command = "HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 " + quoted(TWOTOWER_PYTHON) + " " +
                        quoted(std::string(TWOTOWER_SOURCE_DIR) + "/scripts/embed.py") + " --data " + quoted(a.data) +
                        " --model " + quoted(a.model) + " --batch-size " + std::to_string(a.batch_size) +
                        " --threads " + std::to_string(a.threads);
  if (!a.model_dir.empty()) command += " --model-dir " + quoted(a.model_dir);
  if (!a.out.empty()) command += " --out " + quoted(a.out);
  log_info("embed: ", command);
  int rc = std::system(command.c_str());
  if (rc != 0) fail("embed: scripts/embed.py failed (exit status ", rc, ")");
}

}  // namespace

void add_embed_command(CLI::App& app) {
  auto args = std::make_shared<EmbedArgs>();
  CLI::App* cmd = app.add_subcommand("embed", "Embed the prepared items' text with sentence-transformers");
  cmd->add_option("--data", args->data, "prepared folder (with items.parquet)")->required();
  cmd->add_option("--model", args->model,
                  "all-minilm-l6-v2 (384-d, default) or all-mpnet-base-v2 (768-d, installed on first use)");
  cmd->add_option("--model-dir", args->model_dir, "a local sentence-transformers folder instead of --model");
  cmd->add_option("--out", args->out, "output .npy (default DATA/text_emb_MODEL.npy)");
  cmd->add_option("--batch-size", args->batch_size, "texts per batch")->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "torch threads (0 = torch's default)")->check(CLI::NonNegativeNumber);
  cmd->callback([args] { run_embed(*args); });
}

}  // namespace twotower::cli
