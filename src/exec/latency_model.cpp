#include "quoter/exec/latency_model.hpp"

#include <cmath>

namespace quoter::exec {

core::duration_ns sample_latency(const latency_config& config, sim_rng& rng) noexcept {
    const core::duration_ns floor = config.fixed_ns > 0 ? config.fixed_ns : 0;
    if (config.distribution == latency_distribution::constant || config.jitter_ns <= 0) {
        return floor;
    }
    const double u = rng.uniform();
    const auto jitter = static_cast<double>(config.jitter_ns);
    double extra = 0.0;
    if (config.distribution == latency_distribution::uniform) {
        extra = u * jitter;
    } else {
        // Inverse CDF; 1 - u lies in (0, 1], so the log is finite (at most ~36.7 means).
        extra = -jitter * std::log1p(-u);
    }
    return floor + static_cast<core::duration_ns>(extra);
}

} // namespace quoter::exec
