#include "quoter/app/app_config.hpp"

#include <cstdio>

namespace quoter::app {

int check_config(const std::string& /*path*/, const std::string& /*profile*/) {
    std::fprintf(stderr, "quoter config check: not built yet\n");
    return 2;
}

} // namespace quoter::app
