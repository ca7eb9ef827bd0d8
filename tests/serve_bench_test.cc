#include "serve/serve_bench.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "serve/clustered.h"
#include "test_util.h"

namespace twotower {
namespace {

using testing::TempDir;

// p50 = sorted[n / 2], p99 = sorted[min(n - 1, n * 99 / 100)]: of 1..200 (given shuffled) the
// 101st and the 199th value; one value is both.
TEST(ServeBench, Percentiles) {
  std::vector<double> us;
  for (int i = 200; i >= 1; --i) us.push_back(i);
  const Latency l = percentiles(us);
  EXPECT_EQ(l.p50_us, 101);
  EXPECT_EQ(l.p99_us, 199);
  const Latency one = percentiles({7.5});
  EXPECT_EQ(one.p50_us, 7.5);
  EXPECT_EQ(one.p99_us, 7.5);
  testing::expect_exact_error([] { percentiles({}); }, "percentiles: got no times, expected at least one");
}

// Two queries, k 3: {1, 2, 3} vs {3, 2, 9} shares 2; {4, 5, -1} vs {4, 6, 5} shares 2 (the -1
// pad never counts): 4 of 6.
TEST(ServeBench, RecallAgainstTruth) {
  const std::vector<int64_t> truth = {1, 2, 3, 4, 6, 5};
  const std::vector<int64_t> found = {3, 2, 9, 4, 5, -1};
  EXPECT_DOUBLE_EQ(recall_against(found, truth, 3), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(recall_against(truth, truth, 3), 1.0);
  EXPECT_DOUBLE_EQ(recall_against({}, {}, 3), 1.0);
  const std::vector<int64_t> pads = {-1, -1, -1};
  EXPECT_DOUBLE_EQ(recall_against(pads, pads, 3), 0.0);
  testing::expect_exact_error([&] { recall_against(found, truth, 4); },
                              "recall: got 6 found and 6 true ids, expected the same multiple of k 4");
}

// The JSON line is found after other output; a missing field or no JSON is an error quoting it.
TEST(ServeBench, ParsesFaissOutput) {
  const std::string output =
      "a warning\n{\"faiss_version\": \"1.15.1\", \"flat\": {\"p50_us\": 2970.0, \"p99_us\": 3590.0}, \"hnsw\": "
      "{\"build_s\": 60.5, \"ef\": {\"64\": {\"p50_us\": 91.0, \"p99_us\": 143.0, \"recall\": 0.996}}}}\n";
  const FaissSide f = parse_faiss_output(output);
  EXPECT_EQ(f.version, "1.15.1");
  EXPECT_EQ(f.flat.p50_us, 2970.0);
  EXPECT_EQ(f.flat.p99_us, 3590.0);
  EXPECT_EQ(f.hnsw_build_s, 60.5);
  ASSERT_EQ(f.hnsw.count(64), 1u);
  EXPECT_EQ(f.hnsw.at(64).p99_us, 143.0);
  EXPECT_EQ(f.recall.at(64), 0.996);
  testing::expect_exact_error([] { parse_faiss_output("Traceback\nModuleNotFoundError: faiss\n"); },
                              "serve_faiss.py: got no JSON line, expected one starting with '{'; its output ends: "
                              "Traceback\nModuleNotFoundError: faiss\n");
  testing::expect_error([] { parse_faiss_output("{\"faiss_version\": \"1\"}\n"); },
                        "serve_faiss.py: got \"{\"faiss_version\": \"1\"}\", expected its JSON result: ");
}

// Rows are unit length, the same seed gives the same rows, another seed other rows around the
// same centres.
TEST(ServeBench, ClusteredRows) {
  ClusteredOptions o;
  o.dim = 16;
  o.clusters = 4;
  const std::vector<float> a = clustered_rows(50, 1, o), b = clustered_rows(50, 1, o), c = clustered_rows(50, 2, o);
  ASSERT_EQ(a.size(), 50u * 16u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (int64_t r = 0; r < 50; ++r) {
    double norm = 0;
    for (int64_t j = 0; j < 16; ++j) norm += static_cast<double>(a[r * 16 + j]) * a[r * 16 + j];
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  // Four centres, noise 0.5, 16-d: two rows of one centre have an inner product near
  // |c|^2 / (|c|^2 + 16 * 0.25) = 16 / 20 = 0.8, rows of different centres near 0; each of c's rows
  // finds one of a's 50 rows (all four centres drawn) above 0.5.
  for (int64_t r = 0; r < 50; ++r) {
    double best = -1;
    for (int64_t s = 0; s < 50; ++s) {
      double dot = 0;
      for (int64_t j = 0; j < 16; ++j) dot += static_cast<double>(c[r * 16 + j]) * a[s * 16 + j];
      best = std::max(best, dot);
    }
    EXPECT_GT(best, 0.5) << "row " << r;
  }
  o.clusters = 0;
  testing::expect_exact_error([&] { clustered_rows(1, 1, o); }, "clustered rows: got clusters 0, expected >= 1");
}

// End to end through the CLI on a small generated set: both systems' rows, the command and the
// machine; the Python side needs faiss-cpu (scripts/setup.sh), else the test skips.
TEST(BenchServeCli, SmallGeneratedRun) {
  if (testing::run_command(testing::python_path() + " -c 'import faiss'") != 0) {
    GTEST_SKIP() << testing::python_path() << " has no faiss (scripts/setup.sh installs faiss-cpu)";
  }
  TempDir dir;
  std::string output;
  const int code = testing::run_command(testing::cli_path().string() +
                                            " bench serve --generated-items 1000 --queries 30 --ef-search 16,64 "
                                            "--work-dir " + dir.path().string(),
                                        &output);
  ASSERT_EQ(code, 0) << output;
  for (const char* want : {"command: twotower bench serve --generated-items 1000 --queries 30", "machine: ",
                           "generated: 1,000 items x 128; 30 held-out queries", "\nexact ", "\nhnsw ef 16 ",
                           "\nhnsw ef 64 ", "at end\n"}) {
    EXPECT_NE(output.find(want), std::string::npos) << want << " not in:\n" << output;
  }
  // Exact search agrees with faiss's flat index: recall 1.0000 on both sides of the row.
  EXPECT_NE(output.find("1.0000"), std::string::npos) << output;
}

// Nothing to measure, or a bad value, is one line naming the option.
TEST(BenchServeCli, Errors) {
  std::string output;
  EXPECT_EQ(testing::run_command(testing::cli_path().string() + " bench serve --generated-items 0", &output), 1);
  EXPECT_EQ(output,
            "twotower: error: bench serve: got no --export and --generated-items 0, expected --export DIR or "
            "--generated-items > 0\n");
  EXPECT_EQ(testing::run_command(testing::cli_path().string() + " bench serve --ef-search 64,0", &output), 1);
  EXPECT_EQ(output, "twotower: error: --ef-search: got 0, expected values >= 1\n");
}

}  // namespace
}  // namespace twotower
