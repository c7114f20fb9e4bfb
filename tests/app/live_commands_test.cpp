// The real `quoter` binary on market data: `backtest --data` over a Binance capture
// (../shared/data/binance), and `record` and `run --mode paper_exchange` against quoter-venue
// (synthetic mode) on 127.0.0.1. Every child process runs under a deadline and is killed past it.
#include "net/venue_process.hpp"
#include "ops_http_client.hpp"
#include "quoter/md/capture.hpp"
#include "support/capture_data.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using quoter::net::testing::venue_process;

using quoter::test::run_result;
using quoter::test::slurp;

/// A quoter child process, killed if still running when it goes out of scope.
class quoter_child : public quoter::test::child_process {
public:
    explicit quoter_child(const std::vector<std::string>& args)
        : child_process(QUOTER_EXE, args, {}, "app-live") {}
};

/// Runs quoter with args; killed when it outlives timeout.
run_result run_quoter(const std::vector<std::string>& args, std::chrono::seconds timeout) {
    return quoter::test::run_to_end(QUOTER_EXE, args, {}, timeout);
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    REQUIRE(static_cast<bool>(out.flush()));
}

/// A paper configuration whose spot mainnet endpoints are the local venue.
std::string venue_config(const venue_process& venue) {
    return "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\nsymbol = \"BTCUSDT\"\n"
           "testnet = false\n\n[exchange.spot]\nrest_url = \"" +
           venue.http_url() + "\"\nws_url = \"" + venue.ws_url() +
           "\"\n\n[strategy.linear]\nspread_bps = 2.0\n";
}

} // namespace

TEST_CASE("quoter backtest --data replays a capture and writes the report", "[app][data]") {
    const std::string dir = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    const std::string capture = dir + "/spot-btcusdt-20240808.gz";
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "replay.toml";
    // A tight spread on a liquid book, so that the queue model fills within one capture.
    write_file(config, "[engine]\nsymbol = \"BTCUSDT\"\n\n[strategy.linear]\nspread_bps = 0.5\n\n"
                       "[quotes]\nrefresh_tolerance_bps = 0.5\n");
    const fs::path out = tmp.path() / "report";
    const run_result r = run_quoter(
        {"backtest", "--config", config.string(), "--data", capture, "--out", out.string()},
        std::chrono::seconds(300));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("fills ") != std::string::npos);
    CHECK(r.out.find("fills 0,") == std::string::npos);
    CHECK(r.out.find("messages/s") != std::string::npos);
    const std::string report = slurp(out / "report.json");
    CHECK(report.find("\"fills\": ") != std::string::npos);
}

namespace {

/// The keys of the "metrics" object of a report.json, in order.
std::vector<std::string> metric_keys(const std::string& json) {
    std::vector<std::string> keys;
    const auto begin = json.find("\"metrics\": {");
    const auto end = json.find('}', begin);
    if (begin == std::string::npos || end == std::string::npos) {
        return keys;
    }
    std::size_t at = begin + 12;
    while ((at = json.find('"', at + 1)) < end) {
        const auto close = json.find('"', at + 1);
        keys.push_back(json.substr(at + 1, close - at - 1));
        at = json.find(',', close);
        if (at == std::string::npos || at > end) {
            break;
        }
    }
    return keys;
}

} // namespace

TEST_CASE("quoter backtest --data writes the synthetic run's full report", "[app][data]") {
    const std::string dir = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "replay.toml";
    write_file(config, "[engine]\nsymbol = \"BTCUSDT\"\n\n[strategy.linear]\nspread_bps = 0.5\n\n"
                       "[quotes]\nrefresh_tolerance_bps = 0.5\n");
    const fs::path out = tmp.path() / "report";
    // A synthetic run's files first: the replay must leave none of them behind.
    fs::create_directories(out / "path_0");
    write_file(out / "paths.csv", "stale\n");
    const run_result r = run_quoter({"backtest", "--config", config.string(), "--data",
                                     dir + "/spot-btcusdt-20240808.gz", "--out", out.string()},
                                    std::chrono::seconds(300));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    for (const auto* name :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(name);
        CHECK(fs::is_regular_file(out / name));
    }
    CHECK_FALSE(fs::exists(out / "paths.csv"));
    CHECK_FALSE(fs::exists(out / "path_0"));
    const std::string json = slurp(out / "report.json");
    // The replay's message counters, and its fills in fills.csv.
    for (const auto* key :
         {"\"lines\": ", "\"malformed\": ", "\"unrecognised\": ", "\"other_symbols\": ",
          "\"bad_lines\": ", "\"risk_refusals\": ", "\"risk_refusals_new_orders_per_s\": "}) {
        INFO(key);
        CHECK(json.find(key) != std::string::npos);
    }
    CHECK(json.find("\"lines\": 0,") == std::string::npos);
    CHECK(slurp(out / "fills.csv").find('\n') < slurp(out / "fills.csv").size() - 1);
    CHECK(slurp(out / "pnl.csv").size() > 1000);
    // A capture of minutes: the annualised figures carry the caveat.
    CHECK(slurp(out / "report.md").find("less than a day") != std::string::npos);
    CHECK(slurp(out / "report.html").find("less than a day") != std::string::npos);

    // The metric keys are those of a synthetic run's report.
    const fs::path synthetic_config = tmp.path() / "synthetic.toml";
    // A synthetic market needs a start price that fits its symbol.
    write_file(synthetic_config,
               "[backtest]\nduration_s = 5.0\npaths = 1\n\n[market]\nstart_price = 60000.0\n");
    const fs::path synthetic_out = tmp.path() / "synthetic";
    const run_result synthetic = run_quoter(
        {"backtest", "--config", synthetic_config.string(), "--out", synthetic_out.string()},
        std::chrono::seconds(120));
    INFO(synthetic.out << synthetic.err);
    REQUIRE(synthetic.status == 0);
    const auto replay_keys = metric_keys(json);
    CHECK(replay_keys.size() > 30);
    const std::string synthetic_json = slurp(synthetic_out / "report.json");
    CHECK(replay_keys == metric_keys(synthetic_json));
    // The orders sent and the refusals of every reason, and the caveat, in both.
    for (const auto* key :
         {"\"orders_sent\": ", "\"flatten_orders_sent\": ", "\"risk_refusals\": ",
          "\"risk_refusals_price_band\": ", "\"annualisation_caveat\": \"Caveat: "}) {
        INFO(key);
        CHECK(json.find(key) != std::string::npos);
        CHECK(synthetic_json.find(key) != std::string::npos);
    }
    // Measured from the pnl samples that show both quotes.
    CHECK(json.find("\"mean_quoted_spread\": null") == std::string::npos);
    for (const auto* key : {"sharpe", "sortino", "calmar", "max_drawdown", "fill_ratio",
                            "cancel_to_trade", "net_fees", "spread_capture_pnl"}) {
        INFO(key);
        CHECK(std::find(replay_keys.begin(), replay_keys.end(), key) != replay_keys.end());
    }
}

TEST_CASE("quoter backtest --data fails clearly when the capture lacks the configured symbol",
          "[app][data]") {
    const std::string dir = quoter::test::require_captures({"spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    // config/paper.toml trades BTCUSDT; the capture holds ETHUSDT only.
    const run_result r =
        run_quoter({"backtest", "--config", QUOTER_SOURCE_DIR "/config/paper.toml", "--data",
                    dir + "/spot-ethusdt-20240808.gz", "--out", (tmp.path() / "out").string()},
                   std::chrono::seconds(120));
    INFO(r.out << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.find("orders ") == std::string::npos); // no normal-looking summary
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.find("BTCUSDT") != std::string::npos);
    CHECK(r.err.find("holds ETHUSDT") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path() / "out" / "report.json"));
}

TEST_CASE("quoter backtest --data takes the captured symbol when the config names none",
          "[app][data]") {
    const std::string dir = quoter::test::require_captures({"spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    // No engine.symbol: the built-in BTCUSDT is a default, not a choice.
    const auto config = tmp.write("unnamed.toml", "[strategy.linear]\nprice_impact = 200.0\n");
    const run_result r =
        run_quoter({"backtest", "--config", config.string(), "--data",
                    dir + "/spot-ethusdt-20240808.gz", "--out", (tmp.path() / "out").string()},
                   std::chrono::seconds(300));
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("names no symbol; replaying the captured ETHUSDT"));
    CHECK_THAT(r.out, Catch::Contains("quoter backtest: ETHUSDT replay"));
    CHECK(fs::exists(tmp.path() / "out" / "report.json"));

    // Several symbols, and the capture holds one of them: it says which is missing.
    const auto two = tmp.write("two.toml", "[engine]\nsymbols = [\"ETHUSDT\", \"BTCUSDT\"]\n");
    const run_result several =
        run_quoter({"backtest", "--config", two.string(), "--data",
                    dir + "/spot-ethusdt-20240808.gz", "--out", (tmp.path() / "two").string()},
                   std::chrono::seconds(60));
    INFO(several.out << several.err);
    CHECK(several.status == 2);
    CHECK_THAT(several.err, Catch::Contains("holds no market data for BTCUSDT"));
}

TEST_CASE("quoter backtest --market-from runs config/paper.toml on a market fitted to BTCUSDT",
          "[app][data]") {
    const std::string dir = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    const std::string paper = QUOTER_SOURCE_DIR "/config/paper.toml";
    const std::string capture = dir + "/spot-btcusdt-20240808.gz";
    // Without a price for its synthetic market the configuration is refused, with the ways out.
    const run_result refused =
        run_quoter({"backtest", "--config", paper, "--out", (tmp.path() / "refused").string()},
                   std::chrono::seconds(60));
    INFO(refused.out << refused.err);
    CHECK(refused.status == 2);
    CHECK_THAT(refused.err, Catch::Contains("--market-from FILE"));

    const run_result r = run_quoter({"backtest", "--config", paper, "--market-from", capture,
                                     "--out", (tmp.path() / "out").string()},
                                    std::chrono::seconds(120));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("BTCUSDT: synthetic market fitted to 346.1 s of "
                                      "spot-btcusdt-20240808.gz: start 61837.635"));
    CHECK_THAT(r.out, Catch::Contains("quoter backtest: 1 path, 3600 s simulated"));
    // The built-in market at 100 refused every order (below min_notional); this one sends them.
    CHECK_THAT(r.out, Catch::Contains("orders refused 0"));
    const std::string json = slurp(tmp.path() / "out" / "report.json");
    CHECK_THAT(json, Catch::Contains("market.fitted.BTCUSDT.start_price"));
    CHECK_THAT(json, Catch::Contains("spot-btcusdt-20240808.gz"));
    // The configured (built-in) values the fit replaced shaped nothing, and are not listed.
    CHECK_THAT(json, !Catch::Contains("\"market.start_price\""));
    CHECK_THAT(json, !Catch::Contains("\"market.a_per_s\""));

    // A replay replays the captures themselves; a fitted market is a synthetic run's.
    const run_result both =
        run_quoter({"backtest", "--config", paper, "--data", capture, "--market-from", capture,
                    "--out", (tmp.path() / "both").string()},
                   std::chrono::seconds(60));
    CHECK(both.status == 2);
    CHECK_THAT(both.err, Catch::Contains("--data replays the captures themselves"));
    const run_result live =
        run_quoter({"run", "--mode", "live", "--config", paper, "--market-from", capture},
                   std::chrono::seconds(60));
    CHECK(live.status == 2);
    CHECK_THAT(live.err, Catch::Contains("fits the synthetic market of --mode sim"));
    // Without --mode, engine.mode (paper_exchange in this file) decides, and the message says so.
    const run_result paper_mode =
        run_quoter({"run", "--config", paper, "--market-from", capture}, std::chrono::seconds(60));
    CHECK(paper_mode.status == 2);
    CHECK_THAT(paper_mode.err, Catch::Contains("engine.mode = paper_exchange"));

    // quoter run --mode sim trades the fitted market too, and its report says so.
    const run_result sim =
        run_quoter({"run", "--mode", "sim", "--config", paper, "--market-from", capture,
                    "--duration", "1", "--speed", "100", "--out", (tmp.path() / "sim").string()},
                   std::chrono::seconds(60));
    INFO(sim.out << sim.err);
    CHECK(sim.status == 0);
    CHECK_THAT(sim.err, Catch::Contains("quoter run: BTCUSDT: synthetic market fitted to"));
    CHECK_THAT(slurp(tmp.path() / "sim" / "report.json"),
               Catch::Contains("market.fitted.BTCUSDT.start_price"));
}

TEST_CASE("a one-symbol engine.symbols list trades under its [symbol.<NAME>.risk] limits",
          "[app][data][symbols]") {
    const std::string dir = quoter::test::require_captures({"spot-btcusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    // The symbol's own limit allows one lot an order; the strategy wants about 0.017 BTC.
    const auto config = tmp.write("one.toml", "[engine]\nsymbols = [\"BTCUSDT\"]\n\n"
                                              "[symbol.BTCUSDT]\n\n[symbol.BTCUSDT.risk]\n"
                                              "max_order_qty_base = 0.00001\n");
    const run_result r =
        run_quoter({"backtest", "--config", config.string(), "--data",
                    dir + "/spot-btcusdt-20240808.gz", "--out", (tmp.path() / "out").string()},
                   std::chrono::seconds(300));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("  orders 0, fills 0"));
    CHECK_THAT(r.out, Catch::Contains(" max_order_qty "));
}

TEST_CASE("a live configuration naming several symbols is refused: live trades one",
          "[app][symbols]") {
    quoter::test::temp_dir tmp("app-live");
    const auto config =
        tmp.write("two.toml", "[engine]\nmode = \"live\"\ntestnet = true\nsymbols = [\"BTCUSDT\", "
                              "\"ETHUSDT\"]\n\n[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\n");
    const run_result check =
        run_quoter({"config", "check", config.string()}, std::chrono::seconds(30));
    INFO(check.out << check.err);
    CHECK(check.status != 0);
    CHECK_THAT(check.out + check.err, Catch::Contains("a live session trades one symbol"));
    const run_result run = run_quoter({"run", "--mode", "live", "--config", config.string()},
                                      std::chrono::seconds(30));
    INFO(run.out << run.err);
    CHECK(run.status == 2);
    CHECK_THAT(run.err, Catch::Contains("a live session trades one symbol"));
}

TEST_CASE("quoter backtest --data replays the captures of several symbols in one loop",
          "[app][data][symbols]") {
    const std::string dir =
        quoter::test::require_captures({"spot-btcusdt-20240808.gz", "spot-ethusdt-20240808.gz"});
    if (dir.empty()) {
        return;
    }
    quoter::test::temp_dir tmp("app-live");
    // Tight spreads on liquid books, so that the queue model fills within the captures.
    const auto config =
        tmp.write("two.toml", "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n\n"
                              "[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\nstep_size = \"0.0001\"\n\n"
                              "[strategy.linear]\nspread_bps = 0.5\n\n"
                              "[quotes]\nrefresh_tolerance_bps = 0.5\n");
    const auto replay = [&](const char* out) {
        return run_quoter({"backtest", "--config", config.string(), "--data",
                           dir + "/spot-btcusdt-20240808.gz", dir + "/spot-ethusdt-20240808.gz",
                           "--out", (tmp.path() / out).string()},
                          std::chrono::seconds(300));
    };
    const run_result r = replay("a");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("2 symbols in one loop, replay of 2 files"));
    CHECK_THAT(r.out, Catch::Contains("portfolio PnL"));
    CHECK_THAT(r.out, Catch::Contains(" 0 other symbols)"));
    for (const char* symbol : {"BTCUSDT", "ETHUSDT"}) {
        INFO(symbol);
        const std::string report = slurp(tmp.path() / "a" / symbol / "report.json");
        CHECK(report.find("\"fills\": 0,") == std::string::npos);
        CHECK(report.find(std::string("\"engine.symbol\": \"") + symbol) != std::string::npos);
        CHECK(fs::exists(tmp.path() / "a" / symbol / "report.html"));
        // The fills' markouts, as a replay of one symbol reports them.
        CHECK(report.find("\"adverse_selection_10s\": null") == std::string::npos);
        // Its own orders; the capture's message counts are the whole replay's, in the
        // portfolio's report only.
        CHECK(report.find("\"risk_refusals\": ") != std::string::npos);
        CHECK(report.find("\"gaps\": ") != std::string::npos);
        CHECK(report.find("\"malformed\": ") == std::string::npos);
    }
    // The portfolio's full report beside the symbols' folders: every fill of both, equity summed.
    for (const auto* file :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(file);
        CHECK(fs::is_regular_file(tmp.path() / "a" / file));
    }
    const std::string whole = slurp(tmp.path() / "a" / "report.json");
    CHECK_THAT(whole, Catch::Contains("portfolio: BTCUSDT, ETHUSDT"));
    CHECK(whole.find("\"malformed\": ") != std::string::npos);
    CHECK(whole.find("\"lines\": 0,") == std::string::npos);
    const auto count_in = [](const std::string& json, const std::string& key) {
        const auto at = json.find("\"" + key + "\": ");
        REQUIRE(at != std::string::npos);
        return std::strtoull(json.c_str() + at + key.size() + 4, nullptr, 10);
    };
    CHECK(count_in(whole, "orders_sent") ==
          count_in(slurp(tmp.path() / "a" / "BTCUSDT" / "report.json"), "orders_sent") +
              count_in(slurp(tmp.path() / "a" / "ETHUSDT" / "report.json"), "orders_sent"));
    CHECK(count_in(whole, "orders_sent") > 0);
    CHECK(whole.find("\"adverse_selection_10s\": null") == std::string::npos);
    const auto lines = [](const std::string& text) {
        return std::count(text.begin(), text.end(), '\n');
    };
    CHECK(lines(slurp(tmp.path() / "a" / "fills.csv")) ==
          lines(slurp(tmp.path() / "a" / "BTCUSDT" / "fills.csv")) +
              lines(slurp(tmp.path() / "a" / "ETHUSDT" / "fills.csv")) - 1);
    CHECK_THAT(r.out,
               Catch::Contains("report: portfolio " + (tmp.path() / "a" / "report.html").string()));
    // Deterministic: the same files and config give the same fills and portfolio.
    REQUIRE(replay("b").status == 0);
    CHECK(slurp(tmp.path() / "a" / "ETHUSDT" / "fills.csv") ==
          slurp(tmp.path() / "b" / "ETHUSDT" / "fills.csv"));
    CHECK(slurp(tmp.path() / "a" / "pnl.csv") == slurp(tmp.path() / "b" / "pnl.csv"));
}

TEST_CASE("quoter run --mode paper_exchange trades several symbols in one loop", "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT,ETHUSDT", "--rate-hz", "50", "--seed", "9"});
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "two.toml";
    // ETHUSDT quotes wider than BTCUSDT: each symbol runs its own strategy.
    write_file(config, "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\n"
                       "symbols = [\"BTCUSDT\", \"ETHUSDT\"]\ntestnet = false\n\n"
                       "[exchange.spot]\nrest_url = \"" +
                           venue.http_url() + "\"\nws_url = \"" + venue.ws_url() +
                           "\"\n\n[strategy.linear]\nspread_bps = 2.0\n\n"
                           "[symbol.ETHUSDT.strategy.linear]\nspread_bps = 4.0\n");
    const fs::path out = tmp.path() / "report";
    // A stale report of another run in the folder goes.
    fs::create_directories(out / "SOLUSDT");
    write_file(out / "SOLUSDT" / "report.json", "{}");
    const run_result r = run_quoter({"run", "--mode", "paper_exchange", "--config", config.string(),
                                     "--duration", "4", "--out", out.string()},
                                    std::chrono::seconds(90));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("2 symbols in one loop (BTCUSDT, ETHUSDT)"));
    CHECK_THAT(r.out, Catch::Contains("portfolio PnL"));
    CHECK_FALSE(fs::exists(out / "SOLUSDT"));
    // Each symbol traded: orders reached the exchange for both.
    for (const auto* name : {"BTCUSDT", "ETHUSDT"}) {
        INFO(name);
        const auto at = r.out.find(std::string("  ") + name + " ");
        REQUIRE(at != std::string::npos);
        const auto orders = r.out.find("orders ", at);
        REQUIRE(orders != std::string::npos);
        CHECK(std::strtoull(r.out.c_str() + orders + 7, nullptr, 10) > 0);
        for (const auto* file :
             {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
            INFO(file);
            CHECK(fs::is_regular_file(out / name / file));
        }
        const std::string json = slurp(out / name / "report.json");
        CHECK(json.find("\"orders_submitted\": 0,") == std::string::npos);
        CHECK_THAT(json, Catch::Contains(name));
    }
    // ETHUSDT priced with its own wider spread: its orders sit on ETH prices, not BTC's.
    CHECK(slurp(out / "ETHUSDT" / "orders.csv") != slurp(out / "BTCUSDT" / "orders.csv"));
    // The portfolio's report beside them: both symbols' orders, equity summed per sample.
    for (const auto* file :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(file);
        CHECK(fs::is_regular_file(out / file));
    }
    const std::string whole = slurp(out / "report.json");
    CHECK_THAT(whole, Catch::Contains("portfolio: BTCUSDT, ETHUSDT"));
    const auto lines = [](const std::string& text) {
        return std::count(text.begin(), text.end(), '\n');
    };
    CHECK(lines(slurp(out / "orders.csv")) == lines(slurp(out / "BTCUSDT" / "orders.csv")) +
                                                  lines(slurp(out / "ETHUSDT" / "orders.csv")) - 1);
}

TEST_CASE("quoter backtest --data with a missing file exits 2", "[app]") {
    quoter::test::temp_dir tmp("app-live");
    const run_result r =
        run_quoter({"backtest", "--config", QUOTER_SOURCE_DIR "/config/paper.toml", "--data",
                    (tmp.path() / "absent.gz").string(), "--out", (tmp.path() / "out").string()},
                   std::chrono::seconds(60));
    CHECK(r.status == 2);
    CHECK(r.err.find("absent.gz") != std::string::npos);
}

TEST_CASE("quoter backtest --data fails clearly on a capture that cannot be replayed", "[app]") {
    quoter::test::temp_dir tmp("app-live");
    const std::string config = QUOTER_SOURCE_DIR "/config/paper.toml";
    const auto backtest = [&](const std::string& data) {
        return run_quoter({"backtest", "--config", config, "--data", data, "--out",
                           (tmp.path() / "out").string()},
                          std::chrono::seconds(60));
    };
    SECTION("random bytes: nothing decodes") {
        std::string bytes(32 * 1024, '\0');
        std::uint64_t state = 88172645463325252ULL;
        for (char& c : bytes) {
            state ^= state << 13U;
            state ^= state >> 7U;
            state ^= state << 17U;
            c = static_cast<char>(state);
        }
        write_file(tmp.path() / "random.gz", bytes);
        const run_result r = backtest((tmp.path() / "random.gz").string());
        INFO(r.out << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("no market data") != std::string::npos);
    }
    SECTION("time runs backwards") {
        const std::string body =
            R"( {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,)"
            R"("s":"BTCUSDT","U":100,"u":110,"b":[["61000.00","1.0"]],"a":[]}})";
        write_file(tmp.path() / "backwards.txt", "1723161254000000000" + body + "\n" +
                                                     "1723161255000000000" + body + "\n" +
                                                     "1723161226000000000" + body + "\n");
        const run_result r = backtest((tmp.path() / "backwards.txt").string());
        INFO(r.out << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("backwards") != std::string::npos);
    }
    SECTION("no depth snapshot: the book never syncs, and the report says so") {
        std::string lines;
        for (int i = 0; i < 3; ++i) {
            lines += std::to_string(1723161254000000000LL + i * 100'000'000LL) +
                     R"( {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate",)" +
                     R"("E":1723161255308,"s":"BTCUSDT","U":)" + std::to_string(100 + 11 * i) +
                     R"(,"u":)" + std::to_string(110 + 11 * i) +
                     R"(,"b":[["61000.00","1.0"]],"a":[]}})" + "\n";
        }
        write_file(tmp.path() / "no_snapshot.txt", lines);
        const run_result r = backtest((tmp.path() / "no_snapshot.txt").string());
        INFO(r.out << r.err);
        REQUIRE(r.status == 0);
        CHECK(r.out.find("book never synced") != std::string::npos);
        const std::string json = slurp(tmp.path() / "out" / "report.json");
        CHECK(json.find("the BTCUSDT book never synced") != std::string::npos);
        // Never marked: the account is as it started, not worth 0.
        CHECK(json.find("\"initial_equity\": 0") == std::string::npos);
        CHECK(json.find("\"initial_equity\": null") == std::string::npos);
    }
    SECTION("a directory") {
        const run_result r = backtest(tmp.path().string());
        INFO(r.out << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("directory") != std::string::npos);
        CHECK(r.err.find("not found") == std::string::npos);
    }
}

TEST_CASE("quoter record rejects invalid symbols", "[app]") {
    quoter::test::temp_dir tmp("app-live");
    const run_result r =
        run_quoter({"record", "--symbols", "btc-usdt,", "--out", (tmp.path() / "out").string()},
                   std::chrono::seconds(60));
    CHECK(r.status == 2);
    CHECK(r.err.find("--symbols") != std::string::npos);
}

TEST_CASE("quoter record captures the venue's streams to gzip files", "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "7"});
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "venue.toml";
    write_file(config, venue_config(venue));
    const fs::path out = tmp.path() / "capture";
    const run_result r = run_quoter({"record", "--symbols", "btcusdt", "--out", out.string(),
                                     "--duration", "2", "--config", config.string()},
                                    std::chrono::seconds(60));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.out.find("snapshots") != std::string::npos);
    std::size_t gz_files = 0;
    for (const auto& entry : fs::directory_iterator(out)) {
        if (entry.path().extension() == ".gz" && entry.file_size() > 0) {
            ++gz_files;
        }
    }
    CHECK(gz_files >= 1);
}

TEST_CASE("quoter record: an unknown symbol and an unreachable exchangeInfo are told apart",
          "[app][venue]") {
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "venue.toml";
    const fs::path out = tmp.path() / "capture";
    SECTION("the venue lists other symbols: the symbol is unknown") {
        venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "8"});
        write_file(config, venue_config(venue));
        const run_result r = run_quoter({"record", "--symbols", "ethusdt", "--out", out.string(),
                                         "--duration", "2", "--config", config.string()},
                                        std::chrono::seconds(60));
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("not in exchangeInfo"));
        CHECK(r.err.find("unavailable") == std::string::npos);
    }
    SECTION("nothing listens at rest_url: the connection failed") {
        const std::string origin = quoter::test::ops_http::closed_loopback_origin();
        write_file(config, "[engine]\nmode = \"paper_exchange\"\nmarket = \"spot\"\nsymbol = "
                           "\"BTCUSDT\"\ntestnet = false\n\n[exchange.spot]\nrest_url = \"http://" +
                               origin + "\"\nws_url = \"ws://" + origin + "\"\n");
        const run_result r = run_quoter({"record", "--symbols", "btcusdt", "--out", out.string(),
                                         "--duration", "2", "--config", config.string()},
                                        std::chrono::seconds(60));
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("exchangeInfo unavailable: the REST request failed"));
        CHECK(r.err.find("symbol unknown") == std::string::npos);
    }
}

TEST_CASE("quoter run --mode paper_exchange trades on the venue's feed and stops", "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "5"});
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, venue_config(venue));
    const fs::path out = tmp.path() / "report";
    const run_result r = run_quoter({"run", "--mode", "paper_exchange", "--config", config.string(),
                                     "--duration", "3", "--out", out.string()},
                                    std::chrono::seconds(60));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const auto at = r.out.find("orders ");
    REQUIRE(at != std::string::npos);
    CHECK(std::strtoull(r.out.c_str() + at + 7, nullptr, 10) > 0);
    // The exit report's latency table: the md hops of every event, end to end for orders.
    CHECK(r.out.find("tick to order") != std::string::npos);
    const auto popped = r.out.find("    popped ");
    REQUIRE(popped != std::string::npos);
    CHECK(std::strtoull(r.out.c_str() + popped + 11, nullptr, 10) > 0);
    CHECK(r.out.find("    end to end ") != std::string::npos);
    // The session's report at exit, as a replay's.
    CHECK(r.out.find("report: " + (out / "report.html").string()) != std::string::npos);
    for (const auto* name :
         {"pnl.csv", "fills.csv", "orders.csv", "report.json", "report.md", "report.html"}) {
        INFO(name);
        CHECK(fs::is_regular_file(out / name));
    }
    const std::string json = slurp(out / "report.json");
    CHECK(json.find("\"sharpe\": ") != std::string::npos);
    CHECK(json.find("\"orders_submitted\": 0,") == std::string::npos);
    // The orders the risk gate sent and refused, as every run's report counts them.
    CHECK(json.find("\"orders_sent\": 0,") == std::string::npos);
    CHECK(json.find("\"risk_refusals_daily_loss\": ") != std::string::npos);
    CHECK(json.find("\"mean_quoted_spread\": null") == std::string::npos);
    // Spread capture, inventory PnL and the fills' markouts (adverse selection) as a replay's.
    for (const auto* key :
         {"\"spread_capture_pnl\": ", "\"inventory_pnl\": ", "\"adverse_selection_1s\": ",
          "\"adverse_selection_10s\": ", "\"adverse_selection_60s\": "}) {
        INFO(key);
        const auto at = json.find(key);
        REQUIRE(at != std::string::npos);
        CHECK(json.compare(at + std::strlen(key), 4, "null") != 0);
    }
    CHECK(slurp(out / "orders.csv").find("submitted") != std::string::npos);
    CHECK(slurp(out / "pnl.csv").find('\n') < slurp(out / "pnl.csv").size() - 1);
}

TEST_CASE("quoter run --mode paper_exchange: SIGUSR1 kills and cancels every order, SIGINT exits 0",
          "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "7"});
    quoter::test::temp_dir tmp("app-live");
    const fs::path journal = tmp.path() / "journal.jsonl";
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, venue_config(venue) + "\n[journal]\npath = \"" + journal.string() + "\"\n");
    quoter_child child(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "30"});
    const auto wait_for_text = [&](const std::string& needle, std::chrono::seconds limit) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (slurp(journal).find(needle) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    };
    // Orders acknowledged: something is open to cancel.
    const bool trading = wait_for_text("\"type\":\"ack\"", std::chrono::seconds(20));
    if (trading) {
        child.signal(SIGUSR1);
    }
    const bool killed = trading && wait_for_text("\"event\":\"kill\"", std::chrono::seconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // cancels confirmed meanwhile
    child.signal(SIGINT);
    const int status = child.wait(std::chrono::seconds(30));
    const std::string out = child.out();
    const std::string text = slurp(journal);
    INFO(out << child.err());
    REQUIRE(trading);
    REQUIRE(killed);
    CHECK(status == 0);
    CHECK_THAT(out, Catch::Contains("stopped by signal"));
    CHECK_THAT(out, Catch::Contains("final state killed"));
    CHECK_THAT(out, Catch::Contains("open orders 0"));
    CHECK_THAT(text,
               Catch::Contains("\"type\":\"command\",\"command\":\"kill\",\"source\":\"signal\""));
    CHECK_THAT(text, Catch::Contains("\"reason\":\"manual_kill\""));
    // Every order acknowledged before the kill has a kill cancel requested right at the kill
    // (the paper engine's ts is the wall clock) and confirmed.
    const auto field = [](const std::string& line, const std::string& name) {
        const std::string key = "\"" + name + "\":";
        const auto at = line.find(key);
        if (at == std::string::npos) {
            return std::string();
        }
        const auto begin = at + key.size() + (line[at + key.size()] == '"' ? 1 : 0);
        return line.substr(begin, line.find_first_of(",}\"", begin) - begin);
    };
    std::istringstream lines(text);
    std::string line;
    std::map<std::string, double> remaining; // orders open before the kill
    long long kill_ts = -1;
    bool after_kill = false;
    std::vector<std::string> requested;
    std::vector<std::string> confirmed;
    while (std::getline(lines, line)) {
        const std::string type = field(line, "type");
        const std::string id = field(line, "client_order_id");
        if (!after_kill) {
            if (type == "order_intent") {
                remaining[id] = std::stod(field(line, "qty"));
            } else if (type == "cancel" && field(line, "stage") == "confirmed") {
                remaining.erase(id);
            } else if (type == "fill" && remaining.count(id) != 0) {
                remaining[id] -= std::stod(field(line, "qty"));
                if (remaining[id] <= 1e-12) {
                    remaining.erase(id);
                }
            } else if (type == "state" && field(line, "event") == "kill") {
                after_kill = true;
                kill_ts = std::atoll(field(line, "ts").c_str());
            }
            continue;
        }
        if (type == "cancel" && field(line, "cause") == "kill") {
            const long long ts = std::atoll(field(line, "ts").c_str());
            if (field(line, "stage") == "requested" && ts - kill_ts <= 100'000'000LL) {
                requested.push_back(id);
            } else if (field(line, "stage") == "confirmed") {
                confirmed.push_back(id);
            }
        }
        CHECK(type != "order_intent");
    }
    CHECK(!remaining.empty());
    for (const auto& [id, left] : remaining) {
        INFO("order " << id);
        CHECK(std::find(requested.begin(), requested.end(), id) != requested.end());
        CHECK(std::find(confirmed.begin(), confirmed.end(), id) != confirmed.end());
    }
}

TEST_CASE("quoter record without --duration stops on SIGINT with every line readable",
          "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "9"});
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "venue.toml";
    write_file(config, venue_config(venue));
    const fs::path out = tmp.path() / "capture";
    quoter_child child(
        {"record", "--symbols", "btcusdt", "--out", out.string(), "--config", config.string()});
    // Recording once a file has been opened; then a little more data, then Ctrl-C.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool opened = false;
    while (!opened && std::chrono::steady_clock::now() < deadline) {
        std::error_code ignored;
        opened = fs::is_directory(out, ignored) && !fs::is_empty(out, ignored);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    child.signal(SIGINT);
    const int status = child.wait(std::chrono::seconds(30));
    const std::string printed = child.out();
    INFO(printed << child.err());
    REQUIRE(opened);
    REQUIRE(status == 0);
    CHECK_THAT(printed, Catch::Contains("stopped by signal"));
    // The summary's line count is what the files hold, each line a capture line.
    const auto at = printed.find(" lines");
    REQUIRE(at != std::string::npos);
    const auto start = printed.rfind(' ', at - 1) + 1;
    const std::uint64_t reported = std::strtoull(printed.c_str() + start, nullptr, 10);
    std::uint64_t read = 0;
    for (const auto& entry : fs::directory_iterator(out)) {
        if (entry.path().extension() != ".gz") {
            continue; // the exchangeInfo cache
        }
        quoter::md::gzip_line_reader reader;
        REQUIRE(reader.open(entry.path().string()).has_value());
        quoter::md::capture_line line;
        while (reader.next(line)) {
            ++read;
        }
        CHECK(reader.error() == quoter::md::capture_error::none);
        CHECK(reader.bad_lines() == 0);
    }
    CHECK(reported > 0);
    CHECK(read == reported);
}

TEST_CASE("quoter run --mode paper_exchange over TLS trusts the CA named in [market_data]",
          "[app][venue]") {
    venue_process venue({"--symbols", "BTCUSDT", "--rate-hz", "50", "--seed", "11"}, true);
    quoter::test::temp_dir tmp("app-live");
    const fs::path config = tmp.path() / "paper.toml";
    write_file(config, venue_config(venue) + "\n[market_data]\nextra_ca_file = \"" +
                           quoter::net::testing::certificates().ca + "\"\n");
    const run_result r = run_quoter(
        {"run", "--mode", "paper_exchange", "--config", config.string(), "--duration", "3"},
        std::chrono::seconds(60));
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.err, Catch::Contains("wss://127.0.0.1"));
    const auto at = r.out.find("orders ");
    REQUIRE(at != std::string::npos);
    CHECK(std::strtoull(r.out.c_str() + at + 7, nullptr, 10) > 0);
    CHECK_THAT(r.out, Catch::Contains(" 0 gaps"));
}
