// calibrate: fits the synthetic market and the strategy's fixed inputs to a real symbol from
// recorded captures (`quoter calibrate --data FILE...`):
//  - tick and step: the largest decimal grid every observed price (best bid/ask, trades) and
//    every quantity lies on (a greatest common divisor in units of 1e-8, Binance's precision);
//  - volatility: the mid ((best bid + best ask) / 2 of the book tickers) sampled every
//    sample_interval_ns; sigma = sqrt(sum of squared changes / time), absolute (quote per base
//    per sqrt(s)) and relative (of the log mid); samples are not differenced across files;
//  - fill intensity lambda(delta) = A exp(-k delta): trades with the same trade time and
//    aggressor side are one market order, whose depth is the largest |price - mid| of its
//    trades, mid from the last ticker received before it; lambda(delta) is the rate of market
//    orders reaching at least delta (per second of capture), on a grid of delta = 0, bucket,
//    2 bucket, ...; log A - k delta is fitted by least squares over the grid points reached by
//    at least min_orders orders. The grid ends at the reach_quantile of the depths, in at most
//    max_points points.
// Not a hot path: allocates freely. One thread.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/core/time.hpp"
#include "quoter/sim/synthetic_market.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace quoter::research {

struct calibration_options {
    /// Mid sampling interval of the volatility estimate, ns.
    core::duration_ns sample_interval_ns = core::ns_per_s;
    /// Distance grid of the intensity fit, in ticks (> 0).
    double bucket_ticks = 1.0;
    /// Least market orders at a grid point for it to enter the fit.
    std::uint64_t min_orders = 5;
    /// The grid ends at this quantile of the orders' depths ...
    double reach_quantile = 0.95;
    /// ... in at most this many points (the step grows in whole ticks beyond bucket_ticks).
    std::size_t max_points = 20;
};

/// One point of the intensity curve.
struct intensity_point {
    double delta = 0.0;       ///< distance from the mid, quote units
    std::uint64_t orders = 0; ///< market orders reaching at least delta
    double rate_per_s = 0.0;  ///< orders / duration
};

struct calibration {
    std::string symbol;
    std::uint64_t files = 0;
    double duration_s = 0.0; ///< sum over files of last - first line time
    std::uint64_t tickers = 0;
    std::uint64_t trades = 0;
    std::uint64_t market_orders = 0;
    /// Grid, as exact decimal text and as a number.
    std::string tick_text;
    std::string step_text;
    double tick_size = 0.0;
    double step_size = 0.0;
    double first_mid = 0.0;
    double mean_spread = 0.0;   ///< mean over tickers (not time-weighted), quote units
    double median_spread = 0.0; ///< median over tickers, quote units
    std::uint64_t volatility_samples = 0;
    double sample_interval_s = 0.0;
    double sigma_abs_per_sqrt_s = 0.0;
    double sigma_rel_per_sqrt_s = 0.0;
    double a_per_s = 0.0;
    double k_per_price_unit = 0.0;
    double fit_r2 = 0.0;
    std::vector<intensity_point> curve; ///< every grid point with an order, fitted or not
    std::size_t fitted_points = 0;
};

/// Accumulates the observations of one or more captures.
class calibrator {
public:
    /// Starts a new file: the volatility samples are not differenced across it.
    void begin_file();
    /// A book ticker at local time ns; prices and sizes as Binance decimal text.
    void on_ticker(core::timestamp_ns time, std::string_view bid, std::string_view bid_qty,
                   std::string_view ask, std::string_view ask_qty);
    /// A trade print: trade time (ms, the venue's), price and quantity text, and whether the
    /// buyer was the maker (the aggressor sold).
    void on_trade(core::timestamp_ns time, std::int64_t trade_time_ms, std::string_view price,
                  std::string_view qty, bool buyer_maker);
    /// Any line's time, for the duration.
    void on_line(core::timestamp_ns time) noexcept;
    void set_symbol(std::string_view symbol);

    /// The estimates; an error when there is too little data for one of them.
    [[nodiscard]] core::result<calibration, std::string>
    finish(const calibration_options& options) const;

private:
    struct order {
        double depth = 0.0;
        std::int64_t trade_time_ms = 0;
        bool buyer_maker = false;
    };
    void note_price(std::string_view text);
    void note_qty(std::string_view text);

    calibration out_;
    std::uint64_t price_gcd_ = 0;
    std::uint64_t qty_gcd_ = 0;
    double mid_ = 0.0;
    double spread_sum_ = 0.0;
    std::vector<double> spreads_;
    std::vector<order> orders_;
    // volatility, per file
    std::vector<std::vector<std::pair<core::timestamp_ns, double>>> mids_;
    core::timestamp_ns file_first_ = -1;
    core::timestamp_ns file_last_ = -1;
    double duration_ns_ = 0.0;
};

/// Parses a Binance decimal ("61837.63000000") into units of 1e-8; false when it is not one.
[[nodiscard]] bool parse_e8(std::string_view text, std::uint64_t& out) noexcept;
/// A multiple of 1e-8 as the shortest exact decimal text ("0.01", "1").
[[nodiscard]] std::string format_e8(std::uint64_t units);

/// Reads capture files (gzip or text, "<ns> <json>" lines, Binance combined-stream messages)
/// into a calibrator and finishes it. symbol: the one to fit (empty: the first one seen).
[[nodiscard]] core::result<calibration, std::string>
calibrate_captures(const std::vector<std::string>& files, const std::string& symbol,
                   const calibration_options& options = {});

/// The synthetic market a calibration describes: `configured` with the measured keys replaced:
/// the start price (the first mid), the gbm and random-walk volatility, the visible spread in
/// ticks of tick_size (the median spread) and the order flow's A and k. The rest (process,
/// drift, fill rules, informed flow) stays as configured.
[[nodiscard]] sim::market_config
fitted_market(const calibration& c, const sim::market_config& configured, double tick_size);

/// The fitted values as a TOML fragment of [symbol], [market], [strategy.volatility] and
/// [strategy.intensity] keys, commented with what they came from.
[[nodiscard]] std::string calibration_toml(const calibration& c,
                                           const std::vector<std::string>& sources);

} // namespace quoter::research
