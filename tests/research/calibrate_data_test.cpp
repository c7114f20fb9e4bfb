// `quoter calibrate` on the shared Binance capture: the fragment it writes passes
// `quoter config check` on its own and merged into config/sim.toml in place of its tables.
#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

/// config/sim.toml without the tables the fragment sets, then the fragment.
std::string merged(const std::string& base, const std::string& fragment) {
    const std::set<std::string> replaced = {"[symbol]", "[market]", "[strategy.volatility]",
                                            "[strategy.intensity]"};
    std::stringstream in(base);
    std::string out;
    bool skipping = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("[")) {
            skipping = replaced.contains(line.substr(0, line.find(']') + 1));
        }
        if (!skipping) {
            out += line + "\n";
        }
    }
    return out + "\n" + fragment;
}

std::string value_of(const std::string& text, const std::string& key) {
    std::stringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(key + " = ")) {
            return line.substr(key.size() + 3,
                               line.find_first_of(" #", key.size() + 3) - (key.size() + 3));
        }
    }
    return {};
}

} // namespace

TEST_CASE("calibrate a real capture into a fragment config check accepts",
          "[research][calibrate][data]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    const std::string capture = (fs::path(folder) / "spot-btcusdt-20240808.gz").string();
    quoter::test::temp_dir dir("calibrate-data");
    const fs::path fragment_path = dir.path() / "btc.toml";
    const auto run = quoter::test::run_to_end(
        QUOTER_EXE, {"calibrate", "--data", capture, "--out", fragment_path.string()});
    INFO(run.err);
    REQUIRE(run.status == 0);
    const std::string fragment = quoter::test::slurp(fragment_path);
    CHECK(value_of(fragment, "tick_size") == "\"0.01\"");
    CHECK(value_of(fragment, "step_size") == "\"0.00001\"");
    // BTCUSDT on 2024-08-08: a one-tick spread most of the time, a few USDT per sqrt(s).
    CHECK(value_of(fragment, "spread_ticks") == "1");
    const double sigma = std::stod(value_of(fragment, "walk_sigma_per_sqrt_s"));
    CHECK(sigma > 1.0);
    CHECK(sigma < 50.0);
    CHECK(std::stod(value_of(fragment, "k_per_price_unit")) > 0.0);
    CHECK(std::stod(value_of(fragment, "a_per_s")) > 0.0);

    const auto alone =
        quoter::test::run_to_end(QUOTER_EXE, {"config", "check", fragment_path.string()});
    INFO(alone.out << alone.err);
    CHECK(alone.status == 0);

    const std::string base =
        quoter::test::slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const fs::path merged_path = dir.path() / "sim-btc.toml";
    std::ofstream(merged_path) << merged(base, fragment);
    const auto check =
        quoter::test::run_to_end(QUOTER_EXE, {"config", "check", merged_path.string()});
    INFO(check.out << check.err);
    CHECK(check.status == 0);
    CHECK(check.out.find("k_per_price_unit") != std::string::npos);
}

TEST_CASE("calibrate refuses a file that is not a capture", "[research][calibrate]") {
    quoter::test::temp_dir dir("calibrate-bad");
    const fs::path junk = dir.path() / "junk.txt";
    std::ofstream(junk) << "not a capture\n";
    const auto run = quoter::test::run_to_end(QUOTER_EXE, {"calibrate", "--data", junk.string()});
    CHECK(run.status == 1);
    CHECK(run.err.find("bookTicker") != std::string::npos);
}

TEST_CASE("calibrate --symbol on captures without that symbol says so",
          "[research][calibrate][data]") {
    const std::string folder = quoter::test::require_captures({"spot-ethusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    const std::string capture = (fs::path(folder) / "spot-ethusdt-20240808.gz").string();
    const auto run = quoter::test::run_to_end(
        QUOTER_EXE, {"calibrate", "--data", capture, "--symbol", "BTCUSDT"});
    CHECK(run.status == 1);
    CHECK(run.err.find("the captures hold no BTCUSDT messages") != std::string::npos);
}
