#include "twotower/data/filters.h"

#include <algorithm>
#include <random>

#include "twotower/common/enum_names.h"
#include "twotower/common/error.h"
#include "twotower/data/user_rows.h"

namespace twotower {

namespace {

// The first name of a policy is what summaries print.
constexpr EnumName<DuplicatePolicy> kDuplicatePolicyNames[] = {{DuplicatePolicy::kKeepAll, "keep"},
                                                               {DuplicatePolicy::kKeepAll, "all"},
                                                               {DuplicatePolicy::kKeepFirst, "first"},
                                                               {DuplicatePolicy::kKeepLast, "last"}};

}  // namespace

DuplicatePolicy parse_duplicate_policy(const std::string& name) {
  if (auto policy = enum_value(kDuplicatePolicyNames, name)) return *policy;
  fail("--duplicates: got \"", name, "\", expected keep, first or last");
}

const char* duplicate_policy_name(DuplicatePolicy policy) { return enum_name(kDuplicatePolicyNames, policy); }

namespace {

// Calls f(begin, end) for each run of one item inside each user's rows, the run in time order.
template <typename F>
void for_each_pair_run(const Interactions& in, int64_t num_users, F f) {
  UserRows g = group_by_user(in, num_users);
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) {
    auto first = g.rows.begin() + g.offsets[u], last = g.rows.begin() + g.offsets[u + 1];
    // Already in (time, row) order: a stable sort by item keeps that order inside each run.
    std::stable_sort(first, last, [&](uint32_t a, uint32_t b) { return in.item[a] < in.item[b]; });
    for (auto run = first; run != last;) {
      auto end = run + 1;
      while (end != last && in.item[*end] == in.item[*run]) ++end;
      f(run, end);
      run = end;
    }
  }
}

}  // namespace

int64_t count_repeated_pairs(const Interactions& in, int64_t num_users) {
  int64_t repeats = 0;
  for_each_pair_run(in, num_users, [&](auto begin, auto end) { repeats += (end - begin) - 1; });
  return repeats;
}

std::vector<uint8_t> duplicate_mask(const Interactions& in, int64_t num_users, DuplicatePolicy policy) {
  std::vector<uint8_t> keep(in.size(), 1);
  if (policy == DuplicatePolicy::kKeepAll) return keep;
  for_each_pair_run(in, num_users, [&](auto begin, auto end) {
    if (end - begin == 1) return;
    for (auto it = begin; it != end; ++it) keep[*it] = 0;
    keep[policy == DuplicatePolicy::kKeepFirst ? *begin : *(end - 1)] = 1;
  });
  return keep;
}

int kcore_mask(const Interactions& in, int64_t num_users, int64_t num_items, int64_t min_user, int64_t min_item,
               std::vector<uint8_t>& keep) {
  std::vector<int64_t> user_degree(static_cast<size_t>(num_users)), item_degree(static_cast<size_t>(num_items));
  int rounds = 0;
  for (bool changed = true; changed; ++rounds) {
    changed = false;
    std::fill(user_degree.begin(), user_degree.end(), 0);
    std::fill(item_degree.begin(), item_degree.end(), 0);
    for (size_t r = 0; r < in.size(); ++r) {
      if (!keep[r]) continue;
      ++user_degree[static_cast<size_t>(in.user[r])];
      ++item_degree[static_cast<size_t>(in.item[r])];
    }
    for (size_t r = 0; r < in.size(); ++r) {
      if (keep[r] && (user_degree[static_cast<size_t>(in.user[r])] < min_user ||
                      item_degree[static_cast<size_t>(in.item[r])] < min_item)) {
        keep[r] = 0;
        changed = true;
      }
    }
  }
  return rounds;
}

void compact(Interactions& in, const std::vector<uint8_t>& keep, int64_t num_users, int64_t num_items,
             std::vector<int32_t>& user_order, std::vector<int32_t>& item_order) {
  std::vector<int32_t> new_user(static_cast<size_t>(num_users), -1), new_item(static_cast<size_t>(num_items), -1);
  user_order.clear();
  item_order.clear();
  size_t w = 0;
  for (size_t r = 0; r < in.size(); ++r) {
    if (!keep[r]) continue;
    auto u = static_cast<size_t>(in.user[r]), i = static_cast<size_t>(in.item[r]);
    if (new_user[u] < 0) {
      new_user[u] = static_cast<int32_t>(user_order.size());
      user_order.push_back(static_cast<int32_t>(u));
    }
    if (new_item[i] < 0) {
      new_item[i] = static_cast<int32_t>(item_order.size());
      item_order.push_back(static_cast<int32_t>(i));
    }
    in.user[w] = new_user[u];
    in.item[w] = new_item[i];
    in.rating[w] = in.rating[r];
    in.timestamp[w] = in.timestamp[r];
    if (!in.split.empty()) in.split[w] = in.split[r];
    ++w;
  }
  in.user.resize(w);
  in.item.resize(w);
  in.rating.resize(w);
  in.timestamp.resize(w);
  if (!in.split.empty()) in.split.resize(w);
}

int64_t sample_users_mask(const Interactions& in, int64_t num_users, int64_t sample, uint64_t seed,
                          std::vector<uint8_t>& keep) {
  if (sample < 1) fail("--sample-users: got ", sample, ", expected a count >= 1");
  if (sample >= num_users) return num_users;
  std::mt19937_64 rng(seed);
  // Uniform in [0, bound): reject the draws below 2^64 mod bound, so every value is equally likely.
  auto below = [&rng](uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    uint64_t r = rng();
    while (r < threshold) r = rng();
    return r % bound;
  };
  std::vector<int64_t> users(static_cast<size_t>(num_users));
  for (int64_t u = 0; u < num_users; ++u) users[static_cast<size_t>(u)] = u;
  std::vector<uint8_t> chosen(static_cast<size_t>(num_users), 0);
  for (int64_t k = 0; k < sample; ++k) {
    const auto j = static_cast<size_t>(k) + static_cast<size_t>(below(static_cast<uint64_t>(num_users - k)));
    std::swap(users[static_cast<size_t>(k)], users[j]);
    chosen[static_cast<size_t>(users[static_cast<size_t>(k)])] = 1;
  }
  for (size_t r = 0; r < in.size(); ++r) {
    if (!chosen[static_cast<size_t>(in.user[r])]) keep[r] = 0;
  }
  return sample;
}

}  // namespace twotower
