// Fuzz target: TOML text through the configuration layer (quoter::config): parsing, the profile
// overlay, environment overrides, typed and range-checked reads of every key type, the sweep
// for undeclared keys, and the resolved listing `quoter config check` prints.
//
// The text is read twice, with a fixed schema that uses every kind of read (number, integer,
// duration, boolean, string, string list, decimal, choice, nested table): once as written, once
// with the dev profile selected and an environment override. Beyond "no crash, no sanitizer
// report, no assertion", every read must satisfy:
//   - every diagnostic says something, and one that points into the file points at a line of it;
//   - the resolved listing names each declared key once, in declaration order, with a value;
//   - round trip: when the text has no errors, its resolved listing (commented TOML) reads back
//     under the same schema without errors and gives every key the same value.
// This target has no book: the strict-JSON property of the market-data targets does not apply.
#include "quoter/config/config.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace quoter;

[[noreturn]] void violation(std::string_view what, std::string_view input) {
    constexpr std::size_t shown = 600;
    std::fprintf(stderr, "\nPROPERTY VIOLATED: %.*s\ninput (%zu bytes):\n%.*s%s\n",
                 static_cast<int>(what.size()), what.data(), input.size(),
                 static_cast<int>(std::min(input.size(), shown)), input.data(),
                 input.size() > shown ? " ..." : "");
    std::abort();
}

void expect(bool holds, std::string_view what, std::string_view input) {
    if (!holds) {
        violation(what, input);
    }
}

enum class engine_mode : std::uint8_t { sim, paper, live };
enum class wait_policy : std::uint8_t { spin, yield, block };

/// Number of keys declare_schema() declares.
constexpr std::size_t schema_keys = 17;

/// Declares the fuzz schema on a parsed document: one read of each kind, ranges included.
void declare_schema(config::document& doc) {
    auto engine = doc.section("engine");
    (void)engine.choice(
        "mode", engine_mode::sim,
        {{"sim", engine_mode::sim}, {"paper", engine_mode::paper}, {"live", engine_mode::live}},
        "Where orders go");
    (void)engine.string("symbol", "BTCUSDT", "Instrument traded");
    (void)engine.boolean("testnet", true, "Use the exchange's test network");

    auto threads = doc.section("threads");
    (void)threads.integer("md_cpu", -1, {.min = -1, .max = 1023}, "CPU of the md thread");
    (void)threads.choice(
        "wait_policy", wait_policy::spin,
        {{"spin", wait_policy::spin}, {"yield", wait_policy::yield}, {"block", wait_policy::block}},
        "How idle threads wait");

    auto symbol = doc.section("symbol");
    (void)symbol.decimal("tick_size", "0.01", "Price grid");
    (void)symbol.decimal("step_size", "0.00001", "Quantity grid");

    auto strategy = doc.section("strategy");
    (void)strategy.number("spread_bps", 5.0, {.min = 0, .max = 10000}, "Quoted spread");
    (void)strategy.number("order_size_pct", 1.0, {.min = 0, .max = 100, .exclusive_min = true},
                          "Order size as a share of the limit");
    (void)strategy.integer<std::uint32_t>("levels", 1, {.min = 1, .max = 20}, "Levels a side");
    (void)strategy.duration_ms("refresh_ms", std::chrono::milliseconds{100},
                               {.min = 1, .max = 60'000}, "Quote refresh period");

    auto md = doc.section("md");
    (void)md.string_list("streams", {"depth", "bookTicker"}, "Streams subscribed");
    (void)md.integer<std::size_t>("max_levels", 5000, {.min = 1}, "Book depth kept");
    (void)md.number("price_band_pct", 5.0, {}, "Largest accepted move");

    auto limits = doc.section("risk").sub("limits");
    (void)limits.number("max_position", 0.5, {.min = 0, .unit = "base"}, "Largest position");
    (void)limits.integer<std::int64_t>("max_orders_per_s", 10, {.min = 0}, "Order rate limit");
    (void)limits.boolean("kill_on_disconnect", true, "Kill the session when the feed drops");
}

std::size_t line_count(std::string_view text) {
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

void check_diagnostics(const config::diagnostics& problems, std::string_view text,
                       std::string_view input) {
    for (const config::diagnostic& problem : problems) {
        expect(!problem.message.empty(), "every diagnostic has a message", input);
        expect(!config::to_string(problem).empty(), "every diagnostic prints", input);
        if (problem.line > 0) {
            expect(problem.line <= line_count(text), "a diagnostic points at a line of the file",
                   input);
            expect(problem.column >= 1, "a diagnostic with a line has a column", input);
        }
    }
}

/// Reads text with the schema; returns the resolved listing, or nothing when the text did not
/// parse. `has_errors` tells whether any read failed.
std::optional<config::resolved_config> read(std::string_view text, config::load_options options,
                                            std::string_view input, bool& has_errors) {
    auto parsed = config::document::parse(text, "fuzz.toml", std::move(options));
    if (!parsed) {
        expect(!parsed.error().empty(), "a refused file says why", input);
        check_diagnostics(parsed.error(), text, input);
        has_errors = true;
        return std::nullopt;
    }
    config::document doc = std::move(*parsed);
    declare_schema(doc);
    doc.finish();
    const config::diagnostics problems = doc.problems();
    check_diagnostics(problems, text, input);
    has_errors = !doc.ok();
    expect(has_errors == config::has_errors(problems), "ok() agrees with the problems listed",
           input);

    config::resolved_config resolved = doc.resolved();
    expect(resolved.keys.size() == schema_keys, "each declared key is listed once", input);
    for (const config::key_info& key : resolved.keys) {
        expect(!key.value_text.empty(), "each listed key has a value", input);
        expect(!config::to_string(key.origin).empty(), "each listed key has an origin", input);
    }
    return resolved;
}

void round_trip(std::string_view text, config::load_options options, std::string_view input) {
    bool has_errors = false;
    const auto first = read(text, std::move(options), input, has_errors);
    if (!first || has_errors) {
        return;
    }
    const std::string listing = config::format_resolved(*first);
    bool again_errors = false;
    const auto second = read(listing, {.profile = "", .env = config::environment::from_map({})},
                             listing, again_errors);
    expect(second.has_value() && !again_errors,
           "the resolved listing of a valid file reads back without errors", input);
    for (std::size_t i = 0; i < first->keys.size(); ++i) {
        expect(first->keys[i].key == second->keys[i].key &&
                   first->keys[i].value_text == second->keys[i].value_text,
               "the resolved listing reads back to the same values", input);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    round_trip(input, {.profile = "", .env = config::environment::from_map({})}, input);
    round_trip(input,
               {.profile = "dev",
                .env = config::environment::from_map(
                    {{"QUOTER_STRATEGY_LEVELS", "3"}, {"QUOTER_MD_STREAMS", "depth,trade"}})},
               input);
    return 0;
}
