// twotower: train and serve two-tower retrieval recommenders on Amazon product data.
#include <csignal>

#include "cli.h"

int main(int argc, char** argv) {
  // A write past the file-size limit (a full quota, `ulimit -f`) fails with EFBIG and is reported
  // naming the file, instead of the signal ending the process without a word.
  std::signal(SIGXFSZ, SIG_IGN);
  return twotower::cli::run_cli(argc, argv);
}
