#include "twotower/config/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <set>
#include <sstream>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/config/config_keys.h"

namespace twotower {
namespace {

std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(yaml, "run.yaml", overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "message: " << (haystack)

// Keys absent from the file keep the reference design's defaults.
TEST(Config, DefaultsAreTheReferenceValues) {
  Config c = parse_config("data:\n  data_path: d\n", "run.yaml");
  EXPECT_EQ(c.data.data_path, "d");
  EXPECT_EQ(c.data.emb_dim, 768);
  EXPECT_EQ(c.data.neg_ratio, 1);
  EXPECT_EQ(c.model.embedding_dim, 128);
  EXPECT_EQ(c.model.user_mlp_hidden, (std::vector<int64_t>{256, 128}));
  EXPECT_EQ(c.model.item_mlp_hidden, (std::vector<int64_t>{256, 128}));
  EXPECT_DOUBLE_EQ(c.model.dropout, 0.1);
  EXPECT_EQ(c.training.batch_size, 1024);
  EXPECT_EQ(c.training.num_epochs, 5);
  EXPECT_DOUBLE_EQ(c.training.learning_rate, 0.001);
  EXPECT_DOUBLE_EQ(c.training.weight_decay, 0.00001);
  EXPECT_EQ(c.training.optimizer, OptimizerKind::kAdam);
}

// Every value of a file is read into its typed field.
TEST(Config, ReadsEveryKind) {
  Config c = parse_config(R"(
data: {data_path: /x, text_embeddings: t.parquet, text_embeddings_column: vec, emb_dim: 384, neg_ratio: 4, seed: 7,
       negatives_exclude_positive: true, train_splits: [train, valid], valid_split: test}
model: {embedding_dim: 64, user_mlp_hidden: [32], item_mlp_hidden: [32], dropout: 0,
        use_brand: false, last_layer_activation: false, embedding_init_std: 0.1, out_of_range_ids: clamp}
training: {optimizer: sgd, momentum: 0.5, scheduler: cosine, min_learning_rate: 1e-5,
           clip_grad_norm: 0, logit_scale: 10, best_metric: recall@10, device: cpu, threads: 2, cpu_matmul: torch,
           matmul_precision: bf16}
)",
                          "run.yaml");
  EXPECT_EQ(c.data.text_embeddings, "t.parquet");
  EXPECT_EQ(c.data.text_embeddings_column, "vec");
  EXPECT_EQ(c.data.emb_dim, 384);
  EXPECT_EQ(c.data.neg_ratio, 4);
  EXPECT_EQ(c.data.seed, 7u);
  EXPECT_TRUE(c.data.negatives_exclude_positive);
  EXPECT_EQ(c.data.train_splits, (std::vector<std::string>{"train", "valid"}));
  EXPECT_EQ(c.data.valid_split, "test");
  EXPECT_EQ(c.model.user_mlp_hidden, (std::vector<int64_t>{32}));
  EXPECT_FALSE(c.model.use_brand);
  EXPECT_FALSE(c.model.last_layer_activation);
  EXPECT_DOUBLE_EQ(c.model.embedding_init_std, 0.1);
  EXPECT_EQ(c.model.out_of_range_ids, IdPolicy::kClamp);
  EXPECT_EQ(c.training.optimizer, OptimizerKind::kSgd);
  EXPECT_EQ(c.training.scheduler, SchedulerKind::kCosine);
  EXPECT_DOUBLE_EQ(c.training.min_learning_rate, 1e-5);
  EXPECT_DOUBLE_EQ(c.training.clip_grad_norm, 0.0);
  EXPECT_DOUBLE_EQ(c.training.logit_scale, 10.0);
  EXPECT_EQ(c.training.best_metric, "recall@10");
  EXPECT_EQ(c.training.device, DeviceKind::kCpu);
  EXPECT_EQ(c.training.cpu_matmul, CpuMatmul::kTorch);
  EXPECT_EQ(c.training.matmul_precision, MatmulPrecision::kBf16);
  const Config defaults = parse_config("data: {data_path: d}", "run.yaml");
  EXPECT_EQ(defaults.training.cpu_matmul, CpuMatmul::kOneDnn);
  EXPECT_EQ(defaults.training.matmul_precision, MatmulPrecision::kFp32);
}

// Every problem of a file is listed in one message, each with file, line, key, value and range.
TEST(Config, ListsEveryProblemAtOnce) {
  std::string msg = error_of(
      "data:\n"
      "  data_path: d\n"
      "  neg_ratio: 0\n"
      "model:\n"
      "  dropout: 1.5\n"
      "  embeding_dim: 64\n"
      "training:\n"
      "  batch_size: big\n"
      "  optimizer: adagrad\n");
  EXPECT_CONTAINS(msg, "5 problems");
  EXPECT_CONTAINS(msg, "run.yaml:3: field \"data.neg_ratio\": got \"0\", expected an integer >= 1");
  EXPECT_CONTAINS(msg, "run.yaml:5: field \"model.dropout\": got \"1.5\", expected a number in [0, 1)");
  EXPECT_CONTAINS(msg, "run.yaml:6: field \"model.embeding_dim\": got \"embeding_dim\", expected a known key of model");
  EXPECT_CONTAINS(msg, "run.yaml:8: field \"training.batch_size\": got \"big\", expected an integer >= 0 (0 = auto)");
}

// The remaining value checks, one message each.
TEST(Config, EachCheckHasItsMessage) {
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {optimizer: adagrad}"),
                  "field \"training.optimizer\": got \"adagrad\", expected one of adam, sgd");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {user_mlp_hidden: [256, 0]}"),
                  "field \"model.user_mlp_hidden\": got a list, expected a list of integers >= 1");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {use_text: maybe}"),
                  "field \"model.use_text\": got \"maybe\", expected true or false");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nevaluation: {k: 10}"),
                  "field \"evaluation\": got \"evaluation\", expected a section: data, model or training");
  EXPECT_CONTAINS(error_of("data: {emb_dim: 8}"), "field \"data.data_path\": got nothing, expected a prepared data folder");
  EXPECT_CONTAINS(error_of("data: {data_path: d, train_splits: [train, dev]}"),
                  "expected a non-empty list of train, valid, test");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {learning_rate: 0}"),
                  "field \"training.learning_rate\": got \"0\", expected a number > 0");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {use_item_id: false, use_category: false, "
                           "use_brand: false, use_text: false}"),
                  "expected at least one of use_item_id");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {output_layer: false, user_mlp_hidden: [64]}"),
                  "user width 64 and item width 128");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {cpu_matmul: mkl}"),
                  "field \"training.cpu_matmul\": got \"mkl\", expected one of onednn, torch");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {matmul_precision: fp16}"),
                  "field \"training.matmul_precision\": got \"fp16\", expected one of fp32, bf16");
  EXPECT_CONTAINS(error_of("data: [1, 2"), "run.yaml:1: not valid YAML");
}

// A captured CUDA step refuses what it cannot hold, each with its own message; with the rest it parses.
TEST(Config, CudaGraphRefusesWhatItCannotCapture) {
  const std::string base = "data: {data_path: d}\ntraining: {cuda_graph: true, ";
  EXPECT_TRUE(parse_config(base + "device: cuda}", "run.yaml").training.cuda_graph);
  EXPECT_CONTAINS(error_of(base + "device: cpu}"),
                  "field \"training.device\": got cpu with cuda_graph true, expected cuda or auto");
  EXPECT_CONTAINS(error_of(base + "optimizer: sgd}"),
                  "field \"training.optimizer\": got sgd with cuda_graph true, expected adam with fused_adam true");
  EXPECT_CONTAINS(error_of(base + "fused_adam: false}"), "got adam without fused_adam with cuda_graph true");
  EXPECT_CONTAINS(error_of(base + "embedding_optimizer: lazy_adam}"),
                  "field \"training.embedding_optimizer\": got lazy_adam with cuda_graph true, expected dense");
  EXPECT_CONTAINS(error_of(base + "loss: softmax}\nmodel: {user_history: 3, user_history_mode: before, "
                                  "user_history_pooling: attention}"),
                  "field \"model.user_history_pooling\": got attention with cuda_graph true, expected mean");
}

// Overrides replace file values, can add keys, and their problems name the override.
TEST(Config, Overrides) {
  Config c = parse_config("data: {data_path: d}\ntraining: {batch_size: 8}", "run.yaml",
                          {"training.batch_size=512", "model.user_mlp_hidden=[64, 32]", "data.data_path=other"});
  EXPECT_EQ(c.training.batch_size, 512);
  EXPECT_EQ(c.model.user_mlp_hidden, (std::vector<int64_t>{64, 32}));
  EXPECT_EQ(c.data.data_path, "other");
  std::string msg = error_of("data: {data_path: d}", {"training.batch_size=-1", "batch_size=3", "training.bogus=1", "eval.k=5"});
  EXPECT_CONTAINS(msg, "override \"training.batch_size=-1\": field \"training.batch_size\": got \"-1\"");
  EXPECT_CONTAINS(msg, "override \"batch_size=3\": expected section.key=value");
  EXPECT_CONTAINS(msg, "override \"training.bogus=1\": field \"training.bogus\"");
  EXPECT_CONTAINS(msg, "override \"eval.k=5\": field \"eval\": got \"eval\", expected a section");
}

// The resolved YAML reads back into the same configuration.
TEST(Config, ResolvedYamlRoundTrips) {
  Config c = parse_config("data: {data_path: /a b/c, seed: 18446744073709551615}", "run.yaml",
                          {"training.learning_rate=3e-4", "model.item_mlp_hidden=[7]", "model.user_mlp_hidden=[7]",
                           "model.output_layer=false", "training.scheduler=step", "data.text_embeddings=t.npy"});
  std::string yaml = config_to_yaml(c);
  Config back = parse_config(yaml, "resolved.yaml");
  EXPECT_EQ(config_to_yaml(back), yaml);
  EXPECT_EQ(back.data.data_path, "/a b/c");
  EXPECT_EQ(back.data.seed, 18446744073709551615ull);
  EXPECT_DOUBLE_EQ(back.training.learning_rate, 3e-4);
  EXPECT_FALSE(back.model.output_layer);
  EXPECT_EQ(back.data.text_embeddings, "t.npy");
  EXPECT_EQ(back.training.scheduler, SchedulerKind::kStep);
}

// The shipped configs parse, and reference.yaml holds the reference values.
TEST(Config, ShippedConfigsParse) {
  std::string root = testing::source_dir().string();
  Config ref = load_config(root + "/configs/reference.yaml");
  EXPECT_EQ(config_to_yaml(ref), config_to_yaml(parse_config("data: {data_path: " + ref.data.data_path + "}\n"
                                                              "training: {output_dir: " + ref.training.output_dir + "}",
                                                              "x")));
  Config def = load_config(root + "/configs/default.yaml");
  EXPECT_FALSE(def.data.data_path.empty());
  // The default configuration is the best one measured: every value equal but the output folder.
  Config best = load_config(root + "/configs/best.yaml");
  best.training.output_dir = def.training.output_dir;
  EXPECT_EQ(config_to_yaml(best), config_to_yaml(def));
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// The loss and model-option keys read into their fields; bad values name the key and range.
TEST(Config, LossAndModelOptionKeys) {
  Config c = parse_config(
      "data: {data_path: d}\n"
      "model: {user_history: 20, user_history_mode: before, item_id_dropout: 0.3, user_id_dropout: 0.2, pool_categories: true}\n"
      "training: {loss: mixed, temperature: 0.1, logq_correction: false, mask_accidental_hits: false,\n"
      "           mixed_negatives: 64, learn_logit_scale: true, best_metric: ndcg@20}\n",
      "run.yaml");
  EXPECT_EQ(c.model.user_history, 20);
  EXPECT_EQ(c.model.user_history_mode, UserHistoryMode::kBefore);
  EXPECT_DOUBLE_EQ(c.model.item_id_dropout, 0.3);
  EXPECT_DOUBLE_EQ(c.model.user_id_dropout, 0.2);
  EXPECT_TRUE(c.model.pool_categories);
  EXPECT_EQ(c.training.loss, LossKind::kMixed);
  EXPECT_DOUBLE_EQ(c.training.temperature, 0.1);
  EXPECT_FALSE(c.training.logq_correction);
  EXPECT_FALSE(c.training.mask_accidental_hits);
  EXPECT_EQ(c.training.mixed_negatives, 64);
  EXPECT_TRUE(c.training.learn_logit_scale);
  EXPECT_EQ(parse_config(config_to_yaml(c), "back").training.loss, LossKind::kMixed);
  EXPECT_EQ(config_to_yaml(parse_config(config_to_yaml(c), "back")), config_to_yaml(c));
  // Left out: the reference's loss and best-epoch choice.
  Config d = parse_config("data: {data_path: d}", "run.yaml");
  EXPECT_EQ(d.training.best_metric, "val_loss");
  EXPECT_EQ(d.training.loss, LossKind::kBce);
  EXPECT_EQ(d.model.user_history, 0);
  EXPECT_EQ(d.model.user_history_mode, UserHistoryMode::kLast);
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {user_history_mode: next}"),
                  "field \"model.user_history_mode\": got \"next\", expected one of last, before");

  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {loss: hinge}"),
                  "field \"training.loss\": got \"hinge\", expected one of bce, softmax, mixed, bpr");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {temperature: 0}"),
                  "field \"training.temperature\": got \"0\", expected a number > 0");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {item_id_dropout: 1}"),
                  "field \"model.item_id_dropout\": got \"1\", expected a number in [0, 1)");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {user_history: -1}"),
                  "field \"model.user_history\": got \"-1\", expected an integer >= 0 (0 = off)");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\nmodel: {user_history: 5, use_item_id: false}"),
                  "field \"model.user_history\": got 5 with use_item_id false");
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// The comment lines above the keys of configs/default.yaml.
const char* kDefaultHeader =
    "# Every key of a twotower training run, with its allowed values, set to the best configuration\n"
    "# measured (configs/best.yaml; docs/quality.md has the numbers and commands).\n"
    "#   twotower train --config configs/default.yaml [section.key=value ...] [--resume]\n"
    "# A key left out of a config file keeps the reference design's value (configs/reference.yaml).\n"
    "# Unknown keys and out-of-range values are errors. Generated from src/twotower/config/config_keys.cc:\n"
    "#   TWOTOWER_WRITE_DEFAULT_YAML=1 build/tests/twotower_tests --gtest_filter=Config.DefaultYamlIsGenerated\n";

// configs/default.yaml is the key table's text at best.yaml's values (output folder runs/default),
// so each key is described in one place; the test rewrites it on request.
TEST(Config, DefaultYamlIsGenerated) {
  const std::filesystem::path root = testing::source_dir();
  Config best = load_config(root / "configs" / "best.yaml");
  best.training.output_dir = "runs/default";
  const std::string expected = documented_config_yaml(best, kDefaultHeader);
  if (std::getenv("TWOTOWER_WRITE_DEFAULT_YAML")) testing::write_file(root / "configs" / "default.yaml", expected);
  EXPECT_EQ(testing::read_file(root / "configs" / "default.yaml"), expected)
      << "rerun with TWOTOWER_WRITE_DEFAULT_YAML=1 to regenerate configs/default.yaml";
  EXPECT_EQ(config_to_yaml(parse_config(expected, "default.yaml")), config_to_yaml(best));
}

// Every key of the table round-trips through config_to_yaml, and each has a comment but use_text,
// which shares use_item_id's.
TEST(Config, EveryKeyIsDescribedOnce) {
  std::set<std::string> names;
  for (const ConfigKey& key : config_keys()) {
    EXPECT_TRUE(names.insert(key.section + "." + key.name).second) << key.name;
    EXPECT_FALSE(key.expected.empty()) << key.name;
    EXPECT_EQ(key.doc.empty(), key.name == "use_text") << key.name;
  }
  EXPECT_EQ(names.size(), 71u);  // 9 data, 22 model, 40 training keys
  YAML::Node written = YAML::Load(config_to_yaml(Config{}));
  size_t count = 0;
  for (const auto& section : written) count += section.second.size();
  EXPECT_EQ(count, names.size());
}

// Cross-field rules are checked when the config is read, not after the first epoch.
TEST(Config, BestMetricIsCheckedWhenParsed) {
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {best_metric: recal@10}"),
                  "field \"training.best_metric\": got \"recal@10\", expected val_loss, train_loss, last, recall@K or ndcg@K");
  EXPECT_CONTAINS(error_of("data: {data_path: d}\ntraining: {best_metric: ndcg@0}"), "training.best_metric");
  EXPECT_EQ(parse_config("data: {data_path: d}\ntraining: {best_metric: ndcg@5}", "x").training.best_metric, "ndcg@5");
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// `yaml` without the lines of the keys added since that fixture was written (continued training's, the
// attention tower's, refit, fused_adam, cuda_graph).
std::string without_later_keys(const std::string& yaml) {
  std::string out, line;
  std::istringstream in(yaml);
  while (std::getline(in, line)) {
    bool later = false;
    for (const char* key : {"  init_from:", "  incremental:", "  replay_ratio:", "  user_history_pooling:",
                            "  attention_blocks:", "  attention_heads:", "  attention_dropout:", "  use_user_id:",
                            "  refit:", "  refit_mode:", "  refit_epochs:", "  fused_adam:", "  cuda_graph:", "  trace_steps:"}) {
      later = later || line.starts_with(key);
    }
    if (later) continue;
    out += line + "\n";
  }
  return out;
}

// A run's config.yaml as an earlier version wrote it, before the key table (the reference design
// with row-wise Adam and a shared user tower), still loads, and is written back byte for byte but
// for the keys added since, which it gets at their defaults.
TEST(Config, RunConfigOfEarlierMainLoadsAndWritesBackTheSame) {
  const std::filesystem::path fixture = testing::source_dir() / "tests" / "fixtures" / "config_written_before_the_key_table.yaml";
  Config c = load_config(fixture);
  EXPECT_EQ(c.training.embedding_optimizer, EmbeddingOptimizerKind::kLazyAdam);
  EXPECT_TRUE(c.training.shared_user_tower);
  EXPECT_TRUE(c.training.init_from.empty());
  EXPECT_EQ(without_later_keys(config_to_yaml(c)), testing::read_file(fixture));
}

}  // namespace
}  // namespace twotower
