#include "quoter/config/config.hpp"

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>

using namespace quoter::config;
using namespace std::chrono_literals;

namespace {

load_options options(std::map<std::string, std::string> env = {}, std::string profile = {}) {
    return load_options{.profile = std::move(profile),
                        .env = environment::from_map(std::move(env))};
}

document parse(std::string_view text, load_options opts = options()) {
    auto doc = document::parse(text, "test.toml", std::move(opts));
    if (!doc) {
        for (const auto& problem : doc.error()) {
            UNSCOPED_INFO(to_string(problem));
        }
    }
    REQUIRE(doc.has_value());
    return std::move(*doc);
}

/// The single problem reported for `key` (fails the test when there is not exactly one).
diagnostic problem_for(const document& doc, std::string_view key) {
    const auto all = doc.problems();
    std::vector<diagnostic> matching;
    std::copy_if(all.begin(), all.end(), std::back_inserter(matching),
                 [key](const diagnostic& d) { return d.key == key; });
    for (const auto& problem : all) {
        UNSCOPED_INFO(to_string(problem));
    }
    REQUIRE(matching.size() == 1);
    return matching.front();
}

const key_info& info_for(const resolved_config& config, std::string_view key) {
    const auto it = std::find_if(config.keys.begin(), config.keys.end(),
                                 [key](const key_info& info) { return info.key == key; });
    REQUIRE(it != config.keys.end());
    return *it;
}

} // namespace

TEST_CASE("numbers come from the file, accept integers and fall back to defaults", "[config]") {
    auto doc = parse("[strategy]\nspread_bps = 12.5\nskew = 3\n");
    auto s = doc.section("strategy");
    CHECK(s.number("spread_bps", 10.0, {.min = 0, .max = 10000}, "Quoted spread") == 12.5);
    CHECK(s.number("skew", 1.0, {}, "Skew strength") == 3.0);
    CHECK(s.number("gamma", 0.1, {.min = 0, .exclusive_min = true}, "Risk aversion") == 0.1);
    doc.finish();
    CHECK(doc.ok());
    CHECK(doc.problems().empty());

    const auto resolved = doc.resolved();
    const auto& spread = info_for(resolved, "strategy.spread_bps");
    CHECK(spread.type == "number");
    CHECK(spread.constraint == "[0, 10000]");
    CHECK(spread.unit == "bps");
    CHECK(spread.default_text == "10.0");
    CHECK(spread.value_text == "12.5");
    CHECK(spread.env_var == "QUOTER_STRATEGY_SPREAD_BPS");
    CHECK(spread.origin.kind == origin_kind::file);
    CHECK(spread.origin.line == 2);
    CHECK(spread.origin.column == 14);
    const auto& gamma = info_for(resolved, "strategy.gamma");
    CHECK(gamma.constraint == "> 0");
    CHECK(gamma.origin.kind == origin_kind::default_value);
    CHECK(info_for(resolved, "strategy.skew").value_text == "3.0");
}

TEST_CASE("number errors give position, key, expectation and what was found", "[config]") {
    auto doc = parse("[strategy]\n"
                     "spread_bps = 12000\n"
                     "gamma = 0\n"
                     "vol = \"high\"\n"
                     "k = nan\n");
    auto s = doc.section("strategy");
    CHECK(s.number("spread_bps", 10.0, {.min = 0, .max = 10000}, "d") == 10.0);
    CHECK(s.number("gamma", 0.1, {.min = 0, .exclusive_min = true}, "d") == 0.1);
    CHECK(s.number("vol", 1.0, {.max = 5}, "d") == 1.0);
    CHECK(s.number("k", 1.5, {}, "d") == 1.5);
    doc.finish();
    CHECK_FALSE(doc.ok());
    CHECK(doc.problems().size() == 4);

    CHECK(
        to_string(problem_for(doc, "strategy.spread_bps")) ==
        "test.toml:2:14: strategy.spread_bps: expected a number in [0, 10000] (bps), found 12000");
    CHECK(to_string(problem_for(doc, "strategy.gamma")) ==
          "test.toml:3:9: strategy.gamma: expected a number > 0, found 0");
    CHECK(to_string(problem_for(doc, "strategy.vol")) ==
          "test.toml:4:7: strategy.vol: expected a number <= 5, found string \"high\"");
    CHECK(problem_for(doc, "strategy.k").message == "expected a number, found float nan");
}

TEST_CASE("integers: floats refused, ranges and the target type's bounds enforced", "[config]") {
    auto doc = parse("[threads]\n"
                     "md_cpu = 1.5\n"
                     "core_cpu = 3\n"
                     "levels = 300\n"
                     "big = 3000000000\n"
                     "depth = 7\n");
    auto s = doc.section("threads");
    CHECK(s.integer("md_cpu", -1, {.min = -1, .max = 1023}, "d") == -1);
    CHECK(s.integer("core_cpu", -1, {.min = -1, .max = 1023}, "d") == 3);
    CHECK(s.integer<std::uint8_t>("levels", 1, {.min = 1}, "d") == 1);
    CHECK(s.integer("big", 0, {}, "d") == 0);
    CHECK(s.integer<std::int64_t>("depth", 5, {.min = 1, .unit = "levels"}, "d") == 7);
    doc.finish();
    CHECK(problem_for(doc, "threads.md_cpu").message ==
          "expected an integer in [-1, 1023], found float 1.5");
    CHECK(problem_for(doc, "threads.md_cpu").line == 2);
    CHECK(problem_for(doc, "threads.levels").message ==
          "expected an integer in [1, 255], found 300");
    CHECK(problem_for(doc, "threads.big").message ==
          "expected an integer in [-2147483648, 2147483647], found 3000000000");
    const auto resolved = doc.resolved();
    CHECK(info_for(resolved, "threads.depth").unit == "levels");
    CHECK(info_for(resolved, "threads.depth").constraint == ">= 1");
    CHECK(info_for(resolved, "threads.core_cpu").value_text == "3");
}

TEST_CASE("durations are integer milliseconds in keys named *_ms", "[config]") {
    auto doc = parse("[exchange]\nrecv_window_ms = 2500\nrefresh_ms = 0\n");
    auto s = doc.section("exchange");
    CHECK(s.duration_ms("recv_window_ms", 5000ms, {.min = 1, .max = 60000}, "d") == 2500ms);
    CHECK(s.duration_ms("refresh_ms", 100ms, {.min = 1}, "d") == 100ms);
    CHECK(s.duration_ms("stale_ms", 3000ms, {.min = 1}, "d") == 3000ms);
    doc.finish();
    CHECK(to_string(problem_for(doc, "exchange.refresh_ms")) ==
          "test.toml:3:14: exchange.refresh_ms: expected an integer number of milliseconds >= 1, "
          "found 0");
    const auto resolved = doc.resolved();
    const auto& window = info_for(resolved, "exchange.recv_window_ms");
    CHECK(window.type == "duration");
    CHECK(window.unit == "ms");
    CHECK(window.default_text == "5000");
}

TEST_CASE("booleans, strings and their type errors", "[config]") {
    auto doc = parse("[engine]\ntestnet = \"yes\"\nmainnet = true\nsymbol = 5\nname = \"x\"\n");
    auto s = doc.section("engine");
    CHECK(s.boolean("testnet", true, "d"));
    CHECK(s.boolean("mainnet", false, "d"));
    CHECK(s.string("symbol", "BTCUSDT", "d") == "BTCUSDT");
    CHECK(s.string("name", "", "d") == "x");
    doc.finish();
    CHECK(
        to_string(problem_for(doc, "engine.testnet")) ==
        "test.toml:2:11: engine.testnet: expected a boolean (true or false), found string \"yes\"");
    CHECK(problem_for(doc, "engine.symbol").message == "expected a string, found integer 5");
    CHECK(doc.problems().size() == 2);
}

TEST_CASE("choices accept only their names and suggest the closest", "[config]") {
    enum class mode { sim, paper, live };
    constexpr std::array<choice_option<mode>, 3> modes{
        {{"sim", mode::sim}, {"paper_exchange", mode::paper}, {"live", mode::live}}};
    auto doc = parse("[engine]\nmode = \"simm\"\nother = \"xyz\"\nthird = \"live\"\n");
    auto s = doc.section("engine");
    CHECK(s.choice("mode", mode::paper, modes, "d") == mode::paper);
    CHECK(s.choice("other", mode::sim, modes, "d") == mode::sim);
    CHECK(s.choice("third", mode::sim, {{"sim", mode::sim}, {"live", mode::live}}, "d") ==
          mode::live);
    doc.finish();
    CHECK(to_string(problem_for(doc, "engine.mode")) ==
          "test.toml:2:8: engine.mode: expected one of \"sim\", \"paper_exchange\", \"live\", "
          "found \"simm\"; did you mean \"sim\"?");
    CHECK(problem_for(doc, "engine.other").message ==
          "expected one of \"sim\", \"paper_exchange\", \"live\", found \"xyz\"");
    const auto resolved = doc.resolved();
    const auto& info = info_for(resolved, "engine.mode");
    CHECK(info.type == "choice");
    CHECK(info.constraint == "sim, paper_exchange, live");
    CHECK(info.default_text == "\"paper_exchange\"");
}

TEST_CASE("string lists check every element and report the element's position", "[config]") {
    auto doc =
        parse("[md]\nsymbols = [\"btcusdt\", \"ethusdt\"]\nbad = [\"a\", 2]\nnot_list = \"a\"\n");
    auto s = doc.section("md");
    CHECK(s.string_list("symbols", {}, "d") == std::vector<std::string>{"btcusdt", "ethusdt"});
    CHECK(s.string_list("bad", {"z"}, "d") == std::vector<std::string>{"z"});
    CHECK(s.string_list("not_list", {}, "d").empty());
    CHECK(s.string_list("absent", {"x", "y"}, "d") == std::vector<std::string>{"x", "y"});
    doc.finish();
    const auto bad = problem_for(doc, "md.bad");
    CHECK(to_string(bad) ==
          "test.toml:3:13: md.bad: expected an array of strings, found integer 2 at element 2");
    CHECK(problem_for(doc, "md.not_list").message ==
          "expected an array of strings, found string \"a\"");
    CHECK(info_for(doc.resolved(), "md.absent").value_text == "[\"x\", \"y\"]");
}

TEST_CASE("decimals are exact strings; floats and malformed text are refused", "[config]") {
    auto doc = parse("[symbol]\ntick_size = \"0.01\"\nstep_size = 0.001\nmin_notional = \"1e-2\"\n"
                     "lot = \"-1\"\n");
    auto s = doc.section("symbol");
    CHECK(s.decimal("tick_size", "1", "d") == "0.01");
    CHECK(s.decimal("step_size", "1", "d") == "1");
    CHECK(s.decimal("min_notional", "5", "d") == "5");
    CHECK(s.decimal("lot", "1", "d") == "1");
    doc.finish();
    CHECK(
        to_string(problem_for(doc, "symbol.step_size")) ==
        "test.toml:3:13: symbol.step_size: expected a decimal string such as \"0.01\" (quoted, so "
        "that it stays exact), found float 0.001");
    CHECK_THAT(problem_for(doc, "symbol.min_notional").message,
               Catch::EndsWith("found \"1e-2\" (exponent notation is not accepted)"));
    CHECK_THAT(problem_for(doc, "symbol.lot").message,
               Catch::EndsWith("found \"-1\" (sign not allowed here)"));
    CHECK(info_for(doc.resolved(), "symbol.tick_size").type == "decimal");
}

TEST_CASE("nested tables get dotted keys and matching variable names", "[config]") {
    auto doc = parse("[exchange.spot]\nrest_url = \"https://example.com\"\n",
                     options({{"QUOTER_EXCHANGE_SPOT_WS_URL", "wss://example.com"}}));
    auto spot = doc.section("exchange").sub("spot");
    CHECK(spot.name() == "exchange.spot");
    CHECK(spot.string("rest_url", "", "d") == "https://example.com");
    CHECK(spot.string("ws_url", "", "d") == "wss://example.com");
    doc.finish();
    CHECK(doc.ok());
    const auto resolved = doc.resolved();
    CHECK(info_for(resolved, "exchange.spot.rest_url").env_var == "QUOTER_EXCHANGE_SPOT_REST_URL");
    CHECK(info_for(resolved, "exchange.spot.ws_url").origin.kind == origin_kind::env);
}

TEST_CASE("every error is collected and listed in file order", "[config]") {
    auto doc = parse("[a]\nx = \"1\"\n[b]\ny = true\nz = 1\n[c]\nw = 2\n");
    auto b = doc.section("b");
    auto a = doc.section("a");
    (void)b.integer("y", 0, {}, "d");
    (void)a.integer("x", 0, {}, "d");
    (void)doc.section("c").number("w", 0.0, {.max = 1}, "d");
    doc.finish(); // b.z is undeclared
    const auto problems = doc.problems();
    REQUIRE(problems.size() == 4);
    CHECK(problems[0].key == "a.x");
    CHECK(problems[1].key == "b.y");
    CHECK(problems[2].key == "b.z");
    CHECK(problems[3].key == "c.w");
    CHECK(problems[0].line == 2);
    CHECK(problems[1].line == 4);
    CHECK(problems[2].line == 5);
    CHECK(problems[3].line == 7);
}

TEST_CASE("a table where a section is expected is reported once", "[config]") {
    auto doc = parse("engine = 5\n");
    auto s = doc.section("engine");
    CHECK(s.string("mode", "sim", "d") == "sim");
    (void)doc.section("engine");
    doc.finish();
    CHECK(to_string(problem_for(doc, "engine")) ==
          "test.toml:1:10: engine: expected a table [engine], found integer");
}

TEST_CASE("unknown keys and sections are errors with a suggestion when one is close", "[config]") {
    auto doc = parse("mode = \"sim\"\n"           // 1: belongs in [engine]
                     "[engine]\n"                 // 2
                     "mode = \"sim\"\n"           // 3
                     "spread_bps = 5\n"           // 4: belongs in [strategy]
                     "[strategy]\n"               // 5
                     "spred_bps = 5\n"            // 6: typo
                     "completely_different = 1\n" // 7
                     "[strategy.levls]\n"         // 8: typo of a declared table
                     "count = 1\n"                // 9
                     "[stratgy]\n"                // 10: typo of a section
                     "x = 1\n"                    // 11
                     "[journal]\n"                // 12: nothing like it
                     "path = \"x\"\n");           // 13
    auto engine = doc.section("engine");
    (void)engine.string("mode", "sim", "d");
    auto strategy = doc.section("strategy");
    (void)strategy.number("spread_bps", 10.0, {}, "d");
    (void)strategy.sub("levels").integer("count", 1, {}, "d");
    doc.finish();

    CHECK(to_string(problem_for(doc, "mode")) ==
          "test.toml:1:1: mode: unknown key; did you mean engine.mode?");
    CHECK(problem_for(doc, "engine.spread_bps").message ==
          "unknown key; did you mean strategy.spread_bps?");
    CHECK(to_string(problem_for(doc, "strategy.spred_bps")) ==
          "test.toml:6:1: strategy.spred_bps: unknown key; did you mean strategy.spread_bps?");
    CHECK(problem_for(doc, "strategy.completely_different").message == "unknown key");
    CHECK(problem_for(doc, "strategy.levls").message ==
          "unknown table [strategy.levls]; did you mean strategy.levels?");
    CHECK(problem_for(doc, "stratgy").message ==
          "unknown section [stratgy]; did you mean strategy?");
    CHECK(problem_for(doc, "stratgy").line == 10);
    CHECK(problem_for(doc, "journal").message == "unknown section [journal]");
    CHECK(doc.problems().size() == 7);
}

TEST_CASE("a section's own checks report at the key's source", "[config]") {
    auto doc = parse("[threads]\nmd_cpu = 2\ncore_cpu = 2\n");
    auto s = doc.section("threads");
    const int md = s.integer("md_cpu", -1, {.min = -1}, "d");
    const int core = s.integer("core_cpu", -1, {.min = -1}, "d");
    const bool spin = s.boolean("spin", false, "d");
    CHECK(s.is_set("core_cpu"));
    CHECK_FALSE(s.is_set("spin"));
    if (md == core) {
        s.error("core_cpu", "must differ from threads.md_cpu");
    }
    if (!spin) {
        s.warning("spin", "not spinning");
    }
    doc.finish();
    CHECK_FALSE(doc.ok());
    CHECK(to_string(problem_for(doc, "threads.core_cpu")) ==
          "test.toml:3:12: threads.core_cpu: must differ from threads.md_cpu");
    CHECK(to_string(problem_for(doc, "threads.spin")) ==
          "test.toml: threads.spin: warning: not spinning");
    CHECK(doc.resolved().warnings.size() == 1);
}

TEST_CASE("syntax errors and unreadable files fail the load with a position", "[config]") {
    const auto broken =
        document::parse("[engine]\nmode = \"sim\"\nmode = 1\n", "bad.toml", options());
    REQUIRE_FALSE(broken.has_value());
    REQUIRE(broken.error().size() == 1);
    CHECK(broken.error().front().line == 3);
    CHECK_THAT(to_string(broken.error().front()), Catch::StartsWith("bad.toml:3:"));
    CHECK_THAT(broken.error().front().message, Catch::StartsWith("TOML syntax error: "));

    const auto unterminated = document::parse("[engine\n", "bad.toml", options());
    REQUIRE_FALSE(unterminated.has_value());
    CHECK(unterminated.error().front().line == 1);

    const auto missing = document::load("/nonexistent/quoter.toml", options());
    REQUIRE_FALSE(missing.has_value());
    CHECK(
        to_string(missing.error().front()) ==
        "/nonexistent/quoter.toml: cannot read the configuration file: No such file or directory");

    quoter::test::temp_dir dir("config-load");
    const auto directory = document::load(dir.path(), options());
    REQUIRE_FALSE(directory.has_value());
    CHECK(directory.error().front().message == "not a regular file");
}

TEST_CASE("load() reads a file and names it in every position", "[config]") {
    quoter::test::temp_dir dir("config-load");
    const auto file = dir.write("engine.toml", "[engine]\nmode = 3\n");
    auto doc = document::load(file, options());
    REQUIRE(doc.has_value());
    (void)doc->section("engine").string("mode", "sim", "d");
    doc->finish();
    CHECK(to_string(doc->problems().front()) ==
          file.string() + ":2:8: engine.mode: expected a string, found integer 3");
}

// ---------------------------------------------------------------------------------------------
// Profiles

namespace {

constexpr std::string_view profiled = "[strategy]\n"              // 1
                                      "spread_bps = 10\n"         // 2
                                      "skew = 1\n"                // 3
                                      "[profile.prod.strategy]\n" // 4
                                      "spread_bps = 20\n"         // 5
                                      "[profile.prod.risk]\n"     // 6
                                      "max_loss_pct = 2\n"        // 7
                                      "[profile.dev.strategy]\n"  // 8
                                      "skew = 5\n";               // 9

struct profiled_values {
    double spread_bps;
    double skew;
    double max_loss_pct;
};

profiled_values read_profiled(document& doc) {
    auto strategy = doc.section("strategy");
    profiled_values out{};
    out.spread_bps = strategy.number("spread_bps", 1.0, {}, "d");
    out.skew = strategy.number("skew", 0.0, {}, "d");
    out.max_loss_pct = doc.section("risk").number("max_loss_pct", 1.0, {}, "d");
    doc.finish();
    return out;
}

} // namespace

TEST_CASE("a profile overlay deep-merges over the base tables", "[config][profile]") {
    auto doc = parse(profiled, options({}, "prod"));
    const auto values = read_profiled(doc);
    CHECK(doc.ok());
    CHECK(values.spread_bps == 20.0);  // overlaid
    CHECK(values.skew == 1.0);         // kept from the base table
    CHECK(values.max_loss_pct == 2.0); // a table only the profile has
    const auto resolved = doc.resolved();
    CHECK(resolved.profile == "prod");
    CHECK(resolved.profile_source == "--profile");
    CHECK(resolved.defined_profiles == std::vector<std::string>{"dev", "prod"});
    const auto& spread = info_for(resolved, "strategy.spread_bps");
    CHECK(spread.origin.kind == origin_kind::profile);
    CHECK(spread.origin.name == "prod");
    CHECK(spread.origin.line == 5);
    CHECK(to_string(spread.origin) == "profile prod, test.toml:5");
    CHECK(info_for(resolved, "strategy.skew").origin.kind == origin_kind::file);
    // The profile tables themselves are not part of the resolved configuration.
    CHECK(std::none_of(resolved.keys.begin(), resolved.keys.end(),
                       [](const key_info& info) { return info.key.starts_with("profile"); }));
}

TEST_CASE("without a profile the base values apply and overlays are ignored", "[config][profile]") {
    auto doc = parse(profiled);
    const auto values = read_profiled(doc);
    CHECK(doc.ok());
    CHECK(values.spread_bps == 10.0);
    CHECK(values.skew == 1.0);
    CHECK(values.max_loss_pct == 1.0);
    CHECK(doc.resolved().profile.empty());
}

TEST_CASE("QUOTER_PROFILE selects the profile unless one is given", "[config][profile]") {
    auto doc = parse(profiled, options({{"QUOTER_PROFILE", "dev"}}));
    CHECK(read_profiled(doc).skew == 5.0);
    CHECK(doc.ok());
    CHECK(doc.resolved().profile_source == "QUOTER_PROFILE");

    auto explicit_doc = parse(profiled, options({{"QUOTER_PROFILE", "dev"}}, "prod"));
    CHECK(read_profiled(explicit_doc).spread_bps == 20.0);
    CHECK(explicit_doc.resolved().profile == "prod");
}

TEST_CASE("an unknown profile name is an error", "[config][profile]") {
    const auto doc = document::parse(profiled, "test.toml", options({}, "qa"));
    REQUIRE_FALSE(doc.has_value());
    CHECK(to_string(doc.error().front()) ==
          "test.toml: unknown profile \"qa\"; expected one of \"dev\", \"staging\", \"prod\"");

    const auto from_env =
        document::parse(profiled, "test.toml", options({{"QUOTER_PROFILE", "x"}}));
    REQUIRE_FALSE(from_env.has_value());
    CHECK_THAT(to_string(from_env.error().front()), Catch::StartsWith("env QUOTER_PROFILE: "));
}

TEST_CASE("profile tables are checked: names, types and unknown keys in every profile",
          "[config][profile]") {
    auto doc = parse("[strategy]\n"             // 1
                     "spread_bps = 1\n"         // 2
                     "[profile.prd.strategy]\n" // 3
                     "spread_bps = 2\n"         // 4
                     "[profile.dev.strategy]\n" // 5
                     "spread_bsp = 3\n"         // 6: unknown, in a profile that is not selected
                     "[profile]\n"              // 7
                     "staging = 4\n",           // 8
                     options({}, "prod"));
    (void)doc.section("strategy").number("spread_bps", 0.0, {}, "d");
    doc.finish();
    CHECK(to_string(problem_for(doc, "profile.prd")) ==
          "test.toml:3:10: profile.prd: unknown profile [profile.prd]; profiles are \"dev\", "
          "\"staging\", \"prod\"; did you mean [profile.prod]?");
    CHECK(to_string(problem_for(doc, "strategy.spread_bsp")) ==
          "test.toml:6:1: strategy.spread_bsp: unknown key in [profile.dev]; did you mean "
          "strategy.spread_bps?");
    CHECK(problem_for(doc, "profile.staging").message == "expected a table, found integer 4");
    // prod is selected but not defined: a warning, not an error.
    const auto problems = doc.problems();
    CHECK(std::count_if(problems.begin(), problems.end(), [](const diagnostic& d) {
              return d.level == severity::warning &&
                     d.message.find("no [profile.prod]") != std::string::npos;
          }) == 1);
}

TEST_CASE("a profile key that is not a table is reported once", "[config][profile]") {
    auto doc = parse("profile = \"prod\"\n", options({}, "prod"));
    doc.finish();
    CHECK(
        problem_for(doc, "profile").message ==
        "expected tables [profile.dev], [profile.staging], [profile.prod], found string \"prod\"");
    CHECK(problem_for(doc, "profile").line == 1);
}

TEST_CASE("unknown keys in the selected profile name the profile", "[config][profile]") {
    auto doc = parse("[profile.staging.engine]\nmdoe = \"live\"\n", options({}, "staging"));
    (void)doc.section("engine").string("mode", "sim", "d");
    doc.finish();
    CHECK(
        to_string(problem_for(doc, "engine.mdoe")) ==
        "test.toml:2:1: engine.mdoe: unknown key in [profile.staging]; did you mean engine.mode?");
}

// ---------------------------------------------------------------------------------------------
// Environment overrides

TEST_CASE("environment variables override the file and the profile", "[config][env]") {
    auto doc =
        parse(profiled,
              options({{"QUOTER_STRATEGY_SPREAD_BPS", "30.5"}, {"QUOTER_RISK_MAX_LOSS_PCT", "3"}},
                      "prod"));
    const auto values = read_profiled(doc);
    CHECK(doc.ok());
    CHECK(values.spread_bps == 30.5);
    CHECK(values.max_loss_pct == 3.0);
    const auto resolved = doc.resolved();
    const auto& spread = info_for(resolved, "strategy.spread_bps");
    CHECK(spread.origin.kind == origin_kind::env);
    CHECK(to_string(spread.origin) == "env QUOTER_STRATEGY_SPREAD_BPS");
}

TEST_CASE("environment values are parsed with the key's type", "[config][env]") {
    enum class policy { spin, yield };
    auto doc = parse("", options({{"QUOTER_T_FLAG", "TRUE"},
                                  {"QUOTER_T_OFF", "0"},
                                  {"QUOTER_T_COUNT", "-3"},
                                  {"QUOTER_T_WAIT_MS", "250"},
                                  {"QUOTER_T_POLICY", "spin"},
                                  {"QUOTER_T_SYMBOLS", "btcusdt, ethusdt,,"},
                                  {"QUOTER_T_TICK", "0.10"}}));
    auto s = doc.section("t");
    CHECK(s.boolean("flag", false, "d"));
    CHECK_FALSE(s.boolean("off", true, "d"));
    CHECK(s.integer("count", 0, {}, "d") == -3);
    CHECK(s.duration_ms("wait_ms", 1ms, {}, "d") == 250ms);
    CHECK(s.choice("policy", policy::yield, {{"spin", policy::spin}, {"yield", policy::yield}},
                   "d") == policy::spin);
    CHECK(s.string_list("symbols", {}, "d") == std::vector<std::string>{"btcusdt", "ethusdt"});
    CHECK(s.decimal("tick", "1", "d") == "0.10");
    doc.finish();
    CHECK(doc.ok());
}

TEST_CASE("a bad environment value is an error naming the variable", "[config][env]") {
    auto doc =
        parse("[strategy]\nspread_bps = 10\n", options({{"QUOTER_STRATEGY_SPREAD_BPS", "ten"},
                                                        {"QUOTER_STRATEGY_LEVELS", "2.5"},
                                                        {"QUOTER_STRATEGY_ENABLED", "maybe"},
                                                        {"QUOTER_STRATEGY_WIDTH_BPS", "20000"}}));
    auto s = doc.section("strategy");
    CHECK(s.number("spread_bps", 1.0, {.min = 0, .max = 10000}, "d") == 1.0);
    CHECK(s.integer("levels", 1, {.min = 1}, "d") == 1);
    CHECK(s.boolean("enabled", true, "d"));
    CHECK(s.number("width_bps", 5.0, {.min = 0, .max = 10000}, "d") == 5.0);
    doc.finish();
    CHECK(to_string(problem_for(doc, "strategy.spread_bps")) ==
          "env QUOTER_STRATEGY_SPREAD_BPS: strategy.spread_bps: expected a number in [0, 10000] "
          "(bps), found \"ten\"");
    CHECK(problem_for(doc, "strategy.levels").env_var == "QUOTER_STRATEGY_LEVELS");
    CHECK(problem_for(doc, "strategy.levels").message ==
          "expected an integer in [1, 2147483647], found \"2.5\"");
    CHECK(problem_for(doc, "strategy.enabled").message ==
          "expected a boolean (true or false), found \"maybe\"");
    CHECK(problem_for(doc, "strategy.width_bps").message ==
          "expected a number in [0, 10000] (bps), found 20000");
}

TEST_CASE("a QUOTER_<SECTION>_ variable that matches no key is an error", "[config][env]") {
    auto doc = parse("", options({{"QUOTER_STRATEGY_SPRED_BPS", "5"},
                                  {"QUOTER_DATA_DIR", "/data"},
                                  {"QUOTER_PROFILE", ""}}));
    (void)doc.section("strategy").number("spread_bps", 1.0, {}, "d");
    doc.finish();
    const auto problems = doc.problems();
    REQUIRE(problems.size() == 1);
    CHECK(to_string(problems.front()) ==
          "env QUOTER_STRATEGY_SPRED_BPS: matches no configuration key; did you mean "
          "QUOTER_STRATEGY_SPREAD_BPS?");
}

TEST_CASE("the process environment is captured with its QUOTER_ variables only", "[config][env]") {
    const auto env = environment::from_process();
    CHECK(std::all_of(env.vars().begin(), env.vars().end(),
                      [](const auto& entry) { return entry.first.starts_with("QUOTER_"); }));
    CHECK(env.find("PATH") == nullptr);
}
