// Reviews in every format (2018 and 2023 JSON lines, ratings CSV, RecBole .inter), plain and as
// detected: the first input byte picks the format, the rest is the file.
#include "fuzz_input.h"
#include "twotower/common/error.h"
#include "twotower/data/review_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twotower;
  if (size == 0) return 0;
  static const ReviewFormat kFormats[] = {ReviewFormat::kAuto, ReviewFormat::kAmazon2018, ReviewFormat::kAmazon2023,
                                          ReviewFormat::kRatingsCsv, ReviewFormat::kRecBoleInter};
  const ReviewFormat format = kFormats[data[0] % 5];
  const char* name = format == ReviewFormat::kRecBoleInter ? "r.inter" : format == ReviewFormat::kRatingsCsv ? "r.csv" : "r.json";
  const auto path = fuzz::input_file(data + 1, size - 1, name);
  try {
    ReviewReadOptions options;
    options.format = format;
    options.skip_bad_lines = data[0] & 0x80;
    options.progress = false;
    options.threads = 1;
    options.chunk_bytes = 256;  // small chunks: lines cross chunk boundaries
    read_reviews(path, options);
  } catch (const Error&) {
  }
  return 0;
}
