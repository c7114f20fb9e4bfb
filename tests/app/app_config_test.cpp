#include "engine_config_support.hpp"
#include "quoter/app/app_config.hpp"
#include "quoter/live/market_data_config.hpp"
#include "quoter/md/order_book.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

using namespace quoter;
using namespace std::chrono_literals;

namespace {

using test::messages;
using test::valid_config;

config::load_options options(std::map<std::string, std::string> env = {},
                             std::string profile = {}) {
    return test::config_options(std::move(env), std::move(profile));
}

std::string source_file(std::string_view relative) {
    return std::string(QUOTER_SOURCE_DIR) + "/" + std::string(relative);
}

/// Loads `text` written to a temporary file; returns the problems (empty when valid).
config::diagnostics problems_of(std::string_view text,
                                std::map<std::string, std::string> env = {}) {
    test::temp_dir dir("app-config");
    const auto file = dir.write("quoter.toml", text);
    const auto loaded = app::load_engine_config(file.string(), options(std::move(env)));
    return loaded ? loaded->resolved.warnings : loaded.error();
}

} // namespace

TEST_CASE("the example configurations are valid", "[app_config]") {
    for (const char* name : {"config/sim.toml", "config/paper.toml", "config/live-testnet.toml"}) {
        for (const char* profile : {"", "dev", "staging", "prod"}) {
            INFO(name << " --profile " << profile);
            const auto loaded = app::load_engine_config(source_file(name), options({}, profile));
            INFO((loaded ? std::string() : messages(loaded.error())));
            CHECK(loaded.has_value());
        }
    }
}

TEST_CASE("sim.toml resolves to the documented engine set-up", "[app_config]") {
    const auto sim = app::load_engine_config(source_file("config/sim.toml"), options());
    REQUIRE(sim.has_value());
    CHECK(sim->engine.mode == app::engine_mode::sim);
    CHECK(sim->engine.market == app::market_kind::spot);
    CHECK(sim->engine.symbol == "BTCUSDT");
    CHECK(sim->spec.name().view() == "BTCUSDT");
    CHECK(sim->spec.price_decimals() == 2);
    CHECK(sim->spec.qty_decimals() == 5);
    CHECK(sim->exchange.recv_window_ms == 5000ms);
    CHECK(sim->active_endpoints().rest_url == "https://testnet.binance.vision");
    CHECK_FALSE(sim->secrets.complete());

    const auto prod = app::load_engine_config(source_file("config/sim.toml"), options({}, "prod"));
    REQUIRE(prod.has_value());
    CHECK(prod->threads.md_cpu == 0);
    CHECK(prod->threads.core_cpu == 1);
    CHECK(prod->threads.wait == core::idle_policy::spin);
}

TEST_CASE("endpoints follow engine.market and engine.testnet", "[app_config]") {
    app::engine_config config;
    CHECK(config.active_endpoints().ws_url == "wss://stream.testnet.binance.vision");
    config.engine.testnet = false;
    CHECK(config.active_endpoints().ws_url == "wss://stream.binance.com:9443");
    config.engine.market = app::market_kind::usdm_futures;
    CHECK(config.active_endpoints().rest_url == "https://fapi.binance.com");
    config.engine.testnet = true;
    CHECK(config.active_endpoints().rest_url == "https://testnet.binancefuture.com");
    CHECK(app::to_string(app::engine_mode::paper_exchange) == "paper_exchange");
    CHECK(app::to_string(app::market_kind::usdm_futures) == "usdm_futures");
    CHECK(core::to_string(core::idle_policy::block) == "block");
}

TEST_CASE("exchange.not_yet_requery_ms paces the queries of a placement the venue may still take",
          "[app_config]") {
    test::temp_dir dir("app-config-requery");
    const auto loaded = app::load_engine_config(
        dir.write("q.toml", "[exchange]\nnot_yet_requery_ms = 100\n").string(), options());
    REQUIRE(loaded.has_value());
    CHECK(loaded->exchange.not_yet_requery_ms == std::chrono::milliseconds(100));
    CHECK(config::has_errors(problems_of("[exchange]\nnot_yet_requery_ms = 5\n")));
}

TEST_CASE("live trading on mainnet needs engine.mainnet = true", "[app_config]") {
    const auto refused = problems_of("[engine]\nmode = \"live\"\ntestnet = false\n");
    REQUIRE(config::has_errors(refused));
    CHECK_THAT(messages(refused), Catch::Contains(":3:11: engine.testnet: live trading on mainnet "
                                                  "uses real funds and needs the explicit "
                                                  "acknowledgement engine.mainnet = true"));

    const auto acknowledged = problems_of(
        "[engine]\nmode = \"live\"\ntestnet = false\nmainnet = true\n",
        {{"QUOTER_API_KEY", std::string(64, 'k')}, {"QUOTER_API_SECRET", std::string(64, 's')}});
    CHECK_FALSE(config::has_errors(acknowledged));

    const auto paper = problems_of("[engine]\nmode = \"paper_exchange\"\ntestnet = false\n");
    CHECK_FALSE(config::has_errors(paper));

    const auto contradiction = problems_of("[engine]\nmainnet = true\n");
    CHECK_THAT(messages(contradiction),
               Catch::Contains(":2:11: engine.mainnet: engine.mainnet = true contradicts "
                               "engine.testnet = true"));

    const auto via_env =
        problems_of("[engine]\nmode = \"live\"\n", {{"QUOTER_ENGINE_TESTNET", "false"}});
    CHECK_THAT(messages(via_env), Catch::Contains("env QUOTER_ENGINE_TESTNET: engine.testnet: live "
                                                  "trading on mainnet"));
}

TEST_CASE("live mode without credentials passes the check with a warning", "[app_config]") {
    const std::string live = "[engine]\nmode = \"live\"\n[state]\ndirectory = \"/tmp/q\"\n";
    const auto warnings = problems_of(live);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings.front().level == config::severity::warning);
    CHECK(warnings.front().key == "engine.mode");
    CHECK_THAT(warnings.front().message, Catch::Contains("QUOTER_API_KEY"));

    CHECK(problems_of(live, {{"QUOTER_API_KEY", std::string(64, 'k')},
                             {"QUOTER_API_SECRET", std::string(64, 's')}})
              .empty());
}

TEST_CASE("live mode without a state directory passes the check with a warning: nothing would "
          "survive a restart",
          "[app_config]") {
    const auto warnings =
        problems_of("[engine]\nmode = \"live\"\n", {{"QUOTER_API_KEY", std::string(64, 'k')},
                                                    {"QUOTER_API_SECRET", std::string(64, 's')}});
    REQUIRE(warnings.size() == 1);
    CHECK(warnings.front().level == config::severity::warning);
    CHECK_THAT(warnings.front().message,
               Catch::Contains("live without state.directory: nothing survives a restart"));
}

TEST_CASE("an invalid symbol filter is reported at its own line", "[app_config]") {
    const auto zero_tick = problems_of("[engine]\nsymbol = \"BTCUSDT\"\n\n[symbol]\n"
                                       "tick_size = \"0.00\"\nstep_size = \"0.001\"\n");
    CHECK_THAT(messages(zero_tick),
               Catch::Contains(":5:13: symbol.tick_size: tick size must be a positive decimal, "
                               "found \"0.00\""));
    CHECK(zero_tick.size() == 1);

    const auto notional = problems_of("[symbol]\ntick_size = \"0.1\"\nstep_size = \"0.1\"\n"
                                      "min_notional = \"0.001\"\n");
    CHECK_THAT(messages(notional), Catch::Contains(":4:16: symbol.min_notional: min notional must "
                                                   "be a non-negative decimal with at most as "
                                                   "many decimals"));

    const auto precise = problems_of("[symbol]\ntick_size = \"0.0000000001\"\n"
                                     "step_size = \"0.0000000001\"\n");
    CHECK_THAT(messages(precise), Catch::Contains(":3:13: symbol.step_size: tick and step sizes "
                                                  "together exceed 18 decimals"));

    const auto lower = problems_of("[engine]\nsymbol = \"btcusdt\"\n");
    CHECK_THAT(messages(lower), Catch::Contains(":2:10: engine.symbol: expected 1 to 20 upper-case "
                                                "letters or digits"));
}

TEST_CASE("threads: distinct CPUs, known wait policies", "[app_config]") {
    const auto shared = problems_of("[threads]\nmd_cpu = 0\ncore_cpu = 0\n");
    CHECK_THAT(messages(shared),
               Catch::Contains(":3:12: threads.core_cpu: the core and market-data "
                               "threads would share CPU 0"));
    const auto policy = problems_of("[threads]\nwait_policy = \"busy\"\n");
    CHECK_THAT(messages(policy), Catch::Contains(":2:15: threads.wait_policy: expected one of "
                                                 "\"spin\", \"yield\", \"block\", found \"busy\""));
    const auto missing_cpu = problems_of("[threads]\nmd_cpu = 1023\n");
    REQUIRE(missing_cpu.size() == 1); // CPU 1023 does not exist on a test machine
    CHECK(missing_cpu.front().level == config::severity::warning);
}

TEST_CASE("endpoint URLs: the right scheme, clear text only to loopback", "[app_config]") {
    const auto local =
        problems_of("[exchange.spot]\nrest_url = \"http://127.0.0.1:8080\"\n"
                    "ws_url = \"ws://localhost:9443\"\nws_api_url = \"ws://[::1]:1\"\n");
    CHECK(local.empty());
    const auto remote = problems_of("[exchange.spot_testnet]\nrest_url = \"http://example.com\"\n"
                                    "ws_url = \"https://example.com\"\nws_api_url = \"wss://\"\n");
    const auto text = messages(remote);
    CHECK(remote.size() == 3);
    CHECK_THAT(text, Catch::Contains(":2:12: exchange.spot_testnet.rest_url: http:// is accepted "
                                     "only for 127.0.0.1, localhost or [::1]; use https:// for "
                                     "example.com"));
    CHECK_THAT(text, Catch::Contains(":3:10: exchange.spot_testnet.ws_url: expected a URL such as "
                                     "wss://host[:port][/path], found \"https://example.com\""));
    CHECK_THAT(text, Catch::Contains("exchange.spot_testnet.ws_api_url: expected a URL"));
}

TEST_CASE("sections not built yet are unknown, with their errors all reported", "[app_config]") {
    const auto problems = problems_of("[engine]\nmode = \"sim\"\nmarket = \"futures\"\n"
                                      "[exchange]\nrecv_window_ms = 70000\n[sweep]\nx = 1\n");
    REQUIRE(problems.size() == 3);
    CHECK(problems[0].key == "engine.market");
    CHECK(problems[1].key == "exchange.recv_window_ms");
    CHECK(problems[2].message == "unknown section [sweep]");
}

TEST_CASE("docs/config.md documents every key exactly as the code declares it",
          "[app_config][docs]") {
    const auto loaded = app::load_engine_config(source_file("config/sim.toml"), options());
    REQUIRE(loaded.has_value());
    std::ifstream in(source_file("docs/config.md"));
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    const std::string docs = text.str();
    // The per-symbol tables of a many-symbol configuration, documented as symbol.<NAME>.*.
    test::temp_dir dir("config-docs");
    const auto several = app::load_engine_config(
        dir.write("several.toml", "[engine]\nsymbols = [\"ETHUSDT\"]\n").string(), options());
    REQUIRE(several.has_value());
    std::vector<config::key_info> keys = loaded->resolved.keys;
    for (config::key_info key : several->resolved.keys) {
        if (key.key.starts_with("symbol.ETHUSDT.")) {
            key.key = "symbol.<NAME>." + key.key.substr(std::string("symbol.ETHUSDT.").size());
            keys.push_back(std::move(key));
        }
    }
    std::string missing;
    std::string all_rows;
    for (const auto& key : keys) {
        const std::string row = config::format_reference_row(key);
        all_rows += row + "\n";
        if (docs.find(row + "\n") == std::string::npos) {
            missing += row + "\n";
        }
    }
    if (!missing.empty()) {
        // Every row as the code declares it, ready to paste into the tables.
        const std::string rows_file = std::string(QUOTER_BINARY_DIR) + "/config-reference-rows.md";
        std::ofstream(rows_file) << all_rows;
        INFO("all rows written to " << rows_file);
        INFO("rows missing from docs/config.md or out of date:\n" << missing);
        CHECK(missing.empty());
    }
}

TEST_CASE("market_data: intervals and snapshot depth follow the market; the CA file must exist",
          "[app_config]") {
    CHECK(problems_of("[market_data]\ndepth_interval_ms = 1000\n").empty());
    const auto spot_zero = problems_of("[market_data]\ndepth_interval_ms = 0\n");
    CHECK_THAT(messages(spot_zero),
               Catch::Contains(":2:21: market_data.depth_interval_ms: Binance spot depth streams "
                               "come every 100 or 1000 ms; found 0"));
    const std::string futures = "[engine]\nmarket = \"usdm_futures\"\n\n[market_data]\n";
    CHECK(problems_of(futures + "depth_interval_ms = 0\n").empty());
    CHECK_THAT(messages(problems_of(futures + "depth_interval_ms = 1000\n")),
               Catch::Contains("USD-M futures depth streams come every 0, 100, 250 or 500 ms"));
    CHECK_THAT(messages(problems_of(futures + "snapshot_limit = 5000\n")),
               Catch::Contains("market_data.snapshot_limit: /fapi/v1/depth returns at most 1000"));
    CHECK_THAT(messages(problems_of("[market_data]\nbook_levels = 100\n")),
               Catch::Contains("market_data.book_levels: is below snapshot_limit (1000)"));
    CHECK_THAT(messages(problems_of("[market_data]\ntrades = \"klines\"\n")),
               Catch::Contains("market_data.trades"));
    CHECK_THAT(messages(problems_of("[market_data]\nextra_ca_file = \"missing-ca.pem\"\n")),
               Catch::Contains("market_data.extra_ca_file: cannot read"));
}

TEST_CASE("market_data: book sizes default to auto (0), which run and record size from the data",
          "[app_config]") {
    test::temp_dir dir("app-config-books");
    const auto file = dir.write("quoter.toml", "[market_data]\n");
    const auto loaded = app::load_engine_config(file.string(), options());
    REQUIRE(loaded.has_value());
    const live::market_data_settings& md = loaded->market_data;
    CHECK(md.book_window_ticks == 0);
    CHECK(md.book_levels == 0);
    CHECK(live::book_levels_for(md) == 2 * md.snapshot_limit);
    CHECK(problems_of("[market_data]\nbook_window_ticks = 0\nbook_levels = 0\n").empty());
    CHECK(problems_of("[market_data]\nbook_window_ticks = 8192\nbook_levels = 1000\n").empty());
    CHECK_THAT(messages(problems_of("[market_data]\nbook_window_ticks = 100\n")),
               Catch::Contains("market_data.book_window_ticks: is 0 (sized from the price) or at "
                               "least 4096; found 100"));

    // What a book of the default sizes holds: a low-priced symbol gets the minimum window, a
    // BTCUSDT-priced one (60,000.00 at a 0.01 tick) the 65,536-tick window.
    md::order_book cheap(live::book_levels_for(md), md.book_window_ticks);
    cheap.set(core::side::buy, core::price{10'000}, core::qty{1});
    CHECK(cheap.window_ticks() == md::order_book::min_window_ticks);
    CHECK(cheap.capacity() == 2000);
    CHECK(cheap.memory_bytes() < 400U * 1024U);
    md::order_book btc(live::book_levels_for(md), md.book_window_ticks);
    btc.set(core::side::buy, core::price{6'000'000}, core::qty{1});
    CHECK(btc.window_ticks() == 65536);
    CHECK(btc.memory_bytes() < 1536U * 1024U);
}

TEST_CASE("market_data.extra_ca_file is resolved relative to the config file", "[app_config]") {
    test::temp_dir dir("app-config-ca");
    (void)dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
    const auto file = dir.write("quoter.toml", "[market_data]\nextra_ca_file = \"ca.pem\"\n");
    const auto loaded = app::load_engine_config(file.string(), options());
    REQUIRE(loaded.has_value());
    CHECK(loaded->market_data.extra_ca_file == (dir.path() / "ca.pem").lexically_normal().string());
    CHECK(loaded->market_data.depth_interval_ms == 100);
    CHECK(loaded->market_data.trades == live::trade_stream::agg_trade);
}

TEST_CASE("risk.daily_reset_utc is a UTC time of day HH:MM", "[app_config]") {
    test::temp_dir dir("app-config-reset");
    const auto file = dir.write("quoter.toml", "[risk]\ndaily_reset_utc = \"07:30\"\n");
    const auto loaded = app::load_engine_config(file.string(), options());
    REQUIRE(loaded.has_value());
    CHECK(loaded->risk.limits.daily_reset_utc_minute == 450);
    for (const char* bad : {"24:00", "7:30", "07:60", "0730", "ab:cd"}) {
        INFO(bad);
        CHECK_THAT(
            messages(problems_of(std::string("[risk]\ndaily_reset_utc = \"") + bad + "\"\n")),
            Catch::Contains("risk.daily_reset_utc"));
    }
}

TEST_CASE("quotes: the cancel retry pace and budget come from the configuration", "[app_config]") {
    test::temp_dir dir("app-config-cancels");
    const auto file =
        dir.write("quoter.toml", "[quotes]\ncancel_retry_ms = 500\nmax_cancel_attempts = 3\n");
    const auto loaded = app::load_engine_config(file.string(), options());
    REQUIRE(loaded.has_value());
    CHECK(loaded->quotes.cancel_retry_ms == 500);
    CHECK(loaded->quotes.max_cancel_attempts == 3);
    CHECK_THAT(messages(problems_of("[quotes]\nmax_cancel_attempts = 0\n")),
               Catch::Contains("quotes.max_cancel_attempts"));
    CHECK_THAT(messages(problems_of("[quotes]\ncancel_retry_ms = 0\n")),
               Catch::Contains("quotes.cancel_retry_ms"));
}

TEST_CASE("a symbol's synthetic market at its own price is the [market] table's in relative terms",
          "[app_config][symbols]") {
    test::temp_dir dir("app-config-symbol-market");
    const std::string text = "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n\n"
                             "[market]\nstart_price = 60000\nk_per_price_unit = 0.1\n"
                             "walk_sigma_per_sqrt_s = 5.0\n\n"
                             "[symbol.BTCUSDT]\n\n"
                             "[symbol.ETHUSDT]\nstep_size = \"0.0001\"\nstart_price = 3000\n";
    const auto markets = app::make_backtest_symbols(valid_config(dir, text));
    REQUIRE(markets.size() == 2);
    CHECK(markets[0].market.initial_mid_price == 60000.0);
    CHECK(markets[0].market.order_flow_k_per_price_unit == 0.1);
    CHECK(markets[0].market.walk_sigma_per_sqrt_s == 5.0);
    // A twentieth of the price: distances in USDT a twentieth as long.
    CHECK(markets[1].market.initial_mid_price == 3000.0);
    CHECK(markets[1].market.order_flow_k_per_price_unit == Approx(2.0));
    CHECK(markets[1].market.walk_sigma_per_sqrt_s == Approx(0.25));
    // A quote 5 bps from the mid is hit at the same rate on both.
    const double btc = markets[0].market.order_flow_k_per_price_unit * 60000.0 * 5e-4;
    const double eth = markets[1].market.order_flow_k_per_price_unit * 3000.0 * 5e-4;
    CHECK(eth == Approx(btc));
}

TEST_CASE("engine.symbols names several symbols, each with its own [symbol.<NAME>] table",
          "[app_config][symbols]") {
    test::temp_dir dir("app-config-symbols");
    const std::string text = "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n\n"
                             "[symbol]\nmin_notional = \"10\"\n\n"
                             "[symbol.BTCUSDT]\nstart_price = 60000\n\n"
                             "[symbol.ETHUSDT]\ntick_size = \"0.01\"\nstep_size = \"0.0001\"\n"
                             "start_price = 3000\n";
    const app::engine_config loaded = valid_config(dir, text);
    REQUIRE(loaded.symbols.size() == 2);
    CHECK(loaded.engine.symbol == "BTCUSDT");
    CHECK(loaded.engine.symbol_named);
    CHECK(loaded.symbols[0].name == "BTCUSDT");
    CHECK(loaded.symbols[0].spec.qty_decimals() == 5);     // [symbol]'s default step
    CHECK(loaded.symbols[0].filters.min_notional == "10"); // [symbol] is every table's default
    CHECK(loaded.symbols[0].start_price == 60000.0);
    CHECK(loaded.symbols[1].spec.name().view() == "ETHUSDT");
    CHECK(loaded.symbols[1].spec.qty_decimals() == 4);
    CHECK(loaded.symbols[1].filters.min_notional == "10");
    CHECK(loaded.symbols[1].start_price == 3000.0);
    CHECK(loaded.spec.name().view() == "BTCUSDT");
    // Each symbol's synthetic market starts at its own price; no [market] is needed then.
    const auto markets = app::make_backtest_symbols(loaded);
    REQUIRE(markets.size() == 2);
    CHECK(markets[0].market.initial_mid_price == 60000.0);
    CHECK(markets[1].market.initial_mid_price == 3000.0);
    CHECK(markets[1].spec.name().view() == "ETHUSDT");
    CHECK(app::synthetic_market_problem(loaded, app::synthetic_command::backtest).empty());
    // From the environment, as a comma-separated list.
    const auto env = app::load_engine_config(
        dir.write("env.toml", "[symbol.SOLUSDT]\ntick_size = \"0.001\"\n").string(),
        options({{"QUOTER_ENGINE_SYMBOLS", "BTCUSDT,SOLUSDT"}}));
    INFO((env ? std::string() : messages(env.error())));
    REQUIRE(env.has_value());
    REQUIRE(env->symbols.size() == 2);
    CHECK(env->symbols[1].spec.price_decimals() == 3);
}

TEST_CASE("engine.symbols: every problem is reported at its key", "[app_config][symbols]") {
    const auto both = problems_of("[engine]\nsymbol = \"BTCUSDT\"\nsymbols = [\"ETHUSDT\"]\n");
    CHECK_THAT(messages(both), Catch::Contains("engine.symbols: engine.symbol (\"BTCUSDT\") and "
                                               "engine.symbols are both set"));
    CHECK_THAT(messages(problems_of("[engine]\nsymbols = [\"BTCUSDT\", \"BTCUSDT\"]\n")),
               Catch::Contains("engine.symbols: names BTCUSDT twice"));
    CHECK_THAT(messages(problems_of("[engine]\nsymbols = [\"btc-usdt\"]\n")),
               Catch::Contains("engine.symbols: expected 1 to 20 upper-case letters or digits"));
    // One session sums its symbols' capital and exposure in one currency.
    CHECK_THAT(messages(problems_of("[engine]\nsymbols = [\"BTCUSDT\", \"ETHBTC\"]\n")),
               Catch::Contains("engine.symbols: mixes quote assets (USDT in BTCUSDT, BTC in "
                               "ETHBTC)"));
    CHECK_THAT(messages(problems_of("[engine]\nsymbols = [\"ETHUSDT\"]\n[symbol.ETHUSDT]\n"
                                    "tick_size = \"0\"\n")),
               Catch::Contains("symbol.ETHUSDT.tick_size:"));
    // A table for a symbol the list does not name is not silently ignored.
    CHECK_THAT(messages(problems_of("[engine]\nsymbols = [\"ETHUSDT\"]\n[symbol.XRPUSDT]\n"
                                    "tick_size = \"0.0001\"\n")),
               Catch::Contains("unknown table [symbol.XRPUSDT]"));
    // Past what one loop holds: before, the backtests dropped the symbols beyond 64 silently.
    std::string many = "[engine]\nsymbols = [";
    for (int i = 0; i < 66; ++i) {
        many += fmt::format("{}\"S{}USDT\"", i == 0 ? "" : ", ", i);
    }
    CHECK_THAT(messages(problems_of(many + "]\n")),
               Catch::Contains("engine.symbols: names 66 symbols; one process trades at most 64"));
}

TEST_CASE("a single-symbol configuration is one symbol; whether it names it is known",
          "[app_config][symbols]") {
    test::temp_dir dir("app-config-one");
    const auto unnamed =
        app::load_engine_config(dir.write("a.toml", "[symbol]\n").string(), options());
    REQUIRE(unnamed.has_value());
    REQUIRE(unnamed->symbols.size() == 1);
    CHECK(unnamed->symbols[0].name == "BTCUSDT");
    CHECK_FALSE(unnamed->engine.symbol_named);
    // No [market] start price: a synthetic run would start BTCUSDT at 100.
    CHECK_THAT(app::synthetic_market_problem(*unnamed, app::synthetic_command::backtest),
               Catch::Contains("sets no synthetic market price for BTCUSDT"));
    const auto named = app::load_engine_config(
        dir.write("b.toml", "[engine]\nsymbol = \"ETHUSDT\"\n[market]\nstart_price = 3000\n")
            .string(),
        options());
    REQUIRE(named.has_value());
    CHECK(named->engine.symbol_named);
    CHECK(named->symbols[0].name == "ETHUSDT");
    CHECK(app::synthetic_market_problem(*named, app::synthetic_command::backtest).empty());
    const auto from_env = app::load_engine_config(dir.write("c.toml", "").string(),
                                                  options({{"QUOTER_ENGINE_SYMBOL", "ETHUSDT"}}));
    REQUIRE(from_env.has_value());
    CHECK(from_env->engine.symbol_named);
}

TEST_CASE("a symbol's own strategy and limits override [strategy] and [risk] for it alone",
          "[app_config][symbols]") {
    test::temp_dir dir("app-config-symbols");
    const auto file = dir.write(
        "two.toml", "[engine]\nsymbols = [\"BTCUSDT\", \"ETHUSDT\"]\n\n"
                    "[strategy]\norder_size_pct = 1.5\n\n[strategy.linear]\nspread_bps = 8.0\n\n"
                    "[risk]\nsymbol_net_notional_pct = 20.0\n\n"
                    "[symbol.BTCUSDT]\n\n[symbol.ETHUSDT]\nstep_size = \"0.0001\"\n\n"
                    "[symbol.ETHUSDT.strategy]\nmodel = \"glft\"\n\n"
                    "[symbol.ETHUSDT.strategy.linear]\nspread_bps = 25.0\n\n"
                    "[symbol.ETHUSDT.risk]\nsymbol_net_notional_pct = 5.0\n");
    const auto loaded = app::load_engine_config(file.string(), options());
    INFO((loaded ? std::string() : messages(loaded.error())));
    REQUIRE(loaded.has_value());
    REQUIRE(loaded->symbols.size() == 2);
    const app::symbol_entry& btc = loaded->symbols[0];
    const app::symbol_entry& eth = loaded->symbols[1];
    // BTCUSDT: the shared tables.
    CHECK(btc.strategy.model == strategy::model_kind::linear);
    CHECK(btc.strategy.linear.spread_bps == 8.0);
    CHECK(btc.limits.symbol_net_notional_pct == 20.0);
    // ETHUSDT: its own keys over the shared ones; what it does not set stays shared.
    CHECK(eth.strategy.model == strategy::model_kind::glft);
    CHECK(eth.strategy.linear.spread_bps == 25.0);
    CHECK(eth.strategy.order_size_pct == 1.5);
    CHECK(eth.limits.symbol_net_notional_pct == 5.0);
    CHECK(eth.limits.portfolio_net_notional_pct == loaded->risk.limits.portfolio_net_notional_pct);
    // The synthetic run's symbols carry them.
    const auto symbols = app::make_backtest_symbols(*loaded);
    REQUIRE(symbols.size() == 2);
    REQUIRE(symbols[1].strategy.has_value());
    CHECK(symbols[1].strategy->model == strategy::model_kind::glft);
    REQUIRE(symbols[1].limits.has_value());
    CHECK(symbols[1].limits->symbol_net_notional_pct == 5.0);

    // One name in engine.symbols: the synthetic run of `quoter backtest` and `quoter sweep`
    // takes that symbol's tables, as every other mode does. Before, it took [strategy],
    // [risk] and market.start_price, and ran a market at 100 without the symbol's limits.
    const auto one = dir.write(
        "one.toml", "[engine]\nsymbols = [\"ETHUSDT\"]\n\n[risk]\norder_notional_pct = 5.0\n\n"
                    "[symbol.ETHUSDT]\nstart_price = 3000.0\n\n"
                    "[symbol.ETHUSDT.strategy.linear]\nspread_bps = 25.0\n\n"
                    "[symbol.ETHUSDT.risk]\norder_notional_pct = 0.1\n");
    const auto single = app::load_engine_config(one.string(), options());
    INFO((single ? std::string() : messages(single.error())));
    REQUIRE(single.has_value());
    const engine::backtest_config run = app::make_backtest_config(*single);
    CHECK(run.risk.limits.order_notional_pct == 0.1);
    CHECK(run.strategy.linear.spread_bps == 25.0);
    CHECK(run.market.initial_mid_price == 3000.0);
    CHECK(app::synthetic_market_problem(*single, app::synthetic_command::run).empty());

    // With market.start_price set as well, the one symbol's market is [market]'s scaled to its
    // price, in `quoter backtest` as in `quoter run --mode sim` (make_backtest_symbols). Before,
    // the backtest kept the distances of a 60,000 market at 3,000.
    const auto scaled_file = dir.write(
        "scaled.toml", "[engine]\nsymbols = [\"ETHUSDT\"]\n\n[market]\nstart_price = 60000.0\n"
                       "k_per_price_unit = 0.1\n\n[symbol.ETHUSDT]\nstart_price = 3000.0\n");
    const auto scaled = app::load_engine_config(scaled_file.string(), options());
    REQUIRE(scaled.has_value());
    const engine::backtest_config scaled_run = app::make_backtest_config(*scaled);
    CHECK(scaled_run.market.initial_mid_price == 3000.0);
    CHECK(scaled_run.market.order_flow_k_per_price_unit == Approx(2.0));
    CHECK(scaled_run.market.order_flow_k_per_price_unit ==
          app::make_backtest_symbols(*scaled).front().market.order_flow_k_per_price_unit);

    // A per-symbol limit that contradicts itself is an error at its key.
    const auto bad =
        dir.write("bad.toml", "[engine]\nsymbols = [\"ETHUSDT\"]\n\n[symbol.ETHUSDT]\n\n"
                              "[symbol.ETHUSDT.risk]\ninventory_flatten_pct = 60.0\n"
                              "inventory_kill_pct = 50.0\n");
    const auto refused = app::load_engine_config(bad.string(), options());
    REQUIRE_FALSE(refused.has_value());
    CHECK_THAT(messages(refused.error()),
               Catch::Contains("symbol.ETHUSDT.risk.inventory_flatten_pct"));
}
