// `quoter sweep` end to end, through the real binary: the report files, clear failures,
// determinism over thread counts, resume, Ctrl-C, shards merged (also through GNU parallel).
#include "support/child_process.hpp"
#include "support/ci.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using quoter::test::run_result;
using quoter::test::slurp;
using quoter::test::temp_dir;

namespace {

/// config/sim.toml with a short simulated run, so that a test sweep stays small.
fs::path short_config(const temp_dir& dir, std::string_view duration = "20.0") {
    std::string text = slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const std::string from = "duration_s = 3600.0";
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), "duration_s = " + std::string(duration));
    return dir.write("sim.toml", text);
}

run_result run_quoter(const std::vector<std::string>& args) {
    return quoter::test::run_to_end(QUOTER_EXE, args, {}, std::chrono::seconds(300));
}

std::vector<std::string> sweep_args(const fs::path& config, const fs::path& out) {
    return {"sweep",
            "-c",
            config.string(),
            "--set",
            "strategy.linear.spread_bps=6,12",
            "--range",
            "strategy.order_size_pct=0.5:1.0:0.5",
            "--paths",
            "2",
            "--out",
            out.string()};
}

std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

/// The report files that must not depend on how the sweep was run.
void require_same_report(const fs::path& a, const fs::path& b) {
    for (const char* name :
         {"trials.csv", "trials.json", "ranking.md", "report.html", "best.toml"}) {
        INFO(name);
        const std::string left = slurp(a / name);
        REQUIRE_FALSE(left.empty());
        CHECK(left == slurp(b / name));
    }
}

std::size_t line_count(const fs::path& file) {
    const std::string text = slurp(file);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST_CASE("a sweep over two keys writes every report file, the same for any thread count",
          "[research][sweep]") {
    temp_dir dir("sweep-cmd");
    const auto config = short_config(dir);
    const auto one = run_quoter(with(sweep_args(config, dir.path() / "one"), {"--threads", "1"}));
    INFO(one.err);
    REQUIRE(one.status == 0);
    CHECK(one.out.find("4 trials x 2 units") != std::string::npos);
    CHECK(one.out.find("trials/s") != std::string::npos);
    const auto two = run_quoter(with(sweep_args(config, dir.path() / "two"), {"--threads", "3"}));
    REQUIRE(two.status == 0);
    require_same_report(dir.path() / "one", dir.path() / "two");

    const std::string csv = slurp(dir.path() / "one" / "trials.csv");
    CHECK(line_count(dir.path() / "one" / "trials.csv") == 5);
    CHECK(csv.find("total_pnl_mean,total_pnl_sd,total_pnl_min,total_pnl_p05") != std::string::npos);
    CHECK(slurp(dir.path() / "one" / "report.html").find("over the two swept keys") !=
          std::string::npos);

    const auto check = run_quoter({"config", "check", (dir.path() / "one" / "best.toml").string()});
    INFO(check.err);
    CHECK(check.status == 0);
}

TEST_CASE("bad sweeps fail before running, saying why", "[research][sweep]") {
    temp_dir dir("sweep-bad");
    const auto config = short_config(dir);
    const auto key = run_quoter({"sweep", "-c", config.string(), "--set",
                                 "strategy.linear.sprad_bps=1,2", "--out", dir.path().string()});
    CHECK(key.status == 2);
    CHECK(key.err.find("strategy.linear.sprad_bps: unknown key; did you mean "
                       "strategy.linear.spread_bps?") != std::string::npos);
    const auto value = run_quoter({"sweep", "-c", config.string(), "--set",
                                   "strategy.model=linear,x", "--out", dir.path().string()});
    CHECK(value.status == 2);
    CHECK(value.err.find("trial 1") != std::string::npos);
    CHECK(value.err.find("strategy.model") != std::string::npos);
    const auto nothing = run_quoter({"sweep", "-c", config.string(), "--out", dir.path().string()});
    CHECK(nothing.status == 2);
    CHECK(nothing.err.find("nothing to sweep") != std::string::npos);
    // A time split needs captures, a share strictly between 0 and 1, and no --train/--test.
    const auto split = run_quoter(with(sweep_args(config, dir.path()), {"--split", "0.7"}));
    CHECK(split.status == 2);
    CHECK_THAT(split.err, Catch::Contains("--split divides captures in time: give them with "
                                          "--data"));
    const auto share = run_quoter(with(sweep_args(config, dir.path()), {"--split", "1.5"}));
    CHECK(share.status == 2);
    CHECK_THAT(share.err, Catch::Contains("--split 1.5: the share of each capture's time to train "
                                          "on must lie in (0, 1)"));
    const auto shard = run_quoter(with(sweep_args(config, dir.path()), {"--shard", "2/2"}));
    CHECK(shard.status == 2);
    // A market fitted to captures replaces these keys: sweeping one would make equal trials.
    const auto fitted =
        run_quoter({"sweep", "-c", config.string(), "--set", "market.a_per_s=1,2",
                    "--market-from", "capture.gz", "--out", dir.path().string()});
    CHECK(fitted.status == 2);
    CHECK_THAT(fitted.err, Catch::Contains("--market-from fits market.a_per_s to the captures, so "
                                           "sweeping it changes nothing"));
    CHECK_FALSE(fs::exists(dir.path() / "trials.jsonl"));
}

TEST_CASE("--objective takes an expression over the metrics; errors say what and where",
          "[research][sweep]") {
    temp_dir dir("sweep-objective");
    const auto config = short_config(dir);
    const auto unknown =
        run_quoter(with(sweep_args(config, dir.path() / "a"), {"--objective", "sharpe - drawdwn"}));
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.err, Catch::Contains("--objective: unknown metric \"drawdwn\" at position "
                                            "10 of \"sharpe - drawdwn\""));
    const auto syntax =
        run_quoter(with(sweep_args(config, dir.path() / "a"), {"--objective", "(pnl - 1"}));
    CHECK(syntax.status == 2);
    CHECK_THAT(syntax.err, Catch::Contains("syntax error at position 9"));
    CHECK_FALSE(fs::exists(dir.path() / "a" / "trials.jsonl"));

    // Ranked by the expression; the lowest PnL first with its negation.
    const auto by_pnl = run_quoter(sweep_args(config, dir.path() / "pnl"));
    const auto negated =
        run_quoter(with(sweep_args(config, dir.path() / "neg"), {"--objective", "-pnl"}));
    INFO(by_pnl.err << negated.err);
    REQUIRE(by_pnl.status == 0);
    REQUIRE(negated.status == 0);
    CHECK_THAT(negated.out, Catch::Contains("objective -pnl = "));
    const auto ranking = [](const fs::path& folder) {
        const std::string json = slurp(folder / "trials.json");
        const auto begin = json.find("\"ranking\": [");
        return json.substr(begin, json.find(']', begin) - begin);
    };
    const std::string a = ranking(dir.path() / "pnl");
    const std::string b = ranking(dir.path() / "neg");
    CHECK(a != b);
    CHECK(a.substr(a.rfind(' ') + 1) == b.substr(b.find('[') + 1, b.find(',') - b.find('[') - 1));
    // Also from [sweep] objective in the file; the command line replaces it.
    const auto table = dir.write("table.toml", slurp(config) + "\n[sweep]\nobjective = \"-pnl\"\n");
    const auto from_file = run_quoter(sweep_args(table, dir.path() / "file"));
    REQUIRE(from_file.status == 0);
    CHECK(ranking(dir.path() / "file") == b);
    const auto overridden =
        run_quoter(with(sweep_args(table, dir.path() / "cli"), {"--objective", "pnl"}));
    REQUIRE(overridden.status == 0);
    CHECK(ranking(dir.path() / "cli") == a);
}

TEST_CASE("--resume runs only the trials not yet in trials.jsonl", "[research][sweep]") {
    temp_dir dir("sweep-resume");
    const auto config = short_config(dir);
    REQUIRE(run_quoter(sweep_args(config, dir.path() / "full")).status == 0);

    // A sweep stopped after its first two trials.
    fs::create_directories(dir.path() / "part");
    {
        std::ifstream in(dir.path() / "full" / "trials.jsonl");
        std::ofstream out(dir.path() / "part" / "trials.jsonl");
        std::string line;
        for (int i = 0; i < 3 && std::getline(in, line); ++i) {
            out << line << '\n';
        }
    }
    const auto resumed = run_quoter(with(sweep_args(config, dir.path() / "part"), {"--resume"}));
    INFO(resumed.err);
    REQUIRE(resumed.status == 0);
    CHECK(resumed.err.find("2 trials, 2 already done on 2 synthetic paths each") !=
          std::string::npos);
    require_same_report(dir.path() / "full", dir.path() / "part");

    // Another sweep's results are not resumed.
    const auto other =
        run_quoter(with(sweep_args(config, dir.path() / "part"), {"--resume", "--seed", "99"}));
    CHECK(other.status == 2);
    CHECK(other.err.find("from another sweep") != std::string::npos);
}

TEST_CASE("Ctrl-C keeps the finished trials; --resume completes the sweep", "[research][sweep]") {
    temp_dir dir("sweep-sigint");
    const auto config = short_config(dir, "7200.0");
    const auto out = dir.path() / "out";
    const std::vector<std::string> args{
        "sweep",   "-c", config.string(), "--range",   "strategy.linear.spread_bps=4:40:2",
        "--paths", "1",  "--out",         out.string()};
    {
        quoter::test::child_process child(QUOTER_EXE, with(args, {"--threads", "1"}));
        // Wait for two finished trials (header + 2 lines), then interrupt.
        for (int i = 0; i < 6000 && line_count(out / "trials.jsonl") < 3; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        REQUIRE(line_count(out / "trials.jsonl") >= 3);
        child.signal(SIGINT);
        const int status = child.wait(std::chrono::seconds(120));
        INFO(child.err());
        REQUIRE(status == 130);
        CHECK(child.err().find("--resume") != std::string::npos);
    }
    const std::size_t kept = line_count(out / "trials.jsonl") - 1;
    CHECK(kept >= 2);
    CHECK(kept < 19);
    const auto resumed = quoter::test::run_to_end(
        QUOTER_EXE, with(args, {"--resume", "--threads", "2"}), {}, std::chrono::seconds(300));
    INFO(resumed.err);
    REQUIRE(resumed.status == 0);
    CHECK(line_count(out / "trials.jsonl") == 20);
    CHECK(line_count(out / "trials.csv") == 20);
}

TEST_CASE("shards merge into the report of a single run", "[research][sweep]") {
    temp_dir dir("sweep-shards");
    const auto config = short_config(dir);
    REQUIRE(run_quoter(sweep_args(config, dir.path() / "single")).status == 0);
    REQUIRE(run_quoter(with(sweep_args(config, dir.path() / "s0"), {"--shard", "0/3"})).status ==
            0);
    REQUIRE(run_quoter(with(sweep_args(config, dir.path() / "s1"), {"--shard", "1/3"})).status ==
            0);
    REQUIRE(run_quoter(with(sweep_args(config, dir.path() / "s2"), {"--shard", "2/3"})).status ==
            0);
    CHECK(line_count(dir.path() / "s0" / "trials.jsonl") == 3); // trials 0 and 3

    const auto partial =
        run_quoter({"sweep", "merge", (dir.path() / "s0").string(), (dir.path() / "s1").string(),
                    "--out", (dir.path() / "partial").string()});
    CHECK(partial.status == 0);
    CHECK(partial.err.find("1 trials are missing") != std::string::npos);

    const auto merged = run_quoter(
        {"sweep", "merge", (dir.path() / "s0").string(), (dir.path() / "s1").string(),
         (dir.path() / "s2" / "trials.jsonl").string(), "--out", (dir.path() / "merged").string()});
    INFO(merged.err);
    REQUIRE(merged.status == 0);
    require_same_report(dir.path() / "single", dir.path() / "merged");

    // Shards of different sweeps do not merge.
    REQUIRE(run_quoter(with(sweep_args(config, dir.path() / "other"), {"--seed", "5"})).status ==
            0);
    const auto mixed =
        run_quoter({"sweep", "merge", (dir.path() / "s0").string(), (dir.path() / "other").string(),
                    "--out", (dir.path() / "mixed").string()});
    CHECK(mixed.status == 2);
    CHECK(mixed.err.find("different sweeps") != std::string::npos);
}

TEST_CASE("a 2-shard sweep run by GNU parallel merges to the single-process result",
          "[research][sweep][parallel]") {
    if (std::system("command -v parallel > /dev/null 2>&1") != 0) {
        quoter::test::skip_unless_ci(
            "GNU parallel is not installed (Debian package parallel; tools/setup installs it)");
        return;
    }
    temp_dir dir("sweep-parallel");
    const auto config = short_config(dir);
    REQUIRE(run_quoter(sweep_args(config, dir.path() / "single")).status == 0);
    std::vector<std::string> shard_args = sweep_args(config, dir.path() / "shard{}");
    std::vector<std::string> args{"--will-cite", "--halt", "now,fail=1", QUOTER_EXE};
    args.insert(args.end(), shard_args.begin(), shard_args.end());
    for (const char* more : {"--shard", "{}/2", "--threads", "1", ":::", "0", "1"}) {
        args.emplace_back(more);
    }
    const auto run = quoter::test::run_to_end("/usr/bin/env", with({"parallel"}, args), {},
                                              std::chrono::seconds(300));
    INFO(run.err);
    REQUIRE(run.status == 0);
    const auto merged =
        run_quoter({"sweep", "merge", (dir.path() / "shard0").string(),
                    (dir.path() / "shard1").string(), "--out", (dir.path() / "merged").string()});
    INFO(merged.err);
    REQUIRE(merged.status == 0);
    require_same_report(dir.path() / "single", dir.path() / "merged");
}

TEST_CASE("informed flow costs the market maker what the spread earns", "[research][sweep]") {
    temp_dir dir("sweep-informed");
    const auto config = short_config(dir, "600.0");
    const auto out = dir.path() / "out";
    const auto run =
        run_quoter({"sweep", "-c", config.string(), "--set", "market.informed_share=0,0.9", "--set",
                    "market.informed_impact_bps=30", "--paths", "3", "--out", out.string()});
    INFO(run.err);
    REQUIRE(run.status == 0);
    // trials.csv: the header names the columns; trial 0 is uninformed, trial 1 informed.
    std::ifstream in(out / "trials.csv");
    std::string line;
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        std::stringstream stream(line);
        for (std::string field; std::getline(stream, field, ',');) {
            fields.push_back(field);
        }
        rows.push_back(fields);
    }
    REQUIRE(rows.size() == 3);
    const auto column = [&](std::string_view name) {
        const auto it = std::find(rows[0].begin(), rows[0].end(), name);
        REQUIRE(it != rows[0].end());
        return static_cast<std::size_t>(it - rows[0].begin());
    };
    const auto value = [&](std::size_t row, std::string_view name) {
        return std::stod(rows[row][column(name)]);
    };
    CHECK(rows[1][column("market.informed_share")] == "0");
    CHECK(rows[2][column("market.informed_share")] == "0.9");
    // Informed hits move the mid against the fill: the inventory loses, the total falls.
    CHECK(value(2, "inventory_pnl_mean") < value(1, "inventory_pnl_mean"));
    CHECK(value(2, "total_pnl_mean") < value(1, "total_pnl_mean"));
    CHECK(value(2, "sharpe_mean") < value(1, "sharpe_mean"));
    CHECK(value(1, "total_pnl_mean") > 0.0);
}

TEST_CASE("a sweep of several symbols runs them all in one loop, each under its own limits, and "
          "ranks the portfolio that `quoter backtest` reports",
          "[research][sweep]") {
    temp_dir dir("sweep-symbols");
    std::string text = slurp(short_config(dir, "60.0"));
    const std::string single = "symbol = \"BTCUSDT\"\n";
    const auto at = text.find(single);
    REQUIRE(at != std::string::npos);
    text.replace(at, single.size(), "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\n");
    // BTCUSDT's own limit refuses every order it would send: only ETHUSDT trades.
    text += "\n[symbol.BTCUSDT]\n\n[symbol.BTCUSDT.risk]\norder_notional_pct = 0.001\n\n"
            "[symbol.ETHUSDT]\nstep_size = \"0.0001\"\nstart_price = 3000.0\n";
    const auto config = dir.write("two.toml", text);
    const auto backtest = run_quoter({"backtest", "-c", config.string(), "--seed", "5", "--out",
                                      (dir.path() / "backtest").string()});
    INFO(backtest.out << backtest.err);
    REQUIRE(backtest.status == 0);
    const auto sweep = run_quoter({"sweep", "-c", config.string(), "--set",
                                   "strategy.order_size_pct=1", "--paths", "1", "--seed", "5",
                                   "--out", (dir.path() / "sweep").string()});
    INFO(sweep.err);
    REQUIRE(sweep.status == 0);
    // The portfolio's fills and orders in report.json, against the sweep's trial (1 path: the
    // mean is the path's). Before, the sweep ran BTCUSDT alone under [risk]: it traded, and
    // ETHUSDT never ran.
    const std::string report = slurp(dir.path() / "backtest" / "report.json");
    const auto metric = [&](std::string_view key) {
        const std::string quoted = "\"" + std::string(key) + "\":";
        const auto where = report.find(quoted);
        REQUIRE(where != std::string::npos);
        return std::stod(report.substr(where + quoted.size()));
    };
    std::ifstream in(dir.path() / "sweep" / "trials.csv");
    std::string header;
    std::string row;
    REQUIRE(std::getline(in, header));
    REQUIRE(std::getline(in, row));
    const auto field = [](const std::string& line, std::size_t i) {
        std::stringstream stream(line);
        std::string value;
        for (std::size_t k = 0; k <= i && std::getline(stream, value, ',');) {
            ++k;
        }
        return value;
    };
    const auto column = [&](std::string_view name) {
        std::stringstream stream(header);
        std::size_t i = 0;
        for (std::string value; std::getline(stream, value, ','); ++i) {
            if (value == name) {
                return std::stod(field(row, i));
            }
        }
        FAIL("no column " << name);
        return 0.0;
    };
    CHECK(metric("fills") > 0);
    CHECK(column("fills_mean") == metric("fills"));
    CHECK(column("orders_submitted_mean") == metric("orders_submitted"));
    CHECK(backtest.out.find("BTCUSDT    PnL +0.0000 (+0.0000% of its 50000.00), fills 0, orders "
                            "0") != std::string::npos);
}
