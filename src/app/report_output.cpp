#include "report_output.hpp"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <string_view>
#include <system_error>
#include <vector>

namespace quoter::app {

std::string signed_money(double value) {
    return fmt::format("{:+.4f}", value);
}

sim::report_provenance report_provenance_for(const std::string& config_path) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    (void)::gmtime_r(&now, &utc);
    std::array<char, 32> date{};
    const std::size_t length =
        std::strftime(date.data(), date.size(), "%Y-%m-%d %H:%M:%S UTC", &utc);
    return {.config_file = config_path,
            .version = QUOTER_VERSION,
            .generated = std::string(date.data(), length)};
}

void print_alert_summary(std::span<const sim::report_alert> alerts) {
    if (alerts.empty()) {
        return;
    }
    std::uint64_t total = 0;
    std::string kinds;
    for (const sim::report_alert& a : alerts) {
        total += a.count;
        kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", a.kind, a.count);
    }
    std::printf("  alerts %llu: %s\n", static_cast<unsigned long long>(total), kinds.c_str());
    for (const sim::report_alert& a : alerts) {
        std::string examples;
        for (const std::string& example : a.examples) {
            examples += (examples.empty() ? "" : "; ") + example;
        }
        std::printf("    %s%s: %s\n", a.kind.c_str(), a.count > a.examples.size() ? ", first" : "",
                    examples.c_str());
    }
}

bool remove_earlier_report(const std::filesystem::path& out_dir) {
    constexpr std::array<std::string_view, 7> files{"pnl.csv",     "fills.csv", "orders.csv",
                                                    "report.json", "report.md", "report.html",
                                                    "paths.csv"};
    std::error_code error;
    for (const std::string_view name : files) {
        const auto path = out_dir / name;
        if (std::filesystem::remove(path, error); error) {
            std::fprintf(stderr, "quoter backtest: cannot remove %s: %s\n", path.c_str(),
                         error.message().c_str());
            return false;
        }
    }
    // path_0 of a multi-path run, and the per-symbol folders of a many-symbol run: every
    // sub-folder that holds a report.
    std::vector<std::filesystem::path> folders{out_dir / "path_0"};
    for (std::filesystem::directory_iterator it(out_dir, error), end; !error && it != end;
         it.increment(error)) {
        if (it->is_directory() && std::filesystem::exists(it->path() / "report.json")) {
            folders.push_back(it->path());
        }
    }
    error.clear();
    for (const auto& folder : folders) {
        if (std::filesystem::remove_all(folder, error); error) {
            std::fprintf(stderr, "quoter backtest: cannot remove %s: %s\n", folder.c_str(),
                         error.message().c_str());
            return false;
        }
    }
    return true;
}

} // namespace quoter::app
