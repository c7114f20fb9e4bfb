#include "calibrate_command.hpp"

#include "quoter/research/calibrate.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace quoter::app {

int run_calibrate_command(const calibrate_command& command) {
    if (command.data.empty()) {
        std::fprintf(stderr, "quoter calibrate: --data needs at least one capture file\n");
        return 2;
    }
    if (!(command.bucket_ticks > 0.0) || !(command.interval_s > 0.0) ||
        !std::isfinite(command.bucket_ticks) || !std::isfinite(command.interval_s)) {
        std::fprintf(stderr, "quoter calibrate: --bucket-ticks and --interval-s must be > 0\n");
        return 2;
    }
    research::calibration_options options;
    options.bucket_ticks = command.bucket_ticks;
    options.sample_interval_ns = static_cast<core::duration_ns>(command.interval_s * 1e9);
    const auto fitted = research::calibrate_captures(command.data, command.symbol, options);
    if (!fitted) {
        std::fprintf(stderr, "quoter calibrate: %s\n", fitted.error().c_str());
        return 1;
    }
    std::vector<std::string> sources;
    for (const auto& path : command.data) {
        sources.push_back(std::filesystem::path(path).filename().string());
    }
    const std::string text = research::calibration_toml(*fitted, sources);
    if (command.out_path.empty()) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        return 0;
    }
    std::ofstream out(command.out_path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
        std::fprintf(stderr, "quoter calibrate: cannot write %s\n", command.out_path.c_str());
        return 1;
    }
    const auto& c = *fitted;
    std::fprintf(stderr,
                 "quoter calibrate: %s over %.1f s: tick %s, step %s, sigma %.6g per sqrt(s) "
                 "(%.3g relative), A %.6g/s, k %.6g per price unit (R^2 %.3f); wrote %s\n",
                 c.symbol.c_str(), c.duration_s, c.tick_text.c_str(), c.step_text.c_str(),
                 c.sigma_abs_per_sqrt_s, c.sigma_rel_per_sqrt_s, c.a_per_s, c.k_per_price_unit,
                 c.fit_r2, command.out_path.c_str());
    return 0;
}

} // namespace quoter::app
