// `quoter sweep` over recorded captures: --data units and the walk-forward of --train/--test.
#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

namespace {

/// The first `lines` lines of a capture, as a gzip file in `dir`.
std::string capture_slice(const std::string& capture, std::size_t lines, const fs::path& dir,
                          const std::string& name) {
    const std::string out = (dir / name).string();
    const auto r = quoter::test::run_to_end(
        "/bin/sh", {"-c", "gzip -dc \"$0\" | head -n \"$1\" | gzip -c > \"$2\"", capture,
                    std::to_string(lines), out});
    REQUIRE(r.status == 0);
    return out;
}

/// The first 3,000 lines of the BTCUSDT and ETHUSDT captures in `dir`, for sweeps over both.
struct btc_and_eth_slices {
    std::string btc;
    std::string eth;
};

btc_and_eth_slices slice_btc_and_eth(const std::string& folder, const fs::path& dir) {
    return {capture_slice((fs::path(folder) / "spot-btcusdt-20240808.gz").string(), 3000, dir,
                          "btc.gz"),
            capture_slice((fs::path(folder) / "spot-ethusdt-20240808.gz").string(), 3000, dir,
                          "eth.gz")};
}

/// The cell `column` of the markdown row starting with `prefix`; empty when there is none.
std::string cell_of(const std::string& table, const std::string& prefix, std::size_t column) {
    std::stringstream lines(table);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with(prefix)) {
            const auto c = cells(line);
            return column < c.size() ? c[column] : std::string();
        }
    }
    return {};
}

} // namespace

TEST_CASE("rolling walk-forward folds over a capture", "[research][sweep][data][folds]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    quoter::test::temp_dir dir("sweep-folds");
    const std::string capture = capture_slice(
        (fs::path(folder) / "spot-btcusdt-20240808.gz").string(), 16000, dir.path(), "slice.gz");
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml").string();
    const auto sweep = [&](std::vector<std::string> extra, const std::string& out) {
        std::vector<std::string> args{"sweep",
                                      "-c",
                                      config,
                                      "--set",
                                      "strategy.linear.spread_bps=1,5,20",
                                      "--data",
                                      capture,
                                      "--out",
                                      (dir.path() / out).string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return quoter::test::run_to_end(QUOTER_EXE, args);
    };
    // 3 folds, half of each window training: train 0-25 %, test 25-50 %; ...; test 75-100 %.
    const auto r = sweep({"--folds", "3", "--split", "0.5"}, "a");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const std::string table = quoter::test::slurp(dir.path() / "a" / "walkforward.md");
    CHECK_THAT(table, Catch::Contains("3 rolling folds over 1 capture"));
    CHECK(cell_of(table, "| 1 |", 2) == " 0.0–25.0 % ");
    CHECK(cell_of(table, "| 3 |", 3) == " 75.0–100.0 % ");
    CHECK_THAT(table, Catch::Contains("## Out of sample"));
    for (const char* fold : {"fold1", "fold2", "fold3"}) {
        CHECK(fs::exists(dir.path() / "a" / fold / "ranking.md"));
        CHECK(fs::exists(dir.path() / "a" / fold / "best.toml"));
    }
    const std::string json = quoter::test::slurp(dir.path() / "a" / "walkforward.json");
    CHECK_THAT(json, Catch::Contains("\"folds\": 3"));
    CHECK_THAT(json, Catch::Contains("\"out_of_sample\""));
    // Each fold's chosen trial is the best of that fold's ranking.
    for (const char* fold : {"1", "2", "3"}) {
        const std::string ranking =
            quoter::test::slurp(dir.path() / "a" / (std::string("fold") + fold) / "ranking.md");
        CHECK(cell_of(ranking, "| 1 |", 2) == cell_of(table, std::string("| ") + fold + " |", 4));
    }
    // The last fold's test window is the last quarter of the capture: the chosen parameters'
    // test PnL there is what a time split at 75 % reports for the same trial.
    const std::string chosen = cell_of(table, "| 3 |", 4);
    const auto split = sweep({"--split", "0.75"}, "s");
    REQUIRE(split.status == 0);
    const std::string split_table = quoter::test::slurp(dir.path() / "s" / "walkforward.md");
    std::string split_test_pnl;
    {
        std::stringstream lines(split_table);
        for (std::string line; std::getline(lines, line);) {
            const auto c = cells(line);
            if (c.size() > 8 && c[2] == chosen && line.starts_with("| ") &&
                c[1] != " train rank ") {
                split_test_pnl = c[7];
            }
        }
    }
    REQUIRE_FALSE(split_test_pnl.empty());
    const auto pnl_test = [](const std::string& pm) { return pm.substr(0, pm.find(" ±")) + " "; };
    CHECK(pnl_test(split_test_pnl) == cell_of(table, "| 3 |", 8));
    // Deterministic; anchored folds are another walk-forward with the same test windows.
    REQUIRE(sweep({"--folds", "3", "--split", "0.5"}, "b").status == 0);
    CHECK(quoter::test::slurp(dir.path() / "b" / "walkforward.json") == json);
    const auto anchored = sweep({"--folds", "3", "--split", "0.5", "--anchored"}, "c");
    REQUIRE(anchored.status == 0);
    const std::string anchored_table = quoter::test::slurp(dir.path() / "c" / "walkforward.md");
    CHECK_THAT(anchored_table, Catch::Contains("3 anchored folds"));
    CHECK(cell_of(anchored_table, "| 3 |", 2) == " 0.0–75.0 % ");
    CHECK(cell_of(anchored_table, "| 3 |", 3) == " 75.0–100.0 % ");
}

TEST_CASE("walk-forward folds refuse what they cannot run", "[research][sweep][data][folds]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    quoter::test::temp_dir dir("sweep-folds-bad");
    const std::string capture = capture_slice(
        (fs::path(folder) / "spot-btcusdt-20240808.gz").string(), 2000, dir.path(), "slice.gz");
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml").string();
    const auto sweep = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"sweep",
                                      "-c",
                                      config,
                                      "--set",
                                      "strategy.linear.spread_bps=1,5",
                                      "--out",
                                      (dir.path() / "out").string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return quoter::test::run_to_end(QUOTER_EXE, args);
    };
    const auto refused = [&](std::vector<std::string> extra, const std::string& message) {
        const auto r = sweep(std::move(extra));
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains(message));
    };
    refused({"--data", capture, "--folds", "1"}, "a walk-forward needs at least 2 folds");
    refused({"--data", capture, "--folds", "3", "--paths", "2"}, "leave out --paths");
    refused({"--train", capture, "--test", capture, "--folds", "3"},
            "--folds (or sweep.folds) cuts the --data captures in time; --train/--test name "
            "separate captures");
    refused({"--data", capture, "--folds", "3", "--shard", "0/2"}, "it does not shard");
    refused({"--folds", "3"}, "--folds divides captures in time: give them with --data");
    refused({"--data", capture, "--anchored"}, "--anchored applies to walk-forward folds");
    // 2000 lines in 50 folds: each test window holds a few dozen lines.
    refused({"--data", capture, "--folds", "50"}, "capture lines, fewer than 100: give fewer "
                                                  "folds or a larger --split");
    CHECK_FALSE(fs::exists(dir.path() / "out" / "fold1"));
}

TEST_CASE("split and folds as [sweep] keys; the command line wins",
          "[research][sweep][data][folds]") {
    const std::string folder = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    quoter::test::temp_dir dir("sweep-folds-table");
    capture_slice((fs::path(folder) / "spot-btcusdt-20240808.gz").string(), 16000, dir.path(),
                  "slice.gz");
    const std::string base =
        quoter::test::slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const auto file = dir.write("wf.toml", base + R"(
[sweep]
data = ["slice.gz"]
split = 0.5
folds = 3

[sweep.set]
"strategy.linear.spread_bps" = [1, 5]
)");
    const auto check = quoter::test::run_to_end(QUOTER_EXE, {"config", "check", file.string()});
    INFO(check.out << check.err);
    CHECK(check.status == 0);
    CHECK_THAT(check.out, Catch::Contains("# sweep: 2 trials over strategy.linear.spread_bps; "
                                          "each on 1 capture in 3 rolling walk-forward folds "
                                          "(50 % of each window training)"));
    const auto table = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", file.string(), "--out", (dir.path() / "t").string()});
    INFO(table.out << table.err);
    REQUIRE(table.status == 0);
    const std::string walk = quoter::test::slurp(dir.path() / "t" / "walkforward.md");
    CHECK_THAT(walk, Catch::Contains("3 rolling folds over 1 capture: each fold's window is 50 % "
                                     "training"));
    const auto wins =
        quoter::test::run_to_end(QUOTER_EXE, {"sweep", "-c", file.string(), "--folds", "2",
                                              "--anchored", "--out", (dir.path() / "c").string()});
    INFO(wins.out << wins.err);
    REQUIRE(wins.status == 0);
    CHECK_THAT(
        quoter::test::slurp(dir.path() / "c" / "walkforward.md"),
        Catch::Contains("2 anchored folds over 1 capture: the first fold's window is 50 % "));
    // Without folds the table's split is a single time split.
    const auto split = dir.write("split.toml", base + R"(
[sweep]
data = ["slice.gz"]
split = 0.6

[sweep.set]
"strategy.linear.spread_bps" = [1, 5]
)");
    const auto s = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", split.string(), "--out", (dir.path() / "s").string()});
    INFO(s.out << s.err);
    REQUIRE(s.status == 0);
    CHECK_THAT(quoter::test::slurp(dir.path() / "s" / "walkforward.md"),
               Catch::Contains("train on the first 60 %"));
    const auto s2 =
        quoter::test::run_to_end(QUOTER_EXE, {"sweep", "-c", split.string(), "--split", "0.8",
                                              "--out", (dir.path() / "s2").string()});
    REQUIRE(s2.status == 0);
    CHECK_THAT(quoter::test::slurp(dir.path() / "s2" / "walkforward.md"),
               Catch::Contains("train on the first 80 %"));
}

TEST_CASE("a capture a trial cannot replay stops the sweep with its reason",
          "[research][sweep][data]") {
    const std::string folder =
        quoter::test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    quoter::test::temp_dir dir("sweep-bad-unit");
    const auto [btc, eth] = slice_btc_and_eth(folder, dir.path());
    const std::string config = (fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml").string();
    // The configuration trades BTCUSDT: the ETHUSDT capture holds none of its market data.
    const auto r = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config, "--set", "strategy.linear.spread_bps=1,5", "--data",
                     btc, eth, "--out", (dir.path() / "out").string()});
    INFO(r.out << r.err);
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("quoter sweep: replay of " + eth +
                                      ": no market data for the registered symbols"));
}

TEST_CASE("a sweep of several symbols replays each capture with the symbol it holds",
          "[research][sweep][data]") {
    const std::string folder =
        quoter::test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    quoter::test::temp_dir dir("sweep-symbols");
    const auto [btc, eth] = slice_btc_and_eth(folder, dir.path());
    // config/sim.toml with both shared symbols in engine.symbols (its own comment's example).
    std::string text = quoter::test::slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const std::string named = "symbol = \"BTCUSDT\"\n";
    REQUIRE(text.find(named) != std::string::npos);
    text.replace(text.find(named), named.size(), "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\n");
    text += "\n[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\nstep_size = \"0.0001\"\n";
    const fs::path config = dir.path() / "two.toml";
    { std::ofstream(config) << text; }
    const auto r = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config.string(), "--set", "strategy.linear.spread_bps=1,5",
                     "--data", btc, eth, "--out", (dir.path() / "out").string()});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("2 trials x 2 units") != std::string::npos);
    const std::string csv = quoter::test::slurp(dir.path() / "out" / "trials.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);

    // A capture of a symbol the configuration does not name stops the sweep before it runs.
    text.replace(text.find("\"ETHUSDT\"]"), 10, "\"SOLUSDT\"]");
    text.replace(text.rfind("[symbol.ETHUSDT]"), 16, "[symbol.SOLUSDT]");
    { std::ofstream(config) << text; }
    const auto bad = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", config.string(), "--set", "strategy.linear.spread_bps=1,5",
                     "--data", btc, eth, "--out", (dir.path() / "bad").string()});
    INFO(bad.out << bad.err);
    CHECK(bad.status != 0);
    CHECK_THAT(bad.err, Catch::Contains("holds market data for ETHUSDT, none of the symbols"));
}

TEST_CASE("a sweep of a configuration without [market] runs on a market fitted to a capture",
          "[research][sweep][data]") {
    const std::string folder =
        quoter::test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (folder.empty()) {
        return;
    }
    const std::string btc = (fs::path(folder) / "spot-btcusdt-20240808.gz").string();
    const std::string eth = (fs::path(folder) / "spot-ethusdt-20240808.gz").string();
    quoter::test::temp_dir dir("sweep-market-from");
    const std::string paper = (fs::path(QUOTER_SOURCE_DIR) / "config" / "paper.toml").string();
    const std::string out = (dir.path() / "out").string();
    const auto sweep = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{
            "sweep",   "-c", paper,   "--set", "strategy.linear.spread_bps=0.5,10",
            "--paths", "2",  "--out", out};
        args.insert(args.end(), extra.begin(), extra.end());
        return quoter::test::run_to_end(QUOTER_EXE, args);
    };
    const auto fitted = sweep({"--market-from", btc});
    INFO(fitted.out << fitted.err);
    REQUIRE(fitted.status == 0);
    // Fitted once, printed once, for both trials.
    const std::string line = "quoter sweep: BTCUSDT: synthetic market fitted to 346.1 s of";
    CHECK(fitted.err.find(line) != std::string::npos);
    CHECK(fitted.err.find(line) == fitted.err.rfind(line));
    CHECK(fitted.out.find("2 trials x 2 units") != std::string::npos);
    const std::string csv = quoter::test::slurp(fs::path(out) / "trials.csv");
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 3);

    // Other captures make another market: a resume does not mix the two sweeps' trials.
    const auto other = sweep({"--market-from", btc, eth, "--resume"});
    CHECK(other.status == 2);
    CHECK(other.err.find("is from another sweep") != std::string::npos);
    const auto same = sweep({"--market-from", btc, "--resume"});
    CHECK(same.status == 0);

    // Only synthetic paths have a market to fit.
    const auto replay = quoter::test::run_to_end(
        QUOTER_EXE, {"sweep", "-c", paper, "--set", "strategy.linear.spread_bps=0.5,10", "--data",
                     btc, "--market-from", btc, "--out", (dir.path() / "replay").string()});
    CHECK(replay.status == 2);
    CHECK(replay.err.find("--market-from fits the market of the synthetic paths") !=
          std::string::npos);
}
