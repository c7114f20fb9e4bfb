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
#include <map>
#include <optional>
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
constexpr std::array<config::choice_option<core::idle_policy>, 3> wait_policies{{
    {"spin", core::idle_policy::spin},
    {"yield", core::idle_policy::yield},
    {"block", core::idle_policy::block},
}};
constexpr std::array<config::choice_option<strategy::model_kind>, 3> model_kinds{{
    {"linear", strategy::model_kind::linear},
    {"avellaneda_stoikov", strategy::model_kind::avellaneda_stoikov},
    {"glft", strategy::model_kind::glft},
}};
constexpr std::array<config::choice_option<strategy::horizon_kind>, 2> horizon_kinds{{
    {"finite", strategy::horizon_kind::finite},
    {"rolling", strategy::horizon_kind::rolling},
}};
constexpr std::array<config::choice_option<strategy::spacing_kind>, 2> spacing_kinds{{
    {"ticks", strategy::spacing_kind::ticks},
    {"bps", strategy::spacing_kind::bps},
}};
constexpr std::array<config::choice_option<strategy::volatility_kind>, 2> volatility_kinds{{
    {"realized", strategy::volatility_kind::realized},
    {"ewma", strategy::volatility_kind::ewma},
}};
constexpr std::array<config::choice_option<sim::price_process>, 2> price_processes{{
    {"gbm", sim::price_process::geometric_brownian},
    {"random_walk", sim::price_process::random_walk},
}};
constexpr std::array<config::choice_option<sim::fill_probability_model>, 2> fill_probabilities{{
    {"linear", sim::fill_probability_model::linear},
    {"exponential", sim::fill_probability_model::exponential},
}};
constexpr std::array<config::choice_option<sim::fill_size_model>, 2> fill_sizes{{
    {"full", sim::fill_size_model::full},
    {"fixed", sim::fill_size_model::fixed},
}};
constexpr std::array<config::choice_option<exec::latency_distribution>, 3> latency_shapes{{
    {"constant", exec::latency_distribution::constant},
    {"uniform", exec::latency_distribution::uniform},
    {"exponential", exec::latency_distribution::exponential},
}};
constexpr std::array<config::choice_option<exec::cross_fill_rule>, 3> cross_fill_rules{{
    {"on_touch", exec::cross_fill_rule::on_touch},
    {"on_through", exec::cross_fill_rule::on_through},
    {"never", exec::cross_fill_rule::never},
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
    out.symbols = s.string_list("symbols", out.symbols,
                                "Several symbols to trade in one process, each with its own "
                                "[symbol.<NAME>] table; empty: engine.symbol alone");
    for (std::size_t i = 0; i < out.symbols.size(); ++i) {
        const std::string& name = out.symbols[i];
        if (!is_binance_symbol(name)) {
            s.error("symbols", fmt::format("expected 1 to 20 upper-case letters or digits such "
                                           "as \"BTCUSDT\", found \"{}\"",
                                           name));
        } else if (std::find(out.symbols.begin(), out.symbols.begin() + static_cast<long>(i),
                             name) != out.symbols.begin() + static_cast<long>(i)) {
            s.error("symbols", fmt::format("names {} twice", name));
        }
    }
    if (!out.symbols.empty() && s.is_set("symbol")) {
        s.error("symbols", fmt::format("engine.symbol (\"{}\") and engine.symbols are both set; "
                                       "name every symbol in engine.symbols",
                                       out.symbol));
    }
    out.symbol_named = s.is_set("symbol") || !out.symbols.empty();
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
    if (out.wait == core::idle_policy::spin && out.core_cpu < 0) {
        s.warning("wait_policy", "spin without threads.core_cpu: the spinning thread competes "
                                 "with every other thread for its CPU");
    }
}

void read_endpoints(config::section s, endpoints& out, std::string_view network,
                    bool futures = false) {
    out.rest_url =
        s.string("rest_url", out.rest_url, fmt::format("REST API base URL, {}", network));
    check_url(s, "rest_url", out.rest_url, "https", "http");
    out.ws_url =
        s.string("ws_url", out.ws_url, fmt::format("Market-data WebSocket base URL, {}", network));
    check_url(s, "ws_url", out.ws_url, "wss", "ws");
    out.ws_api_url = s.string("ws_api_url", out.ws_api_url,
                              fmt::format("WebSocket API URL (orders), {}", network));
    check_url(s, "ws_api_url", out.ws_api_url, "wss", "ws");
    if (futures) {
        out.routed_streams = s.boolean(
            "routed_streams", out.routed_streams,
            fmt::format("Streams under ws_url/public (depth, bookTicker) and ws_url/market "
                        "(trades); false: all straight under ws_url, {}",
                        network));
    }
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
    read_endpoints(s.sub("usdm_futures"), out.usdm_futures, "USD-M futures mainnet", true);
    read_endpoints(s.sub("usdm_futures_testnet"), out.usdm_futures_testnet, "USD-M futures testnet",
                   true);
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

// Durations the modules keep in ns but the file writes in whole seconds or milliseconds.
std::int64_t whole_seconds(core::duration_ns ns) noexcept {
    return ns / core::ns_per_s;
}

void read_linear(config::section s, strategy::linear_params& out) {
    out.spread_bps = s.number("spread_bps", out.spread_bps, {.min = 0, .max = 10000},
                              "Full quoted spread before volatility widening, bps of the mid");
    out.inventory_skew_strength =
        s.number("inventory_skew_strength", out.inventory_skew_strength, {.min = 0},
                 "Multiplier of the inventory skew (skewed_mid = mid - strength * inventory * "
                 "price_impact)");
    out.price_impact = s.number("price_impact", out.price_impact, {.min = 0, .unit = "quote/base"},
                                "Expected mid move per base unit of inventory, quote asset per "
                                "base unit; 0 disables the skew");
    out.vol_spread_factor =
        s.number("vol_spread_factor", out.vol_spread_factor, {.min = 0},
                 "Spread widening per unit of vol / normal_vol; 0 keeps the spread fixed");
    out.normal_vol_per_sqrt_s =
        s.number("normal_vol_per_sqrt_s", out.normal_vol_per_sqrt_s,
                 {.min = 0, .exclusive_min = true, .unit = "1/sqrt(s)"},
                 "Reference volatility of the mid's log return, per sqrt(second)");
}

void read_avellaneda_stoikov(config::section s, strategy::avellaneda_stoikov_params& out) {
    out.gamma_per_tick =
        s.number("gamma_per_tick", out.gamma_per_tick, {.min = 0, .unit = "1/tick"},
                 "Risk aversion gamma, per tick (inventory in order sizes)");
    out.horizon = s.choice("horizon", out.horizon, horizon_kinds,
                           "T - t: finite (ends at terminal_time_s) or rolling (held at "
                           "horizon_s, for continuous trading)");
    out.horizon_s =
        s.number("horizon_s", out.horizon_s, {.min = 0}, "Rolling horizon: the constant T - t");
    const double terminal_s =
        s.number("terminal_time_s", static_cast<double>(out.terminal_time_ns) * 1e-9, {.min = 0},
                 "Finite horizon: T in simulated time since the start; 0: the end of the "
                 "backtest (backtest.duration_s)");
    out.terminal_time_ns = static_cast<core::timestamp_ns>(terminal_s * 1e9);
}

void read_glft(config::section s, strategy::glft_params& out) {
    out.gamma_per_tick = s.number("gamma_per_tick", out.gamma_per_tick,
                                  {.min = 0, .unit = "1/tick"}, "Risk aversion gamma, per tick");
    out.xi_equals_gamma = s.boolean("xi_equals_gamma", out.xi_equals_gamma,
                                    "xi = gamma (exponential utility); false: xi = xi_per_tick");
    out.xi_per_tick = s.number("xi_per_tick", out.xi_per_tick, {.min = 0, .unit = "1/tick"},
                               "xi when xi_equals_gamma = false; 0: risk-neutral with a running "
                               "inventory penalty");
    out.delta_orders = s.number("delta_orders", out.delta_orders, {.min = 0, .exclusive_min = true},
                                "Order size Delta in level-0 order sizes");
}

void read_volatility(config::section s, strategy::volatility_params& model,
                     strategy::estimator_params& estimators) {
    model.use_estimate = s.boolean("use_estimate", model.use_estimate,
                                   "Use the online estimate once it is ready; else always "
                                   "sigma_per_sqrt_s");
    model.sigma_per_sqrt_s =
        s.number("sigma_per_sqrt_s", model.sigma_per_sqrt_s, {.min = 0, .unit = "1/sqrt(s)"},
                 "Fixed volatility of the mid's log return per sqrt(second), and the fallback "
                 "until the estimate is ready");
    estimators.volatility = s.choice("estimator", estimators.volatility, volatility_kinds,
                                     "Online estimator: realized (trailing window) or ewma");
    auto& realized = estimators.realized;
    auto& ewma = estimators.ewma;
    realized.window_ns = core::ns_per_s * s.integer<std::int64_t>(
                                              "window_s", whole_seconds(realized.window_ns),
                                              {.min = 1, .max = 7 * 24 * 3600},
                                              "Realized volatility: length of the trailing window");
    const auto interval =
        s.duration_ms("sample_interval_ms",
                      std::chrono::milliseconds(realized.sample_interval_ns / core::ns_per_ms),
                      {.min = 1, .max = 3'600'000},
                      "Minimum time between two samples of the mid (both estimators)");
    realized.sample_interval_ns = interval.count() * core::ns_per_ms;
    ewma.sample_interval_ns = realized.sample_interval_ns;
    realized.min_samples =
        s.integer("min_samples", realized.min_samples, {.min = 1, .max = 1'000'000},
                  "Realized volatility: returns in the window before the estimate is used");
    ewma.half_life_ns = core::ns_per_s * s.integer<std::int64_t>(
                                             "ewma_half_life_s", whole_seconds(ewma.half_life_ns),
                                             {.min = 1, .max = 7 * 24 * 3600},
                                             "EWMA: time for a sample's weight to halve");
    ewma.min_samples = s.integer("ewma_min_samples", ewma.min_samples, {.min = 1, .max = 1'000'000},
                                 "EWMA: returns seen before the estimate is used");
    if (realized.window_ns < realized.sample_interval_ns * realized.min_samples) {
        s.warning("min_samples",
                  fmt::format("the window holds at most {} samples of {} ms, fewer than "
                              "min_samples = {}: the estimate is never used",
                              realized.window_ns / realized.sample_interval_ns, interval.count(),
                              realized.min_samples));
    }
}

void read_intensity(config::section s, strategy::intensity_params& model,
                    strategy::intensity_estimator_config& estimator) {
    model.use_estimate = s.boolean("use_estimate", model.use_estimate,
                                   "Use the online fit of A and k from fills once it is trusted");
    model.a_per_s = s.number("a_per_s", model.a_per_s, {.min = 0, .exclusive_min = true},
                             "Arrival intensity A of market orders reaching the mid, per second "
                             "(Avellaneda-Stoikov, GLFT)");
    model.k_per_tick = s.number("k_per_tick", model.k_per_tick,
                                {.min = 0, .exclusive_min = true, .unit = "1/tick"},
                                "Decay k of the intensity A * exp(-k * delta) with the distance "
                                "from the mid, per tick");
    estimator.bucket_ticks =
        s.number("bucket_ticks", estimator.bucket_ticks, {.min = 0, .exclusive_min = true},
                 "Online fit: width of a distance bucket");
    estimator.bucket_count = s.integer(
        "bucket_count", estimator.bucket_count,
        {.min = 2, .max = static_cast<std::int64_t>(strategy::intensity_estimator::max_buckets)},
        "Online fit: number of distance buckets");
    estimator.decay_ns =
        core::ns_per_s * s.integer<std::int64_t>("decay_s", whole_seconds(estimator.decay_ns),
                                                 {.min = 0, .max = 7 * 24 * 3600},
                                                 "Online fit: time constant of forgetting old "
                                                 "fills; 0: never forget");
    estimator.min_trades = s.number("min_trades", estimator.min_trades, {.min = 0},
                                    "Online fit: effective fill count before it is trusted");
    estimator.min_buckets = s.integer(
        "min_buckets", estimator.min_buckets,
        {.min = 2, .max = static_cast<std::int64_t>(strategy::intensity_estimator::max_buckets)},
        "Online fit: buckets with fills needed for the regression");
    estimator.refit_interval_ns =
        core::ns_per_ms *
        s.duration_ms("refit_interval_ms",
                      std::chrono::milliseconds(estimator.refit_interval_ns / core::ns_per_ms),
                      {.min = 0, .max = 3'600'000},
                      "Online fit: minimum time between two fits; 0: after every fill")
            .count();
    if (estimator.min_buckets > estimator.bucket_count) {
        s.error("min_buckets",
                fmt::format("must be at most bucket_count ({})", estimator.bucket_count));
    }
}

void read_bands(config::section s, strategy::inventory_bands& out) {
    out.target_inventory = s.number("target_inventory", out.target_inventory, {.unit = "base"},
                                    "Inventory the strategy steers toward, base asset");
    out.soft_limit_pct =
        s.number("soft_limit_pct", out.soft_limit_pct, {.min = 0, .max = 1000},
                 "Soft band: beyond this deviation (notional, % of equity) only the reducing "
                 "side is quoted, skewed harder");
    out.hard_limit_pct =
        s.number("hard_limit_pct", out.hard_limit_pct, {.min = 0, .max = 1000},
                 "Hard limit: beyond this deviation (notional, % of equity) stop opening and "
                 "flatten with one aggressive post-only order");
    out.reduce_skew_multiplier =
        s.number("reduce_skew_multiplier", out.reduce_skew_multiplier, {.min = 0},
                 "Skew multiplier beyond the soft band (>= 1 skews harder)");
    if (out.hard_limit_pct < out.soft_limit_pct) {
        s.error("hard_limit_pct",
                fmt::format("must be at least soft_limit_pct ({})", out.soft_limit_pct));
    }
}

void read_levels(config::section s, strategy::level_params& out) {
    out.count = s.integer("count", out.count,
                          {.min = 1, .max = static_cast<std::int64_t>(strategy::max_quote_levels)},
                          "Quote levels per side");
    out.spacing = s.number("spacing", out.spacing, {.min = 0},
                           "Distance between consecutive levels, in spacing_unit (levels stay at "
                           "least one tick apart)");
    out.spacing_unit = s.choice("spacing_unit", out.spacing_unit, spacing_kinds,
                                "Unit of spacing: ticks or bps of the mid");
    out.size_multiplier =
        s.number("size_multiplier", out.size_multiplier, {.min = 0, .exclusive_min = true},
                 "Size of level i = level-0 size * size_multiplier^i");
}

void read_strategy(config::section s, strategy::strategy_config& out) {
    out.model = s.choice("model", out.model, model_kinds,
                         "Quoting model: linear, avellaneda_stoikov or glft");
    out.symmetric = s.boolean("symmetric", out.symmetric,
                              "Centre every model's spread on the mid instead of its skewed "
                              "(reservation) price: the no-skew benchmark");
    out.order_size_pct = s.number("order_size_pct", out.order_size_pct,
                                  {.min = 0, .max = 100, .exclusive_min = true},
                                  "Level-0 order size, % of equity (notional at the mid)");
    read_linear(s.sub("linear"), out.linear);
    read_avellaneda_stoikov(s.sub("avellaneda_stoikov"), out.avellaneda_stoikov);
    read_glft(s.sub("glft"), out.glft);
    read_volatility(s.sub("volatility"), out.volatility, out.estimators);
    read_intensity(s.sub("intensity"), out.intensity, out.estimators.intensity);
    read_bands(s.sub("bands"), out.bands);
    read_levels(s.sub("levels"), out.levels);
}

void read_market(config::section s, market_section& out) {
    sim::market_config& m = out.model;
    m.process = s.choice("process", m.process, price_processes,
                         "Mid price process: gbm (geometric Brownian motion) or random_walk "
                         "(+/- sigma * sqrt(dt) each step)");
    m.initial_mid_price = s.number(
        "start_price", m.initial_mid_price, {.min = 0, .exclusive_min = true, .unit = "quote/base"},
        "Mid price at time 0; a synthetic run needs it (or symbol.<NAME>.start_price): "
        "the default fits no real symbol");
    out.start_price_set = s.is_set("start_price");
    out.step_ms = s.duration_ms("step_ms", out.step_ms, {.min = 1, .max = 3'600'000},
                                "Simulated time per step");
    m.gbm_mu_per_year = s.number("mu_per_year", m.gbm_mu_per_year, {.unit = "1/year"},
                                 "gbm: drift mu, fraction per (365-day) year");
    m.gbm_sigma_per_sqrt_year = s.number(
        "sigma_per_sqrt_year", m.gbm_sigma_per_sqrt_year, {.min = 0, .unit = "1/sqrt(year)"},
        "gbm: volatility sigma, fraction per sqrt(year) (0.5 = 50% annualised)");
    m.walk_sigma_per_sqrt_s = s.number(
        "walk_sigma_per_sqrt_s", m.walk_sigma_per_sqrt_s, {.min = 0, .unit = "quote/base/sqrt(s)"},
        "random_walk: mid move per sqrt(second), quote asset per base unit");
    m.market_spread_ticks = s.number("spread_ticks", m.market_spread_ticks, {.min = 0},
                                     "Visible book: bid/ask = mid -/+ spread/2, rounded "
                                     "outwards to ticks");
    m.order_flow_a_per_s = s.number("a_per_s", m.order_flow_a_per_s, {.min = 0},
                                    "Arrival rate A of market orders reaching a quote at the "
                                    "mid, per second");
    m.order_flow_k_per_price_unit =
        s.number("k_per_price_unit", m.order_flow_k_per_price_unit, {.min = 0, .unit = "1/quote"},
                 "Decay k of the arrival rate A * exp(-k * delta), per quote-asset unit of "
                 "distance from the mid");
    m.fill_probability =
        s.choice("fill_probability", m.fill_probability, fill_probabilities,
                 "Fill probability per step: linear (lambda * dt, capped at 1) or exponential "
                 "(1 - exp(-lambda * dt))");
    m.fill_size = s.choice("fill_size", m.fill_size, fill_sizes,
                           "Size of a hit: full (the whole order) or fixed (fixed_fill_lots)");
    m.fixed_fill_lots = s.integer("fixed_fill_lots", m.fixed_fill_lots, {.min = 1, .unit = "lots"},
                                  "fill_size = fixed: lots (of symbol.step_size) filled per hit");
    m.informed_share = s.number("informed_share", m.informed_share, {.min = 0, .max = 1},
                                "Share of the orders hitting a quote that are informed: the mid "
                                "then moves against the filled quote (adverse selection)");
    m.informed_impact_bps =
        s.number("informed_impact_bps", m.informed_impact_bps, {.min = 0, .max = 10000},
                 "Mid move after an informed hit, bps of the mid");
}

void read_sim_exchange(config::section s, exec::sim_exchange_config& out) {
    out.maker_fee_bps = s.number("maker_fee_bps", out.maker_fee_bps, {.min = -100, .max = 1000},
                                 "Fee on resting (maker) fills, bps of notional; negative: rebate");
    out.taker_fee_bps = s.number("taker_fee_bps", out.taker_fee_bps, {.min = -100, .max = 1000},
                                 "Fee on crossing (taker) fills, bps of notional");
    const auto shape =
        s.choice("latency_distribution", out.order_entry_latency.distribution, latency_shapes,
                 "Latency jitter: constant (none), uniform (U[0, jitter]) or exponential (mean "
                 "jitter)");
    const auto read_latency = [&](std::string_view name, exec::latency_config& latency,
                                  std::string_view what) {
        latency.distribution = shape;
        latency.fixed_ns =
            core::ns_per_us * s.integer<std::int64_t>(fmt::format("{}_latency_us", name),
                                                      latency.fixed_ns / core::ns_per_us,
                                                      {.min = 0, .max = 60'000'000},
                                                      fmt::format("Fixed delay of {}", what));
        latency.jitter_ns =
            core::ns_per_us * s.integer<std::int64_t>(fmt::format("{}_jitter_us", name),
                                                      latency.jitter_ns / core::ns_per_us,
                                                      {.min = 0, .max = 60'000'000},
                                                      fmt::format("Jitter of {} (see "
                                                                  "latency_distribution)",
                                                                  what));
    };
    read_latency("order_entry", out.order_entry_latency, "new orders, client to exchange");
    read_latency("cancel", out.cancel_latency, "cancels, client to exchange");
    read_latency("market_data", out.market_data_latency,
                 "reports and market data, exchange to "
                 "client");
    out.fifo_requests = s.boolean("fifo_requests", out.fifo_requests,
                                  "Requests arrive in the order sent (one connection); false: a "
                                  "cancel may overtake its order");
    out.cross_fill = s.choice("cross_fill", out.cross_fill, cross_fill_rules,
                              "When the opposite best price fills a resting order: on_touch, "
                              "on_through or never");
    out.max_open_orders =
        s.integer("max_open_orders", out.max_open_orders, {.min = 1, .max = 65536},
                  "Open orders the exchange accepts; more are rejected");
}

/// Returns the levels key as written (0: follow strategy.levels.count).
std::uint32_t read_quotes(config::section s, exec::quote_manager_config& out) {
    const auto levels = s.integer<std::uint32_t>(
        "levels", 0, {.min = 0, .max = static_cast<std::int64_t>(exec::max_quote_levels)},
        "Quote levels per side the manager keeps; 0: strategy.levels.count");
    out.refresh_tolerance_bps =
        s.number("refresh_tolerance_bps", out.refresh_tolerance_bps, {.min = 0, .max = 10000},
                 "Keep a working order while the desired price stays within this distance of "
                 "its price (and its size and age within their limits)");
    out.size_tolerance_pct =
        s.number("size_tolerance_pct", out.size_tolerance_pct, {.min = 0, .max = 1000},
                 "Keep a working order while the desired size stays within this share of its size");
    out.max_order_age_ms =
        s.duration_ms("max_order_age_ms", std::chrono::milliseconds(out.max_order_age_ms),
                      {.min = 0, .max = 86'400'000},
                      "Replace a working order once it is this old; 0: no age limit")
            .count();
    out.refresh_ms = s.duration_ms("refresh_ms", std::chrono::milliseconds(out.refresh_ms),
                                   {.min = 0, .max = 3'600'000},
                                   "Minimum time between two orders sent for one side and level")
                         .count();
    out.post_only = s.boolean("post_only", out.post_only,
                              "Send post-only orders (rejected rather than taking liquidity)");
    out.cancel_retry_ms =
        s.duration_ms("cancel_retry_ms", std::chrono::milliseconds(out.cancel_retry_ms),
                      {.min = 1, .max = 60'000},
                      "Minimum time between two cancel attempts of one order, and how long a "
                      "cancel may go unanswered before it is sent again")
            .count();
    out.max_cancel_attempts = s.integer<std::uint32_t>(
        "max_cancel_attempts", out.max_cancel_attempts, {.min = 1, .max = 10'000},
        "Cancel attempts per order before the manager gives up on it and raises a critical "
        "cancel_gave_up alert");
    return levels;
}

void read_backtest(config::section s, backtest_section& out) {
    out.duration_s = s.number("duration_s", out.duration_s,
                              {.min = 0, .max = 365.0 * 24 * 3600, .exclusive_min = true},
                              "Simulated length of a backtest");
    out.initial_cash = s.number("initial_cash", out.initial_cash,
                                {.min = 0, .max = 1e12, .exclusive_min = true, .unit = "quote"},
                                "Cash at the start, quote asset; the capital returns and bands "
                                "are measured on");
    out.paths = s.integer("paths", out.paths, {.min = 1, .max = 1'000'000},
                          "Independent simulated paths (--paths overrides)");
    out.seed = s.integer("seed", out.seed, {.min = 0},
                         "Base random seed (--seed overrides); the same seed gives the same run");
    out.threads = s.integer("threads", out.threads, {.min = 0, .max = 1024},
                            "Worker threads for multi-path runs; 0: every hardware thread");
    out.speed =
        s.number("speed", out.speed, {.min = 0, .max = 1e6, .exclusive_min = true, .unit = "x"},
                 "quoter run --mode sim: simulated seconds per wall-clock second "
                 "(--speed overrides)");
    out.record_interval_ms =
        s.duration_ms("record_interval_ms", out.record_interval_ms, {.min = 1, .max = 86'400'000},
                      "Simulated time between two pnl.csv samples (at most one per step)");
    out.return_period_s = s.number("return_period_s", out.return_period_s, {.min = 0},
                                   "Return period of Sharpe, Sortino and volatility; 0: every "
                                   "pnl sample");
}

std::int64_t read_ms(config::section& s, std::string_view key, std::int64_t fallback,
                     std::int64_t min, std::string_view doc) {
    return s
        .duration_ms(key, std::chrono::milliseconds(fallback),
                     {.min = min, .max = 7 * 86'400'000LL}, doc)
        .count();
}

/// "HH:MM" (24 h) to minutes after midnight; nothing when malformed or out of range.
std::optional<std::int32_t> parse_time_of_day(std::string_view text) {
    if (text.size() != 5 || text[2] != ':') {
        return std::nullopt;
    }
    const auto two_digits = [&](std::size_t at) -> int {
        const char hi = text[at];
        const char lo = text[at + 1];
        if (hi < '0' || hi > '9' || lo < '0' || lo > '9') {
            return -1;
        }
        return (hi - '0') * 10 + (lo - '0');
    };
    const int hours = two_digits(0);
    const int minutes = two_digits(3);
    if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) {
        return std::nullopt;
    }
    return hours * 60 + minutes;
}

void read_risk(config::section s, risk::risk_config& out) {
    risk::risk_limits& l = out.limits;
    const config::number_limits pct{.min = 0, .max = 1000, .unit = "%"};
    l.order_notional_pct = s.number("order_notional_pct", l.order_notional_pct, pct,
                                    "Largest notional of one order, % of equity");
    l.max_order_qty_base =
        s.number("max_order_qty_base", l.max_order_qty_base, {.min = 0, .unit = "base"},
                 "Largest quantity of one order, base asset; 0: no limit "
                 "beyond the notional one");
    l.price_band_bps =
        s.number("price_band_bps", l.price_band_bps, {.min = 0, .max = 10000, .unit = "bps"},
                 "Largest distance of a bid below the best bid (an ask above the "
                 "best ask), and how far a marketable order may reach through");
    l.max_new_orders_per_s = s.integer("max_new_orders_per_s", l.max_new_orders_per_s,
                                       {.min = 0, .unit = "1/s"}, "New orders per second");
    l.max_new_orders_per_min = s.integer("max_new_orders_per_min", l.max_new_orders_per_min,
                                         {.min = 0, .unit = "1/min"}, "New orders per minute");
    l.max_cancels_per_s =
        s.integer("max_cancels_per_s", l.max_cancels_per_s, {.min = 0, .unit = "1/s"},
                  "Cancels per second above which trading pauses until the rate "
                  "is back under it; cancels always go out");
    l.max_orders_per_day =
        s.integer("max_orders_per_day", l.max_orders_per_day, {.min = 0, .unit = "1/day"},
                  "New orders over a sliding 24 h window");
    l.cancel_trade_ratio_block =
        s.number("cancel_trade_ratio_block", l.cancel_trade_ratio_block, {.min = 0},
                 "Refuse new orders while cancels / max(fills, 1) is above this; 0: never "
                 "block (the alarm still fires)");
    l.cancel_trade_min_cancels =
        s.integer("cancel_trade_min_cancels", l.cancel_trade_min_cancels, {.min = 0},
                  "Cancels in the window before the ratio can block");
    l.cancel_trade_window_ms = read_ms(s, "cancel_trade_window_ms", l.cancel_trade_window_ms, 1,
                                       "Window over which the blocking ratio is counted");
    l.symbol_net_notional_pct = s.number("symbol_net_notional_pct", l.symbol_net_notional_pct, pct,
                                         "Largest net position notional in one symbol, % of "
                                         "equity (resting orders of the side included)");
    l.symbol_gross_notional_pct =
        s.number("symbol_gross_notional_pct", l.symbol_gross_notional_pct, pct,
                 "Largest |position| + resting orders of both sides in one symbol, % of equity");
    l.portfolio_net_notional_pct =
        s.number("portfolio_net_notional_pct", l.portfolio_net_notional_pct, pct,
                 "Largest sum over symbols of |net position| notional, % of equity");
    l.daily_loss_pct = s.number("daily_loss_pct", l.daily_loss_pct, pct,
                                "Kill when the day's loss (realized + unrealized) exceeds this "
                                "% of the start-of-day equity");
    const std::string reset = s.string(
        "daily_reset_utc",
        fmt::format("{:02}:{:02}", l.daily_reset_utc_minute / 60, l.daily_reset_utc_minute % 60),
        "Time of day (HH:MM, UTC) at which the trading day, its "
        "loss and its start-of-day equity start again");
    if (const auto minute = parse_time_of_day(reset)) {
        l.daily_reset_utc_minute = *minute;
    } else {
        s.error("daily_reset_utc", fmt::format("\"{}\" is not a time of day HH:MM (00:00 to "
                                               "23:59)",
                                               reset));
    }
    l.drawdown_soft_pct = s.number("drawdown_soft_pct", l.drawdown_soft_pct, pct,
                                   "Drawdown from the equity peak that enters reduce mode");
    l.drawdown_hard_pct = s.number("drawdown_hard_pct", l.drawdown_hard_pct, pct,
                                   "Drawdown from the equity peak that kills");
    l.inventory_flatten_pct = s.number("inventory_flatten_pct", l.inventory_flatten_pct, pct,
                                       "Position notional that enters flatten mode (only "
                                       "reducing orders pass), % of equity");
    l.inventory_kill_pct = s.number("inventory_kill_pct", l.inventory_kill_pct, pct,
                                    "Position notional that kills, % of equity; 0: never");
    l.reduce_spread_multiplier =
        s.number("reduce_spread_multiplier", l.reduce_spread_multiplier,
                 {.min = 1, .max = 100, .unit = "x"}, "Spread multiplier in reduce mode");
    if (l.drawdown_soft_pct > l.drawdown_hard_pct) {
        s.error("drawdown_soft_pct", fmt::format("is above drawdown_hard_pct ({}): reduce mode "
                                                 "would never come before the kill",
                                                 l.drawdown_hard_pct));
    }
    if (l.inventory_kill_pct > 0 && l.inventory_flatten_pct > l.inventory_kill_pct) {
        s.error("inventory_flatten_pct", fmt::format("is above inventory_kill_pct ({}): flatten "
                                                     "mode would never come before the kill",
                                                     l.inventory_kill_pct));
    }

    config::section t = s.sub("triggers");
    risk::trigger_limits& g = out.triggers;
    g.api_error_storm_count =
        t.integer("api_error_storm_count", g.api_error_storm_count, {.min = 0},
                  "Kill after this many 429/418/5xx/timeout responses, venue rejects of "
                  "checked orders or unsent requests within api_error_window_ms; 0: off");
    g.api_error_window_ms = read_ms(t, "api_error_window_ms", g.api_error_window_ms, 1,
                                    "Window of the API error storm");
    g.stale_market_data_ms = read_ms(t, "stale_market_data_ms", g.stale_market_data_ms, 0,
                                     "Pause while no market data arrived for this long");
    g.max_slippage_ticks =
        t.integer("max_slippage_ticks", g.max_slippage_ticks, {.min = 0, .unit = "ticks"},
                  "Kill on a fill worse than expected by more than this; 0: "
                  "off");
    g.max_ack_delay_ms = read_ms(t, "max_ack_delay_ms", g.max_ack_delay_ms, 0,
                                 "Kill when an acknowledgement takes longer than this; 0: off");
    g.max_fill_delay_ms = read_ms(t, "max_fill_delay_ms", g.max_fill_delay_ms, 0,
                                  "Kill when a fill arrives this long after its exchange time; "
                                  "0: off");
    g.flatten_on_kill = t.boolean("flatten_on_kill", g.flatten_on_kill,
                                  "On kill, also close the position with marketable reducing "
                                  "IOC orders that still pass the pre-trade checks");
    g.flatten_slippage_ticks =
        t.integer("flatten_slippage_ticks", g.flatten_slippage_ticks, {.min = 0, .unit = "ticks"},
                  "How far through the opposite touch a flatten order's limit price reaches");
    g.flatten_max_attempts =
        t.integer("flatten_max_attempts", g.flatten_max_attempts, {.min = 1},
                  "Flatten orders after one kill before giving up (each unfilled IOC counts)");

    config::section a = s.sub("alarms");
    risk::alarm_thresholds& m = out.alarms;
    m.min_fill_ratio_pct = a.number("min_fill_ratio_pct", m.min_fill_ratio_pct, pct,
                                    "Alarm when fills / new orders falls below this");
    m.fill_ratio_min_orders = a.integer("fill_ratio_min_orders", m.fill_ratio_min_orders,
                                        {.min = 0}, "New orders before the fill ratio is judged");
    m.max_cancel_trade_ratio =
        a.number("max_cancel_trade_ratio", m.max_cancel_trade_ratio, {.min = 0},
                 "Alarm when cancels / max(fills, 1) is above "
                 "this");
    m.cancel_trade_min_cancels =
        a.integer("cancel_trade_min_cancels", m.cancel_trade_min_cancels, {.min = 0},
                  "Cancels before the cancel/trade ratio is judged");
    m.alarm_window_ms = read_ms(a, "alarm_window_ms", m.alarm_window_ms, 1,
                                "Window of the fill and cancel/trade ratios");
    m.one_sided_loss_streak =
        a.integer("one_sided_loss_streak", m.one_sided_loss_streak, {.min = 0},
                  "Alarm after this many consecutive losing trades on one "
                  "side; 0: off");
    m.slippage_alarm_ticks =
        a.integer("slippage_alarm_ticks", m.slippage_alarm_ticks, {.min = 0, .unit = "ticks"},
                  "Alarm on a fill worse than expected by more than this");
    m.fill_delay_alarm_ms = read_ms(a, "fill_delay_alarm_ms", m.fill_delay_alarm_ms, 0,
                                    "Alarm on a fill that arrives this long after its exchange "
                                    "time");
    m.alarm_cooldown_ms = read_ms(a, "alarm_cooldown_ms", m.alarm_cooldown_ms, 0,
                                  "The same alarm repeats at most once per this interval");
}

void read_journal(config::section s, journal_section& out) {
    out.path = s.string("path", out.path,
                        "JSONL audit trail appended to (orders, refusals, reports, kill/pause/"
                        "resume); empty: none");
    out.flush_interval_ms =
        s.duration_ms("flush_interval_ms", out.flush_interval_ms, {.min = -1, .max = 3'600'000},
                      "fdatasync the journal at most this often; 0: after every batch; -1: "
                      "never (left to the OS)");
}

constexpr std::array<config::choice_option<trade_feed>, 3> trade_feeds{{
    {"agg_trade", trade_feed::agg_trade},
    {"trade", trade_feed::trade},
    {"none", trade_feed::none},
}};

void read_market_data(config::section s, market_data_section& out, market_kind market) {
    const bool futures = market == market_kind::usdm_futures;
    out.depth_interval_ms =
        s.integer("depth_interval_ms", out.depth_interval_ms, {.min = 0, .max = 1000, .unit = "ms"},
                  "Depth diff interval: spot 100 or 1000, USD-M futures 0, 100, 250 or 500");
    const bool interval_ok = futures
                                 ? (out.depth_interval_ms == 0 || out.depth_interval_ms == 100 ||
                                    out.depth_interval_ms == 250 || out.depth_interval_ms == 500)
                                 : (out.depth_interval_ms == 100 || out.depth_interval_ms == 1000);
    if (!interval_ok) {
        s.error("depth_interval_ms",
                fmt::format("Binance {} depth streams come every {}; found {}",
                            futures ? "USD-M futures" : "spot",
                            futures ? "0, 100, 250 or 500 ms" : "100 or 1000 ms",
                            out.depth_interval_ms));
    }
    out.book_ticker = s.boolean("book_ticker", out.book_ticker,
                                "Subscribe to bookTicker, which refreshes the top between diffs");
    out.trades = s.choice("trades", out.trades, trade_feeds,
                          "Trade prints for the queue model and volatility: agg_trade, trade, "
                          "none");
    out.snapshot_limit =
        s.integer("snapshot_limit", out.snapshot_limit, {.min = 5, .max = 5000, .unit = "levels"},
                  "Levels per side of REST depth snapshots (futures: at most "
                  "1000)");
    if (futures && out.snapshot_limit > 1000) {
        s.error("snapshot_limit", fmt::format("/fapi/v1/depth returns at most 1000 levels; "
                                              "found {}",
                                              out.snapshot_limit));
    }
    out.streams_per_connection =
        s.integer("streams_per_connection", out.streams_per_connection, {.min = 1, .max = 1024},
                  "Streams per WebSocket connection (Binance allows 1024)");
    out.stale_after_ms =
        s.duration_ms("stale_after_ms", out.stale_after_ms, {.min = 1, .max = 3'600'000},
                      "A synced book with no update for this long turns stale (quotes pulled)");
    out.reconnect_after_stale_ms = s.duration_ms(
        "reconnect_after_stale_ms", out.reconnect_after_stale_ms, {.min = 0, .max = 3'600'000},
        "A connection silent for this long is replaced; 0: never");
    out.book_levels =
        s.integer("book_levels", out.book_levels, {.min = 16, .max = 1'000'000, .unit = "levels"},
                  "Order book capacity per side");
    if (out.book_levels < out.snapshot_limit) {
        s.error("book_levels", fmt::format("is below snapshot_limit ({}): snapshots would be "
                                           "truncated",
                                           out.snapshot_limit));
    }
    out.book_window_ticks = s.integer(
        "book_window_ticks", out.book_window_ticks, {.min = 4096, .max = 1 << 20, .unit = "ticks"},
        "Dense window at the top of each book side (8 bytes a tick a side), rounded "
        "up to a power of two");
    out.extra_ca_file =
        s.file_path("extra_ca_file", "Extra CA certificate (PEM) trusted for wss:// and https://, "
                                     "e.g. a local venue's; relative to this file");
}

void check_simulation(config::document& doc, engine_config& config, std::uint32_t quote_levels) {
    auto quotes = doc.section("quotes");
    const std::uint32_t strategy_levels = config.strategy.levels.count;
    if (quote_levels != 0 && quote_levels < strategy_levels) {
        quotes.error("levels", fmt::format("keeps fewer levels than strategy.levels.count ({}), "
                                           "so the deeper levels would never be quoted; use 0 or "
                                           "at least {}",
                                           strategy_levels, strategy_levels));
    }
    config.quotes.levels = static_cast<std::uint8_t>(
        std::max<std::uint32_t>(quote_levels == 0 ? strategy_levels : quote_levels, 1));
    if (sim::validate(config.market.model) != sim::market_config_error::none) {
        doc.section("market").error("process",
                                    std::string(sim::describe(sim::validate(config.market.model))));
    }
    const double order_notional =
        config.backtest.initial_cash * config.strategy.order_size_pct / 100.0;
    const double min_notional =
        static_cast<double>(config.spec.min_notional_units()) /
        static_cast<double>(core::pow10(config.spec.price_decimals() + config.spec.qty_decimals()));
    if (order_notional < min_notional) {
        doc.section("strategy")
            .warning("order_size_pct",
                     fmt::format(
                         "orders of {}% of backtest.initial_cash ({:.6g}) are below the symbol's "
                         "min_notional ({:.6g}) and are never sent",
                         config.strategy.order_size_pct, order_notional, min_notional));
    }
    if (config.backtest.record_interval_ms < config.market.step_ms) {
        doc.section("backtest")
            .warning("record_interval_ms",
                     fmt::format("is shorter than market.step_ms ({} ms): one sample per step",
                                 config.market.step_ms.count()));
    }
}

void read_credentials(config::document& doc, credentials& out) {
    out.api_key = doc.read_secret("api_key", "Binance API key, sent with signed requests");
    out.api_secret =
        doc.read_secret("api_secret", "Binance API secret; signs requests, never sent");
}

/// Builds one symbol's spec; a rejected filter is reported at the key that holds it.
void build_symbol_spec(config::section s, symbol_entry& entry) {
    const symbol_section& filters = entry.filters;
    const auto spec = core::symbol_spec::from_text({.name = entry.name,
                                                    .tick_size = filters.tick_size,
                                                    .step_size = filters.step_size,
                                                    .min_notional = filters.min_notional});
    if (spec) {
        entry.spec = *spec;
        return;
    }
    const auto describe = core::describe(spec.error());
    switch (spec.error()) {
    case core::spec_error::bad_tick_size:
        s.error("tick_size", fmt::format("{}, found \"{}\"", describe, filters.tick_size));
        break;
    case core::spec_error::bad_step_size:
        s.error("step_size", fmt::format("{}, found \"{}\"", describe, filters.step_size));
        break;
    case core::spec_error::bad_min_notional:
        s.error("min_notional",
                fmt::format("{} with at most as many decimals as tick_size and step_size together, "
                            "found \"{}\"",
                            describe, filters.min_notional));
        break;
    case core::spec_error::too_precise:
        s.error("step_size", fmt::format("{} (tick_size \"{}\", step_size \"{}\")", describe,
                                         filters.tick_size, filters.step_size));
        break;
    case core::spec_error::none:
        break;
    }
}

/// The traded symbols: engine.symbol with [symbol], or every name of engine.symbols with its
/// [symbol.<NAME>] table, whose keys default to [symbol]'s.
void read_symbol_tables(config::document& doc, engine_config& config) {
    config.symbols.clear();
    if (config.engine.symbols.empty()) {
        symbol_entry entry;
        entry.name = config.engine.symbol;
        entry.filters = config.symbol;
        config.symbols.push_back(std::move(entry));
        build_symbol_spec(doc.section("symbol"), config.symbols.back());
    } else {
        config.engine.symbol = config.engine.symbols.front();
        for (const std::string& name : config.engine.symbols) {
            const bool seen = std::any_of(config.symbols.begin(), config.symbols.end(),
                                          [&](const symbol_entry& e) { return e.name == name; });
            if (!is_binance_symbol(name) || seen) {
                continue; // reported at engine.symbols
            }
            config::section s = doc.section("symbol").sub(name);
            symbol_entry entry;
            entry.name = name;
            entry.filters = config.symbol;
            read_symbol(s, entry.filters);
            entry.start_price = s.number("start_price", 0.0, {.min = 0, .unit = "quote/base"},
                                         "Mid price the synthetic market of this symbol starts "
                                         "at; 0: market.start_price");
            build_symbol_spec(s, entry);
            config.symbols.push_back(std::move(entry));
        }
    }
    if (!config.symbols.empty()) {
        config.spec = config.symbols.front().spec;
    }
}

/// Every section, in the order `config check` lists them. Later modules add one line each.
void read_sections(config::document& doc, engine_config& config) {
    read_engine(doc.section("engine"), config.engine);
    read_threads(doc.section("threads"), config.threads);
    read_exchange(doc.section("exchange"), config.exchange);
    read_symbol(doc.section("symbol"), config.symbol);
    read_strategy(doc.section("strategy"), config.strategy);
    read_market(doc.section("market"), config.market);
    read_sim_exchange(doc.section("sim_exchange"), config.sim_exchange);
    const std::uint32_t quote_levels = read_quotes(doc.section("quotes"), config.quotes);
    read_backtest(doc.section("backtest"), config.backtest);
    read_risk(doc.section("risk"), config.risk);
    read_journal(doc.section("journal"), config.journal);
    read_market_data(doc.section("market_data"), config.market_data, config.engine.market);
    ops::read_ops_sections(doc, config.ops);
    read_credentials(doc, config.secrets);

    // Checks across sections.
    read_symbol_tables(doc, config);
    check_simulation(doc, config, quote_levels);
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

const endpoints& engine_config::active_endpoints() const noexcept {
    if (engine.market == market_kind::usdm_futures) {
        return engine.testnet ? exchange.usdm_futures_testnet : exchange.usdm_futures;
    }
    return engine.testnet ? exchange.spot_testnet : exchange.spot;
}

engine::backtest_config make_backtest_config(const engine_config& config) {
    engine::backtest_config out;
    out.strategy = config.strategy;
    out.market = config.market.model;
    out.exchange = config.sim_exchange;
    out.quotes = config.quotes;
    out.risk = config.risk;
    out.step_ns = config.market.step_ms.count() * core::ns_per_ms;
    out.duration_ns = static_cast<core::duration_ns>(config.backtest.duration_s * 1e9);
    out.initial_cash = config.backtest.initial_cash;
    out.record_interval_ns = config.backtest.record_interval_ms.count() * core::ns_per_ms;
    out.return_period_s = config.backtest.return_period_s;
    return out;
}

std::vector<engine::backtest_symbol> make_backtest_symbols(const engine_config& config) {
    std::vector<engine::backtest_symbol> out;
    for (const symbol_entry& entry : config.symbols) {
        engine::backtest_symbol symbol{.spec = entry.spec, .market = config.market.model};
        if (entry.start_price > 0.0) {
            symbol.market.initial_mid_price = entry.start_price;
        }
        out.push_back(symbol);
    }
    return out;
}

std::string synthetic_market_problem(const engine_config& config) {
    if (config.market.start_price_set) {
        return {};
    }
    std::string missing;
    for (const symbol_entry& entry : config.symbols) {
        if (entry.start_price <= 0.0) {
            missing += (missing.empty() ? "" : ", ") + entry.name;
        }
    }
    if (missing.empty()) {
        return {};
    }
    const bool several = !config.engine.symbols.empty();
    return fmt::format(
        "the configuration sets no synthetic market price for {}: market.start_price is not set{} "
        "and its built-in {:g} does not fit a real symbol (tick {}); add a [market] table with "
        "start_price (config/sim.toml has one){}, or replay a capture with --data",
        missing, several ? " nor symbol.<NAME>.start_price" : "",
        config.market.model.initial_mid_price, config.symbols.front().filters.tick_size,
        several ? " or set start_price in each [symbol.<NAME>]" : "");
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
    std::string out = fmt::format("# valid: mode {}", to_string(engine.mode));
    for (const symbol_entry& entry : config.symbols) {
        out += fmt::format(", {} {} (tick {}, step {}, min notional {}", entry.name,
                           to_string(engine.market), entry.filters.tick_size,
                           entry.filters.step_size, entry.filters.min_notional);
        out += entry.start_price > 0 ? fmt::format(", start price {:g})", entry.start_price) : ")";
    }
    if (config.symbols.size() > 1) {
        out += fmt::format("; {} symbols in one loop, portfolio limits across them",
                           config.symbols.size());
    }
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

std::optional<engine_config> load_config_for_command(const std::string& path,
                                                     const std::string& profile,
                                                     const std::string& symbol,
                                                     const char* command) {
    config::load_options options{.profile = profile};
    if (!symbol.empty()) {
        std::map<std::string, std::string> vars(options.env.vars().begin(),
                                                options.env.vars().end());
        vars["QUOTER_ENGINE_SYMBOL"] = symbol;
        options.env = config::environment::from_map(std::move(vars));
    }
    auto loaded = load_engine_config(path, std::move(options));
    if (!loaded) {
        std::size_t errors = 0;
        for (const auto& problem : loaded.error()) {
            std::fprintf(stderr, "%s\n", config::to_string(problem).c_str());
            errors += problem.level == config::severity::error ? 1 : 0;
        }
        std::fprintf(stderr, "quoter %s: %zu error%s in %s\n", command, errors,
                     errors == 1 ? "" : "s", path.c_str());
        return std::nullopt;
    }
    for (const auto& warning : loaded->resolved.warnings) {
        std::fprintf(stderr, "%s\n", config::to_string(warning).c_str());
    }
    return std::move(*loaded);
}

} // namespace quoter::app
