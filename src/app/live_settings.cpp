#include "live_settings.hpp"

#include <string>

namespace quoter::app {

md::market to_md_market(market_kind market) noexcept {
    return market == market_kind::usdm_futures ? md::market::usdm_futures : md::market::spot;
}

/// The stream and REST URLs of the configured market. Binance's futures mainnet routes streams
/// under "/public" (depth, bookTicker) and "/market" (trades) below the one configured ws_url
/// (routed_streams); the testnet serves them all at ws_url.
net::binance_endpoints market_endpoints(const engine_config& config) {
    const endpoints& urls = config.active_endpoints();
    net::binance_endpoints out;
    if (config.engine.market == market_kind::usdm_futures) {
        std::string base = urls.ws_url;
        while (!base.empty() && base.back() == '/') {
            base.pop_back();
        }
        out.futures_public_ws = urls.routed_streams ? base + "/public" : base;
        out.futures_market_ws = urls.routed_streams ? base + "/market" : base;
        out.futures_rest = urls.rest_url;
    } else {
        out.spot_ws = urls.ws_url;
        out.spot_rest = urls.rest_url;
    }
    return out;
}

/// [market_data] onto a feed's subscription and session settings (symbols and endpoints are
/// the caller's).
void apply_market_data(const engine_config& config, live::subscription_config& subscription,
                       live::session_config& session) {
    const live::market_data_settings& md = config.market_data;
    subscription.venue = to_md_market(config.engine.market);
    subscription.depth_interval_ms = md.depth_interval_ms;
    subscription.book_ticker = md.book_ticker;
    subscription.trades = md.trades;
    subscription.snapshot_limit = md.snapshot_limit;
    session.streams_per_connection = md.streams_per_connection;
    session.stale_after_ms = md.stale_after_ms.count();
    session.reconnect_after_stale_ms = md.reconnect_after_stale_ms.count();
    session.feed.sync.max_levels_per_side = live::book_levels_for(md);
    session.feed.sync.window_ticks = md.book_window_ticks;
    session.feed.sync.snapshot_limit = md.snapshot_limit;
    session.tls.extra_ca_file = md.extra_ca_file;
    session.busy_poll = md.busy_poll;
}

/// The core loop of a replay, paper or live session as the configuration describes it, for its
/// first (or only) symbol: with engine.symbols, that symbol's [symbol.<NAME>.strategy] and
/// [symbol.<NAME>.risk] apply, as they do in a backtest.
engine::core_loop_config make_core_loop_config(const engine_config& config) {
    engine::core_loop_config out;
    out.symbol = 0;
    out.strategy = config.symbols.empty() ? config.strategy : config.symbols.front().strategy;
    out.quotes = config.quotes;
    out.quotes.symbol = 0; // the simulated exchange's only symbol
    out.exchange = config.sim_exchange;
    out.risk = config.risk;
    if (!config.symbols.empty()) {
        out.risk.limits = config.symbols.front().limits;
    }
    out.journal_path = config.journal.path;
    out.journal_flush_interval_ms = config.journal.flush_interval_ms.count();
    out.account.initial_cash = config.backtest.initial_cash;
    // The account books the same fees the simulated exchange charges.
    out.account.maker_fee_bps = config.sim_exchange.maker_fee_bps;
    out.account.taker_fee_bps = config.sim_exchange.taker_fee_bps;
    out.core_cpu = config.threads.core_cpu;
    return out;
}

} // namespace quoter::app
