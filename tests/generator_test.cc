#include "twotower/data/generator.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/prepare.h"

namespace twotower {
namespace {

using testing::TempDir;

GeneratorOptions small() {
  GeneratorOptions o;
  o.users = 60;
  o.items = 200;
  o.reviews = 600;
  o.clusters = 4;
  return o;
}

// The same seed writes the same bytes; another seed writes other bytes.
TEST(Generator, SeedReproducesTheFiles) {
  TempDir dir;
  GeneratedFiles a = generate_dataset(small(), dir / "a");
  GeneratedFiles b = generate_dataset(small(), dir / "b");
  GeneratorOptions other = small();
  other.seed = 7;
  GeneratedFiles c = generate_dataset(other, dir / "c");
  EXPECT_EQ(testing::read_file(a.reviews), testing::read_file(b.reviews));
  EXPECT_EQ(testing::read_file(a.meta), testing::read_file(b.meta));
  EXPECT_NE(testing::read_file(a.reviews), testing::read_file(c.reviews));
  EXPECT_EQ(a.reviews_written, 600);
}

// Every format the generator writes is read back by prepare with the requested counts, and
// the planted clusters show: with in_cluster 0.9 most interactions join a user and an item of
// the same cluster (user AU<n>, item B0<n>: cluster n % 4).
TEST(Generator, EveryFormatPreparesWithPlantedClusters) {
  for (auto format : {ReviewFormat::kAmazon2018, ReviewFormat::kAmazon2023, ReviewFormat::kRatingsCsv,
                      ReviewFormat::kRecBoleInter}) {
    TempDir dir;
    GeneratorOptions o = small();
    o.format = format;
    GeneratedFiles f = generate_dataset(o, dir / "gen");
    PrepareOptions p;
    p.reviews = f.reviews;
    p.meta = f.meta;
    p.out = dir / "prepared";
    PrepareResult r = prepare(p);
    SCOPED_TRACE(review_format_name(format));
    EXPECT_EQ(r.stats["interactions"], 600);
    EXPECT_EQ(r.stats["users"], 60);
    EXPECT_EQ(r.stats["items"], 200);
    EXPECT_EQ(r.stats["input"]["format"], review_format_name(format));
    Dataset d = load_dataset(p.out);
    int64_t same = 0;
    for (size_t k = 0; k < d.interactions.size(); ++k) {
      int64_t u = std::stoll(d.user_ids[static_cast<size_t>(d.interactions.user[k])].substr(2));
      int64_t i = std::stoll(d.item_ids[static_cast<size_t>(d.interactions.item[k])].substr(2));
      same += u % 4 == i % 4;
    }
    // Expected share 0.9 + 0.1 / 4 = 0.925; allow sampling noise.
    EXPECT_GT(same, 600 * 85 / 100);
  }
}

TEST(Generator, RejectsImpossibleOptions) {
  TempDir dir;
  GeneratorOptions o = small();
  o.reviews = 10;
  testing::expect_exact_error([&] { generate_dataset(o, dir / "x"); },
                              "--reviews: got 10, expected at least 3 per user (180)");
}

}  // namespace
}  // namespace twotower
