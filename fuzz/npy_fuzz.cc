// A .npy file (header and data) as read for text embeddings, with and without a checksum sidecar
// (the first input byte decides).
#include "fuzz_input.h"
#include "twotower/common/error.h"
#include "twotower/data/npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twotower;
  if (size == 0) return 0;
  const auto path = fuzz::input_file(data + 1, size - 1, "m.npy");
  std::filesystem::path sidecar = path;
  sidecar += ".crc32";
  if (data[0] & 1) {
    fuzz::input_file(data + 1, size > 40 ? 40 : size - 1, "m.npy.crc32");
  } else {
    std::filesystem::remove(sidecar);
  }
  try {
    read_npy(path);
  } catch (const Error&) {
  }
  return 0;
}
