// A configuration file with a [sweep] table, read by the commands that do not sweep: they run the
// base configuration and say on stderr that they ignore the sweep; `config check` reports each
// problem of the table once.
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using quoter::test::run_result;
using quoter::test::slurp;
using quoter::test::temp_dir;

namespace {

constexpr const char* sweep_table = R"(
[sweep]
paths = 2

[sweep.set]
"strategy.linear.spread_bps" = [4, 8]
)";

run_result run_quoter(const std::vector<std::string>& args) {
    return quoter::test::run_to_end(QUOTER_EXE, args, {}, std::chrono::seconds(120));
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

} // namespace

TEST_CASE("quoter run and quoter record ignore a [sweep] table, as backtest does",
          "[research][sweep_config]") {
    temp_dir dir("sweep-ignored");
    const std::string sim = slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const auto file = dir.write("sim.toml", sim + sweep_table);

    const auto run = run_quoter({"run", "--mode", "sim", "--config", file.string(), "--duration",
                                 "1", "--speed", "100", "--out", (dir.path() / "out").string()});
    INFO(run.out << run.err);
    CHECK(run.status == 0);
    CHECK_THAT(run.err, !Catch::Contains("unknown section"));
    CHECK_THAT(run.err, Catch::Contains("quoter run: " + file.string() +
                                        " holds a [sweep] table; running the base configuration "
                                        "and ignoring the sweep"));

    // engine.mode decides the mode when --mode is not given, [sweep] or not: live, which
    // refuses to start without credentials (and reaches no network).
    ::unsetenv("QUOTER_API_KEY");
    ::unsetenv("QUOTER_API_SECRET");
    const auto live_file =
        dir.write("live.toml", slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "live-testnet.toml") +
                                   sweep_table);
    const auto live = run_quoter({"run", "--config", live_file.string()});
    INFO(live.out << live.err);
    CHECK(live.status == 2);
    CHECK_THAT(live.err, Catch::Contains("quoter run --mode live: no API credentials"));

    // record reads its endpoints from the file: a closed local port, so nothing leaves the host.
    const auto record_file =
        dir.write("record.toml", sim +
                                     "\n[exchange.spot]\nrest_url = \"http://127.0.0.1:9\"\n"
                                     "ws_url = \"ws://127.0.0.1:9\"\n" +
                                     sweep_table);
    const auto record =
        run_quoter({"record", "--symbols", "btcusdt", "--out", (dir.path() / "rec").string(),
                    "--duration", "1", "--config", record_file.string()});
    INFO(record.out << record.err);
    CHECK_THAT(record.err, !Catch::Contains("unknown section"));
    CHECK_THAT(record.err, Catch::Contains("quoter record: " + record_file.string() +
                                           " holds a [sweep] table; running the base "
                                           "configuration and ignoring the sweep"));
}

TEST_CASE("config check reports a misspelt swept key once", "[research][sweep_config]") {
    temp_dir dir("sweep-misspelt");
    const std::string sim = slurp(fs::path(QUOTER_SOURCE_DIR) / "config" / "sim.toml");
    const auto file = dir.write("sim.toml", sim + R"(
[sweep]
paths = 2

[sweep.set]
"strategy.linear.sprad_bps" = [1, 2, 3]
"strategy.linear.spread_bps" = [4, -1, -2]
)");
    const auto check = run_quoter({"config", "check", file.string()});
    INFO(check.err);
    CHECK(check.status == 2);
    CHECK(count_of(check.err, "strategy.linear.sprad_bps: unknown key; did you mean "
                              "strategy.linear.spread_bps?") == 1);
    // A bad value is its own error: each one is reported.
    CHECK(count_of(check.err, "[sweep] strategy.linear.spread_bps = -1") == 1);
    CHECK(count_of(check.err, "[sweep] strategy.linear.spread_bps = -2") == 1);
    CHECK_THAT(check.err, Catch::Contains("3 errors in the [sweep] table"));
}
