#include "twotower/model/two_tower.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "twotower/common/error.h"
#include "twotower/common/format.h"
#include "twotower/model/counter_dropout.h"
#include "twotower/model/history_rows.h"
#include "twotower/model/l2_normalize.h"
#include "twotower/model/linear.h"

namespace twotower {
namespace {

torch::nn::Embedding make_embedding(int64_t rows, int64_t dim, double init_std) {
  torch::nn::Embedding e(torch::nn::EmbeddingOptions(rows, dim));
  torch::NoGradGuard no_grad;
  e->weight.normal_(0.0, init_std);
  return e;
}

int64_t numel_of(const torch::nn::Embedding& e) { return e ? e->weight.numel() : 0; }

// Throws "<prefix><what>: got index i, expected [0, size)" for the first index outside the range.
void check_index_range(const torch::Tensor& ids, int64_t size, const char* prefix, const char* what) {
  if (!ids.defined() || ids.numel() == 0) return;
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  if (lo < 0 || hi >= size) fail(prefix, what, ": got index ", lo < 0 ? lo : hi, ", expected [0, ", size, ")");
}

// Mean of the embeddings of the ids >= 0 of each row of `ids` ([B, L], -1 padded), leaving out
// ids equal to exclude[b] when given; a row with none gives zeros. -> [B, D]
torch::Tensor masked_mean(torch::nn::Embedding e, const torch::Tensor& ids, const torch::Tensor& exclude) {
  torch::Tensor keep = ids >= 0;
  if (exclude.defined()) keep = keep.logical_and(ids != exclude.unsqueeze(1));
  torch::Tensor rows = e->forward(ids.clamp_min(0)) * keep.unsqueeze(-1).to(torch::kFloat);
  return rows.sum(1) / keep.sum(1, true).clamp_min(1).to(torch::kFloat);
}

}  // namespace

torch::nn::Sequential make_mlp(int64_t in, const std::vector<int64_t>& hidden, double dropout, int64_t out,
                               bool last_activation, bool output_layer, const MatmulOptions& matmul) {
  torch::nn::Sequential seq;
  for (size_t k = 0; k < hidden.size(); ++k) {
    seq->push_back(Linear(in, hidden[k], matmul));
    if (last_activation || k + 1 < hidden.size()) {
      // ReLU and dropout in one pass; the Identity keeps the Dropout's index (checkpoint keys).
      seq->push_back(ReluDropout(dropout));
      seq->push_back(torch::nn::Identity());
    }
    in = hidden[k];
  }
  if (output_layer) seq->push_back(Linear(in, out, matmul));
  return seq;
}

int64_t count_parameters(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

UserTowerImpl::UserTowerImpl(const ModelConfig& c, int64_t num_users, const MatmulOptions& matmul) {
  if (c.use_user_id) embedding = register_module("embedding", make_embedding(num_users, c.embedding_dim, c.embedding_init_std));
  mlp = register_module("mlp", make_mlp(c.embedding_dim, c.user_mlp_hidden, c.dropout, c.embedding_dim,
                                        c.last_layer_activation, c.output_layer, matmul));
  if (c.user_history_pooling == HistoryPooling::kAttention) sequence = register_module("sequence", SequenceEncoder(c, matmul));
}

torch::Tensor UserTowerImpl::encode(const torch::Tensor& inputs) {
  torch::Tensor x = inputs;
  if (!mlp->is_empty()) x = mlp->forward(x);
  return l2_normalize(x);
}

ItemTowerImpl::ItemTowerImpl(const ModelConfig& c, const ModelSizes& s, const MatmulOptions& matmul)
    : item_id_dropout(c.item_id_dropout) {
  const int64_t d = c.embedding_dim;
  int64_t inputs = 0;
  if (c.use_item_id) {
    embedding = register_module("embedding", make_embedding(s.num_items, d, c.embedding_init_std));
    ++inputs;
  }
  if (c.use_category) {
    category_embedding = register_module("category_embedding", make_embedding(s.num_categories, d, c.embedding_init_std));
    ++inputs;
  }
  if (c.use_brand) {
    brand_embedding = register_module("brand_embedding", make_embedding(s.num_brands, d, c.embedding_init_std));
    ++inputs;
  }
  if (c.use_text) {
    text_projection = register_module("text_projection", Linear(s.text_dim, d, matmul));
    ++inputs;
  }
  mlp = register_module("mlp", make_mlp(inputs * d, c.item_mlp_hidden, c.dropout, d, c.last_layer_activation,
                                        c.output_layer, matmul));
}

torch::Tensor ItemTowerImpl::forward(const torch::Tensor& items, const torch::Tensor& categories,
                                     const torch::Tensor& brands, const torch::Tensor& text) {
  return tail(head(items, categories, brands, text));
}

torch::Tensor ItemTowerImpl::head(const torch::Tensor& items, const torch::Tensor& categories,
                                  const torch::Tensor& brands, const torch::Tensor& text) {
  std::vector<torch::Tensor> parts;
  if (embedding && !items.defined()) {
    const torch::Tensor& any = categories.defined() ? categories : brands.defined() ? brands : text;
    if (!any.defined()) fail("item tower: got no input, expected an id or a feature per item");
    parts.push_back(torch::zeros({any.size(0), embedding->weight.size(1)}, embedding->weight.options()));
  } else if (embedding) {
    torch::Tensor id = embedding(items);
    if (is_training() && item_id_dropout > 0) {
      id = id * torch::bernoulli(torch::full({items.size(0), 1}, 1.0 - item_id_dropout, id.options()));
    }
    parts.push_back(id);
  }
  if (category_embedding) {
    parts.push_back(categories.dim() == 2 ? masked_mean(category_embedding, categories, {})
                                          : category_embedding(categories));
  }
  if (brand_embedding) parts.push_back(brand_embedding(brands));
  if (text_projection) parts.push_back(text_projection(text));
  torch::Tensor x = parts.size() == 1 ? parts[0] : torch::cat(parts, -1);
  return mlp->is_empty() ? x : mlp->begin()->forward(x);
}

torch::Tensor ItemTowerImpl::tail(const torch::Tensor& head_output) {
  torch::Tensor x = head_output;
  if (!mlp->is_empty()) {
    for (auto it = mlp->begin() + 1; it != mlp->end(); ++it) x = it->forward(x);
  }
  return l2_normalize(x);
}

TwoTowerModelImpl::TwoTowerModelImpl(const ModelConfig& config, const ModelSizes& sizes, const MatmulOptions& matmul)
    : config_(config), sizes_(sizes) {
  if (sizes.num_users < 1 || sizes.num_items < 1) {
    fail("model: got ", sizes.num_users, " users and ", sizes.num_items, " items, expected at least one of each");
  }
  user_tower = register_module("user_tower", UserTower(config, sizes.num_users, matmul));
  item_tower = register_module("item_tower", ItemTower(config, sizes, matmul));
  // Unknown features (index 0) until set_item_features gives the real table.
  features_.category = torch::zeros({sizes.num_items}, torch::kLong);
  features_.brand = torch::zeros({sizes.num_items}, torch::kLong);
  // A broadcast view of one zero row: no memory per item.
  if (config.use_text) features_.text = torch::zeros({1, sizes.text_dim}).expand({sizes.num_items, sizes.text_dim});
}

void TwoTowerModelImpl::set_item_features(ItemFeatureTable f) {
  auto check_rows = [&](const torch::Tensor& t, const char* what) {
    if (t.defined() && t.size(0) != sizes_.num_items) {
      fail("item ", what, ": got ", t.size(0), " rows, expected one per item (", sizes_.num_items, ")");
    }
  };
  check_rows(f.category, "categories");
  check_rows(f.brand, "brands");
  if (config_.use_text) {
    if (!f.text.defined()) fail("item text: got none, expected [", sizes_.num_items, ", ", sizes_.text_dim, "]");
    check_rows(f.text, "text embeddings");
    if (f.text.dim() != 2 || f.text.size(1) != sizes_.text_dim) {
      fail("item text embeddings: got width ", f.text.dim() == 2 ? f.text.size(1) : -1, ", expected ",
           sizes_.text_dim);
    }
  }
  auto check_range = [](const torch::Tensor& ids, int64_t size, const char* what) {
    check_index_range(ids, size, "item ", what);
  };
  if (f.category.dim() == 1) check_range(f.category, sizes_.num_categories, "categories");
  check_range(f.brand, sizes_.num_brands, "brands");
  torch::Device device = any_parameter().device();
  if (f.category.defined() && f.category.dim() == 2) {
    // Path padding is -1; the range check above saw it, so check the rest here.
    check_range(f.category.clamp_min(0), sizes_.num_categories, "categories");
  }
  features_.category = f.category.to(device, torch::kLong);
  features_.brand = f.brand.to(device, torch::kLong);
  features_.text = config_.use_text ? f.text.to(device, torch::kFloat) : torch::Tensor();
}

void TwoTowerModelImpl::move_to(const torch::Device& device) {
  to(device);
  features_.category = features_.category.to(device);
  features_.brand = features_.brand.to(device);
  if (features_.text.defined()) features_.text = features_.text.to(device);
  if (history_.defined()) history_ = history_.to(device);
}

void TwoTowerModelImpl::set_user_history(torch::Tensor history) {
  if (history.dim() != 2 || history.size(0) != sizes_.num_users) {
    fail("user history: got ", history.dim() == 2 ? history.size(0) : -1, " rows, expected one per user (",
         sizes_.num_users, ")");
  }
  if (!item_tower->embedding) fail("user history: model.use_item_id is false, expected true");
  if (history.numel() > 0 && history.max().item<int64_t>() >= sizes_.num_items) {
    fail("user history: got item ", history.max().item<int64_t>(), ", expected [0, ", sizes_.num_items, ")");
  }
  history_ = history.to(any_parameter().device(), torch::kLong);
}

void TwoTowerModelImpl::add_logit_scale(double initial) {
  log_logit_scale_ = register_parameter("log_logit_scale", torch::tensor(std::log(initial), torch::kFloat));
}

torch::Tensor TwoTowerModelImpl::logit_scale(double fixed) {
  if (log_logit_scale_.defined()) return log_logit_scale_.exp();
  // Filled on the parameters' device: a scalar copied from the host would wait for the device.
  return torch::full({}, fixed, any_parameter().options().requires_grad(false));
}

bool TwoTowerModelImpl::ids_in_range(const torch::Tensor& users, const torch::Tensor& items,
                                     const torch::Tensor& history) const {
  const auto within = [](const torch::Tensor& ids, int64_t lo, int64_t size) {
    return !ids.defined() || ids.numel() == 0 || (ids.min().item<int64_t>() >= lo && ids.max().item<int64_t>() < size);
  };
  return within(users, 0, sizes_.num_users) && within(items, 0, sizes_.num_items) &&
         within(history, -1, sizes_.num_items);
}

torch::Tensor TwoTowerModelImpl::checked(const torch::Tensor& ids, int64_t size, const char* what,
                                         std::atomic<int64_t>& clamped) {
  if (!id_checks_ || ids.numel() == 0) return ids;
  torch::Tensor bad = (ids < 0).logical_or(ids >= size);
  if (config_.out_of_range_ids == IdPolicy::kError) {
    if (bad.any().item<bool>()) {
      int64_t id = ids.masked_select(bad)[0].item<int64_t>();
      fail(what, " id ", id, " is outside the vocabulary of ", size, " ", what,
           "s (set model.out_of_range_ids: clamp to clamp and count such ids)");
    }
    return ids;
  }
  int64_t n = bad.sum().item<int64_t>();
  if (n == 0) return ids;
  clamped += n;
  return ids.clamp(0, size - 1);
}

torch::Tensor TwoTowerModelImpl::any_parameter() {
  return user_tower->embedding ? user_tower->embedding->weight : item_tower->parameters().front();
}

torch::Tensor TwoTowerModelImpl::user_id_input(const torch::Tensor& ids) {
  if (!user_tower->embedding) {
    torch::Tensor p = any_parameter();
    return torch::zeros({ids.size(0), config_.embedding_dim}, p.options().requires_grad(false));
  }
  torch::Tensor x = user_tower->embedding(ids);
  if (is_training() && config_.user_id_dropout > 0) {
    x = x * torch::bernoulli(torch::full({ids.size(0), 1}, 1.0 - config_.user_id_dropout, x.options()));
  }
  return x;
}

torch::Tensor TwoTowerModelImpl::pooled_history(const torch::Tensor& history, const torch::Tensor& exclude) {
  if (!item_tower->embedding) fail("user history: model.use_item_id is false, expected true");
  if (config_.user_history_pooling == HistoryPooling::kMean) return masked_mean(item_tower->embedding, history, exclude);
  if (exclude.defined()) {
    fail("attention pooling: got items to leave out of the history, expected user_history_mode: before");
  }
  // The encoder reads each history's items first: padding anywhere moves to the end, in order.
  torch::Tensor order = (history < 0).to(torch::kInt).argsort(/*stable=*/true, /*dim=*/1, /*descending=*/false);
  torch::Tensor items = history.gather(1, order);
  return read_after_last(items, (items >= 0).sum(1));
}

torch::Tensor TwoTowerModelImpl::read_after_last(const torch::Tensor& items, const torch::Tensor& lengths) {
  // Causal attention reads position `length` from positions 0..length alone, so rows sorted by
  // length are encoded in groups, each cut to its longest history: padding costs nothing.
  constexpr int64_t kGroupRows = 256;
  const int64_t n = items.size(0), d = config_.embedding_dim;
  const torch::Tensor by_length = lengths.argsort();
  const torch::Tensor sorted = lengths.index_select(0, by_length).cpu();
  const int64_t* length = sorted.data_ptr<int64_t>();
  std::vector<torch::Tensor> groups;  // in length order
  for (int64_t s = 0; s < n; s += kGroupRows) {
    const int64_t e = std::min(n, s + kGroupRows);
    const torch::Tensor rows = by_length.slice(0, s, e);
    const torch::Tensor group = items.index_select(0, rows).slice(1, 0, length[e - 1]);
    const torch::Tensor encoded = user_tower->sequence->prefixes(history_rows(item_tower->embedding, group));  // [g, width + 1, D]
    const torch::Tensor at = lengths.index_select(0, rows).view({-1, 1, 1}).expand({-1, 1, d});
    groups.push_back(encoded.gather(1, at).squeeze(1));
  }
  if (groups.empty()) return torch::empty({0, d}, any_parameter().options().requires_grad(false));
  return torch::cat(groups).index_select(0, by_length.argsort());  // back to the rows' order
}

torch::Tensor TwoTowerModelImpl::user_embeddings(const torch::Tensor& users, const torch::Tensor& exclude,
                                                 const torch::Tensor& history) {
  torch::Tensor ids = checked(users, sizes_.num_users, "user", clamped_users_);
  torch::Tensor x = user_id_input(ids);
  if (history.defined()) {
    if (history.dim() != 2 || history.size(0) != ids.size(0)) {
      fail("user history: got ", history.dim() == 2 ? history.size(0) : -1, " rows, expected one per user (",
           ids.size(0), ")");
    }
    x = x + pooled_history(history, exclude);
  } else if (history_.defined()) {
    x = x + pooled_history(history_.index_select(0, ids), exclude);
  }
  return user_tower->encode(x);
}

torch::Tensor TwoTowerModelImpl::prefix_user_embeddings(const torch::Tensor& users, const torch::Tensor& history,
                                                        const torch::Tensor& where) {
  torch::Tensor ids = checked(users, sizes_.num_users, "user", clamped_users_);
  if (history.dim() != 2 || history.size(0) != ids.size(0) || config_.user_history < 1) {
    fail("prefix user embeddings: got histories of shape ", history.sizes(), " for ", ids.size(0),
         " users with model.user_history ", config_.user_history, ", expected one row per user and user_history >= 1");
  }
  const int64_t s = history.size(0), l = history.size(1), d = config_.embedding_dim;
  torch::Tensor pooled;  // [S, L + 1, D]
  if (config_.user_history_pooling == HistoryPooling::kAttention) {
    pooled = user_tower->sequence->prefixes(history_rows(item_tower->embedding, history));
  } else {
    // Running means: prefix p averages the first p items (none: zeros).
    torch::Tensor sums = history_rows(item_tower->embedding, history).cumsum(1);
    torch::Tensor counts = (history >= 0).cumsum(1).clamp_min(1).unsqueeze(-1).to(sums.dtype());
    pooled = torch::cat({torch::zeros({s, 1, d}, sums.options()), sums / counts}, 1);
  }
  torch::Tensor rows = pooled.reshape({s * (l + 1), d}).index_select(0, where);
  torch::Tensor owner = torch::div(where, l + 1, "floor");
  return user_tower->encode(rows + user_id_input(ids.index_select(0, owner)));
}

torch::Tensor TwoTowerModelImpl::new_user_embeddings(const torch::Tensor& history) {
  torch::Tensor x = torch::zeros({history.size(0), config_.embedding_dim}, any_parameter().options().requires_grad(false));
  if (config_.user_history > 0) x = x + pooled_history(checked_history(history), {});
  return user_tower->encode(x);
}

torch::Tensor TwoTowerModelImpl::checked_history(const torch::Tensor& history) {
  if (history.dim() != 2) fail("user history: got ", history.dim(), " dimensions, expected [B, N]");
  if (history.numel() > 0 && history.max().item<int64_t>() >= sizes_.num_items) {
    fail("user history: got item ", history.max().item<int64_t>(), ", expected [0, ", sizes_.num_items, ")");
  }
  return history.to(any_parameter().device(), torch::kLong);
}

torch::Tensor TwoTowerModelImpl::new_item_embeddings(const torch::Tensor& categories, const torch::Tensor& brands,
                                                     const torch::Tensor& text) {
  check_index_range(categories, sizes_.num_categories, "new item ", "category");
  check_index_range(brands, sizes_.num_brands, "new item ", "brand");
  if (config_.use_text && (!text.defined() || text.dim() != 2 || text.size(1) != sizes_.text_dim)) {
    fail("new item text: got width ", text.defined() && text.dim() == 2 ? text.size(1) : -1, ", expected ",
         sizes_.text_dim);
  }
  if (!categories.defined() || !brands.defined() || categories.size(0) != brands.size(0)) {
    fail("new items: got categories and brands of ", categories.defined() ? categories.size(0) : -1, " and ",
         brands.defined() ? brands.size(0) : -1, " rows, expected one of each per item");
  }
  // The tower reads only the inputs its config uses; the categories give the batch size always.
  return item_tower->forward({}, categories, brands, config_.use_text ? text : torch::Tensor());
}

torch::Tensor TwoTowerModelImpl::item_embeddings(const torch::Tensor& items) {
  torch::Tensor ids = checked(items, sizes_.num_items, "item", clamped_items_);
  torch::Tensor rows, unique;
  if (ids.device().is_cpu() && ids.dim() == 1 && ids.numel() > 1 && !(is_training() && config_.item_id_dropout > 0)) {
    torch::Tensor inverse;
    std::tie(unique, inverse) = torch::_unique(ids, /*sorted=*/false, /*return_inverse=*/true);
    if (unique.numel() < ids.numel()) {
      rows = inverse;
      ids = unique;
    }
  }
  torch::Tensor cat = config_.use_category ? features_.category.index_select(0, ids) : torch::Tensor();
  torch::Tensor brand = config_.use_brand ? features_.brand.index_select(0, ids) : torch::Tensor();
  torch::Tensor text = config_.use_text ? features_.text.index_select(0, ids) : torch::Tensor();
  torch::Tensor head = item_tower->head(ids, cat, brand, text);
  return item_tower->tail(rows.defined() ? head.index_select(0, rows) : head);
}

torch::Tensor TwoTowerModelImpl::compute_similarity(const torch::Tensor& users, const torch::Tensor& items) {
  return torch::matmul(user_embeddings(users), item_embeddings(items).t());
}

torch::Tensor TwoTowerModelImpl::pair_scores(const torch::Tensor& users, const torch::Tensor& items) {
  return (user_embeddings(users) * item_embeddings(items)).sum(-1);
}

void TwoTowerModelImpl::zero_unseen_ids(const torch::Tensor& seen_users, const torch::Tensor& seen_items) {
  torch::NoGradGuard no_grad;
  if (config_.user_id_dropout > 0 && user_tower->embedding) {
    torch::Tensor& w = user_tower->embedding->weight;
    w.masked_fill_(seen_users.to(w.device()).logical_not().unsqueeze(1), 0.0);
  }
  if (config_.item_id_dropout > 0 && item_tower->embedding) {
    torch::Tensor& w = item_tower->embedding->weight;
    w.masked_fill_(seen_items.to(w.device()).logical_not().unsqueeze(1), 0.0);
  }
}

std::vector<torch::Tensor> TwoTowerModelImpl::embedding_parameters() {
  std::vector<torch::Tensor> out;
  for (const auto& e : {user_tower->embedding, item_tower->embedding, item_tower->category_embedding, item_tower->brand_embedding}) {
    if (e) out.push_back(e->weight);
  }
  return out;
}

std::vector<torch::Tensor> TwoTowerModelImpl::dense_parameters() {
  std::vector<torch::Tensor> emb = embedding_parameters(), out;
  for (const auto& p : parameters()) {
    bool is_embedding = false;
    for (const auto& e : emb) is_embedding = is_embedding || p.is_same(e);
    if (!is_embedding) out.push_back(p);
  }
  return out;
}

std::string TwoTowerModelImpl::describe_parameters() {
  int64_t user_emb = numel_of(user_tower->embedding);
  int64_t item_emb = numel_of(item_tower->embedding) + numel_of(item_tower->category_embedding) +
                     numel_of(item_tower->brand_embedding);
  int64_t user_total = count_parameters(*user_tower), item_total = count_parameters(*item_tower);
  std::ostringstream out;
  out << "user tower " << thousands(user_total) << " parameters (embeddings " << thousands(user_emb) << ", mlp "
      << thousands(user_total - user_emb) << "); item tower " << thousands(item_total) << " parameters (embeddings "
      << thousands(item_emb) << ", text projection and mlp " << thousands(item_total - item_emb) << "); total "
      << thousands(user_total + item_total);
  return out.str();
}

}  // namespace twotower
