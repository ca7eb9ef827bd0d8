// Item metadata: JSON lines (2014/2018/2023), Python literals (2014) and RecBole .item, by the
// first input byte, the rest being the file.
#include "fuzz_input.h"
#include "twotower/common/error.h"
#include "twotower/data/meta_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace twotower;
  if (size == 0) return 0;
  const bool recbole = data[0] & 1;
  const auto path = fuzz::input_file(data + 1, size - 1, recbole ? "m.item" : "m.json");
  try {
    MetaReadOptions options;
    options.skip_bad_lines = data[0] & 0x80;
    read_metadata(path, options);
  } catch (const Error&) {
  }
  return 0;
}
