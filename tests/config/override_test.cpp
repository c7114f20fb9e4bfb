// Keys set from outside the file (load_options::overrides): validated like the file's own keys.
#include "quoter/config/config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace quoter::config;

namespace {

load_options with(std::vector<key_override> overrides, std::map<std::string, std::string> env = {},
                  std::string profile = {}) {
    load_options opts{.profile = std::move(profile), .env = environment::from_map(std::move(env))};
    opts.overrides = std::move(overrides);
    return opts;
}

document parse(std::string_view text, load_options opts) {
    auto doc = document::parse(text, "test.toml", std::move(opts));
    REQUIRE(doc.has_value());
    return std::move(*doc);
}

std::vector<std::string> messages(const document& doc) {
    std::vector<std::string> out;
    for (const auto& problem : doc.problems()) {
        out.push_back(to_string(problem));
    }
    return out;
}

} // namespace

TEST_CASE("an override replaces the file's value and the profile's", "[config][override]") {
    const std::string text = "[strategy]\nspread_bps = 12.5\n[profile.dev.strategy]\n"
                             "spread_bps = 20\n";
    auto doc = parse(text, with({{"strategy.spread_bps", "7", "trial 3"}}, {}, "dev"));
    auto s = doc.section("strategy");
    CHECK(s.number("spread_bps", 10.0, {.min = 0}, "Quoted spread") == 7.0);
    doc.finish();
    CHECK(doc.ok());
    const auto resolved = doc.resolved();
    REQUIRE(resolved.keys.size() == 1);
    CHECK(resolved.keys[0].origin.kind == origin_kind::override_value);
    CHECK(to_string(resolved.keys[0].origin) == "trial 3");
}

TEST_CASE("an override creates missing tables and wins over the environment",
          "[config][override]") {
    auto doc = parse("[engine]\nsymbol = \"BTCUSDT\"\n",
                     with({{"strategy.glft.gamma_per_tick", "0.25", ""}},
                          {{"QUOTER_STRATEGY_GLFT_GAMMA_PER_TICK", "0.5"}}));
    (void)doc.section("engine").string("symbol", "X", "Symbol");
    CHECK(doc.section("strategy.glft").number("gamma_per_tick", 1.0, {}, "gamma") == 0.25);
    doc.finish();
    CHECK(doc.ok()); // the variable is consumed, not reported as unknown
}

TEST_CASE("an unparseable override value is a string; a later one wins", "[config][override]") {
    auto doc = parse("", with({{"strategy.model", "linear", ""}, {"strategy.model", "glft", ""}}));
    CHECK(doc.section("strategy").string("model", "x", "Model") == "glft");
    doc.finish();
    CHECK(doc.ok());
}

TEST_CASE("bad override keys and values fail naming the override", "[config][override]") {
    SECTION("a value out of range") {
        auto doc = parse("[strategy]\nspread_bps = 12.5\n",
                         with({{"strategy.spread_bps", "-1", "--set strategy.spread_bps=-1"}}));
        (void)doc.section("strategy").number("spread_bps", 10.0, {.min = 0}, "Quoted spread");
        doc.finish();
        CHECK_FALSE(doc.ok());
        const auto all = messages(doc);
        REQUIRE(all.size() == 1);
        CHECK(all[0].starts_with("--set strategy.spread_bps=-1: strategy.spread_bps: expected"));
    }
    SECTION("a key nothing declares, with a suggestion") {
        auto doc =
            parse("[strategy]\nspread_bps = 12.5\n", with({{"strategy.sprad_bps", "3", ""}}));
        (void)doc.section("strategy").number("spread_bps", 10.0, {.min = 0}, "Quoted spread");
        doc.finish();
        const auto all = messages(doc);
        REQUIRE(all.size() == 1);
        CHECK(all[0] == "override strategy.sprad_bps=3: strategy.sprad_bps: unknown key; did you "
                        "mean strategy.spread_bps?");
    }
    SECTION("a key below a value, a malformed key, a profile") {
        auto doc =
            parse("[strategy]\nspread_bps = 12.5\n", with({{"strategy.spread_bps.x", "1", ""},
                                                           {"Strategy..x", "1", ""},
                                                           {"profile.dev.x", "1", ""}}));
        (void)doc.section("strategy").number("spread_bps", 10.0, {.min = 0}, "Quoted spread");
        doc.finish();
        const auto all = messages(doc);
        REQUIRE(all.size() == 3);
        CHECK(all[0].find("strategy.spread_bps is a float, not a table") != std::string::npos);
        CHECK(all[1].find("expected a dotted key") != std::string::npos);
        CHECK(all[2].find("profiles cannot be overridden") != std::string::npos);
    }
}

TEST_CASE("foreign tables are dropped before validation", "[config][override]") {
    load_options opts = with({});
    opts.foreign_tables = {"sweep"};
    auto doc = parse("[sweep]\npaths = 3\n[engine]\nsymbol = \"X\"\n", std::move(opts));
    (void)doc.section("engine").string("symbol", "X", "Symbol");
    doc.finish();
    CHECK(doc.ok());
    auto strict = parse("[sweep]\npaths = 3\n", with({}));
    strict.finish();
    CHECK_FALSE(strict.ok());
}
