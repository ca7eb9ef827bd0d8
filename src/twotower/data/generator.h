// Writes synthetic Amazon-format review and metadata files with planted user/item clusters:
// a seeded, self-contained data set for the demo, the tests and the benchmarks.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "twotower/data/input_format.h"

namespace twotower {

struct GeneratorOptions {
  int64_t users = 2000;          // >= 1
  int64_t items = 1000;          // >= clusters
  int64_t reviews = 40000;       // >= users * 3: every user gets at least 3 reviews
  int32_t clusters = 8;          // >= 1; user u and item i belong to cluster u % clusters, i % clusters
  double in_cluster = 0.9;       // in [0, 1]: chance that a review goes to an item of the user's cluster
  int32_t review_words = 12;     // words of reviewText per review, >= 0
  uint64_t seed = 42;
  ReviewFormat format = ReviewFormat::kAmazon2018;  // amazon2018, amazon2023, csv or recbole
  bool gzip = true;              // .gz files (fast compression level) or plain
};

struct GeneratedFiles {
  std::filesystem::path reviews;   // reviews.json[.gz], reviews_2023.jsonl[.gz], ratings.csv[.gz], reviews.inter[.gz]
  std::filesystem::path meta;      // meta.json[.gz] (2018 or 2023 keys) or reviews.item[.gz]
  std::filesystem::path clusters;  // clusters.json: the number of clusters and the membership rule
  int64_t reviews_written = 0;
  int64_t bytes_written = 0;       // uncompressed bytes of the review file
};

/// Writes the files into `dir` (created if absent). Users have a popularity that varies, items
/// a Zipf-like popularity inside their cluster; each user's reviews move forward in time from
/// 2015-01-01 with ties on the same day; ratings are 4-5 inside the user's cluster and 1-3
/// outside. Item metadata: title words, brand, a two-level category path and the description
/// are drawn from the item's cluster, with some HTML entities and tags and some items without
/// brand; about 10% of the items get no review (the catalogue-only part). Same options and
/// seed -> the same bytes.
GeneratedFiles generate_dataset(const GeneratorOptions& options, const std::filesystem::path& dir);

}  // namespace twotower
