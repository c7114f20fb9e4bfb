// Metric definitions are in metrics.hpp; this file keeps them in one pass over each input where
// it can, with plain loops rather than clever accumulators, so each number is easy to audit.
#include "quoter/sim/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace quoter::sim {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

// a / b for ratios whose denominator may be zero: +inf for a positive numerator (nothing to
// divide by, all upside), NaN when the numerator is not positive either.
double ratio_or_inf(double a, double b) noexcept {
    if (b > 0) {
        return a / b;
    }
    return a > 0 ? inf : nan;
}

// Equity at the return observation instants (see metrics.hpp).
std::vector<double> observe_equity(std::span<const pnl_sample> pnl, double period_s) {
    std::vector<double> observed;
    if (pnl.empty()) {
        return observed;
    }
    if (period_s <= 0) {
        observed.reserve(pnl.size());
        for (const auto& sample : pnl) {
            observed.push_back(sample.equity);
        }
        return observed;
    }
    const auto period_ns = static_cast<core::duration_ns>(std::llround(period_s * 1e9));
    if (period_ns <= 0) {
        return observed;
    }
    const core::timestamp_ns start = pnl.front().time_ns;
    const core::duration_ns span_ns = pnl.back().time_ns - start;
    std::size_t index = 0;
    for (core::duration_ns k = 0; k <= span_ns / period_ns; ++k) {
        const core::timestamp_ns instant = start + k * period_ns;
        while (index + 1 < pnl.size() && pnl[index + 1].time_ns <= instant) {
            ++index;
        }
        observed.push_back(pnl[index].equity);
    }
    return observed;
}

void compute_return_metrics(std::span<const pnl_sample> pnl, const metrics_config& config,
                            run_metrics& m) {
    m.sharpe = m.sortino = m.annualized_volatility_pct = nan;
    const std::vector<double> observed = observe_equity(pnl, config.return_period_s);
    if (config.return_period_s > 0) {
        m.period_s = config.return_period_s;
    } else if (pnl.size() >= 2) {
        m.period_s = m.duration_s / static_cast<double>(pnl.size() - 1);
    } else {
        m.period_s = nan;
    }
    if (observed.size() < 2 || !(m.period_s > 0)) {
        return;
    }
    std::vector<double> returns;
    returns.reserve(observed.size() - 1);
    for (std::size_t i = 1; i < observed.size(); ++i) {
        if (!(observed[i - 1] > 0)) {
            return; // returns of a non-positive equity are meaningless
        }
        returns.push_back(observed[i] / observed[i - 1] - 1.0);
    }
    m.return_periods = returns.size();
    const double periods_per_year = config.seconds_per_year / m.period_s;
    const double rf = config.risk_free_rate_per_year / periods_per_year;
    const auto n = static_cast<double>(returns.size());

    double mean = 0.0;
    for (const double r : returns) {
        mean += r;
    }
    mean /= n;
    double squares = 0.0;
    double downside_squares = 0.0;
    for (const double r : returns) {
        squares += (r - mean) * (r - mean);
        const double shortfall = std::min(0.0, r - rf);
        downside_squares += shortfall * shortfall;
    }
    const double excess = mean - rf;
    const double annualizer = std::sqrt(periods_per_year);
    if (returns.size() >= 2) {
        const double stddev = std::sqrt(squares / (n - 1.0));
        m.annualized_volatility_pct = stddev * annualizer * 100.0;
        m.sharpe = stddev > 0 ? excess / stddev * annualizer : nan;
    }
    const double downside = std::sqrt(downside_squares / n);
    m.sortino = downside > 0 ? excess / downside * annualizer : (excess > 0 ? inf : nan);
}

void compute_drawdown(std::span<const pnl_sample> pnl, run_metrics& m) {
    double peak = pnl.front().equity;
    for (const auto& sample : pnl) {
        peak = std::max(peak, sample.equity);
        const double drawdown = peak - sample.equity;
        m.max_drawdown = std::max(m.max_drawdown, drawdown);
        if (peak > 0) {
            m.max_drawdown_pct = std::max(m.max_drawdown_pct, drawdown / peak * 100.0);
        }
    }
}

void compute_fill_metrics(std::span<const fill_record> fills, run_metrics& m) {
    for (const auto& fill : fills) {
        ++m.fills;
        const double sign = static_cast<double>(core::sign(fill.side));
        if (fill.side == core::side::buy) {
            ++m.buy_fills;
        } else {
            ++m.sell_fills;
        }
        m.volume_base += fill.quantity;
        m.turnover += fill.price * fill.quantity;
        if (fill.fee >= 0) {
            m.fees_paid += fill.fee;
        } else {
            m.rebates_received -= fill.fee;
        }
        m.spread_capture_pnl += sign * (fill.mid - fill.price) * fill.quantity;

        // A fill closes when it trades against the position it found; the tolerance keeps
        // floating-point residue of a flat position from counting as a position.
        const double before = fill.inventory_after - sign * fill.quantity;
        const double tolerance = 1e-9 * std::max(1.0, std::abs(fill.quantity));
        const bool closing = sign > 0 ? before < -tolerance : before > tolerance;
        if (closing) {
            ++m.closing_fills;
            if (fill.realized_pnl > 0) {
                ++m.winning_fills;
                m.gross_profit += fill.realized_pnl;
            } else {
                m.gross_loss -= fill.realized_pnl;
            }
        }
    }
    m.net_fees = m.fees_paid - m.rebates_received;
    m.win_rate_pct = m.closing_fills > 0 ? static_cast<double>(m.winning_fills) /
                                               static_cast<double>(m.closing_fills) * 100.0
                                         : nan;
    m.profit_factor = ratio_or_inf(m.gross_profit, m.gross_loss);
}

void compute_inventory_metrics(std::span<const pnl_sample> pnl, double capital,
                               const metrics_config& config, run_metrics& m) {
    m.final_inventory = pnl.back().inventory;
    const bool timed = pnl.back().time_ns > pnl.front().time_ns;
    const double soft_notional = config.soft_limit_pct / 100.0 * capital;
    const double hard_notional = config.hard_limit_pct / 100.0 * capital;
    double total_weight = 0.0;
    double abs_sum = 0.0;
    double soft_weight = 0.0;
    double hard_weight = 0.0;
    for (std::size_t i = 0; i < pnl.size(); ++i) {
        const double abs_inventory = std::abs(pnl[i].inventory);
        m.max_abs_inventory = std::max(m.max_abs_inventory, abs_inventory);
        double weight = 1.0;
        if (timed) {
            weight =
                i + 1 < pnl.size() ? static_cast<double>(pnl[i + 1].time_ns - pnl[i].time_ns) : 0.0;
        }
        total_weight += weight;
        abs_sum += weight * abs_inventory;
        const double notional = abs_inventory * pnl[i].mid;
        if (notional >= soft_notional) {
            soft_weight += weight;
        }
        if (notional >= hard_notional) {
            hard_weight += weight;
        }
    }
    m.mean_abs_inventory = abs_sum / total_weight;
    if (capital > 0) {
        m.time_at_soft_limit_pct = soft_weight / total_weight * 100.0;
        m.time_at_hard_limit_pct = hard_weight / total_weight * 100.0;
    } else {
        m.time_at_soft_limit_pct = m.time_at_hard_limit_pct = nan;
    }
}

double quantile(const std::vector<double>& sorted, double p) noexcept {
    const double h = static_cast<double>(sorted.size() - 1) * p;
    const auto lo = static_cast<std::size_t>(h);
    if (lo + 1 >= sorted.size()) {
        return sorted.back();
    }
    return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

} // namespace

activity_counts count_activity(std::span<const order_record> orders) {
    activity_counts counts;
    std::vector<std::uint64_t> filled_ids;
    for (const auto& order : orders) {
        switch (order.event) {
        case order_event::submitted:
            ++counts.orders_submitted;
            break;
        case order_event::cancelled:
            ++counts.cancels;
            break;
        case order_event::rejected:
            ++counts.rejects;
            break;
        case order_event::partially_filled:
        case order_event::filled:
            filled_ids.push_back(order.order_id);
            break;
        case order_event::acknowledged:
        case order_event::cancel_requested:
            break;
        }
    }
    std::sort(filled_ids.begin(), filled_ids.end());
    counts.orders_filled = static_cast<std::uint64_t>(
        std::unique(filled_ids.begin(), filled_ids.end()) - filled_ids.begin());
    return counts;
}

run_metrics compute_metrics(std::span<const pnl_sample> pnl, std::span<const fill_record> fills,
                            const activity_counts& activity, const metrics_config& config) {
    run_metrics m;
    m.orders_submitted = activity.orders_submitted;
    m.cancels = activity.cancels;
    m.rejects = activity.rejects;
    compute_fill_metrics(fills, m);
    m.fill_ratio = activity.orders_submitted > 0
                       ? static_cast<double>(activity.orders_filled) /
                             static_cast<double>(activity.orders_submitted)
                       : nan;
    m.cancel_to_trade =
        ratio_or_inf(static_cast<double>(activity.cancels), static_cast<double>(m.fills));

    if (pnl.empty()) {
        // Never marked (a replay whose book never synced): the account is as it started.
        m.initial_equity = m.final_equity =
            config.initial_capital > 0 ? config.initial_capital : 0.0;
        m.total_return_pct = m.annualized_return_pct = m.annualized_volatility_pct = nan;
        m.sharpe = m.sortino = m.calmar = m.period_s = nan;
        m.inventory_pnl = -m.spread_capture_pnl + m.net_fees;
        m.turnover_ratio = config.initial_capital > 0 ? m.turnover / config.initial_capital : nan;
        m.mean_abs_inventory = m.time_at_soft_limit_pct = m.time_at_hard_limit_pct = nan;
        return m;
    }

    m.duration_s = static_cast<double>(pnl.back().time_ns - pnl.front().time_ns) * 1e-9;
    m.initial_equity = pnl.front().equity;
    m.final_equity = pnl.back().equity;
    m.total_pnl = m.final_equity - m.initial_equity;
    const double capital = config.initial_capital > 0 ? config.initial_capital : m.initial_equity;
    m.total_return_pct = capital > 0 ? m.total_pnl / capital * 100.0 : nan;
    m.annualized_return_pct =
        m.duration_s > 0 ? m.total_return_pct * config.seconds_per_year / m.duration_s : nan;
    compute_return_metrics(pnl, config, m);
    compute_drawdown(pnl, m);
    m.calmar = ratio_or_inf(m.annualized_return_pct, m.max_drawdown_pct);
    if (std::isnan(m.annualized_return_pct)) {
        m.calmar = nan;
    }
    m.inventory_pnl = m.total_pnl - m.spread_capture_pnl + m.net_fees;
    m.turnover_ratio = capital > 0 ? m.turnover / capital : nan;
    compute_inventory_metrics(pnl, capital, config, m);
    double spread_sum = 0.0;
    std::size_t two_sided = 0;
    for (const pnl_sample& p : pnl) {
        // NaN (no_quote) on either side fails the comparison.
        if (p.ask_quote > p.bid_quote) {
            spread_sum += p.ask_quote - p.bid_quote;
            ++two_sided;
        }
    }
    if (two_sided != 0) {
        m.mean_quoted_spread = spread_sum / static_cast<double>(two_sided);
    }
    return m;
}

distribution_stats describe_distribution(std::span<const double> values) {
    std::vector<double> sorted;
    sorted.reserve(values.size());
    for (const double v : values) {
        if (std::isfinite(v)) {
            sorted.push_back(v);
        }
    }
    distribution_stats d;
    d.count = sorted.size();
    if (sorted.empty()) {
        d.mean = d.stddev = d.min = d.p05 = d.median = d.p95 = d.max = nan;
        return d;
    }
    std::sort(sorted.begin(), sorted.end());
    const auto n = static_cast<double>(sorted.size());
    double sum = 0.0;
    for (const double v : sorted) {
        sum += v;
    }
    d.mean = sum / n;
    double squares = 0.0;
    for (const double v : sorted) {
        squares += (v - d.mean) * (v - d.mean);
    }
    d.stddev = sorted.size() >= 2 ? std::sqrt(squares / (n - 1.0)) : nan;
    d.min = sorted.front();
    d.max = sorted.back();
    d.p05 = quantile(sorted, 0.05);
    d.median = quantile(sorted, 0.5);
    d.p95 = quantile(sorted, 0.95);
    return d;
}

void set_markouts(run_metrics& metrics, const markout_totals& totals) noexcept {
    metrics.adverse_selection_1s = totals.cost[0];
    metrics.adverse_selection_10s = totals.cost[1];
    metrics.adverse_selection_60s = totals.cost[2];
}

void set_rate_holds(run_metrics& metrics, std::uint64_t holds, double held_s,
                    std::size_t symbols) noexcept {
    metrics.rate_holds = holds;
    metrics.rate_held_s = held_s;
    const double quoting_s = metrics.duration_s * static_cast<double>(symbols);
    metrics.rate_held_pct =
        quoting_s > 0.0 ? held_s / quoting_s * 100.0 : std::numeric_limits<double>::quiet_NaN();
}

path_summary summarize_path(std::size_t path_index, std::uint64_t seed,
                            const run_metrics& metrics) noexcept {
    path_summary row;
    row.path_index = path_index;
    row.seed = seed;
    row.final_pnl = metrics.total_pnl;
    row.total_return_pct = metrics.total_return_pct;
    row.final_inventory = metrics.final_inventory;
    row.sharpe = metrics.sharpe;
    row.max_drawdown = metrics.max_drawdown;
    row.max_drawdown_pct = metrics.max_drawdown_pct;
    row.fills = metrics.fills;
    row.net_fees = metrics.net_fees;
    row.mean_abs_inventory = metrics.mean_abs_inventory;
    row.mean_quoted_spread = metrics.mean_quoted_spread;
    row.rate_held_pct = metrics.rate_held_pct;
    return row;
}

multi_path_metrics aggregate_paths(std::span<const path_summary> paths) {
    multi_path_metrics out;
    out.paths = paths.size();
    std::vector<double> values(paths.size());
    const auto describe_field = [&](auto field) {
        for (std::size_t i = 0; i < paths.size(); ++i) {
            values[i] = static_cast<double>(paths[i].*field);
        }
        return describe_distribution(values);
    };
    out.final_pnl = describe_field(&path_summary::final_pnl);
    out.final_inventory = describe_field(&path_summary::final_inventory);
    out.sharpe = describe_field(&path_summary::sharpe);
    out.max_drawdown = describe_field(&path_summary::max_drawdown);
    out.fills = describe_field(&path_summary::fills);
    out.mean_quoted_spread = describe_field(&path_summary::mean_quoted_spread);
    out.rate_held_pct = describe_field(&path_summary::rate_held_pct);
    return out;
}

} // namespace quoter::sim
