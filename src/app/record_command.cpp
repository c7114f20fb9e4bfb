#include "record_command.hpp"

#include "live_settings.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/live/recorder.hpp"
#include "stop_signals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace quoter::app {
namespace {

constexpr int exit_run_failed = 1;
constexpr int exit_invalid_input = 2;

/// Splits "btcusdt, ethusdt" into names; empty optional when a name is empty or not alphanumeric.
std::optional<std::vector<std::string>> parse_symbols(const std::string& text) {
    std::vector<std::string> out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t comma = std::min(text.find(',', begin), text.size());
        std::string name = text.substr(begin, comma - begin);
        name.erase(0, name.find_first_not_of(" \t"));
        name.erase(name.find_last_not_of(" \t") + 1);
        const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0;
        });
        if (!valid) {
            return std::nullopt;
        }
        out.push_back(std::move(name));
        begin = comma + 1;
    }
    return out;
}

} // namespace

int run_record_command(const record_command& command) {
    const auto symbols = parse_symbols(command.symbols);
    if (!symbols) {
        std::fprintf(stderr,
                     "quoter record: invalid --symbols '%s': expected comma-separated names "
                     "such as btcusdt,ethusdt\n",
                     command.symbols.c_str());
        return exit_invalid_input;
    }
    std::error_code ec;
    const std::filesystem::path out_dir = command.out_dir;
    if (std::filesystem::exists(out_dir, ec) && !std::filesystem::is_directory(out_dir, ec)) {
        std::fprintf(stderr, "quoter record: --out %s exists and is not a folder\n",
                     command.out_dir.c_str());
        return exit_invalid_input;
    }
    std::filesystem::create_directories(out_dir, ec);
    if (ec || !std::filesystem::is_directory(out_dir)) {
        std::fprintf(stderr, "quoter record: cannot create --out %s: %s\n", command.out_dir.c_str(),
                     ec ? ec.message().c_str() : "not a folder");
        return exit_invalid_input;
    }

    net::binance_endpoints urls = net::binance_mainnet();
    live::recorder_config config;
    config.subscription.venue = md::market::spot;
    if (!command.config_path.empty()) {
        const auto loaded = load_config_for_command(command.config_path, {}, {}, "record");
        if (!loaded) {
            return exit_invalid_input;
        }
        urls = market_endpoints(*loaded);
        apply_market_data(*loaded, config.subscription, config.session);
    }
    const stop_signals signals;
    config.stop_flag = &stop_signalled;
    config.log = [](std::string_view line) {
        std::fprintf(stderr, "record: %.*s\n", static_cast<int>(line.size()), line.data());
    };
    const auto duration = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::max(command.duration_s, 0.0) * 1000.0));
    const std::string& stream_url =
        config.subscription.venue == md::market::spot ? urls.spot_ws : urls.futures_public_ws;
    std::fprintf(
        stderr, "quoter record: %zu symbol%s from %s into %s%s; Ctrl-C stops\n", symbols->size(),
        symbols->size() == 1 ? "" : "s", stream_url.c_str(), command.out_dir.c_str(),
        command.duration_s > 0 ? fmt::format(" for {:g} s", command.duration_s).c_str() : "");
    std::fflush(stderr);

    const auto recorded = live::run_recorder(*symbols, command.out_dir, duration, urls, config);
    if (!recorded) {
        const live::record_error error = recorded.error();
        std::fprintf(stderr, "quoter record: %s\n", std::string(describe(error)).c_str());
        return error == live::record_error::no_symbols ||
                       error == live::record_error::bad_directory ||
                       error == live::record_error::instruments
                   ? exit_invalid_input
                   : exit_run_failed;
    }
    const live::record_summary& summary = *recorded;
    std::size_t files = 0;
    std::uint64_t lines = 0;
    std::uint64_t snapshots = 0;
    for (const auto& symbol : summary.symbols) {
        files += symbol.files.size();
        lines += symbol.lines;
        snapshots += symbol.snapshots;
    }
    std::printf("quoter record: %zu file%s, %llu lines, %llu snapshots, %llu messages "
                "(%llu malformed, %llu reconnects)%s\n",
                files, files == 1 ? "" : "s", static_cast<unsigned long long>(lines),
                static_cast<unsigned long long>(snapshots),
                static_cast<unsigned long long>(summary.messages),
                static_cast<unsigned long long>(summary.malformed),
                static_cast<unsigned long long>(summary.reconnects),
                stop_signalled.load() ? ", stopped by signal" : "");
    for (const auto& symbol : summary.symbols) {
        std::printf("  %s: %llu lines, %llu snapshots, %llu gaps, final state %s\n",
                    symbol.name.c_str(), static_cast<unsigned long long>(symbol.lines),
                    static_cast<unsigned long long>(symbol.snapshots),
                    static_cast<unsigned long long>(symbol.gaps),
                    std::string(md::to_string(symbol.final_state)).c_str());
        for (const auto& file : symbol.files) {
            std::printf("    %s\n", file.c_str());
        }
    }
    if (!summary.exchange_info_path.empty()) {
        std::printf("  exchangeInfo: %s\n", summary.exchange_info_path.c_str());
    }
    return 0;
}

} // namespace quoter::app
