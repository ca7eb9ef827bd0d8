#include "twotower/data/item_features.h"

#include <unordered_map>

#include "twotower/data/text_clean.h"

namespace twotower {
namespace {

constexpr const char* kPathSeparator = " > ";

class Vocabulary {
 public:
  explicit Vocabulary(std::vector<std::string>& words) : words_(words) {
    for (size_t i = 0; i < words_.size(); ++i) index_.emplace(words_[i], static_cast<int32_t>(i));
  }
  int32_t add(const std::string& word) {
    auto [it, inserted] = index_.emplace(word, static_cast<int32_t>(words_.size()));
    if (inserted) words_.push_back(word);
    return it->second;
  }

 private:
  std::vector<std::string>& words_;
  std::unordered_map<std::string, int32_t> index_;
};

}  // namespace

std::vector<std::string> clean_category_path(const MetaRecord& record) {
  std::vector<std::string> path;
  for (const auto& level : record.categories) {
    std::string c = clean_text(level);
    if (c.empty() || (!path.empty() && path.back() == c)) continue;
    path.push_back(std::move(c));
  }
  if (path.empty()) {
    std::string main = clean_text(record.main_category);
    if (!main.empty()) path.push_back(std::move(main));
  }
  return path;
}

CatalogueCounts build_items(const std::vector<std::string>& reviewed_item_ids, const Metadata* meta,
                            bool reviewed_only, Dataset& data) {
  CatalogueCounts counts;
  counts.reviewed = static_cast<int64_t>(reviewed_item_ids.size());
  data.item_ids = reviewed_item_ids;
  // record_of[i]: the metadata record of item i, or -1.
  std::vector<int64_t> record_of(reviewed_item_ids.size(), -1);
  if (meta) {
    std::vector<uint8_t> used(meta->records.size(), 0);
    for (size_t i = 0; i < reviewed_item_ids.size(); ++i) {
      int32_t r = meta->index.find(reviewed_item_ids[i]);
      if (r < 0) continue;
      record_of[i] = r;
      used[static_cast<size_t>(r)] = 1;
      ++counts.reviewed_with_meta;
    }
    if (!reviewed_only) {
      for (size_t r = 0; r < meta->records.size(); ++r) {
        if (used[r]) continue;
        data.item_ids.push_back(meta->records[r].item_id);
        record_of.push_back(static_cast<int64_t>(r));
        ++counts.catalogue_only;
      }
    }
  }
  ItemFeatures& f = data.items;
  f = ItemFeatures{};
  f.resize(data.item_ids.size());
  Vocabulary categories(f.category_vocab), brands(f.brand_vocab);
  for (size_t i = 0; i < data.item_ids.size(); ++i) {
    if (record_of[i] < 0) continue;
    const MetaRecord& m = meta->records[static_cast<size_t>(record_of[i])];
    f.title[i] = clean_text(m.title);
    f.brand[i] = clean_text(m.brand);
    f.description[i] = clean_text(m.description);
    f.text[i] = f.title[i];
    if (!f.description[i].empty()) f.text[i] += (f.text[i].empty() ? "" : ". ") + f.description[i];
    if (!f.brand[i].empty()) f.brand_idx[i] = brands.add(f.brand[i]);
    std::string prefix;
    for (const auto& level : clean_category_path(m)) {
      if (!prefix.empty()) prefix += kPathSeparator;
      prefix += level;
      f.category_ids[i].push_back(categories.add(prefix));
    }
    f.categories[i] = prefix;
    if (!f.category_ids[i].empty()) f.category_idx[i] = f.category_ids[i].back();
  }
  return counts;
}

}  // namespace twotower
