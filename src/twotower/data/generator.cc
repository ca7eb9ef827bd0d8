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

/// The file names of the chosen format in `dir`.
GeneratedFiles file_names(const GeneratorOptions& o, const std::filesystem::path& dir) {
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
  return files;
}

/// Items by cluster, and how many of each cluster's first items can be reviewed.
struct Catalogue {
  int64_t clusters = 0;
  std::vector<std::vector<int64_t>> cluster_items;  // cluster -> its items, ascending
  std::vector<int64_t> reviewable;                  // cluster -> count of its reviewable items
};

// The last ~10% of each cluster never get a review (catalogue only).
Catalogue make_catalogue(const GeneratorOptions& o) {
  Catalogue cat;
  cat.clusters = static_cast<int64_t>(o.clusters);
  const int64_t c = cat.clusters;
  cat.cluster_items.resize(static_cast<size_t>(c));
  for (int64_t i = 0; i < o.items; ++i) cat.cluster_items[static_cast<size_t>(i % c)].push_back(i);
  cat.reviewable.resize(static_cast<size_t>(c));
  for (int64_t k = 0; k < c; ++k) {
    auto n = static_cast<int64_t>(cat.cluster_items[static_cast<size_t>(k)].size());
    cat.reviewable[static_cast<size_t>(k)] = std::max<int64_t>(1, n - static_cast<int64_t>(std::floor(n * kCatalogueOnlyShare)));
  }
  return cat;
}

/// Reviews per user: 3 each, the rest spread by a skewed user activity.
std::vector<int64_t> reviews_per_user(const GeneratorOptions& o, std::mt19937_64& rng) {
  std::vector<int64_t> per_user(static_cast<size_t>(o.users), 3);
  std::vector<double> activity(static_cast<size_t>(o.users));
  std::exponential_distribution<double> expo(1.0);
  for (auto& a : activity) a = expo(rng) * expo(rng);
  std::discrete_distribution<int64_t> pick(activity.begin(), activity.end());
  for (int64_t r = 3 * o.users; r < o.reviews; ++r) ++per_user[static_cast<size_t>(pick(rng))];
  return per_user;
}

/// The draws of one review run: uniform numbers in [0, 1) from the generator's one seeded stream.
class Draws {
 public:
  explicit Draws(std::mt19937_64& rng) : rng_(rng) {}
  double unit() { return unit_(rng_); }

 private:
  std::mt19937_64& rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

/// One generated review, before it is written in a format.
struct Review {
  int64_t user = 0, item = 0;
  int rating = 0;
  int64_t time = 0;  // seconds
};

/// `words` review words drawn from kWords, separated by spaces.
void append_words(std::string& b, int32_t words, Draws& draw) {
  for (int w = 0; w < words; ++w) {
    if (w) b += ' ';
    b += kWords[static_cast<size_t>(draw.unit() * kWords.size()) % kWords.size()];
  }
}

/// Appends one review line in `o.format` (the JSON formats draw their review words).
void append_review(std::string& b, const GeneratorOptions& o, const Review& r, Draws& draw) {
  const std::string uid = user_id(r.user), iid = item_id(r.item);
  switch (o.format) {
    case ReviewFormat::kRatingsCsv:
      b += iid, b += ',', b += uid, b += ',', append_int(b, r.rating), b += ".0,", append_int(b, r.time), b += '\n';
      break;
    case ReviewFormat::kRecBoleInter:
      b += uid, b += '\t', b += iid, b += '\t', append_int(b, r.rating), b += '\t', append_int(b, r.time), b += '\n';
      break;
    case ReviewFormat::kAmazon2023:
      b += "{\"rating\": ", append_int(b, r.rating), b += ".0, \"title\": \"";
      b += kWords[static_cast<size_t>(r.item) % kWords.size()];
      b += "\", \"text\": \"";
      append_words(b, o.review_words, draw);
      b += "\", \"images\": [], \"asin\": \"", b += iid, b += "\", \"parent_asin\": \"", b += iid;
      b += "\", \"user_id\": \"", b += uid, b += "\", \"timestamp\": ", append_int(b, r.time * 1000);
      b += ", \"helpful_vote\": 0, \"verified_purchase\": true}\n";
      break;
    default:
      b += "{\"overall\": ", append_int(b, r.rating), b += ".0, \"verified\": true, \"reviewerID\": \"", b += uid;
      b += "\", \"asin\": \"", b += iid, b += "\", \"reviewerName\": \"Reader ", append_int(b, r.user);
      b += "\", \"reviewText\": \"";
      append_words(b, o.review_words, draw);
      b += "\", \"summary\": \"", b += r.rating >= 4 ? "Five Stars" : "Meh";
      b += "\", \"unixReviewTime\": ", append_int(b, r.time), b += "}\n";
      break;
  }
}

/// Draws the reviews of every user and writes them. Each user's clock moves forward from a
/// random day of 2015; users are written in interleaved blocks so that a file is not sorted by user.
class ReviewWriter {
 public:
  ReviewWriter(const GeneratorOptions& o, const Catalogue& cat, std::vector<int64_t> per_user, std::mt19937_64& rng)
      : o_(o), cat_(cat), per_user_(std::move(per_user)), draw_(rng),
        written_(static_cast<size_t>(o.users), 0), clock_(static_cast<size_t>(o.users)),
        history_(static_cast<size_t>(o.users)) {
    for (auto& t : clock_) t = kStartTime + static_cast<int64_t>(draw_.unit() * 365) * kDay;
  }

  /// Writes every review to `path`; returns how many, and sets `bytes` to their uncompressed size.
  int64_t write(const std::filesystem::path& path, int64_t& bytes) {
    Writer out(path, o_.gzip);
    std::string& b = out.buffer();
    if (o_.format == ReviewFormat::kRecBoleInter) b += "user_id:token\titem_id:token\trating:float\ttimestamp:float\n";
    constexpr int64_t kBlock = 64;
    int64_t count = 0;
    for (int64_t block = 0; block * kBlock < o_.users; ++block) {
      int64_t first = block * kBlock, last = std::min(o_.users, first + kBlock);
      for (bool more = true; more;) {
        more = false;
        for (int64_t u = first; u < last; ++u) {
          auto& done = written_[static_cast<size_t>(u)];
          if (done == per_user_[static_cast<size_t>(u)]) continue;
          more = true;
          ++done;
          append_review(b, o_, next_review(u), draw_);
          ++count;
          out.maybe_flush();
        }
      }
    }
    bytes = out.bytes();
    out.close();
    return count;
  }

 private:
  // Zipf-like rank inside a cluster: floor(n * u^2) favours the first items.
  int64_t pick_in(int64_t cluster) {
    double u = draw_.unit();
    int64_t n = cat_.reviewable[static_cast<size_t>(cluster)];
    return cat_.cluster_items[static_cast<size_t>(cluster)][static_cast<size_t>(std::min<int64_t>(n - 1, static_cast<int64_t>(n * u * u)))];
  }

  /// The next review of user `u`: an item (mostly of the user's cluster, mostly one not reviewed
  /// before), a rating (4-5 inside the cluster, 1-3 outside) and a time after the last one.
  Review next_review(int64_t u) {
    const int64_t c = cat_.clusters;
    int64_t cluster = u % c;
    // A few tries to find an item the user has not reviewed; a rare repeat purchase remains.
    auto& seen = history_[static_cast<size_t>(u)];
    int64_t item = 0;
    for (int attempt = 0; attempt < kRepeatTries; ++attempt) {
      bool inside = draw_.unit() < o_.in_cluster;
      item = pick_in(inside ? cluster : static_cast<int64_t>(draw_.unit() * static_cast<double>(c)) % c);
      if (std::find(seen.begin(), seen.end(), static_cast<int32_t>(item)) == seen.end()) break;
    }
    seen.push_back(static_cast<int32_t>(item));
    bool liked = item % c == cluster;
    int rating = liked ? 4 + static_cast<int>(draw_.unit() * 2) : 1 + static_cast<int>(draw_.unit() * 3);
    // Same-day reviews happen (ties in time); otherwise a gap of 1-3 days.
    if (draw_.unit() > 0.2) clock_[static_cast<size_t>(u)] += kDay * (1 + static_cast<int64_t>(draw_.unit() * 3));
    return {u, item, rating, clock_[static_cast<size_t>(u)]};
  }

  const GeneratorOptions& o_;
  const Catalogue& cat_;
  std::vector<int64_t> per_user_;
  Draws draw_;
  std::vector<int64_t> written_, clock_;
  std::vector<std::vector<int32_t>> history_;
};

/// Item metadata in the format that goes with o.format (see generate_dataset).
void write_meta(const GeneratorOptions& o, const std::filesystem::path& path) {
  const auto c = static_cast<int64_t>(o.clusters);
  Writer meta(path, o.gzip);
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
}

void write_clusters(const GeneratorOptions& o, const std::filesystem::path& path) {
  Writer out(path, false);
  out.buffer() = str_cat("{\"clusters\": ", static_cast<int64_t>(o.clusters),
                         ", \"rule\": \"user AU<n> and item B0<n> belong to cluster n % clusters\"}\n");
  out.close();
}

}  // namespace

GeneratedFiles generate_dataset(const GeneratorOptions& o, const std::filesystem::path& dir) {
  check(o);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(o.seed);
  GeneratedFiles files = file_names(o, dir);
  Catalogue cat = make_catalogue(o);
  ReviewWriter reviews(o, cat, reviews_per_user(o, rng), rng);
  files.reviews_written = reviews.write(files.reviews, files.bytes_written);
  write_meta(o, files.meta);
  write_clusters(o, files.clusters);
  return files;
}

}  // namespace twotower
