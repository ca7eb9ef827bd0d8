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


// Resizes `f` to first + record_of.size() items and fills items first, first + 1, ... from their
// metadata records (record_of[k] < 0: empty features), growing the vocabularies.
void fill_items(const std::vector<int64_t>& record_of, const Metadata* meta, size_t first, ItemFeatures& f) {
  f.resize(first + record_of.size());
  Vocabulary categories(f.category_vocab), brands(f.brand_vocab);
  for (size_t k = 0; k < record_of.size(); ++k) {
    if (record_of[k] < 0) continue;
    const size_t i = first + k;
    const MetaRecord& m = meta->records[static_cast<size_t>(record_of[k])];
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
}

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
  data.items = ItemFeatures{};
  fill_items(record_of, meta, 0, data.items);
  return counts;
}

CatalogueCounts append_items(const std::vector<std::string>& new_item_ids, const Metadata* meta, bool reviewed_only,
                             Dataset& data) {
  CatalogueCounts counts;
  const size_t first = data.item_ids.size();
  std::vector<int64_t> record_of;
  for (const auto& id : new_item_ids) {
    data.item_ids.push_back(id);
    record_of.push_back(meta ? meta->index.find(id) : -1);
    ++counts.reviewed;
    counts.reviewed_with_meta += record_of.back() >= 0;
  }
  if (meta && !reviewed_only) {
    IdMap known;
    for (const auto& id : data.item_ids) known.intern(id);
    for (size_t r = 0; r < meta->records.size(); ++r) {
      if (known.find(meta->records[r].item_id) >= 0) continue;
      data.item_ids.push_back(meta->records[r].item_id);
      record_of.push_back(static_cast<int64_t>(r));
      ++counts.catalogue_only;
    }
  }
  fill_items(record_of, meta, first, data.items);
  return counts;
}

}  // namespace twotower
