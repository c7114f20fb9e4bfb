#include "quoter/exec/latency_model.hpp"

#include <cmath>

namespace quoter::exec {

double exponential_jitter(double u, double mean_ns) noexcept {
    // Inverse CDF; 1 - u lies in (0, 1], so the log is finite (at most ~36.7 means).
    return -mean_ns * std::log1p(-u);
}

} // namespace quoter::exec
