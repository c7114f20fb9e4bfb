// `quoter sweep` over recorded captures: --data units and the walk-forward of --train/--test.
#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> cells(const std::string& row) {
    std::vector<std::string> out;
    std::stringstream stream(row);
    for (std::string cell; std::getline(stream, cell, '|');) {
        out.push_back(cell);
    }
    return out;
}

} // namespace

TEST_CASE("a sweep over a capture, and its walk-forward", "[research][sweep][data]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    const std::string capture = (fs::path(folder) / "spot-btcusdt-20240808.gz").string();
    quoter::test::temp_dir dir("sweep-data");
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml").string();

    const auto data = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config, "--set", "strategy.linear.spread_bps=5,20", "--data",
                     capture, "--out", (dir.path() / "data").string()});
    INFO(data.err);
    REQUIRE(data.status == 0);
    CHECK(data.out.find("2 trials x 1 unit") != std::string::npos);
    const std::string csv = quoter::test::slurp(dir.path() / "data" / "trials.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);

    // Training and test on the same capture: each candidate's test result equals its training
    // result, which checks that the test run uses the candidate's parameters.
    const auto walk = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config, "--set", "strategy.linear.spread_bps=5,20", "--train",
                     capture, "--test", capture, "--out", (dir.path() / "wf").string()});
    INFO(walk.err);
    REQUIRE(walk.status == 0);
    const std::string table = quoter::test::slurp(dir.path() / "wf" / "walkforward.md");
    std::stringstream lines(table);
    int rows = 0;
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("| 1 |") && !line.starts_with("| 2 |")) {
            continue;
        }
        ++rows;
        const auto c = cells(line);
        REQUIRE(c.size() >= 12);
        // | rank | trial | key | obj train | obj test | PnL train | PnL test | ...
        CHECK(c[4] == c[5]);
        CHECK(c[6] == c[7]);
    }
    CHECK(rows == 2);
    // The two spreads differ, so do their results: the columns are not all one trial's.
    CHECK(table.find("| 1 | 0 | 5 |") != std::string::npos);
}

TEST_CASE("walk-forward on a time split of one capture", "[research][sweep][data]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    const std::string capture = (fs::path(folder) / "spot-btcusdt-20240808.gz").string();
    quoter::test::temp_dir dir("sweep-split");
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml").string();
    const auto sweep = [&](const std::string& split, const std::string& out) {
        return quoter::test::run_to_end(QUOTER_EXE,
                                        {"sweep", "-c", config, "--set",
                                         "strategy.linear.spread_bps=1,5,20", "--data", capture,
                                         "--split", split, "--out", (dir.path() / out).string()});
    };
    const auto r = sweep("0.7", "a");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("3 trials x 1 unit") != std::string::npos);
    const std::string table = quoter::test::slurp(dir.path() / "a" / "walkforward.md");
    CHECK(table.find("Time split of 1 capture: train on the first 70 %") != std::string::npos);
    CHECK(quoter::test::slurp(dir.path() / "a" / "ranking.md")
              .find("each on 1 capture (the first 70 % of its time)") != std::string::npos);
    // Every trial ranked on train appears with its test result; train and test are different
    // stretches of the market, so their results differ.
    std::stringstream lines(table);
    int rows = 0;
    int differ = 0;
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("| 1 |") && !line.starts_with("| 2 |") &&
            !line.starts_with("| 3 |")) {
            continue;
        }
        ++rows;
        const auto c = cells(line);
        REQUIRE(c.size() >= 12);
        CHECK(c[7] != " - "); // a test PnL for each
        differ += c[6] != c[7] ? 1 : 0;
    }
    CHECK(rows == 3);
    CHECK(differ >= 1);
    // The split is part of what the results are: another split is another sweep.
    const auto other = sweep("0.5", "b");
    REQUIRE(other.status == 0);
    const auto fingerprint = [&](const char* out) {
        const std::string json = quoter::test::slurp(dir.path() / out / "trials.json");
        const auto at = json.find("\"fingerprint\": ");
        return json.substr(at, json.find(',', at) - at);
    };
    CHECK(fingerprint("a") != fingerprint("b"));
    // Deterministic.
    REQUIRE(sweep("0.7", "c").status == 0);
    CHECK(quoter::test::slurp(dir.path() / "a" / "walkforward.md") ==
          quoter::test::slurp(dir.path() / "c" / "walkforward.md"));
}
