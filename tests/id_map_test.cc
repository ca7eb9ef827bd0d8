#include "twotower/data/id_map.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

// Indices follow first appearance; a repeated id gets its first index back.
TEST(IdMap, FirstAppearanceOrder) {
  IdMap m;
  EXPECT_EQ(m.intern("b"), 0);
  EXPECT_EQ(m.intern("a"), 1);
  EXPECT_EQ(m.intern("b"), 0);
  EXPECT_EQ(m.intern(""), 2);
  EXPECT_EQ(m.find("a"), 1);
  EXPECT_EQ(m.find("zz"), -1);
  EXPECT_EQ(m.ids(), (std::vector<std::string>{"b", "a", ""}));
}

// Many ids (forcing table growth and several arena blocks) all round-trip.
TEST(IdMap, ManyIdsRoundTrip) {
  IdMap m;
  constexpr int kIds = 200000;
  for (int i = 0; i < kIds; ++i) ASSERT_EQ(m.intern("user-" + std::to_string(i)), i);
  for (int i = 0; i < kIds; i += 997) EXPECT_EQ(m.find("user-" + std::to_string(i)), i);
  EXPECT_EQ(m.size(), static_cast<size_t>(kIds));
  EXPECT_EQ(m.id(12345), "user-12345");
}

}  // namespace
}  // namespace twotower
