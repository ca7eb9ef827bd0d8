// Fixtures shared by the trainer tests: a tiny learnable data set, generated data, a small config.
#pragma once

#include <cmath>
#include <filesystem>

#include "twotower/common/error.h"
#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/data/generator.h"
#include "twotower/data/prepare.h"

namespace twotower::testing {

// 24 users in two groups; group g interacts with items of the same parity (8 items each),
// 6 training, 1 valid, 1 test interaction per user: a structure a model can learn.
inline Dataset grouped_dataset() {
  Dataset d;
  const int users = 24, items = 16;
  for (int u = 0; u < users; ++u) d.user_ids.push_back(str_cat("u", u));
  for (int i = 0; i < items; ++i) d.item_ids.push_back(str_cat("i", i));
  auto& in = d.interactions;
  for (int u = 0; u < users; ++u) {
    for (int k = 0; k < 8; ++k) {
      in.user.push_back(u);
      in.item.push_back(2 * ((u + 3 * k) % 8) + u % 2);
      in.rating.push_back(NAN);
      in.timestamp.push_back(k);
      in.split.push_back(k < 6 ? Split::kTrain : k == 6 ? Split::kValid : Split::kTest);
    }
  }
  d.items.resize(items);
  d.items.category_vocab = {"<unknown>", "even", "odd"};
  for (int i = 0; i < items; ++i) d.items.category_idx[static_cast<size_t>(i)] = 1 + i % 2;
  d.splits = {{"method", "leave_last_out"}};
  return d;
}

// grouped_dataset() saved as a prepared folder `dir`/data; returns that folder.
inline std::filesystem::path save_grouped_data(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "data");
  save_dataset(grouped_dataset(), dir / "data");
  return dir / "data";
}

// Generated reviews with planted clusters (generate_dataset), prepared into dir / "data".
inline void prepare_generated(const std::filesystem::path& dir, int64_t users, int64_t items, int64_t reviews) {
  GeneratorOptions g;
  g.users = users;
  g.items = items;
  g.reviews = reviews;
  g.review_words = 0;
  GeneratedFiles files = generate_dataset(g, dir / "raw");
  PrepareOptions p;
  p.reviews = files.reviews;
  p.meta = files.meta;
  p.out = dir / "data";
  prepare(p);
}

inline Config tiny_config(const std::filesystem::path& data, const std::filesystem::path& out) {
  Config c;
  c.data.data_path = data.string();
  c.data.emb_dim = 4;
  c.data.neg_ratio = 2;
  c.data.seed = 5;
  c.model.embedding_dim = 8;
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {16};
  c.training.batch_size = 16;
  c.training.num_epochs = 2;
  c.training.learning_rate = 0.01;
  c.training.scheduler = SchedulerKind::kStep;
  c.training.gamma = 0.5;
  c.training.output_dir = out.string();
  c.training.threads = 1;
  c.training.device = DeviceKind::kCpu;
  return c;
}

// Attention pooling over up to `history` items before each pair (configs/best.yaml's user tower);
// it trains on batches of histories, with a loss of softmax, mixed or full.
inline void use_attention_pooling(Config& c, int64_t history) {
  c.model.user_history = history;
  c.model.user_history_mode = UserHistoryMode::kBefore;
  c.model.user_history_pooling = HistoryPooling::kAttention;
}

}  // namespace twotower::testing
