// The two-tower model: a user tower and an item tower that each map ids (and item features) to
// L2-normalized vectors. The model only encodes; losses and ranking live outside it.
//
// Submodule names are the checkpoint keys: user_tower.{embedding,mlp}, item_tower.{embedding,
// category_embedding,brand_embedding,text_projection,mlp}; mlp is a Sequential of
// [Linear, ReLU, Dropout] per hidden layer then the output Linear (indices 0, 1, 2, ...), as in
// the reference system. The ReLU's slot holds ReluDropout (model/counter_dropout.h: the ReLU and
// a counter-based dropout in one pass, the same distribution with a cheaper mask) and the
// Dropout's slot an Identity, so the indices and keys stay the reference's. The Linear layers are
// twotower::Linear (model/linear.h: torch::nn::Linear's parameters and initialization, its CPU
// products run by oneDNN).
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "twotower/config/config.h"
#include "twotower/model/linear.h"
#include "twotower/model/sequence_encoder.h"

namespace twotower {

/// Vocabulary sizes and text width, taken from the prepared data.
struct ModelSizes {
  int64_t num_users = 0;
  int64_t num_items = 0;
  int64_t num_categories = 1;  // category vocabulary, index 0 = unknown
  int64_t num_brands = 1;
  int64_t text_dim = 768;
};

/// The hidden layers (Linear, ReLU, Dropout each; the last one's ReLU and Dropout only when
/// `last_activation`) and, when `output_layer`, a final Linear to `out`; the Linears' products
/// run as `matmul` says.
torch::nn::Sequential make_mlp(int64_t in, const std::vector<int64_t>& hidden, double dropout, int64_t out,
                               bool last_activation, bool output_layer, const MatmulOptions& matmul = {});

/// Number of elements of all parameters of `module` (and its children).
int64_t count_parameters(const torch::nn::Module& module);

struct UserTowerImpl : torch::nn::Module {
  UserTowerImpl(const ModelConfig& config, int64_t num_users, const MatmulOptions& matmul = {});
  /// The layers above the embedding: [B, embedding_dim] inputs -> [B, D] unit rows.
  torch::Tensor encode(const torch::Tensor& inputs);

  torch::nn::Embedding embedding{nullptr};  // null unless use_user_id
  torch::nn::Sequential mlp{nullptr};
  SequenceEncoder sequence{nullptr};        // null unless user_history_pooling: attention
};
TORCH_MODULE(UserTower);

struct ItemTowerImpl : torch::nn::Module {
  ItemTowerImpl(const ModelConfig& config, const ModelSizes& sizes, const MatmulOptions& matmul = {});
  /// Inputs the config does not use may be undefined tensors; undefined `items` read as zero
  /// id embeddings (one per row of the other inputs), the input of an item the model has no id for. In training mode each item id
  /// embedding is zeroed with probability item_id_dropout (no rescaling: a zero id embedding is
  /// what an item unseen in training looks like to the layers above).
  /// @param items       [B] int64 item ids
  /// @param categories  [B] int64 category ids, or [B, L] int64 category paths padded with -1
  ///                    (the category input is then the mean over the path's levels)
  /// @param brands      [B] int64 brand ids
  /// @param text        [B, text_dim] float32
  /// @return            [B, D] float32, rows of unit L2 norm
  torch::Tensor forward(const torch::Tensor& items, const torch::Tensor& categories, const torch::Tensor& brands,
                        const torch::Tensor& text);
  /// forward = tail(head(...)). head: the inputs through the first Linear, the part that depends
  /// on the item alone (no dropout yet; item_id_dropout aside) and that rows of the same item
  /// share; tail: the remaining layers and the L2 norm.
  torch::Tensor head(const torch::Tensor& items, const torch::Tensor& categories, const torch::Tensor& brands,
                     const torch::Tensor& text);
  torch::Tensor tail(const torch::Tensor& x);

  torch::nn::Embedding embedding{nullptr};           // null unless use_item_id
  torch::nn::Embedding category_embedding{nullptr};  // null unless use_category
  torch::nn::Embedding brand_embedding{nullptr};     // null unless use_brand
  Linear text_projection{nullptr};        // null unless use_text
  torch::nn::Sequential mlp{nullptr};
  double item_id_dropout = 0.0;
};
TORCH_MODULE(ItemTower);

/// Per-item inputs that are data, not parameters (kept out of the checkpoint).
struct ItemFeatureTable {
  torch::Tensor category;  // [num_items] int64, or [num_items, L] int64 paths padded with -1
                           //   (pool_categories)
  torch::Tensor brand;     // [num_items] int64
  torch::Tensor text;      // [num_items, text_dim] float32 (undefined when the model uses no text)
};

struct TwoTowerModelImpl : torch::nn::Module {
  /// `matmul`: how the towers' Linear layers multiply on the CPU (training.cpu_matmul and
  /// training.matmul_precision; model/linear.h).
  TwoTowerModelImpl(const ModelConfig& config, const ModelSizes& sizes, const MatmulOptions& matmul = {});

  /// Sets the per-item features; sizes must match (num_items rows, text_dim columns).
  void set_item_features(ItemFeatureTable features);
  /// Moves parameters and the item feature table to `device`.
  void move_to(const torch::Device& device);

  /// Sets each user's recent items for model.user_history: [num_users, N] int64, -1 padded.
  void set_user_history(torch::Tensor history);
  /// Adds a trained logit scale, stored as its log ("log_logit_scale", a checkpoint key).
  void add_logit_scale(double initial);
  /// The logit scale: exp(log_logit_scale) when added, else `fixed`. 0-dim float32.
  torch::Tensor logit_scale(double fixed);

  /// @param users    [B] int64 user ids  @return [B, D] float32 unit rows
  /// @param exclude  [B] int64 items left out of each user's pooled history (the training
  ///                 target), or undefined
  /// @param history  [B, N] int64 items (-1 padded) to pool for each row instead of the user's
  ///                 stored recent items (model.user_history_mode: before), or undefined
  torch::Tensor user_embeddings(const torch::Tensor& users, const torch::Tensor& exclude = {},
                                const torch::Tensor& history = {});
  /// The user vectors after many prefixes of S histories in one pass (the training of
  /// model.user_history_pooling: attention, where one history gives a training pair per item).
  /// @param users    [S] int64 user ids
  /// @param history  [S, L] int64 items, oldest first, -1 padded after, L <= model.user_history
  /// @param where    [R] int64 flat indices s * (L + 1) + p: prefix p (its first p items) of
  ///                 history s
  /// @return         [R, D] float32 unit rows; in eval mode row r equals
  ///                 user_embeddings(users[s], {}, the first p items of history[s])
  torch::Tensor prefix_user_embeddings(const torch::Tensor& users, const torch::Tensor& history,
                                       const torch::Tensor& where);
  /// The user tower for users without an id (served requests of new users): a zero id embedding
  /// (what model.user_id_dropout trains and zero_unseen_ids gives users never trained) plus, when
  /// the model pools histories (model.user_history > 0), the pooled `history` (its mean item
  /// embedding, or the attention encoder's output after its last item).
  /// @param history  [B, N] int64 items (-1 padded; a row of -1 pools nothing); ignored when the
  ///                 model pools no history
  /// @return         [B, D] float32 unit rows (a zero row where the tower maps the input to zero)
  torch::Tensor new_user_embeddings(const torch::Tensor& history);
  /// @param items  [B] int64 item ids  @return [B, D] float32 unit rows
  /// On the CPU an item repeated in `items` runs the tower's head (inputs through the first
  /// Linear, 82% of the reference item tower's multiply-adds) once; its rows then go through the
  /// tail (and dropout) separately. Equal to the plain computation up to float summation order in
  /// the gradient; off in training with item_id_dropout, whose draw is per row, and on a device,
  /// where finding the repeats reads their count back (a wait for the device on every call).
  torch::Tensor item_embeddings(const torch::Tensor& items);
  /// The item tower for items without an id (new catalogue items): a zero id embedding (what
  /// model.item_id_dropout trains) and the features the config uses (an ids-only model gives every
  /// new item the same vector); `text` may be undefined when the model reads no text. Throws
  /// naming the feature when an index is outside its vocabulary or the text width differs.
  /// @param categories  [B] int64 category ids (0 = unknown)
  /// @param brands      [B] int64 brand ids (0 = unknown)
  /// @param text        [B, text_dim] float32
  /// @return            [B, D] float32 unit rows
  torch::Tensor new_item_embeddings(const torch::Tensor& categories, const torch::Tensor& brands,
                                    const torch::Tensor& text);
  /// Cosine scores of every (user, item): [U] x [I] ids -> [U, I] float32.
  torch::Tensor compute_similarity(const torch::Tensor& users, const torch::Tensor& items);
  /// Cosine score of each (users[b], items[b]) pair: [B], [B] -> [B] float32.
  torch::Tensor pair_scores(const torch::Tensor& users, const torch::Tensor& items);

  /// For the id dropouts: zeroes the id embeddings of users (items) not in `seen_users`
  /// ([num_users] bool) / `seen_items` ([num_items] bool) when user_id_dropout (item_id_dropout)
  /// is on, so that ids never trained read as the zero input the towers learned for them
  /// (zero rows get no gradient and stay zero).
  void zero_unseen_ids(const torch::Tensor& seen_users, const torch::Tensor& seen_items);

  /// Whether the towers check the user and item ids they are given (model.out_of_range_ids; on by
  /// default). A device run turns the checks off for training batches whose columns passed
  /// ids_in_range: on a device each check reads a flag back, a wait for the device per batch.
  void set_id_checks(bool on) { id_checks_ = on; }
  bool id_checks() const { return id_checks_; }
  /// Whether every user id, item id and history item (-1 padding aside) of these columns lies in
  /// the model's vocabularies; undefined tensors count as in range.
  bool ids_in_range(const torch::Tensor& users, const torch::Tensor& items, const torch::Tensor& history) const;

  /// Id embeddings (user, item, category, brand), for their own learning rate.
  std::vector<torch::Tensor> embedding_parameters();
  /// Every other parameter (the MLPs and the text projection).
  std::vector<torch::Tensor> dense_parameters();

  /// Ids clamped so far under out_of_range_ids: clamp.
  int64_t clamped_user_ids() const { return clamped_users_.load(); }
  int64_t clamped_item_ids() const { return clamped_items_.load(); }
  const ModelSizes& sizes() const { return sizes_; }
  const ModelConfig& config() const { return config_; }
  /// "user tower 12,055,936 parameters (embedding 11,973,504), item tower ...".
  std::string describe_parameters();

  UserTower user_tower{nullptr};
  ItemTower item_tower{nullptr};

 private:
  // A history table [B, N] checked against the item vocabulary, on the model's device.
  torch::Tensor checked_history(const torch::Tensor& history);
  // The user id embeddings of `ids` [B] (user_id_dropout applied in training), or zeros [B, D]
  // without use_user_id.
  torch::Tensor user_id_input(const torch::Tensor& ids);
  // The pooled history of each row of `history` [B, N] (-1 padded), leaving out items equal to
  // exclude[b] (mean pooling only): [B, D].
  torch::Tensor pooled_history(const torch::Tensor& history, const torch::Tensor& exclude);
  // The attention encoder's output after the last item of each row of `items` [B, N] (items
  // first, -1 padding after them), `lengths` [B] items per row: [B, D].
  torch::Tensor read_after_last(const torch::Tensor& items, const torch::Tensor& lengths);
  // A parameter of the model: its device and dtype are the model's.
  torch::Tensor any_parameter();
  // Checks ids against [0, size): throws naming the first bad id, or clamps and counts them.
  torch::Tensor checked(const torch::Tensor& ids, int64_t size, const char* what, std::atomic<int64_t>& clamped);

  ModelConfig config_;
  ModelSizes sizes_;
  ItemFeatureTable features_;
  torch::Tensor history_;          // [num_users, N] int64, -1 padded; undefined when off
  bool id_checks_ = true;
  torch::Tensor log_logit_scale_;  // 0-dim parameter, undefined unless add_logit_scale
  std::atomic<int64_t> clamped_users_{0};
  std::atomic<int64_t> clamped_items_{0};
};
TORCH_MODULE(TwoTowerModel);

}  // namespace twotower
