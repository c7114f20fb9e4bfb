// Loading the engine configuration: one reader function per [section], then the checks that
// span sections.
//
// Adding a module's section takes three steps:
//   1. the module keeps a plain struct with defaults (e.g. quoter::strategy::strategy_config);
//   2. engine_config gains a member of that type (app_config.hpp);
//   3. a reader here declares each key once, passing the struct's own default, and is called
//      from read_sections():
//
//      void read_strategy(config::section s, strategy::strategy_config& out) {
//          out.spread_bps = s.number("spread_bps", out.spread_bps, {.min = 0, .max = 10000},
//                                    "Quoted spread around the mid");
//          out.refresh_ms = s.duration_ms("refresh_ms", out.refresh_ms, {.min = 1},
//                                         "Minimum interval between two re-quotes");
//      }
//
// Then document the keys in docs/config.md: the app tests fail, printing the missing rows,
// until every key is there.
#include "quoter/app/app_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <tuple>

#include <sched.h>

namespace quoter::app {
namespace {

constexpr std::array<config::choice_option<engine_mode>, 3> engine_modes{{
    {"sim", engine_mode::sim},
    {"paper_exchange", engine_mode::paper_exchange},
    {"live", engine_mode::live},
}};
constexpr std::array<config::choice_option<market_kind>, 2> market_kinds{{
    {"spot", market_kind::spot},
    {"usdm_futures", market_kind::usdm_futures},
}};
constexpr std::array<config::choice_option<wait_policy>, 3> wait_policies{{
    {"spin", wait_policy::spin},
    {"yield", wait_policy::yield},
    {"block", wait_policy::block},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<config::choice_option<E>, N>& options, E value) noexcept {
    for (const auto& option : options) {
        if (option.value == value) {
            return option.name;
        }
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// Checks shared by several sections

bool is_binance_symbol(std::string_view symbol) noexcept {
    return !symbol.empty() && symbol.size() <= 20 &&
           std::all_of(symbol.begin(), symbol.end(),
                       [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool is_loopback(std::string_view host) noexcept {
    return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

/// Accepts "<secure>://host[:port][/path]", and "<plain>://" only towards a loopback host (a
/// local venue): elsewhere the API key would cross the network in clear text.
void check_url(config::section& s, std::string_view key, std::string_view url,
               std::string_view secure, std::string_view plain) {
    const auto scheme_end = url.find("://");
    const std::string_view scheme =
        scheme_end == std::string_view::npos ? std::string_view{} : url.substr(0, scheme_end);
    std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
    std::string_view host;
    if (rest.starts_with('[')) {
        host = rest.substr(0, rest.find(']') == std::string_view::npos ? rest.size()
                                                                       : rest.find(']') + 1);
    } else {
        host = rest.substr(0, std::min(rest.find(':'), rest.find('/')));
    }
    if ((scheme != secure && scheme != plain) || host.empty()) {
        s.error(key, fmt::format("expected a URL such as {}://host[:port][/path], found \"{}\"",
                                 secure, url));
    } else if (scheme == plain && !is_loopback(host)) {
        s.error(key, fmt::format("{}:// is accepted only for 127.0.0.1, localhost or [::1]; use "
                                 "{}:// for {}",
                                 plain, secure, host));
    }
}

/// Whether this process may run on `cpu` (its affinity mask, which cgroups and taskset narrow).
bool cpu_available(int cpu) noexcept {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) {
        return true; // cannot tell: let pinning report it
    }
    return cpu < CPU_SETSIZE && CPU_ISSET(cpu, &mask);
}

// ---------------------------------------------------------------------------------------------
// Section readers: one per [section]. Each key is declared once with its type, default (the
// struct's own), range or choices and a one-line description.

void read_engine(config::section s, engine_section& out) {
    out.mode = s.choice("mode", out.mode, engine_modes,
                        "What quoter trades against: sim (synthetic market, simulated exchange), "
                        "paper_exchange (live data, simulated exchange), live (Binance)");
    out.market = s.choice("market", out.market, market_kinds,
                          "Binance market: spot or usdm_futures (USD-M perpetual futures)");
    out.symbol = s.string("symbol", out.symbol, "Symbol to trade, as Binance spells it (BTCUSDT)");
    if (!is_binance_symbol(out.symbol)) {
        s.error("symbol", fmt::format("expected 1 to 20 upper-case letters or digits such as "
                                      "\"BTCUSDT\", found \"{}\"",
                                      out.symbol));
    }
    out.testnet = s.boolean("testnet", out.testnet,
                            "Connect to Binance's testnet endpoints instead of mainnet");
    out.mainnet = s.boolean("mainnet", out.mainnet,
                            "Acknowledges live trading with real funds; required for mode = live "
                            "with testnet = false");
    if (out.mode == engine_mode::live && !out.testnet && !out.mainnet) {
        s.error(s.is_set("testnet") ? "testnet" : "mode",
                "live trading on mainnet uses real funds and needs the explicit acknowledgement "
                "engine.mainnet = true");
    }
    if (out.mainnet && out.testnet) {
        s.error("mainnet", "engine.mainnet = true contradicts engine.testnet = true; set "
                           "testnet = false to trade on mainnet");
    }
}

void read_threads(config::section s, threads_section& out) {
    out.md_cpu = s.integer("md_cpu", out.md_cpu, {.min = -1, .max = 1023},
                           "CPU the market-data thread is pinned to; -1: not pinned");
    out.core_cpu = s.integer("core_cpu", out.core_cpu, {.min = -1, .max = 1023},
                             "CPU the core (trading) thread is pinned to; -1: not pinned");
    out.wait = s.choice("wait_policy", out.wait, wait_policies,
                        "How the core thread waits for events: spin (lowest latency, uses a whole "
                        "CPU), yield, block");
    if (out.md_cpu >= 0 && out.md_cpu == out.core_cpu) {
        s.error("core_cpu", fmt::format("the core and market-data threads would share CPU {}; "
                                        "pin them to different CPUs",
                                        out.core_cpu));
    }
    for (const auto& [key, cpu] :
         {std::pair{"md_cpu", out.md_cpu}, std::pair{"core_cpu", out.core_cpu}}) {
        if (cpu >= 0 && !cpu_available(cpu)) {
            s.warning(key, fmt::format("CPU {} is not available to this process here; pinning "
                                       "will fail on this machine",
                                       cpu));
        }
    }
    if (out.wait == wait_policy::spin && out.core_cpu < 0) {
        s.warning("wait_policy", "spin without threads.core_cpu: the spinning thread competes "
                                 "with every other thread for its CPU");
    }
}

void read_endpoints(config::section s, endpoints& out, std::string_view network) {
    out.rest_url =
        s.string("rest_url", out.rest_url, fmt::format("REST API base URL, {}", network));
    check_url(s, "rest_url", out.rest_url, "https", "http");
    out.ws_url =
        s.string("ws_url", out.ws_url, fmt::format("Market-data WebSocket base URL, {}", network));
    check_url(s, "ws_url", out.ws_url, "wss", "ws");
    out.ws_api_url = s.string("ws_api_url", out.ws_api_url,
                              fmt::format("WebSocket API URL (orders), {}", network));
    check_url(s, "ws_api_url", out.ws_api_url, "wss", "ws");
}

void read_exchange(config::section s, exchange_section& out) {
    out.recv_window_ms =
        s.duration_ms("recv_window_ms", out.recv_window_ms, {.min = 1, .max = 60000},
                      "How long after its timestamp Binance accepts a signed "
                      "request");
    out.secrets_file = s.secrets_file(
        "secrets_file", "TOML file holding api_key and api_secret, mode 0600; relative to this "
                        "file; empty: secrets only from the environment");
    read_endpoints(s.sub("spot"), out.spot, "spot mainnet");
    read_endpoints(s.sub("spot_testnet"), out.spot_testnet, "spot testnet");
    read_endpoints(s.sub("usdm_futures"), out.usdm_futures, "USD-M futures mainnet");
    read_endpoints(s.sub("usdm_futures_testnet"), out.usdm_futures_testnet,
                   "USD-M futures testnet");
}

void read_symbol(config::section s, symbol_section& out) {
    out.tick_size = s.decimal("tick_size", out.tick_size,
                              "Price increment (exchangeInfo PRICE_FILTER tickSize), quote asset");
    out.step_size = s.decimal("step_size", out.step_size,
                              "Quantity increment (exchangeInfo LOT_SIZE stepSize), base asset");
    out.min_notional = s.decimal("min_notional", out.min_notional,
                                 "Smallest order value (exchangeInfo NOTIONAL minNotional), "
                                 "quote asset");
}

void read_credentials(config::document& doc, credentials& out) {
    out.api_key = doc.read_secret("api_key", "Binance API key, sent with signed requests");
    out.api_secret =
        doc.read_secret("api_secret", "Binance API secret; signs requests, never sent");
}

/// Builds the symbol spec; a rejected filter is reported at the key that holds it.
void build_symbol_spec(config::section s, engine_config& config) {
    const auto spec = core::symbol_spec::from_text({.name = config.engine.symbol,
                                                    .tick_size = config.symbol.tick_size,
                                                    .step_size = config.symbol.step_size,
                                                    .min_notional = config.symbol.min_notional});
    if (spec) {
        config.spec = *spec;
        return;
    }
    const auto describe = core::describe(spec.error());
    switch (spec.error()) {
    case core::spec_error::bad_tick_size:
        s.error("tick_size", fmt::format("{}, found \"{}\"", describe, config.symbol.tick_size));
        break;
    case core::spec_error::bad_step_size:
        s.error("step_size", fmt::format("{}, found \"{}\"", describe, config.symbol.step_size));
        break;
    case core::spec_error::bad_min_notional:
        s.error("min_notional",
                fmt::format("{} with at most as many decimals as tick_size and step_size together, "
                            "found \"{}\"",
                            describe, config.symbol.min_notional));
        break;
    case core::spec_error::too_precise:
        s.error("step_size", fmt::format("{} (tick_size \"{}\", step_size \"{}\")", describe,
                                         config.symbol.tick_size, config.symbol.step_size));
        break;
    case core::spec_error::none:
        break;
    }
}

/// Every section, in the order `config check` lists them. Later modules add one line each.
void read_sections(config::document& doc, engine_config& config) {
    read_engine(doc.section("engine"), config.engine);
    read_threads(doc.section("threads"), config.threads);
    read_exchange(doc.section("exchange"), config.exchange);
    read_symbol(doc.section("symbol"), config.symbol);
    read_credentials(doc, config.secrets);

    // Checks across sections.
    build_symbol_spec(doc.section("symbol"), config);
    if (config.engine.mode == engine_mode::live && !config.secrets.complete()) {
        std::string names;
        std::string variables;
        int count = 0;
        for (const auto& [name, variable, value] :
             {std::tuple{"api_key", "QUOTER_API_KEY", &config.secrets.api_key},
              std::tuple{"api_secret", "QUOTER_API_SECRET", &config.secrets.api_secret}}) {
            if (value->empty()) {
                names += count == 0 ? "" : " and ";
                names += name;
                variables += count == 0 ? "" : " and ";
                variables += variable;
                ++count;
            }
        }
        const std::string file_hint =
            config.exchange.secrets_file.empty()
                ? std::string("name a secrets file in exchange.secrets_file")
                : fmt::format("add {} to {}", count == 1 ? "it" : "them",
                              config.exchange.secrets_file);
        doc.section("engine").warning(
            "mode", fmt::format("live mode cannot start without {}: set {}, or {}", names,
                                variables, file_hint));
    }
}

} // namespace

std::string_view to_string(engine_mode mode) noexcept {
    return name_of(engine_modes, mode);
}
std::string_view to_string(market_kind market) noexcept {
    return name_of(market_kinds, market);
}
std::string_view to_string(wait_policy policy) noexcept {
    return name_of(wait_policies, policy);
}

const endpoints& engine_config::active_endpoints() const noexcept {
    if (engine.market == market_kind::usdm_futures) {
        return engine.testnet ? exchange.usdm_futures_testnet : exchange.usdm_futures;
    }
    return engine.testnet ? exchange.spot_testnet : exchange.spot;
}

core::result<engine_config, config::diagnostics> load_engine_config(const std::string& path,
                                                                    config::load_options options) {
    auto loaded = config::document::load(path, std::move(options));
    if (!loaded) {
        return core::unexpected{loaded.error()};
    }
    config::document& doc = *loaded;
    engine_config config;
    read_sections(doc, config);
    doc.finish();
    if (!doc.ok()) {
        return core::unexpected{doc.problems()};
    }
    config.resolved = doc.resolved();
    return config;
}

core::result<engine_config, config::diagnostics> load_engine_config(const std::string& path,
                                                                    const std::string& profile) {
    return load_engine_config(path, config::load_options{.profile = profile});
}

namespace {

std::string summary(const engine_config& config) {
    const auto& engine = config.engine;
    std::string out =
        fmt::format("# valid: mode {}, {} {} (tick {}, step {}, min notional {})",
                    to_string(engine.mode), engine.symbol, to_string(engine.market),
                    config.symbol.tick_size, config.symbol.step_size, config.symbol.min_notional);
    if (engine.mode != engine_mode::sim) {
        const auto& urls = config.active_endpoints();
        out += fmt::format("\n# exchange: {} {} and {}", engine.testnet ? "testnet" : "MAINNET",
                           urls.rest_url, urls.ws_url);
    }
    if (engine.mode == engine_mode::live) {
        out += fmt::format(
            "\n# credentials: api_key {}, api_secret {}",
            config.secrets.api_key.empty() ? "not set" : config.secrets.api_key.masked(),
            config.secrets.api_secret.empty() ? "not set" : config.secrets.api_secret.masked());
    }
    return out + "\n";
}

} // namespace

int check_config(const std::string& path, const std::string& profile) {
    constexpr int exit_invalid = 2;
    const auto config = load_engine_config(path, profile);
    if (!config) {
        std::size_t errors = 0;
        for (const auto& problem : config.error()) {
            std::fprintf(stderr, "%s\n", config::to_string(problem).c_str());
            errors += problem.level == config::severity::error ? 1 : 0;
        }
        std::fprintf(stderr, "quoter config check: %zu error%s in %s\n", errors,
                     errors == 1 ? "" : "s", path.c_str());
        return exit_invalid;
    }
    const std::string listing = config::format_resolved(config->resolved) + "\n" + summary(*config);
    std::fputs(listing.c_str(), stdout);
    std::fflush(stdout);
    for (const auto& warning : config->resolved.warnings) {
        std::fprintf(stderr, "%s\n", config::to_string(warning).c_str());
    }
    return 0;
}

} // namespace quoter::app
