#include "twotower/train/gpu/kernel_share.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using nlohmann::json;

json kernel(double ts, double dur) { return {{"ph", "X"}, {"cat", "kernel"}, {"name", "k"}, {"ts", ts}, {"dur", dur}}; }

// The GPU's busy time is the union of its kernels, over the span from the first start to the last end.
TEST(KernelShare, UnionOfKernelsOverTheirSpan) {
  json events = json::array();
  events.push_back(kernel(100, 10));  // [100, 110)
  events.push_back(kernel(105, 10));  // overlaps it: [100, 115)
  events.push_back(kernel(130, 5));   // after a gap of 15: [130, 135)
  events.push_back(kernel(131, 2));   // inside the previous one
  events.push_back(kernel(150, 10));  // after a gap of 15: [150, 160)
  // Not kernels: the host's operators, copies, memsets, metadata.
  events.push_back({{"ph", "X"}, {"cat", "cpu_op"}, {"name", "aten::mm"}, {"ts", 0}, {"dur", 1000}});
  events.push_back({{"ph", "X"}, {"cat", "gpu_memcpy"}, {"name", "Memcpy HtoD"}, {"ts", 115}, {"dur", 15}});
  events.push_back({{"ph", "X"}, {"cat", "gpu_memset"}, {"name", "Memset"}, {"ts", 160}, {"dur", 40}});
  events.push_back({{"ph", "M"}, {"name", "process_name"}});
  const KernelShare k = kernel_share({{"traceEvents", events}});
  EXPECT_EQ(k.kernels, 5);
  EXPECT_DOUBLE_EQ(k.busy_us, 15 + 5 + 10);
  EXPECT_DOUBLE_EQ(k.span_us, 60);
  EXPECT_DOUBLE_EQ(k.share(), 30.0 / 60.0);
}

// In any order, back to back kernels keep the GPU busy the whole span.
TEST(KernelShare, BackToBackKernelsInAnyOrderAreAllBusy) {
  json events = json::array({kernel(20, 10), kernel(0, 10), kernel(10, 10)});
  const KernelShare k = kernel_share({{"traceEvents", events}});
  EXPECT_DOUBLE_EQ(k.busy_us, 30);
  EXPECT_DOUBLE_EQ(k.share(), 1.0);
}

TEST(KernelShare, NoKernelsIsShareZero) {
  const KernelShare k = kernel_share({{"traceEvents", json::array()}});
  EXPECT_EQ(k.kernels, 0);
  EXPECT_EQ(k.share(), 0.0);
}

TEST(KernelShare, ErrorsNameTheProblem) {
  EXPECT_THROW(kernel_share(json::array()), Error);
  try {
    kernel_share({{"traceEvents", json::array({{{"ph", "X"}, {"cat", "kernel"}, {"name", "gemm"}, {"ts", "late"}}})}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("kernel \"gemm\": expected numeric \"ts\" and \"dur\""), std::string::npos)
        << e.what();
  }
  testing::TempDir dir;
  testing::write_file(dir / "bad.json", "{\"traceEvents\": [");
  try {
    read_kernel_share(dir / "bad.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json: not JSON"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_kernel_share(dir / "absent.json"), Error);
}

}  // namespace
}  // namespace twotower
