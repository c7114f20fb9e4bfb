// Number formatting and the metric table shared by every report format. Every number goes
// through fmt at a fixed precision (fmt never consults the locale unless asked with 'L'), so
// output bytes depend only on the input values.
#include "report_detail.hpp"

#include "quoter/core/quoted_string.hpp"

#include <algorithm>
#include <cmath>

namespace quoter::sim::report_detail {

void append_fixed(std::string& out, double value, int decimals) {
    if (!std::isfinite(value)) {
        return;
    }
    const std::size_t start = out.size();
    fmt::format_to(out_it(out), "{:.{}f}", value, decimals);
    if (out[start] == '-' && out.find_first_not_of("0.", start + 1) == std::string::npos) {
        out.erase(start, 1);
    }
}

std::string fixed(double value, int decimals) {
    std::string text;
    append_fixed(text, value, decimals);
    return text;
}

void append_json_number(std::string& out, double value) {
    if (!std::isfinite(value)) {
        out += "null";
        return;
    }
    if (value == 0) {
        value = 0.0; // no "-0"
    }
    fmt::format_to(out_it(out), "{}", value);
}

void append_json_string(std::string& out, std::string_view text) {
    core::append_quoted(out, text);
}

std::string display(double value, int decimals, std::string_view suffix) {
    if (std::isnan(value)) {
        return "n/a";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    std::string text = fixed(value, decimals);
    text += suffix;
    return text;
}

std::vector<metric_group> metric_groups(const run_metrics& m) {
    const auto count = [](std::uint64_t v) { return static_cast<double>(v); };
    using k = metric_kind;
    return {
        {"Returns and risk",
         {{"total_pnl", "Total PnL", m.total_pnl, k::money},
          {"total_return_pct", "Total return", m.total_return_pct, k::percent},
          {"annualized_return_pct", "Annualised return", m.annualized_return_pct, k::percent},
          {"annualized_volatility_pct", "Annualised volatility", m.annualized_volatility_pct,
           k::percent},
          {"sharpe", "Sharpe ratio", m.sharpe, k::ratio},
          {"sortino", "Sortino ratio", m.sortino, k::ratio},
          {"calmar", "Calmar ratio", m.calmar, k::ratio},
          {"max_drawdown", "Max drawdown", m.max_drawdown, k::money},
          {"max_drawdown_pct", "Max drawdown (% of peak)", m.max_drawdown_pct, k::percent},
          {"initial_equity", "Initial equity", m.initial_equity, k::money},
          {"final_equity", "Final equity", m.final_equity, k::money},
          {"duration_s", "Duration (s)", m.duration_s, k::seconds},
          {"period_s", "Return period (s)", m.period_s, k::seconds},
          {"return_periods", "Return periods", count(m.return_periods), k::count}}},
        {"Trading",
         {{"fills", "Fills", count(m.fills), k::count},
          {"buy_fills", "Buy fills", count(m.buy_fills), k::count},
          {"sell_fills", "Sell fills", count(m.sell_fills), k::count},
          {"closing_fills", "Closing fills", count(m.closing_fills), k::count},
          {"winning_fills", "Winning closing fills", count(m.winning_fills), k::count},
          {"win_rate_pct", "Win rate (closing fills)", m.win_rate_pct, k::percent},
          {"gross_profit", "Gross profit (closing fills)", m.gross_profit, k::money},
          {"gross_loss", "Gross loss (closing fills)", m.gross_loss, k::money},
          {"profit_factor", "Profit factor", m.profit_factor, k::ratio},
          {"orders_submitted", "Orders submitted", count(m.orders_submitted), k::count},
          {"cancels", "Cancels", count(m.cancels), k::count},
          {"rejects", "Rejects", count(m.rejects), k::count},
          {"fill_ratio", "Fill ratio (orders filled / submitted)", m.fill_ratio, k::ratio},
          {"cancel_to_trade", "Cancel-to-trade ratio", m.cancel_to_trade, k::ratio},
          {"rate_holds", "Order-rate holds", count(m.rate_holds), k::count},
          {"rate_held_s", "New orders held by order-rate limits (s)", m.rate_held_s, k::seconds},
          {"rate_held_pct", "New orders held by order-rate limits", m.rate_held_pct, k::percent}}},
        {"PnL attribution and costs",
         {{"spread_capture_pnl", "Spread capture PnL", m.spread_capture_pnl, k::money},
          {"inventory_pnl", "Inventory PnL", m.inventory_pnl, k::money},
          {"adverse_selection_1s", "Adverse selection, 1 s markout", m.adverse_selection_1s,
           k::money},
          {"adverse_selection_10s", "Adverse selection, 10 s markout", m.adverse_selection_10s,
           k::money},
          {"adverse_selection_60s", "Adverse selection, 60 s markout", m.adverse_selection_60s,
           k::money},
          {"mean_quoted_spread", "Mean quoted spread", m.mean_quoted_spread, k::money},
          {"fees_paid", "Fees paid", m.fees_paid, k::money},
          {"rebates_received", "Rebates received", m.rebates_received, k::money},
          {"net_fees", "Net fees", m.net_fees, k::money},
          {"volume_base", "Volume (base)", m.volume_base, k::quantity},
          {"turnover", "Turnover (quote)", m.turnover, k::money},
          {"turnover_ratio", "Turnover / capital", m.turnover_ratio, k::ratio}}},
        {"Inventory",
         {{"final_inventory", "Final inventory", m.final_inventory, k::quantity},
          {"mean_abs_inventory", "Mean |inventory|", m.mean_abs_inventory, k::quantity},
          {"max_abs_inventory", "Max |inventory|", m.max_abs_inventory, k::quantity},
          {"time_at_soft_limit_pct", "Time at soft band", m.time_at_soft_limit_pct, k::percent},
          {"time_at_hard_limit_pct", "Time at hard limit", m.time_at_hard_limit_pct, k::percent}}},
    };
}

std::string display(const metric_row& row, const report_format& f) {
    switch (row.kind) {
    case metric_kind::money:
        return display(row.value, std::min(f.value_decimals, 4));
    case metric_kind::percent:
        return display(row.value, 2, "%");
    case metric_kind::ratio:
        return display(row.value, 3);
    case metric_kind::count:
        return display(row.value, 0);
    case metric_kind::seconds:
        return display(row.value, 3);
    case metric_kind::quantity:
        return display(row.value, f.quantity_decimals);
    }
    return display(row.value, 4);
}

bool needs_annualisation_caveat(double duration_s) noexcept {
    return duration_s > 0.0 && duration_s < annualisation_caveat_below_s;
}

bool needs_annualisation_caveat(const run_metrics& m) noexcept {
    return needs_annualisation_caveat(m.duration_s);
}

std::string annualisation_caveat(const run_metrics& m) {
    return fmt::format("Caveat: this run covers {} s, less than a day; its annualised return, "
                       "volatility, Sharpe, Sortino and Calmar ratios are extrapolated from it "
                       "and are not reliable estimates.",
                       display(m.duration_s, 1));
}

std::string paths_annualisation_caveat(double path_duration_s) {
    if (!needs_annualisation_caveat(path_duration_s)) {
        return {};
    }
    return fmt::format("Caveat: each path covers {} s, less than a day; the Sharpe ratios across "
                       "paths are annualised from it and are not reliable estimates.",
                       display(path_duration_s, 1));
}

} // namespace quoter::sim::report_detail
