#include "quoter/research/calibrate.hpp"

#include "quoter/md/capture.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace quoter::research {

namespace {

constexpr double e8 = 1e-8;

double to_double_e8(std::uint64_t units) {
    return static_cast<double>(units) * e8;
}

} // namespace

bool parse_e8(std::string_view text, std::uint64_t& out) noexcept {
    std::uint64_t whole = 0;
    std::uint64_t frac = 0;
    int frac_digits = 0;
    bool dot = false;
    bool any = false;
    for (const char c : text) {
        if (c == '.') {
            if (dot) {
                return false;
            }
            dot = true;
            continue;
        }
        if (c < '0' || c > '9') {
            return false;
        }
        any = true;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (!dot) {
            if (whole > 100'000'000'000ULL) {
                return false; // beyond 1e11: not a price or size here
            }
            whole = whole * 10 + digit;
        } else if (frac_digits < 8) {
            frac = frac * 10 + digit;
            ++frac_digits;
        } else if (digit != 0) {
            return false; // finer than 1e-8
        }
    }
    if (!any) {
        return false;
    }
    for (; frac_digits < 8; ++frac_digits) {
        frac *= 10;
    }
    out = whole * 100'000'000ULL + frac;
    return true;
}

std::string format_e8(std::uint64_t units) {
    std::string out = fmt::format("{}.{:08}", units / 100'000'000ULL, units % 100'000'000ULL);
    while (out.back() == '0') {
        out.pop_back();
    }
    if (out.back() == '.') {
        out.pop_back();
    }
    return out;
}

void calibrator::begin_file() {
    ++out_.files;
    mids_.emplace_back();
    if (file_first_ >= 0) {
        duration_ns_ += static_cast<double>(file_last_ - file_first_);
    }
    file_first_ = -1;
    file_last_ = -1;
    mid_ = 0.0;
}

void calibrator::on_line(core::timestamp_ns time) noexcept {
    if (file_first_ < 0) {
        file_first_ = time;
    }
    file_last_ = std::max(file_last_, time);
}

void calibrator::set_symbol(std::string_view symbol) {
    out_.symbol = std::string(symbol);
}

void calibrator::note_price(std::string_view text) {
    std::uint64_t units = 0;
    if (parse_e8(text, units) && units > 0) {
        price_gcd_ = std::gcd(price_gcd_, units);
    }
}

void calibrator::note_qty(std::string_view text) {
    std::uint64_t units = 0;
    if (parse_e8(text, units) && units > 0) {
        qty_gcd_ = std::gcd(qty_gcd_, units);
    }
}

void calibrator::on_ticker(core::timestamp_ns time, std::string_view bid, std::string_view bid_qty,
                           std::string_view ask, std::string_view ask_qty) {
    std::uint64_t b = 0;
    std::uint64_t a = 0;
    if (!parse_e8(bid, b) || !parse_e8(ask, a) || b == 0 || a <= b) {
        return; // an empty or crossed top says nothing about the mid
    }
    note_price(bid);
    note_price(ask);
    note_qty(bid_qty);
    note_qty(ask_qty);
    ++out_.tickers;
    mid_ = 0.5 * (to_double_e8(b) + to_double_e8(a));
    spread_sum_ += to_double_e8(a - b);
    spreads_.push_back(to_double_e8(a - b));
    if (out_.first_mid == 0.0) {
        out_.first_mid = mid_;
    }
    if (mids_.empty()) {
        mids_.emplace_back();
    }
    mids_.back().emplace_back(time, mid_);
}

void calibrator::on_trade(core::timestamp_ns time, std::int64_t trade_time_ms,
                          std::string_view price, std::string_view qty, bool buyer_maker) {
    (void)time;
    std::uint64_t p = 0;
    if (!parse_e8(price, p) || p == 0) {
        return;
    }
    note_price(price);
    note_qty(qty);
    ++out_.trades;
    if (mid_ <= 0.0) {
        return; // no book yet: no distance
    }
    const double depth = std::fabs(to_double_e8(p) - mid_);
    if (!orders_.empty() && orders_.back().trade_time_ms == trade_time_ms &&
        orders_.back().buyer_maker == buyer_maker) {
        orders_.back().depth = std::max(orders_.back().depth, depth); // the same market order
        return;
    }
    orders_.push_back({depth, trade_time_ms, buyer_maker});
}

core::result<calibration, std::string>
calibrator::finish(const calibration_options& options) const {
    calibration c = out_;
    double duration_ns = duration_ns_;
    if (file_first_ >= 0) {
        duration_ns += static_cast<double>(file_last_ - file_first_);
    }
    c.duration_s = duration_ns * 1e-9;
    if (c.tickers < 2 || price_gcd_ == 0) {
        return core::unexpected{std::string("no book tickers: the captures need a @bookTicker "
                                            "stream of the symbol")};
    }
    if (c.duration_s <= 0.0) {
        return core::unexpected{std::string("the captures span no time")};
    }
    c.tick_text = format_e8(price_gcd_);
    c.step_text = qty_gcd_ > 0 ? format_e8(qty_gcd_) : std::string{};
    c.tick_size = to_double_e8(price_gcd_);
    c.step_size = to_double_e8(qty_gcd_);
    c.mean_spread = spread_sum_ / static_cast<double>(c.tickers);
    {
        std::vector<double> spreads = spreads_;
        const auto middle = spreads.begin() + static_cast<std::ptrdiff_t>(spreads.size() / 2);
        std::nth_element(spreads.begin(), middle, spreads.end());
        c.median_spread = *middle;
    }

    // Volatility: the last mid at or before each grid instant, differenced within a file.
    const auto interval = std::max<core::duration_ns>(options.sample_interval_ns, 1);
    double sum_abs = 0.0;
    double sum_rel = 0.0;
    std::uint64_t n = 0;
    for (const auto& file : mids_) {
        if (file.size() < 2) {
            continue;
        }
        std::size_t i = 0;
        double previous = file.front().second;
        for (core::timestamp_ns t = file.front().first + interval; t <= file.back().first;
             t += interval) {
            while (i + 1 < file.size() && file[i + 1].first <= t) {
                ++i;
            }
            const double mid = file[i].second;
            sum_abs += (mid - previous) * (mid - previous);
            const double log_change = std::log(mid / previous);
            sum_rel += log_change * log_change;
            previous = mid;
            ++n;
        }
    }
    if (n < 2) {
        return core::unexpected{
            fmt::format("too short for a volatility estimate: {} samples of {} s", n,
                        static_cast<double>(interval) * 1e-9)};
    }
    const double seconds = static_cast<double>(n) * static_cast<double>(interval) * 1e-9;
    c.volatility_samples = n;
    c.sample_interval_s = static_cast<double>(interval) * 1e-9;
    c.sigma_abs_per_sqrt_s = std::sqrt(sum_abs / seconds);
    c.sigma_rel_per_sqrt_s = std::sqrt(sum_rel / seconds);

    // Intensity: orders reaching at least delta, per second, on the grid.
    c.market_orders = orders_.size();
    std::vector<double> depths;
    depths.reserve(orders_.size());
    for (const auto& o : orders_) {
        depths.push_back(o.depth);
    }
    std::sort(depths.begin(), depths.end());
    // The grid covers the distances most orders reach (a few sweeps through a thin book would
    // otherwise stretch it), in at most max_points whole-tick steps.
    const double reach =
        depths.empty() ? 0.0
                       : depths[static_cast<std::size_t>(std::floor(
                             options.reach_quantile * static_cast<double>(depths.size() - 1)))];
    const double min_bucket = std::max(options.bucket_ticks, 1e-9) * c.tick_size;
    const double bucket = std::max(
        min_bucket,
        std::ceil(reach / static_cast<double>(std::max<std::size_t>(options.max_points - 1, 1)) /
                  c.tick_size) *
            c.tick_size);
    // Depths sit on a half-tick grid; a small tolerance keeps a depth equal to a grid point in.
    const double tolerance = 1e-6 * c.tick_size;
    double sx = 0.0;
    double sy = 0.0;
    double sxx = 0.0;
    double sxy = 0.0;
    double syy = 0.0;
    for (std::size_t j = 0;; ++j) {
        const double delta = static_cast<double>(j) * bucket;
        const auto first = std::lower_bound(depths.begin(), depths.end(), delta - tolerance);
        const auto reached = static_cast<std::uint64_t>(depths.end() - first);
        if (reached == 0 || (j > 0 && delta > reach + tolerance)) {
            break;
        }
        const double rate = static_cast<double>(reached) / c.duration_s;
        c.curve.push_back({delta, reached, rate});
        if (reached >= options.min_orders) {
            const double y = std::log(rate);
            sx += delta;
            sy += y;
            sxx += delta * delta;
            sxy += delta * y;
            syy += y * y;
            ++c.fitted_points;
        }
    }
    if (c.fitted_points < 2) {
        return core::unexpected{fmt::format(
            "too few market orders beyond the touch to fit k: {} orders, {} distance(s) with at "
            "least {}; try a smaller --bucket-ticks or a longer capture",
            c.market_orders, c.fitted_points, options.min_orders)};
    }
    const auto m = static_cast<double>(c.fitted_points);
    const double cov = sxy - sx * sy / m;
    const double var_x = sxx - sx * sx / m;
    const double var_y = syy - sy * sy / m;
    const double slope = cov / var_x;
    const double intercept = (sy - slope * sx) / m;
    c.k_per_price_unit = -slope;
    c.a_per_s = std::exp(intercept);
    c.fit_r2 = var_y > 0.0 ? cov * cov / (var_x * var_y) : 1.0;
    if (!(c.k_per_price_unit > 0.0)) {
        return core::unexpected{fmt::format(
            "the fitted decay k = {:.6g} per price unit is not positive: market orders do not "
            "thin out with distance in these captures",
            c.k_per_price_unit)};
    }
    return c;
}

core::result<calibration, std::string> calibrate_captures(const std::vector<std::string>& files,
                                                          const std::string& symbol,
                                                          const calibration_options& options) {
    calibrator cal;
    std::string wanted = symbol;
    for (auto& ch : wanted) {
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
    simdjson::dom::parser parser;
    bool seen_wanted = false;
    for (const auto& path : files) {
        md::gzip_line_reader reader;
        if (auto opened = reader.open(path); !opened) {
            return core::unexpected{fmt::format("{}: {}", path, md::describe(opened.error()))};
        }
        cal.begin_file();
        md::capture_line line;
        while (reader.next(line)) {
            simdjson::dom::element doc;
            if (parser.parse(line.json.data(), line.json.size()).get(doc) != simdjson::SUCCESS) {
                continue;
            }
            simdjson::dom::element data;
            if (doc["data"].get(data) != simdjson::SUCCESS) {
                continue; // a REST snapshot or a reply
            }
            std::string_view name;
            if (data["s"].get(name) != simdjson::SUCCESS) {
                continue;
            }
            if (wanted.empty()) {
                wanted = std::string(name);
                cal.set_symbol(name);
            } else if (name != wanted) {
                continue;
            }
            seen_wanted = true;
            cal.on_line(line.local_ns);
            std::string_view event;
            const bool has_event = data["e"].get(event) == simdjson::SUCCESS;
            if (!has_event) {
                std::string_view b;
                std::string_view bq;
                std::string_view a;
                std::string_view aq;
                if (data["b"].get(b) == simdjson::SUCCESS &&
                    data["B"].get(bq) == simdjson::SUCCESS &&
                    data["a"].get(a) == simdjson::SUCCESS &&
                    data["A"].get(aq) == simdjson::SUCCESS) {
                    cal.on_ticker(line.local_ns, b, bq, a, aq);
                }
            } else if (event == "trade") {
                std::string_view p;
                std::string_view q;
                std::int64_t trade_time = 0;
                bool buyer_maker = false;
                if (data["p"].get(p) == simdjson::SUCCESS &&
                    data["q"].get(q) == simdjson::SUCCESS &&
                    data["T"].get(trade_time) == simdjson::SUCCESS &&
                    data["m"].get(buyer_maker) == simdjson::SUCCESS) {
                    cal.on_trade(line.local_ns, trade_time, p, q, buyer_maker);
                }
            }
        }
        if (reader.error() != md::capture_error::none) {
            return core::unexpected{fmt::format("{}: {}", path, md::describe(reader.error()))};
        }
    }
    if (!symbol.empty()) {
        cal.set_symbol(wanted);
    }
    if (!symbol.empty() && !seen_wanted) {
        return core::unexpected{fmt::format("the captures hold no {} messages", wanted)};
    }
    return cal.finish(options);
}

sim::market_config fitted_market(const calibration& c, const sim::market_config& configured,
                                 double tick_size) {
    constexpr double seconds_per_year = 365.0 * 24.0 * 3600.0;
    sim::market_config out = configured;
    out.initial_mid_price = c.first_mid;
    out.gbm_sigma_per_sqrt_year = c.sigma_rel_per_sqrt_s * std::sqrt(seconds_per_year);
    out.walk_sigma_per_sqrt_s = c.sigma_abs_per_sqrt_s;
    // The synthetic book rounds mid -/+ spread / 2 outwards to the tick grid.
    out.market_spread_ticks = c.median_spread / tick_size;
    out.order_flow_a_per_s = c.a_per_s;
    out.order_flow_k_per_price_unit = c.k_per_price_unit;
    return out;
}

std::string calibration_toml(const calibration& c, const std::vector<std::string>& sources) {
    const sim::market_config market = fitted_market(c, {}, c.tick_size);
    std::string out;
    out += "# quoter calibrate: ";
    for (std::size_t i = 0; i < sources.size(); ++i) {
        out += (i == 0 ? "" : ", ") + sources[i];
    }
    fmt::format_to(std::back_inserter(out),
                   "\n# {}: {:.1f} s of capture, {} book tickers, {} trades in {} market orders.\n"
                   "# Merge these tables into a configuration (they replace the same keys).\n",
                   c.symbol, c.duration_s, c.tickers, c.trades, c.market_orders);
    fmt::format_to(std::back_inserter(out),
                   "# Volatility: {} samples of the mid {} s apart.\n"
                   "# Intensity: lambda(delta) = A exp(-k delta) fitted on {} distances, R^2 "
                   "{:.3f}:\n",
                   c.volatility_samples, c.sample_interval_s, c.fitted_points, c.fit_r2);
    for (const auto& p : c.curve) {
        fmt::format_to(std::back_inserter(out),
                       "#   delta {:.8g}: {} orders, {:.6g}/s (fit {:.6g}/s)\n", p.delta, p.orders,
                       p.rate_per_s, c.a_per_s * std::exp(-c.k_per_price_unit * p.delta));
    }
    out += "\n[symbol]\n";
    fmt::format_to(std::back_inserter(out), "tick_size = \"{}\"\n", c.tick_text);
    if (!c.step_text.empty()) {
        fmt::format_to(std::back_inserter(out), "step_size = \"{}\"\n", c.step_text);
    }
    out += "\n[market]\n";
    fmt::format_to(std::back_inserter(out), "start_price = {:.10g}\n", market.initial_mid_price);
    fmt::format_to(std::back_inserter(out),
                   "spread_ticks = {:.6g}            # median spread of the venue (mean {:.6g})\n",
                   market.market_spread_ticks, c.mean_spread / c.tick_size);
    fmt::format_to(std::back_inserter(out),
                   "sigma_per_sqrt_year = {:.6g}     # gbm: relative, annualised\n",
                   market.gbm_sigma_per_sqrt_year);
    fmt::format_to(std::back_inserter(out),
                   "walk_sigma_per_sqrt_s = {:.6g}   # random_walk: quote per base per sqrt(s)\n",
                   market.walk_sigma_per_sqrt_s);
    fmt::format_to(std::back_inserter(out), "a_per_s = {:.6g}\n", market.order_flow_a_per_s);
    fmt::format_to(std::back_inserter(out), "k_per_price_unit = {:.6g}\n",
                   market.order_flow_k_per_price_unit);
    out += "\n[strategy.volatility]\n";
    fmt::format_to(std::back_inserter(out), "sigma_per_sqrt_s = {:.6g}   # relative\n",
                   c.sigma_rel_per_sqrt_s);
    out += "\n[strategy.intensity]\n";
    fmt::format_to(std::back_inserter(out), "a_per_s = {:.6g}\n", c.a_per_s);
    fmt::format_to(std::back_inserter(out), "k_per_tick = {:.6g}\n",
                   c.k_per_price_unit * c.tick_size);
    return out;
}

} // namespace quoter::research
