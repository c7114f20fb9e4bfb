#include "quoter/config/config.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace quoter::config;

namespace {

load_options options(std::map<std::string, std::string> env = {}, std::string profile = {}) {
    return load_options{.profile = std::move(profile),
                        .env = environment::from_map(std::move(env))};
}

} // namespace

TEST_CASE("the resolved listing gives every key, its value and its origin", "[resolved]") {
    auto doc = document::parse("[engine]\n"
                               "mode = \"live\"\n"
                               "[exchange.spot]\n"
                               "rest_url = \"https://example.com\"\n"
                               "[profile.prod.engine]\n"
                               "symbol = \"ETHUSDT\"\n",
                               "sim.toml", options({{"QUOTER_ENGINE_TESTNET", "false"}}, "prod"));
    REQUIRE(doc.has_value());
    auto engine = doc->section("engine");
    (void)engine.string("mode", "sim", "Run mode");
    (void)engine.string("symbol", "BTCUSDT", "Symbol");
    (void)engine.boolean("testnet", true, "Testnet");
    (void)engine.number("spread_bps", 10.0, {.min = 0}, "Spread");
    (void)doc->section("exchange").sub("spot").string("rest_url", "", "REST");
    doc->finish();
    REQUIRE(doc->ok());

    const std::string expected = "# quoter configuration: sim.toml\n"
                                 "# profile: prod (from --profile); the file defines prod\n"
                                 "# Each value is followed by where it came from: default, "
                                 "file:line, profile, env, or\n"
                                 "# secrets file. Secrets are masked.\n"
                                 "\n"
                                 "[engine]\n"
                                 "mode = \"live\"       # sim.toml:2\n"
                                 "symbol = \"ETHUSDT\"  # profile prod, sim.toml:6\n"
                                 "testnet = false     # env QUOTER_ENGINE_TESTNET\n"
                                 "spread_bps = 10.0   # default\n"
                                 "\n"
                                 "[exchange.spot]\n"
                                 "rest_url = \"https://example.com\"  # sim.toml:4\n";
    CHECK(format_resolved(doc->resolved()) == expected);
}

TEST_CASE("reference rows carry key, type, default, range, unit and description", "[resolved]") {
    auto doc = document::parse("", "x.toml", options());
    REQUIRE(doc.has_value());
    auto s = doc->section("strategy");
    (void)s.number("spread_bps", 10.0, {.min = 0, .max = 10000}, "Quoted spread");
    (void)s.choice("model", 0, {{"linear", 0}, {"glft", 1}}, "Quoting model | formula");
    (void)s.duration_ms("refresh_ms", std::chrono::milliseconds(100), {.min = 1},
                        "Re-quote interval");
    doc->finish();
    const auto keys = doc->resolved().keys;
    REQUIRE(keys.size() == 3);
    CHECK(format_reference_row(keys[0]) ==
          "| `strategy.spread_bps` | number | `10.0` | [0, 10000] | bps | Quoted spread |");
    CHECK(format_reference_row(keys[1]) == "| `strategy.model` | choice | `\"linear\"` | linear, "
                                           "glft |  | Quoting model \\| formula |");
    CHECK(format_reference_row(keys[2]) ==
          "| `strategy.refresh_ms` | duration | `100` | >= 1 | ms | Re-quote interval |");
}

TEST_CASE("diagnostics print as file:line:col: key: message", "[resolved]") {
    diagnostic at_line{severity::error, "a.toml", 3, 7, "", "engine.mode", "bad"};
    CHECK(to_string(at_line) == "a.toml:3:7: engine.mode: bad");
    diagnostic from_env{severity::error, "", 0, 0, "QUOTER_ENGINE_MODE", "engine.mode", "bad"};
    CHECK(to_string(from_env) == "env QUOTER_ENGINE_MODE: engine.mode: bad");
    diagnostic whole_file{severity::error, "a.toml", 0, 0, "", "", "cannot read"};
    CHECK(to_string(whole_file) == "a.toml: cannot read");
    diagnostic warning{severity::warning, "a.toml", 1, 1, "", "threads.md_cpu", "careful"};
    CHECK(to_string(warning) == "a.toml:1:1: threads.md_cpu: warning: careful");
    CHECK(has_errors({at_line, warning}));
    CHECK_FALSE(has_errors({warning}));
}

TEST_CASE("origins print as people read them", "[resolved]") {
    CHECK(to_string(value_origin{}) == "default");
    CHECK(to_string(value_origin{origin_kind::file, "a.toml", 4, 2, ""}) == "a.toml:4");
    CHECK(to_string(value_origin{origin_kind::profile, "a.toml", 9, 1, "dev"}) ==
          "profile dev, a.toml:9");
    CHECK(to_string(value_origin{origin_kind::env, "", 0, 0, "QUOTER_X_Y"}) == "env QUOTER_X_Y");
    CHECK(to_string(value_origin{origin_kind::secrets_file, "s.toml", 2, 1, ""}) ==
          "secrets file s.toml:2");
}
