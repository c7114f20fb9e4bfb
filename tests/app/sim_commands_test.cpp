// Runs the real `quoter backtest` and `quoter run --mode sim`, as a user would: exit codes, the
// report files, the summary, determinism through the command line, and a graceful stop on
// SIGINT. Runs are shortened through QUOTER_BACKTEST_DURATION_S.
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace {

const std::string sim_toml = std::string(QUOTER_SOURCE_DIR) + "/config/sim.toml";

using quoter::test::run_result;
using quoter::test::slurp;

/// A running quoter process with stdout and stderr in files.
class quoter_process : public quoter::test::child_process {
public:
    quoter_process(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env)
        : child_process(QUOTER_EXE, args, env, "sim-commands") {}
};

run_result run_quoter(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {}) {
    return quoter::test::run_to_end(QUOTER_EXE, args, env);
}

const std::map<std::string, std::string> short_run{{"QUOTER_BACKTEST_DURATION_S", "60"}};

/// The config/sim.toml text with the journal written to `journal`.
std::string sim_config_with_journal(const std::filesystem::path& journal) {
    std::string text = slurp(sim_toml);
    const std::string empty_path = "path = \"\"";
    const auto at = text.find(empty_path);
    REQUIRE(at != std::string::npos);
    text.replace(at, empty_path.size(), "path = \"" + journal.string() + "\"");
    return text;
}

/// One journal line, with the few fields the tests read.
struct journal_line {
    std::string type;
    std::int64_t ts = 0;
    std::int64_t wall_ns = 0;
    std::string text;

    /// The raw JSON value of a field ("" when absent); enough for this flat format.
    [[nodiscard]] std::string field(const std::string& name) const {
        const std::string key = "\"" + name + "\":";
        const auto at = text.find(key);
        if (at == std::string::npos) {
            return {};
        }
        auto begin = at + key.size();
        auto end = begin;
        if (text[begin] == '"') {
            ++begin;
            end = text.find('"', begin);
        } else {
            end = text.find_first_of(",}", begin);
        }
        return text.substr(begin, end - begin);
    }
};

std::vector<journal_line> read_journal(const std::filesystem::path& path) {
    std::vector<journal_line> lines;
    std::ifstream in(path);
    std::string text;
    while (std::getline(in, text)) {
        journal_line line;
        line.text = text;
        line.type = line.field("type");
        const std::string ts = line.field("ts");
        line.ts = ts.empty() ? 0 : std::stoll(ts);
        const std::string wall = line.field("wall_ns");
        line.wall_ns = wall.empty() ? 0 : std::stoll(wall);
        lines.push_back(std::move(line));
    }
    return lines;
}

/// Ids of the orders open at line `until` (exclusive): sent and not yet ended by a confirmed
/// cancel or fills of their whole quantity.
std::set<std::string> open_orders(const std::vector<journal_line>& lines, std::size_t until) {
    std::map<std::string, double> remaining;
    for (std::size_t i = 0; i < until && i < lines.size(); ++i) {
        const journal_line& line = lines[i];
        const std::string id = line.field("client_order_id");
        if (line.type == "order_intent") {
            remaining[id] = std::stod(line.field("qty"));
        } else if (line.type == "cancel" && line.field("stage") == "confirmed") {
            remaining.erase(id);
        } else if (line.type == "fill" && remaining.count(id) != 0) {
            remaining[id] -= std::stod(line.field("qty"));
            if (remaining[id] <= 1e-12) {
                remaining.erase(id);
            }
        }
    }
    std::set<std::string> ids;
    for (const auto& entry : remaining) {
        ids.insert(entry.first);
    }
    return ids;
}

bool wait_for(const std::function<bool()>& done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// Checks the journal of a run killed once: the kill event, a cancel of every order open at
/// the kill within 100 ms of it, and no order intent after it.
void check_killed_journal(const std::filesystem::path& path) {
    const auto lines = read_journal(path);
    std::size_t kill_at = lines.size();
    std::size_t command_at = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (command_at == lines.size() && lines[i].type == "command" &&
            lines[i].field("command") == "kill") {
            command_at = i;
        }
        if (lines[i].type == "state" && lines[i].field("event") == "kill") {
            kill_at = i;
            break;
        }
    }
    REQUIRE(command_at < lines.size());
    REQUIRE(kill_at < lines.size());
    CHECK(lines[kill_at].field("reason") == "manual_kill");
    const std::size_t first = std::min(command_at, kill_at);
    const std::int64_t kill_ts = lines[kill_at].ts;
    // The run's clock is simulated; "wall_ns" is when the line was written in real time.
    const std::int64_t command_wall = lines[command_at].wall_ns;
    REQUIRE(command_wall > 0);
    const std::set<std::string> open = open_orders(lines, first);
    INFO("orders open at the kill: " << open.size());
    CHECK(!open.empty());
    for (const std::string& id : open) {
        bool cancelled = false;
        for (std::size_t i = first; i < lines.size() && !cancelled; ++i) {
            cancelled = lines[i].type == "cancel" && lines[i].field("client_order_id") == id &&
                        lines[i].field("cause") == "kill" &&
                        std::llabs(lines[i].ts - kill_ts) <= 100 * 1'000'000LL &&
                        lines[i].wall_ns - command_wall <= 100 * 1'000'000LL;
        }
        INFO("order " << id);
        CHECK(cancelled);
    }
    // Nothing but flatten orders (when flatten_on_kill is set) leaves after the kill.
    for (std::size_t i = first; i < lines.size(); ++i) {
        INFO(lines[i].text);
        CHECK((lines[i].type != "order_intent" || lines[i].field("intent") == "flatten"));
    }
}

} // namespace

TEST_CASE("quoter backtest --paths 50 writes the multi-path report with charts", "[sim_commands]") {
    quoter::test::temp_dir out("backtest-paths");
    const auto result = run_quoter({"backtest", "--config", sim_toml, "--paths", "50", "--seed",
                                    "5", "--out", out.path().string()},
                                   short_run);
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("quoter backtest: 50 paths of 60 s simulated"));
    CHECK_THAT(result.out, Catch::Contains("final inventory"));
    CHECK_THAT(result.out, Catch::Contains("report: " + (out.path() / "report.html").string()));
    const std::string html = slurp(out.path() / "report.html");
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos); // self-contained, nothing to fetch
    const std::string paths = slurp(out.path() / "paths.csv");
    CHECK(std::count(paths.begin(), paths.end(), '\n') == 51); // header + one row per path
    CHECK(std::filesystem::exists(out.path() / "report.json"));
    CHECK(std::filesystem::exists(out.path() / "report.md"));
    CHECK(std::filesystem::exists(out.path() / "path_0" / "fills.csv"));
}

TEST_CASE("quoter backtest and run --mode sim say how long the order-rate limits held quoting",
          "[sim_commands]") {
    quoter::test::temp_dir out("backtest-holds");
    // Six orders a day: the first quotes and one refresh, then the rest of the minute is held.
    std::map<std::string, std::string> env = short_run;
    env["QUOTER_RISK_MAX_ORDERS_PER_DAY"] = "6";
    const auto backtest =
        run_quoter({"backtest", "--config", sim_toml, "--out", out.path().string()}, env);
    INFO(backtest.out << backtest.err);
    REQUIRE(backtest.status == 0);
    CHECK_THAT(backtest.out, Catch::Contains("orders_per_day"));
    CHECK_THAT(backtest.out, Catch::Contains(", new orders held 1 time for "));
    CHECK_THAT(backtest.out, Catch::Contains("% of the quoting time)"));
    const std::string report = slurp(out.path() / "report.json");
    CHECK_THAT(report, Catch::Contains("\"rate_holds\": 1"));

    // A minute of simulated time in a wall-clock second.
    const auto sim = run_quoter({"run", "--mode", "sim", "--config", sim_toml, "--speed", "60",
                                 "--duration", "1", "--out", out.path().string()},
                                env);
    INFO(sim.out << sim.err);
    REQUIRE(sim.status == 0);
    CHECK_THAT(sim.out, Catch::Contains(", new orders held 1 time for "));

    // Within its limits a run prints no hold.
    const auto free =
        run_quoter({"backtest", "--config", sim_toml, "--out", out.path().string()}, short_run);
    REQUIRE(free.status == 0);
    CHECK_THAT(free.out, !Catch::Contains("new orders held"));
}

TEST_CASE("quoter backtest: the risk refusals by reason reach every report, one path or many",
          "[sim_commands]") {
    // One new order a second: most of the quotes' refreshes are refused.
    std::map<std::string, std::string> env = short_run;
    env["QUOTER_RISK_MAX_NEW_ORDERS_PER_S"] = "1";
    const auto count_in = [](const std::string& json, std::string_view key) {
        const std::string quoted = "\"" + std::string(key) + "\": ";
        const auto at = json.find(quoted);
        REQUIRE(at != std::string::npos);
        return std::strtoull(json.c_str() + at + quoted.size(), nullptr, 10);
    };

    quoter::test::temp_dir one("backtest-refusals");
    const auto single =
        run_quoter({"backtest", "--config", sim_toml, "--out", one.path().string()}, env);
    INFO(single.out << single.err);
    REQUIRE(single.status == 0);
    const auto printed = single.out.find("orders refused ");
    REQUIRE(printed != std::string::npos);
    const std::uint64_t refused = std::strtoull(single.out.c_str() + printed + 15, nullptr, 10);
    REQUIRE(refused > 0);
    const std::string json = slurp(one.path() / "report.json");
    CHECK(count_in(json, "risk_refusals") == refused);
    CHECK(count_in(json, "risk_refusals_new_orders_per_s") == refused);
    CHECK(count_in(json, "risk_refusals_daily_loss") == 0); // every reason, zeros included
    CHECK(count_in(json, "orders_sent") > 0);
    CHECK_THAT(json, Catch::Contains("\"annualisation_caveat\": \"Caveat: this run covers"));
    // Markdown escapes the underscores.
    CHECK_THAT(
        slurp(one.path() / "report.md"),
        Catch::Contains(R"(| Risk refusals: new\_orders\_per\_s | )" + std::to_string(refused)));
    CHECK_THAT(slurp(one.path() / "report.html"),
               Catch::Contains("<td>Risk refusals: new_orders_per_s</td><td class=\"n\">" +
                               std::to_string(refused)));

    quoter::test::temp_dir many("backtest-refusals-paths");
    const auto paths = run_quoter(
        {"backtest", "--config", sim_toml, "--paths", "3", "--out", many.path().string()}, env);
    INFO(paths.out << paths.err);
    REQUIRE(paths.status == 0);
    const auto over_paths = paths.out.find("orders refused ");
    REQUIRE(over_paths != std::string::npos);
    const std::uint64_t refused_over_paths =
        std::strtoull(paths.out.c_str() + over_paths + 15, nullptr, 10);
    REQUIRE(refused_over_paths > refused);
    const std::string whole = slurp(many.path() / "report.json");
    CHECK(count_in(whole, "risk_refusals") == refused_over_paths);
    CHECK(count_in(whole, "risk_refusals_new_orders_per_s") == refused_over_paths);
    CHECK(count_in(slurp(many.path() / "path_0" / "report.json"), "risk_refusals") == refused);
    // Each path covers a minute: its annualised Sharpe ratios carry the caveat.
    CHECK_THAT(whole, Catch::Contains("\"annualisation_caveat\": \"Caveat: each path covers"));
    const std::string md = slurp(many.path() / "report.md");
    CHECK_THAT(md, Catch::Contains(R"(| Risk refusals: new\_orders\_per\_s | )" +
                                   std::to_string(refused_over_paths)));
    CHECK_THAT(md, Catch::Contains("each path covers 60.0 s, less than a day"));
    const std::string html = slurp(many.path() / "report.html");
    CHECK_THAT(html, Catch::Contains("<td>Risk refusals: new_orders_per_s</td><td class=\"n\">" +
                                     std::to_string(refused_over_paths)));
    CHECK_THAT(html, Catch::Contains("each path covers 60.0 s, less than a day"));
}

TEST_CASE("quoter backtest: one path writes every file; the same seed gives the same fills.csv",
          "[sim_commands]") {
    quoter::test::temp_dir a("backtest-a");
    quoter::test::temp_dir b("backtest-b");
    quoter::test::temp_dir c("backtest-c");
    const auto run = [&](const quoter::test::temp_dir& out, const char* seed) {
        return run_quoter(
            {"backtest", "--config", sim_toml, "--seed", seed, "--out", out.path().string()},
            short_run);
    };
    const auto first = run(a, "11");
    INFO(first.out << first.err);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.out, Catch::Contains("quoter backtest: 1 path, 60 s simulated (600 steps)"));
    for (const char* file :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        CHECK(std::filesystem::exists(a.path() / file));
    }
    REQUIRE(run(b, "11").status == 0);
    REQUIRE(run(c, "12").status == 0);
    const std::string fills = slurp(a.path() / "fills.csv");
    CHECK(fills.find('\n') != fills.rfind('\n')); // more than the header
    CHECK(fills == slurp(b.path() / "fills.csv"));
    CHECK(fills != slurp(c.path() / "fills.csv"));
    CHECK(slurp(a.path() / "report.html").find("<svg") != std::string::npos);
}

TEST_CASE("quoter backtest: invalid configuration, missing capture", "[sim_commands]") {
    const auto invalid = run_quoter({"backtest", "--config", sim_toml},
                                    {{"QUOTER_STRATEGY_BANDS_HARD_LIMIT_PCT", "10"}});
    CHECK(invalid.status == 2);
    CHECK_THAT(invalid.err, Catch::Contains("strategy.bands.hard_limit_pct: must be at least "
                                            "soft_limit_pct"));
    const auto replay = run_quoter({"backtest", "--config", sim_toml, "--data", "x.gz"});
    CHECK(replay.status == 2);
    CHECK_THAT(replay.err, Catch::Contains("x.gz: no such file"));
}

TEST_CASE("quoter backtest: a run leaves no file of an earlier run; --paths with --data is refused",
          "[sim_commands]") {
    quoter::test::temp_dir out("backtest-stale");
    const std::string dir = out.path().string();
    REQUIRE(run_quoter({"backtest", "--config", sim_toml, "--paths", "3", "--out", dir}, short_run)
                .status == 0);
    REQUIRE(std::filesystem::exists(out.path() / "paths.csv"));
    const auto single = run_quoter({"backtest", "--config", sim_toml, "--out", dir}, short_run);
    INFO(single.out << single.err);
    REQUIRE(single.status == 0);
    CHECK(std::filesystem::exists(out.path() / "fills.csv"));
    CHECK_FALSE(std::filesystem::exists(out.path() / "paths.csv"));
    CHECK_FALSE(std::filesystem::exists(out.path() / "path_0"));

    const auto replay = run_quoter(
        {"backtest", "--config", sim_toml, "--data", "x.gz", "--paths", "3", "--out", dir});
    CHECK(replay.status == 2);
    CHECK_THAT(replay.err, Catch::Contains("--paths and --seed apply to synthetic backtests"));
}

TEST_CASE("quoter run --mode sim --duration 2 --speed 100 exits 0 with a summary and a report",
          "[sim_commands]") {
    quoter::test::temp_dir dir("run-sim");
    const auto out = dir.path() / "out";
    // An earlier run's page of several symbols must not stay beside this run's report.
    std::filesystem::create_directories(out / "ETHUSDT");
    std::ofstream(out / "ETHUSDT" / "report.json") << "{}";
    const auto result = run_quoter({"run", "--mode", "sim", "--config", sim_toml, "--duration", "2",
                                    "--speed", "100", "--out", out.string()});
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("quoter run --mode sim: stopped by --duration"));
    // The same report as a backtest's, with the pacing and the simulated time it reached.
    CHECK_THAT(result.out, Catch::Contains("report: " + (out / "report.html").string()));
    for (const char* file :
         {"report.html", "report.json", "report.md", "pnl.csv", "fills.csv", "orders.csv"}) {
        INFO(file);
        CHECK(std::filesystem::exists(out / file));
    }
    CHECK_FALSE(std::filesystem::exists(out / "ETHUSDT"));
    const std::string json = slurp(out / "report.json");
    CHECK_THAT(json, Catch::Contains("quoter run --mode sim: BTCUSDT on a synthetic market"));
    CHECK_THAT(json, Catch::Contains("\"backtest.speed\": \"100\""));
    CHECK_THAT(json, !Catch::Contains("\"backtest.duration_s\""));
    CHECK_THAT(json, Catch::Contains("\"--duration\""));
    CHECK_THAT(json, Catch::Contains("\"sharpe\""));
    CHECK_THAT(json, Catch::Contains("\"risk_refusals\""));
    // 200 simulated seconds, a pnl sample each (and the first).
    const std::string pnl = slurp(out / "pnl.csv");
    CHECK(std::count(pnl.begin(), pnl.end(), '\n') > 150);
    CHECK_THAT(result.out, Catch::Contains("tick-to-quote"));
    CHECK_THAT(result.out, Catch::Contains("open orders after the final cancel-all: 0"));
}

TEST_CASE("quoter run --mode sim journals fill fees in quote-asset units", "[sim_commands]") {
    // A tick of 0.05 is 5 units of its 2 price decimals: a fee read as ticks would be 5x off.
    quoter::test::temp_dir dir("sim-fees");
    const auto journal = dir.path() / "journal.jsonl";
    std::string text = sim_config_with_journal(journal);
    const std::string tick = "tick_size = \"0.01\"";
    const auto at = text.find(tick);
    REQUIRE(at != std::string::npos);
    text.replace(at, tick.size(), "tick_size = \"0.05\"");
    const auto config = dir.write("sim.toml", text);
    const auto result =
        run_quoter({"run", "--mode", "sim", "--config", config.string(), "--duration", "2",
                    "--speed", "300", "--out", (dir.path() / "out").string()});
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    const std::string marker = "net fees ";
    const auto fees_at = result.out.find(marker);
    REQUIRE(fees_at != std::string::npos);
    const double summary_fees = std::stod(result.out.substr(fees_at + marker.size()));
    double journal_fees = 0.0;
    std::size_t fills = 0;
    for (const auto& line : read_journal(journal)) {
        if (line.type == "fill") {
            journal_fees += std::stod(line.field("fee"));
            ++fills;
        }
    }
    REQUIRE(fills > 5);
    CHECK(summary_fees > 0.0);
    CHECK(journal_fees == Approx(summary_fees).margin(1e-3));
}

TEST_CASE("SIGINT stops quoter run --mode sim gracefully: summary, exit 0", "[sim_commands]") {
    quoter::test::temp_dir dir("sim-sigint");
    quoter_process process(
        {"run", "--config", sim_toml, "--speed", "50", "--out", (dir.path() / "out").string()}, {});
    // The start-up line comes once the signal handlers are in place.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (process.err().find("Ctrl-C stops") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE_THAT(process.err(), Catch::Contains("Ctrl-C stops"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let it trade a little
    process.signal(SIGINT);
    const int status = process.wait(std::chrono::seconds(30));
    INFO(process.out() << process.err());
    CHECK(status == 0);
    CHECK_THAT(process.out(), Catch::Contains("stopped by SIGINT"));
    CHECK_THAT(process.out(), Catch::Contains("fills"));
    // A stop by signal still writes the report, saying how the run ended.
    REQUIRE(std::filesystem::exists(dir.path() / "out" / "report.json"));
    CHECK_THAT(slurp(dir.path() / "out" / "report.json"), Catch::Contains("SIGINT/SIGTERM"));
}

TEST_CASE("live mode without API credentials refuses to start, whether given or from engine.mode",
          "[sim_commands]") {
    ::unsetenv("QUOTER_API_KEY");
    ::unsetenv("QUOTER_API_SECRET");
    const auto given = run_quoter({"run", "--mode", "live", "--config", sim_toml});
    CHECK(given.status == 2);
    CHECK_THAT(given.err, Catch::Contains("no API credentials"));
    const auto live = run_quoter(
        {"run", "--config", std::string(QUOTER_SOURCE_DIR) + "/config/live-testnet.toml"});
    CHECK(live.status == 2);
    CHECK_THAT(live.err, Catch::Contains("quoter run --mode live: no API credentials"));
}

TEST_CASE("SIGUSR1 kills quoter run --mode sim: every open order cancelled, then SIGINT exits 0",
          "[sim_commands][risk]") {
    quoter::test::temp_dir dir("sim-kill");
    const auto journal = dir.path() / "journal.jsonl";
    const auto config = dir.write("sim.toml", sim_config_with_journal(journal));
    quoter_process process({"run", "--mode", "sim", "--config", config.string(), "--speed", "50",
                            "--duration", "20", "--out", (dir.path() / "out").string()},
                           {});
    // Orders are open once an order_intent line has no end yet.
    const bool trading = wait_for(
        [&] {
            const auto lines = read_journal(journal);
            return !open_orders(lines, lines.size()).empty();
        },
        std::chrono::seconds(15));
    INFO(process.err());
    REQUIRE(trading);
    process.signal(SIGUSR1);
    REQUIRE(wait_for(
        [&] {
            for (const auto& line : read_journal(journal)) {
                if (line.type == "state" && line.field("event") == "kill") {
                    return true;
                }
            }
            return false;
        },
        std::chrono::seconds(10)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // cancels confirmed meanwhile
    process.signal(SIGINT);
    const int status = process.wait(std::chrono::seconds(30));
    INFO(process.out() << process.err());
    CHECK(status == 0);
    CHECK_THAT(process.out(), Catch::Contains("risk: state killed (manual_kill)"));
    CHECK_THAT(process.out(), Catch::Contains("open orders after the final cancel-all: 0"));
    const std::string text = slurp(journal);
    CHECK_THAT(text, Catch::Contains("\"type\":\"journal_close\""));
    check_killed_journal(journal);
}

TEST_CASE("flatten_on_kill: SIGUSR1 cancels, then closes the position with IOC orders",
          "[sim_commands][risk]") {
    quoter::test::temp_dir dir("sim-flatten");
    const auto journal = dir.path() / "journal.jsonl";
    std::string text = sim_config_with_journal(journal);
    const std::string off = "flatten_on_kill = false";
    const auto at = text.find(off);
    REQUIRE(at != std::string::npos);
    text.replace(at, off.size(), "flatten_on_kill = true");
    const auto config = dir.write("sim.toml", text);
    quoter_process process({"run", "--mode", "sim", "--config", config.string(), "--speed", "50",
                            "--duration", "20", "--out", (dir.path() / "out").string()},
                           {});
    // Wait for orders and a position: a fill changed the inventory away from zero.
    const bool positioned = wait_for(
        [&] {
            const auto lines = read_journal(journal);
            return !lines.empty() && !open_orders(lines, lines.size()).empty() && [&] {
                for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
                    if (it->type == "fill") {
                        return std::stod(it->field("position")) != 0.0;
                    }
                }
                return false;
            }();
        },
        std::chrono::seconds(15));
    INFO(process.err());
    REQUIRE(positioned);
    process.signal(SIGUSR1);
    // The kill, then flatten intents, until the position is back at zero.
    const auto flat = [&] {
        const auto lines = read_journal(journal);
        bool killed = false;
        bool flattened = false;
        for (const auto& line : lines) {
            killed = killed || (line.type == "state" && line.field("event") == "kill");
            if (killed && line.type == "fill" && std::stod(line.field("position")) == 0.0) {
                flattened = true;
            }
        }
        return flattened;
    };
    const bool closed = wait_for(flat, std::chrono::seconds(10));
    process.signal(SIGINT);
    const int status = process.wait(std::chrono::seconds(30));
    INFO(process.out() << process.err());
    CHECK(status == 0);
    CHECK(closed);
    CHECK_THAT(process.out(), Catch::Contains("flatten on kill: done"));
    CHECK_THAT(process.out(), Catch::Contains("final inventory 0.00"));
    // Every flatten order was checked, sent IOC-style and ended; at least one filled.
    const auto lines = read_journal(journal);
    std::set<std::string> flatten_ids;
    for (const auto& line : lines) {
        if (line.type == "order_intent" && line.field("intent") == "flatten") {
            flatten_ids.insert(line.field("client_order_id"));
            CHECK(line.field("post_only") == "false");
        }
    }
    CHECK(!flatten_ids.empty());
    bool flatten_filled = false;
    for (const auto& line : lines) {
        if (line.type == "fill" && flatten_ids.count(line.field("client_order_id")) != 0) {
            flatten_filled = true;
            CHECK(line.field("maker") == "false");
        }
    }
    CHECK(flatten_filled);
    check_killed_journal(journal);
}

TEST_CASE("keys in a terminal: k kills, q quits; the terminal is restored",
          "[sim_commands][risk]") {
    quoter::test::temp_dir dir("sim-keys");
    const auto journal = dir.path() / "journal.jsonl";
    const auto config = dir.write("sim.toml", sim_config_with_journal(journal));
    const auto out_path = dir.path() / "stdout";

    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const std::string slave_name = ::ptsname(master);
    const int slave = ::open(slave_name.c_str(), O_RDWR | O_NOCTTY);
    REQUIRE(slave >= 0);
    termios before{};
    REQUIRE(::tcgetattr(slave, &before) == 0);

    std::vector<std::string> args{
        QUOTER_EXE, "run", "--mode",     "sim", "--config", config.string(),
        "--speed",  "50",  "--duration", "30",  "--out",    (dir.path() / "out").string()};
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Child: the pty is its controlling terminal, stdin and stderr; stdout to a file.
        ::setsid();
        const int tty = ::open(slave_name.c_str(), O_RDWR);
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (tty < 0 || out < 0) {
            ::_exit(126);
        }
        ::dup2(tty, STDIN_FILENO);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(tty, STDERR_FILENO);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    std::string screen;
    const auto drain = [&] {
        std::array<char, 4096> buffer{};
        for (;;) {
            const ssize_t n = ::read(master, buffer.data(), buffer.size());
            if (n <= 0) {
                break;
            }
            screen.append(buffer.data(), static_cast<std::size_t>(n));
        }
    };
    const auto journal_has = [&](const std::string& type, const std::string& field,
                                 const std::string& value) {
        drain();
        for (const auto& line : read_journal(journal)) {
            if (line.type == type && line.field(field) == value) {
                return true;
            }
        }
        return false;
    };
    int status = -1;
    const auto exited = [&] {
        drain();
        int raw = 0;
        if (::waitpid(pid, &raw, WNOHANG) == pid) {
            status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
            return true;
        }
        return false;
    };
    const bool trading = wait_for(
        [&] {
            drain();
            const auto lines = read_journal(journal);
            return !open_orders(lines, lines.size()).empty();
        },
        std::chrono::seconds(15));
    const bool keys_ready = wait_for(
        [&] {
            drain();
            return screen.find("keys: k kill") != std::string::npos;
        },
        std::chrono::seconds(5));
    bool killed = false;
    if (trading && keys_ready) {
        REQUIRE(::write(master, "k", 1) == 1);
        killed = wait_for([&] { return journal_has("state", "event", "kill"); },
                          std::chrono::seconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        REQUIRE(::write(master, "q", 1) == 1);
    }
    if (!wait_for(exited, std::chrono::seconds(30))) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
    }
    termios after{};
    const bool attributes = ::tcgetattr(slave, &after) == 0;
    ::close(slave);
    ::close(master);
    INFO(screen << slurp(out_path));
    REQUIRE(trading);
    REQUIRE(keys_ready);
    CHECK(killed);
    CHECK(status == 0);
    CHECK(journal_has("command", "source", "terminal"));
    CHECK_THAT(slurp(out_path), Catch::Contains("risk: state killed (manual_kill)"));
    check_killed_journal(journal);
    // The key mode (no echo, no line editing) is undone.
    REQUIRE(attributes);
    CHECK((after.c_lflag & (ICANON | ECHO)) == (before.c_lflag & (ICANON | ECHO)));
}

namespace {

/// Two symbols in one loop: config/sim.toml's tables with engine.symbols and a table each.
std::string two_symbol_config() {
    std::string text = slurp(sim_toml);
    const std::string single = "symbol = \"BTCUSDT\"\n";
    const auto at = text.find(single);
    REQUIRE(at != std::string::npos);
    text.replace(at, single.size(), "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\n");
    return text + "\n[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\nstep_size = \"0.0001\"\n"
                  "start_price = 3000.0\n";
}

/// The prices column (the fills.csv header names it "price") of a fills.csv.
std::vector<double> fill_prices(const std::string& csv) {
    std::istringstream in(csv);
    std::string line;
    std::getline(in, line);
    std::size_t column = 0;
    for (std::size_t at = 0, i = 0; at <= line.size(); ++i) {
        const auto end = std::min(line.find(',', at), line.size());
        if (line.substr(at, end - at) == "price") {
            column = i;
        }
        at = end + 1;
    }
    std::vector<double> out;
    while (std::getline(in, line)) {
        std::size_t at = 0;
        for (std::size_t i = 0; i < column; ++i) {
            at = line.find(',', at) + 1;
        }
        out.push_back(std::stod(line.substr(at, line.find(',', at) - at)));
    }
    return out;
}

} // namespace

TEST_CASE("quoter backtest: several symbols from the config, one loop, a report each",
          "[sim_commands][symbols]") {
    quoter::test::temp_dir dir("backtest-symbols");
    const auto config = dir.write("two.toml", two_symbol_config());
    const auto run = [&](const char* out) {
        return run_quoter({"backtest", "--config", config.string(), "--seed", "3", "--out",
                           (dir.path() / out).string()},
                          short_run);
    };
    const auto first = run("a");
    INFO(first.out << first.err);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.out, Catch::Contains("quoter backtest: 2 symbols in one loop"));
    CHECK_THAT(first.out, Catch::Contains("  ETHUSDT "));
    CHECK_THAT(first.out, Catch::Contains("portfolio PnL"));
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        for (const char* file : {"fills.csv", "pnl.csv", "report.json", "report.html"}) {
            CHECK(std::filesystem::exists(dir.path() / "a" / symbol / file));
        }
    }
    // The portfolio's report beside them, as a replay's and a paper session's: every fill of
    // both symbols, one sample per (common) sample time.
    for (const char* file : {"fills.csv", "pnl.csv", "orders.csv", "report.json", "report.html"}) {
        CHECK(std::filesystem::exists(dir.path() / "a" / file));
    }
    CHECK_THAT(slurp(dir.path() / "a" / "report.json"),
               Catch::Contains("portfolio: BTCUSDT, ETHUSDT"));
    const auto lines = [](const std::string& text) {
        return std::count(text.begin(), text.end(), '\n');
    };
    CHECK(lines(slurp(dir.path() / "a" / "fills.csv")) ==
          lines(slurp(dir.path() / "a" / "BTCUSDT" / "fills.csv")) +
              lines(slurp(dir.path() / "a" / "ETHUSDT" / "fills.csv")) - 1);
    CHECK(lines(slurp(dir.path() / "a" / "pnl.csv")) ==
          lines(slurp(dir.path() / "a" / "BTCUSDT" / "pnl.csv")));
    // Each symbol trades its own market: ETHUSDT near its 3000 start, BTCUSDT near 60000.
    const auto eth = fill_prices(slurp(dir.path() / "a" / "ETHUSDT" / "fills.csv"));
    const auto btc = fill_prices(slurp(dir.path() / "a" / "BTCUSDT" / "fills.csv"));
    REQUIRE_FALSE(eth.empty());
    REQUIRE_FALSE(btc.empty());
    CHECK(*std::max_element(eth.begin(), eth.end()) < 3300.0);
    CHECK(*std::min_element(btc.begin(), btc.end()) > 50000.0);
    // Deterministic per seed.
    REQUIRE(run("b").status == 0);
    CHECK(slurp(dir.path() / "a" / "ETHUSDT" / "fills.csv") ==
          slurp(dir.path() / "b" / "ETHUSDT" / "fills.csv"));
    // A single-symbol run into the same folder leaves no per-symbol folder behind.
    const auto single = run_quoter(
        {"backtest", "--config", sim_toml, "--out", (dir.path() / "a").string()}, short_run);
    REQUIRE(single.status == 0);
    CHECK_FALSE(std::filesystem::exists(dir.path() / "a" / "ETHUSDT"));
    CHECK(std::filesystem::exists(dir.path() / "a" / "fills.csv"));

    const auto paths = run_quoter({"backtest", "--config", config.string(), "--paths", "3", "--out",
                                   (dir.path() / "c").string()},
                                  short_run);
    INFO(paths.out << paths.err);
    REQUIRE(paths.status == 0);
    CHECK_THAT(paths.out, Catch::Contains("2 symbols in one loop, 3 paths"));
    CHECK_THAT(paths.out, Catch::Contains("  portfolio "));
    // The portfolio's multi-path report, and one per symbol with its path 0 in full.
    for (const char* file : {"report.html", "paths.csv", "path_0/fills.csv"}) {
        CHECK(std::filesystem::exists(dir.path() / "c" / file));
        CHECK(std::filesystem::exists(dir.path() / "c" / "BTCUSDT" / file));
        CHECK(std::filesystem::exists(dir.path() / "c" / "ETHUSDT" / file));
    }
    // Path 0's ETHUSDT fills are the one-path run's on the same seed.
    const auto one = run_quoter({"backtest", "--config", config.string(), "--paths", "1", "--out",
                                 (dir.path() / "d").string()},
                                short_run);
    REQUIRE(one.status == 0);
    CHECK(slurp(dir.path() / "c" / "ETHUSDT" / "path_0" / "fills.csv") ==
          slurp(dir.path() / "d" / "ETHUSDT" / "fills.csv"));
}

TEST_CASE("quoter run --mode sim trades several symbols from the config",
          "[sim_commands][symbols]") {
    quoter::test::temp_dir dir("run-symbols");
    const auto config = dir.write("two.toml", two_symbol_config());
    const auto out = dir.path() / "out";
    const auto result = run_quoter({"run", "--mode", "sim", "--config", config.string(),
                                    "--duration", "2", "--speed", "100", "--out", out.string()});
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    CHECK_THAT(result.err, Catch::Contains("BTCUSDT, ETHUSDT on a synthetic market"));
    // A report per symbol and the portfolio's, as a backtest of several symbols writes them.
    CHECK(std::filesystem::exists(out / "report.json"));
    CHECK(std::filesystem::exists(out / "BTCUSDT" / "report.json"));
    CHECK(std::filesystem::exists(out / "ETHUSDT" / "fills.csv"));
    CHECK_THAT(slurp(out / "report.json"),
               Catch::Contains("quoter run --mode sim: portfolio of BTCUSDT, ETHUSDT"));
    CHECK_THAT(result.out, Catch::Contains("  BTCUSDT (the first of 2 symbols):"));
    CHECK_THAT(result.out, Catch::Contains("  ETHUSDT "));
    CHECK_THAT(result.out, Catch::Contains("open orders after the final cancel-all: 0"));
}

TEST_CASE("a synthetic run without a market price for its symbol refuses to start",
          "[sim_commands]") {
    // config/paper.toml has no [market]: the built-in market starts at 100, absurd for BTCUSDT.
    quoter::test::temp_dir dir("backtest-no-market");
    const std::string paper = std::string(QUOTER_SOURCE_DIR) + "/config/paper.toml";
    const auto backtest = run_quoter(
        {"backtest", "--config", paper, "--out", (dir.path() / "out").string()}, short_run);
    CHECK(backtest.status == 2);
    CHECK_THAT(backtest.err, Catch::Contains("sets no synthetic market price for BTCUSDT"));
    CHECK_FALSE(std::filesystem::exists(dir.path() / "out" / "report.json"));
    const auto run = run_quoter({"run", "--mode", "sim", "--config", paper, "--duration", "1",
                                 "--out", (dir.path() / "run").string()});
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Catch::Contains("sets no synthetic market price for BTCUSDT"));
    // Each command offers the ways out it takes: quoter run has no --data.
    CHECK_THAT(backtest.err,
               Catch::Contains("--market-from FILE, or replay a capture with --data"));
    CHECK_THAT(run.err, Catch::Contains("--market-from FILE"));
    CHECK_THAT(run.err, !Catch::Contains("--data"));
    const auto sweep =
        run_quoter({"sweep", "--config", paper, "--set", "strategy.linear.spread_bps=5,10",
                    "--paths", "1", "--out", (dir.path() / "sweep").string()},
                   short_run);
    CHECK(sweep.status == 2);
    CHECK_THAT(sweep.err, Catch::Contains("sets no synthetic market price for BTCUSDT"));
    CHECK_THAT(sweep.err,
               Catch::Contains("--market-from FILE, or sweep over captures with --data"));
}

TEST_CASE("quoter backtest summarises alerts by kind with a few examples, and reports the counts",
          "[sim_commands][alerts]") {
    quoter::test::temp_dir out("backtest-alerts");
    // A fill ratio no path reaches, judged after 5 orders, repeating every simulated second:
    // hundreds of alerts over 3 paths.
    auto env = short_run;
    env["QUOTER_RISK_ALARMS_MIN_FILL_RATIO_PCT"] = "100";
    env["QUOTER_RISK_ALARMS_FILL_RATIO_MIN_ORDERS"] = "5";
    env["QUOTER_RISK_ALARMS_ALARM_COOLDOWN_MS"] = "1000";
    const auto result = run_quoter(
        {"backtest", "--config", sim_toml, "--paths", "3", "--out", out.path().string()}, env);
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("  alerts "));
    CHECK_THAT(result.out, Catch::Contains("low_fill_ratio"));
    // One line of counts and one of examples per kind, not one line per alert.
    CHECK(std::count(result.out.begin(), result.out.end(), '\n') < 20);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') < 5);
    const std::string json = slurp(out.path() / "report.json");
    CHECK_THAT(json,
               Catch::Contains("\"alerts\": [\n    {\"kind\": \"low_fill_ratio\", \"count\": "));
    const auto at = json.find("\"kind\": \"low_fill_ratio\", \"count\": ");
    REQUIRE(at != std::string::npos);
    const auto count = std::stoull(json.substr(at + 35));
    CHECK(count > 100);
    CHECK_THAT(slurp(out.path() / "path_0" / "report.json"), Catch::Contains("\"alerts\": ["));
}

TEST_CASE("quoter backtest HTML: fills marked, drawdown, PnL spread across paths, provenance",
          "[sim_commands][html]") {
    quoter::test::temp_dir out("backtest-html");
    const auto result =
        run_quoter({"backtest", "--config", sim_toml, "--paths", "8", "--out", out.path().string()},
                   short_run);
    INFO(result.out << result.err);
    REQUIRE(result.status == 0);
    const std::string html = slurp(out.path() / "report.html");
    CHECK_THAT(html, Catch::Contains("PnL spread across paths"));
    CHECK_THAT(html, Catch::Contains("<polygon class=\"band\""));
    CHECK_THAT(html, Catch::Contains("config " + sim_toml));
    CHECK_THAT(html, Catch::Contains("quoter 0.1.0"));
    CHECK_THAT(html, Catch::Contains(" UTC")); // generated <date> UTC
    CHECK_THAT(slurp(out.path() / "report.json"), Catch::Contains("\"provenance\": {"));
    const std::string path_0 = slurp(out.path() / "path_0" / "report.html");
    CHECK_THAT(path_0, Catch::Contains("<h2>Drawdown</h2>"));
    CHECK_THAT(path_0, Catch::Contains("<polygon class=\"fill-buy\""));
    CHECK_THAT(path_0, Catch::Contains("<polygon class=\"fill-sell\""));
}
