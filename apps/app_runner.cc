#include "app_runner.h"

#include <exception>
#include <iostream>
#include <new>

#include "twotower/common/error.h"
#include "twotower/common/memory.h"

namespace twotower::cli {

int run_app(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ChildExit& e) {
    return e.code;
  } catch (const Error& e) {
    std::cerr << "twotower: error: " << e.what() << '\n';
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "twotower: error: out of memory: an allocation failed (" << memory_limits_summary()
              << "); raise the limit, or use a smaller data set or batch\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "twotower: internal error: " << e.what() << '\n';
    return 2;
  }
  return 0;
}

}  // namespace twotower::cli
