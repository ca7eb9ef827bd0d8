#include "twotower/data/generator.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <random>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {
namespace {

constexpr int64_t kStartTime = 1420070400;  // 2015-01-01T00:00:00Z
constexpr int64_t kDay = 86400;
constexpr size_t kFlushBytes = 1 << 22;
constexpr double kCatalogueOnlyShare = 0.1;
constexpr int kRepeatTries = 8;

constexpr std::array<const char*, 16> kAdjectives{"Crimson", "Silent", "Rapid", "Golden", "Arctic", "Velvet",
                                                  "Iron",    "Lunar",  "Cosmic", "Quiet", "Bright", "Wild",
                                                  "Gentle",  "Bold",   "Misty",  "Urban"};
constexpr std::array<const char*, 16> kNouns{"Widget", "Journal", "Garden", "Puzzle", "Lantern", "Compass",
                                             "Kettle", "Atlas",   "Guitar", "Camera", "Blanket", "Racket",
                                             "Novel",  "Helmet",  "Candle", "Drone"};
constexpr std::array<const char*, 12> kWords{"great", "value", "works", "quality", "fast",    "love",
                                             "broke", "size",  "would", "again",   "perfect", "cheap"};

/// Output to a plain or gzip file through one reusable buffer.
class Writer {
 public:
  Writer(const std::filesystem::path& path, bool gzip) : path_(path.string()), gzip_(gzip) {
    if (gzip_) {
      gz_ = gzopen(path_.c_str(), "wb1");
      if (!gz_) fail(path_, ": cannot open for writing");
    } else {
      file_ = std::fopen(path_.c_str(), "wb");
      if (!file_) fail(path_, ": cannot open for writing");
    }
    buffer_.reserve(kFlushBytes + 4096);
  }
  ~Writer() {
    if (gz_) gzclose(gz_);
    if (file_) std::fclose(file_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  void close() {
    flush();
    bool ok = gz_ ? gzclose(gz_) == Z_OK : std::fclose(file_) == 0;
    gz_ = nullptr;
    file_ = nullptr;
    if (!ok) fail(path_, ": write failed");
  }
  int64_t bytes() const { return bytes_ + static_cast<int64_t>(buffer_.size()); }

 private:
  void flush() {
    if (buffer_.empty()) return;
    bool ok = gz_ ? gzwrite(gz_, buffer_.data(), static_cast<unsigned>(buffer_.size())) ==
                        static_cast<int>(buffer_.size())
                  : std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size();
    if (!ok) fail(path_, ": write failed");
    bytes_ += static_cast<int64_t>(buffer_.size());
    buffer_.clear();
  }

  std::string path_;
  bool gzip_;
  gzFile gz_ = nullptr;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  int64_t bytes_ = 0;
};

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

void append_padded(std::string& out, const char* prefix, int64_t v, int width) {
  out += prefix;
  std::string digits = std::to_string(v);
  if (static_cast<int>(digits.size()) < width) out.append(static_cast<size_t>(width) - digits.size(), '0');
  out += digits;
}

std::string user_id(int64_t u) {
  std::string s;
  append_padded(s, "AU", u, 10);
  return s;
}

std::string item_id(int64_t i) {
  std::string s;
  append_padded(s, "B0", i, 8);
  return s;
}

void check(const GeneratorOptions& o) {
  if (o.users < 1) fail("--users: got ", o.users, ", expected at least 1");
  if (o.clusters < 1) fail("--clusters: got ", o.clusters, ", expected at least 1");
  if (o.items < o.clusters) fail("--items: got ", o.items, ", expected at least one per cluster (", o.clusters, ")");
  if (o.reviews < 3 * o.users) fail("--reviews: got ", o.reviews, ", expected at least 3 per user (", 3 * o.users, ")");
  if (!(o.in_cluster >= 0 && o.in_cluster <= 1)) fail("--in-cluster: got ", o.in_cluster, ", expected a share in [0, 1]");
  if (o.review_words < 0) fail("--review-words: got ", o.review_words, ", expected at least 0");
  if (o.format == ReviewFormat::kAuto) fail("generator: a concrete review format is needed");
}

}  // namespace

GeneratedFiles generate_dataset(const GeneratorOptions& o, const std::filesystem::path& dir) {
  check(o);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  const std::string gz = o.gzip ? ".gz" : "";
  GeneratedFiles files;
  switch (o.format) {
    case ReviewFormat::kAmazon2023: files.reviews = dir / ("reviews_2023.jsonl" + gz); break;
    case ReviewFormat::kRatingsCsv: files.reviews = dir / ("ratings.csv" + gz); break;
    case ReviewFormat::kRecBoleInter: files.reviews = dir / ("reviews.inter" + gz); break;
    default: files.reviews = dir / ("reviews.json" + gz); break;
  }
  files.meta = o.format == ReviewFormat::kRecBoleInter ? dir / ("reviews.item" + gz) : dir / ("meta.json" + gz);
  files.clusters = dir / "clusters.json";

  // Items of each cluster; the last ~10% of each cluster never get a review (catalogue only).
  const auto c = static_cast<int64_t>(o.clusters);
  std::vector<std::vector<int64_t>> cluster_items(static_cast<size_t>(c));
  for (int64_t i = 0; i < o.items; ++i) cluster_items[static_cast<size_t>(i % c)].push_back(i);
  std::vector<int64_t> reviewable(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) {
    auto n = static_cast<int64_t>(cluster_items[static_cast<size_t>(k)].size());
    reviewable[static_cast<size_t>(k)] = std::max<int64_t>(1, n - static_cast<int64_t>(std::floor(n * kCatalogueOnlyShare)));
  }
  // Reviews per user: 3 each, the rest spread by a skewed user activity.
  std::vector<int64_t> per_user(static_cast<size_t>(o.users), 3);
  {
    std::vector<double> activity(static_cast<size_t>(o.users));
    std::exponential_distribution<double> expo(1.0);
    for (auto& a : activity) a = expo(rng) * expo(rng);
    std::discrete_distribution<int64_t> pick(activity.begin(), activity.end());
    for (int64_t r = 3 * o.users; r < o.reviews; ++r) ++per_user[static_cast<size_t>(pick(rng))];
  }
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  // Zipf-like rank inside a cluster: floor(n * u^2) favours the first items.
  auto pick_in = [&](int64_t cluster) {
    double u = unit(rng);
    int64_t n = reviewable[static_cast<size_t>(cluster)];
    return cluster_items[static_cast<size_t>(cluster)][static_cast<size_t>(std::min<int64_t>(n - 1, static_cast<int64_t>(n * u * u)))];
  };

  Writer out(files.reviews, o.gzip);
  std::string& b = out.buffer();
  if (o.format == ReviewFormat::kRecBoleInter) b += "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
  // Users are written in interleaved blocks so that a file is not sorted by user.
  constexpr int64_t kBlock = 64;
  std::vector<int64_t> written(static_cast<size_t>(o.users), 0), clock(static_cast<size_t>(o.users));
  for (int64_t u = 0; u < o.users; ++u) clock[static_cast<size_t>(u)] = kStartTime + static_cast<int64_t>(unit(rng) * 365) * kDay;
  std::vector<std::vector<int32_t>> history(static_cast<size_t>(o.users));
  std::string uid, iid;
  for (int64_t block = 0; block * kBlock < o.users; ++block) {
    int64_t first = block * kBlock, last = std::min(o.users, first + kBlock);
    for (bool more = true; more;) {
      more = false;
      for (int64_t u = first; u < last; ++u) {
        auto& done = written[static_cast<size_t>(u)];
        if (done == per_user[static_cast<size_t>(u)]) continue;
        more = true;
        ++done;
        int64_t cluster = u % c;
        // A few tries to find an item the user has not reviewed; a rare repeat purchase remains.
        auto& seen = history[static_cast<size_t>(u)];
        int64_t item = 0;
        for (int attempt = 0; attempt < kRepeatTries; ++attempt) {
          bool inside = unit(rng) < o.in_cluster;
          item = pick_in(inside ? cluster : static_cast<int64_t>(unit(rng) * static_cast<double>(c)) % c);
          if (std::find(seen.begin(), seen.end(), static_cast<int32_t>(item)) == seen.end()) break;
        }
        seen.push_back(static_cast<int32_t>(item));
        bool liked = item % c == cluster;
        int rating = liked ? 4 + static_cast<int>(unit(rng) * 2) : 1 + static_cast<int>(unit(rng) * 3);
        // Same-day reviews happen (ties in time); otherwise a gap of 1-3 days.
        if (unit(rng) > 0.2) clock[static_cast<size_t>(u)] += kDay * (1 + static_cast<int64_t>(unit(rng) * 3));
        int64_t t = clock[static_cast<size_t>(u)];
        uid = user_id(u);
        iid = item_id(item);
        switch (o.format) {
          case ReviewFormat::kRatingsCsv:
            b += iid, b += ',', b += uid, b += ',', append_int(b, rating), b += ".0,", append_int(b, t), b += '\n';
            break;
          case ReviewFormat::kRecBoleInter:
            b += uid, b += '\t', b += iid, b += '\t', append_int(b, rating), b += '\t', append_int(b, t), b += '\n';
            break;
          case ReviewFormat::kAmazon2023:
            b += "{\"rating\": ", append_int(b, rating), b += ".0, \"title\": \"";
            b += kWords[static_cast<size_t>(item) % kWords.size()];
            b += "\", \"text\": \"";
            for (int w = 0; w < o.review_words; ++w) {
              if (w) b += ' ';
              b += kWords[static_cast<size_t>(unit(rng) * kWords.size()) % kWords.size()];
            }
            b += "\", \"images\": [], \"asin\": \"", b += iid, b += "\", \"parent_asin\": \"", b += iid;
            b += "\", \"user_id\": \"", b += uid, b += "\", \"timestamp\": ", append_int(b, t * 1000);
            b += ", \"helpful_vote\": 0, \"verified_purchase\": true}\n";
            break;
          default:
            b += "{\"overall\": ", append_int(b, rating), b += ".0, \"verified\": true, \"reviewerID\": \"", b += uid;
            b += "\", \"asin\": \"", b += iid, b += "\", \"reviewerName\": \"Reader ", append_int(b, u);
            b += "\", \"reviewText\": \"";
            for (int w = 0; w < o.review_words; ++w) {
              if (w) b += ' ';
              b += kWords[static_cast<size_t>(unit(rng) * kWords.size()) % kWords.size()];
            }
            b += "\", \"summary\": \"", b += rating >= 4 ? "Five Stars" : "Meh";
            b += "\", \"unixReviewTime\": ", append_int(b, t), b += "}\n";
            break;
        }
        ++files.reviews_written;
        out.maybe_flush();
      }
    }
  }
  files.bytes_written = out.bytes();
  out.close();

  Writer meta(files.meta, o.gzip);
  std::string& m = meta.buffer();
  if (o.format == ReviewFormat::kRecBoleInter) m += "item_id:token\ttitle:token_seq\n";
  for (int64_t i = 0; i < o.items; ++i) {
    int64_t cluster = i % c;
    const char* adjective = kAdjectives[static_cast<size_t>(cluster) % kAdjectives.size()];
    const char* noun = kNouns[static_cast<size_t>(i / c) % kNouns.size()];
    std::string title = str_cat(adjective, " ", noun, " ", i);
    if (i % 5 == 0) title += " &amp; Co";
    if (o.format == ReviewFormat::kRecBoleInter) {
      m += item_id(i), m += '\t', m += title, m += '\n';
      meta.maybe_flush();
      continue;
    }
    bool v2023 = o.format == ReviewFormat::kAmazon2023;
    std::string category = str_cat("Cluster ", cluster);
    std::string sub = std::string(adjective) + " things";
    std::string description = str_cat("<p>A ", adjective, " ", noun, " for every day.</p>");
    m += v2023 ? "{\"main_category\": \"Generated\", \"title\": \"" : "{\"title\": \"";
    m += title;
    m += v2023 ? "\", \"store\": \"" : "\", \"brand\": \"";
    if (i % 7 != 3) m += str_cat("Brand ", cluster, "-", i % 3);
    m += v2023 ? "\", \"categories\": [\"" : "\", \"category\": [\"";
    m += category, m += "\", \"", m += sub, m += "\"], \"description\": [\"", m += description, m += "\"], ";
    m += v2023 ? "\"parent_asin\": \"" : "\"main_cat\": \"Generated\", \"asin\": \"";
    m += item_id(i), m += "\"}\n";
    meta.maybe_flush();
  }
  meta.close();

  std::string clusters = str_cat("{\"clusters\": ", c, ", \"rule\": \"user AU<n> and item B0<n> belong to cluster n % clusters\"}\n");
  Writer cw(files.clusters, false);
  cw.buffer() = clusters;
  cw.close();
  return files;
}

}  // namespace twotower
