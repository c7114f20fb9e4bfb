// Runs the real `quoter config check` binary, as a user would, and checks its exit status and
// what it prints on stdout and stderr.
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using quoter::test::run_result;
using quoter::test::slurp;

/// Runs quoter with `args`; the child's environment is ours minus every QUOTER_* variable, plus
/// `env`.
run_result run_quoter(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {}) {
    return quoter::test::run_to_end(QUOTER_EXE, args, env);
}

const std::string sim_toml = std::string(QUOTER_SOURCE_DIR) + "/config/sim.toml";

// Shaped like Binance credentials (64 alphanumerics), distinct enough to search for.
const std::string api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const std::string api_secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

/// Fails when any 8 consecutive characters of `secret` appear in `text`.
void check_not_leaked(const std::string& text, const std::string& secret) {
    for (std::size_t i = 0; i + 8 <= secret.size(); ++i) {
        const std::string piece = secret.substr(i, 8);
        INFO("piece " << piece << " of a secret appears in the output");
        CHECK(text.find(piece) == std::string::npos);
    }
}

} // namespace

TEST_CASE("config check on sim.toml prints the resolved configuration and exits 0",
          "[config_check]") {
    const auto result = run_quoter({"config", "check", sim_toml});
    INFO(result.err);
    CHECK(result.status == 0);
    CHECK(result.err.empty());
    CHECK_THAT(result.out, Catch::StartsWith("# quoter configuration: " + sim_toml));
    CHECK_THAT(result.out, Catch::Contains("\n[engine]\nmode = \"sim\""));
    CHECK_THAT(result.out, Catch::Contains("# " + sim_toml + ":12\n"));
    CHECK_THAT(result.out, Catch::Contains("recv_window_ms = 5000              # default"));
    CHECK_THAT(result.out, Catch::Contains("# valid: mode sim, BTCUSDT spot"));
}

TEST_CASE("config check with a profile shows the overlaid values", "[config_check]") {
    const auto result = run_quoter({"config", "check", sim_toml, "--profile", "prod"});
    CHECK(result.status == 0);
    CHECK_THAT(result.out, Catch::Contains("# profile: prod (from --profile)"));
    CHECK_THAT(result.out, Catch::Contains("wait_policy = \"spin\"  # profile prod, " + sim_toml));

    const auto unknown = run_quoter({"config", "check", sim_toml, "--profile", "qa"});
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown profile \"qa\""));
}

TEST_CASE("config check on a wrong type prints file:line and the key and exits 2",
          "[config_check]") {
    quoter::test::temp_dir dir("config-check");
    const auto file = dir.write("wrong.toml", "[engine]\n"
                                              "mode = \"sim\"\n"
                                              "testnet = \"yes\"\n"
                                              "[threads]\n"
                                              "md_cpu = \"two\"\n");
    const auto result = run_quoter({"config", "check", file.string()});
    CHECK(result.status == 2);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Contains(file.string() + ":3:11: engine.testnet: expected a "
                                                           "boolean (true or false), found string "
                                                           "\"yes\""));
    CHECK_THAT(result.err, Catch::Contains(file.string() + ":5:10: threads.md_cpu: expected an "
                                                           "integer in [-1, 1023], found string "
                                                           "\"two\""));
    CHECK_THAT(result.err,
               Catch::EndsWith("quoter config check: 2 errors in " + file.string() + "\n"));
}

TEST_CASE("config check on a missing file or broken TOML exits 2", "[config_check]") {
    quoter::test::temp_dir dir("config-check");
    const auto missing = run_quoter({"config", "check", (dir.path() / "absent.toml").string()});
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Catch::Contains("absent.toml: cannot read the configuration file: No "
                                            "such file or directory"));

    const auto broken_file = dir.write("broken.toml", "[engine]\nmode = \"sim\n");
    const auto broken = run_quoter({"config", "check", broken_file.string()});
    CHECK(broken.status == 2);
    CHECK_THAT(broken.err, Catch::StartsWith(broken_file.string() + ":2:"));
    CHECK_THAT(broken.err, Catch::Contains("TOML syntax error"));
}

TEST_CASE("a bad environment override is reported by variable name", "[config_check]") {
    const auto result = run_quoter({"config", "check", sim_toml}, {{"QUOTER_THREADS_MD_CPU", "x"}});
    CHECK(result.status == 2);
    CHECK_THAT(result.err, Catch::Contains("env QUOTER_THREADS_MD_CPU: threads.md_cpu: expected an "
                                           "integer in [-1, 1023], found \"x\""));
}

TEST_CASE("secrets set through the environment never appear unmasked", "[config_check]") {
    const std::map<std::string, std::string> env{{"QUOTER_API_KEY", api_key},
                                                 {"QUOTER_API_SECRET", api_secret}};
    SECTION("a valid configuration") {
        const auto result = run_quoter({"config", "check", sim_toml}, env);
        CHECK(result.status == 0);
        CHECK_THAT(result.out, Catch::Contains("api_key = \"vmPU\u2026Eh8A\""));
        CHECK_THAT(result.out, Catch::Contains("api_secret = \"NhqP\u2026Tj0j\""));
        check_not_leaked(result.out + result.err, api_key);
        check_not_leaked(result.out + result.err, api_secret);
    }
    SECTION("live mode, where the summary names the credentials") {
        const auto live = std::string(QUOTER_SOURCE_DIR) + "/config/live-testnet.toml";
        const auto result = run_quoter({"config", "check", live}, env);
        CHECK(result.status == 0);
        CHECK_THAT(result.out, Catch::Contains("# credentials: api_key vmPU\u2026Eh8A"));
        check_not_leaked(result.out + result.err, api_key);
        check_not_leaked(result.out + result.err, api_secret);
    }
    SECTION("an invalid configuration and a malformed secret") {
        quoter::test::temp_dir dir("config-check");
        const auto file = dir.write("bad.toml", "[engine]\nmode = 1\n");
        auto bad_env = env;
        bad_env["QUOTER_API_SECRET"] = api_secret + " \n";
        const auto result = run_quoter({"config", "check", file.string()}, bad_env);
        CHECK(result.status == 2);
        CHECK_THAT(result.err, Catch::Contains("env QUOTER_API_SECRET: secrets.api_secret: "
                                               "contains spaces"));
        check_not_leaked(result.out + result.err, api_key);
        check_not_leaked(result.out + result.err, api_secret);
    }
    SECTION("a secret pasted into the configuration file") {
        quoter::test::temp_dir dir("config-check");
        const auto file =
            dir.write("leak.toml", fmt::format("[exchange]\napi_key = \"{}\"\n", api_key));
        const auto result = run_quoter({"config", "check", file.string()});
        CHECK(result.status == 2);
        CHECK_THAT(result.err, Catch::Contains(file.string() + ":2:1: exchange.api_key: secrets do "
                                                               "not belong in the configuration "
                                                               "file"));
        check_not_leaked(result.out + result.err, api_key);
    }
}

TEST_CASE("a secrets file must be private", "[config_check]") {
    quoter::test::temp_dir dir("config-check");
    const auto secrets = dir.write(
        "secrets.toml", fmt::format("api_key = \"{}\"\napi_secret = \"{}\"\n", api_key, api_secret),
        0644);
    const auto file = dir.write("live.toml", "[engine]\nmode = \"live\"\n"
                                             "[exchange]\nsecrets_file = \"secrets.toml\"\n");
    const auto refused = run_quoter({"config", "check", file.string()});
    CHECK(refused.status == 2);
    CHECK_THAT(refused.err,
               Catch::Contains(file.string() + ":4:16: exchange.secrets_file: refusing "
                                               "the secrets file"));
    CHECK_THAT(refused.err, Catch::Contains("chmod 600"));
    check_not_leaked(refused.out + refused.err, api_key);

    ::chmod(secrets.c_str(), 0600);
    const auto accepted = run_quoter({"config", "check", file.string()});
    INFO(accepted.err);
    CHECK(accepted.status == 0);
    CHECK_THAT(accepted.out, Catch::Contains("api_key = \"vmPU\u2026Eh8A\"     # secrets file"));
    check_not_leaked(accepted.out + accepted.err, api_key);
    check_not_leaked(accepted.out + accepted.err, api_secret);
}

TEST_CASE("one file serves quoter sweep, config check and backtest", "[config_check][sweep]") {
    quoter::test::temp_dir dir("config-sweep");
    std::string base = slurp(sim_toml);
    const std::string from = "duration_s = 3600.0";
    const auto at = base.find(from);
    REQUIRE(at != std::string::npos);
    base.replace(at, from.size(), "duration_s = 20.0");
    const auto file = dir.write("sweep.toml", base + R"(
[sweep]
paths = 2
objective = "sharpe - 0.5 * sharpe.sd"

[sweep.set]
"strategy.linear.spread_bps" = [4, 8, 16]
)");
    const auto check = run_quoter({"config", "check", file.string()});
    INFO(check.out << check.err);
    CHECK(check.status == 0);
    CHECK_THAT(check.out, Catch::Contains("# sweep: 3 trials over strategy.linear.spread_bps; "
                                          "each on 2 synthetic paths; objective sharpe - 0.5 * "
                                          "sharpe.sd"));
    // backtest runs the base configuration and says it ignores the sweep.
    const auto out = dir.path() / "bt";
    const auto backtest =
        run_quoter({"backtest", "--config", file.string(), "--out", out.string()});
    INFO(backtest.out << backtest.err);
    CHECK(backtest.status == 0);
    CHECK_THAT(backtest.err, Catch::Contains("holds a [sweep] table; running the base "
                                             "configuration and ignoring the sweep"));
    CHECK(std::filesystem::exists(out / "report.json"));

    SECTION("the sweep's keys and the keys it sweeps are checked") {
        const auto bad = dir.write("bad.toml", base + R"(
[sweep]
pahts = 2
objective = "sharpe - drawdwn"

[sweep.set]
"strategy.linear.sprad_bps" = [4, 8]
"strategy.linear.spread_bps" = [4, -1]
)");
        const auto r = run_quoter({"config", "check", bad.string()});
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("sweep.pahts: unknown key"));
        CHECK_THAT(r.err, Catch::Contains("unknown metric \"drawdwn\""));
        const auto bt = run_quoter({"backtest", "--config", bad.string(), "--out", out.string()});
        CHECK(bt.status == 2);
        CHECK_THAT(bt.err, Catch::Contains("error"));
        CHECK_THAT(bt.err, Catch::Contains("in the [sweep] table of"));
        // Without table-level problems, every swept value goes through the config reader.
        const auto values = dir.write("values.toml", base + R"(
[sweep.set]
"strategy.linear.sprad_bps" = [4]
"strategy.linear.spread_bps" = [4, -1]
)");
        const auto v = run_quoter({"config", "check", values.string()});
        INFO(v.err);
        CHECK(v.status == 2);
        CHECK_THAT(v.err, Catch::Contains("strategy.linear.sprad_bps: unknown key; did you mean "
                                          "strategy.linear.spread_bps?"));
        CHECK_THAT(v.err, Catch::Contains("[sweep] strategy.linear.spread_bps = -1"));
    }
}

TEST_CASE("config check names every limit a 0 turns off", "[config_check]") {
    quoter::test::temp_dir dir("config-check");
    const auto defaults = run_quoter({"config", "check", sim_toml});
    CHECK(defaults.out.find("# limits off") == std::string::npos);

    const auto off = dir.write("off.toml", "[risk]\ndaily_loss_pct = 0\nmax_orders_per_day = 0\n"
                                           "price_band_bps = 0\n");
    const auto result = run_quoter({"config", "check", off.string()});
    INFO(result.out << result.err);
    CHECK(result.status == 0);
    // A zero band is a limit (orders at the touch), not an absent one.
    CHECK_THAT(result.out,
               Catch::Contains("# limits off (0): risk.max_orders_per_day, risk.daily_loss_pct\n"));

    const auto symbol = dir.write(
        "symbol.toml", "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n[symbol.BTCUSDT]\n"
                       "[symbol.ETHUSDT]\n[symbol.ETHUSDT.risk]\n"
                       "order_notional_pct = 0\n[market]\nstart_price = 100\n");
    const auto per_symbol = run_quoter({"config", "check", symbol.string()});
    INFO(per_symbol.out << per_symbol.err);
    CHECK_THAT(per_symbol.out,
               Catch::Contains("# limits off (0): symbol.ETHUSDT.risk.order_notional_pct\n"));
}
