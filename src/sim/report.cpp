// Report writers. Every number goes through fmt at a fixed precision (fmt never consults the
// locale unless asked with 'L'), so output bytes depend only on the input values. CSV rows are
// produced into a buffer that is flushed to the file every megabyte, which keeps memory flat for
// runs with millions of samples; the pure format_* functions use the same row code without a file.
#include "quoter/sim/report.hpp"

#include "quoter/core/quoted_string.hpp"
#include "svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <numeric>
#include <optional>
#include <system_error>

namespace quoter::sim {

namespace {

using out_it = std::back_insert_iterator<std::string>;

// ---------------------------------------------------------------------------------------------
// Numbers

// Fixed-point text; an empty field for non-finite values; "-0.00" normalised to "0.00".
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

// Shortest round-trip representation, which is valid JSON for finite values; null otherwise.
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

// Text for Markdown and HTML: "n/a" for undefined values, "inf" for unbounded ones.
std::string display(double value, int decimals, std::string_view suffix = {}) {
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

// ---------------------------------------------------------------------------------------------
// Buffered output

class output {
public:
    explicit output(std::ofstream* file = nullptr) : file_(file) {}
    std::string& text() { return text_; }
    void row_done() {
        if (file_ != nullptr && text_.size() >= flush_bytes) {
            flush();
        }
    }
    void flush() {
        if (file_ != nullptr && !text_.empty()) {
            file_->write(text_.data(), static_cast<std::streamsize>(text_.size()));
            text_.clear();
        }
    }

private:
    static constexpr std::size_t flush_bytes = std::size_t{1} << 20;
    std::ofstream* file_;
    std::string text_;
};

// ---------------------------------------------------------------------------------------------
// CSV

void emit_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f, output& out) {
    out.text() += "time_ns,mid,bid,ask,inventory,cash,equity,realized_pnl,unrealized_pnl,fees\n";
    for (const auto& s : pnl) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},", s.time_ns);
        append_fixed(t, s.mid, f.mid_decimals);
        t += ',';
        append_fixed(t, s.bid_quote, f.price_decimals);
        t += ',';
        append_fixed(t, s.ask_quote, f.price_decimals);
        t += ',';
        append_fixed(t, s.inventory, f.quantity_decimals);
        for (const double v : {s.cash, s.equity, s.realized_pnl, s.unrealized_pnl, s.fees}) {
            t += ',';
            append_fixed(t, v, f.value_decimals);
        }
        t += '\n';
        out.row_done();
    }
}

void emit_fills_csv(std::span<const fill_record> fills, const report_format& f, output& out) {
    out.text() += "time_ns,order_id,side,level,liquidity,price,quantity,notional,fee,mid,"
                  "realized_pnl,inventory_after\n";
    for (const auto& r : fills) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},{},{},{},", r.time_ns, r.order_id, to_string(r.side),
                       r.level, to_string(r.role));
        append_fixed(t, r.price, f.price_decimals);
        t += ',';
        append_fixed(t, r.quantity, f.quantity_decimals);
        t += ',';
        append_fixed(t, r.price * r.quantity, f.value_decimals);
        t += ',';
        append_fixed(t, r.fee, f.value_decimals);
        t += ',';
        append_fixed(t, r.mid, f.mid_decimals);
        t += ',';
        append_fixed(t, r.realized_pnl, f.value_decimals);
        t += ',';
        append_fixed(t, r.inventory_after, f.quantity_decimals);
        t += '\n';
        out.row_done();
    }
}

void emit_orders_csv(std::span<const order_record> orders, const report_format& f, output& out) {
    out.text() += "time_ns,order_id,event,side,level,price,quantity,filled_quantity\n";
    for (const auto& r : orders) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},{},{},{},", r.time_ns, r.order_id, to_string(r.event),
                       to_string(r.side), r.level);
        append_fixed(t, r.price, f.price_decimals);
        t += ',';
        append_fixed(t, r.quantity, f.quantity_decimals);
        t += ',';
        append_fixed(t, r.filled_quantity, f.quantity_decimals);
        t += '\n';
        out.row_done();
    }
}

void emit_paths_csv(std::span<const path_summary> paths, const report_format& f, output& out) {
    out.text() += "path,seed,final_pnl,total_return_pct,final_inventory,sharpe,max_drawdown,"
                  "max_drawdown_pct,fills,net_fees,mean_abs_inventory\n";
    for (const auto& p : paths) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},", p.path_index, p.seed);
        append_fixed(t, p.final_pnl, f.value_decimals);
        t += ',';
        append_fixed(t, p.total_return_pct, 6);
        t += ',';
        append_fixed(t, p.final_inventory, f.quantity_decimals);
        t += ',';
        append_fixed(t, p.sharpe, 6);
        t += ',';
        append_fixed(t, p.max_drawdown, f.value_decimals);
        t += ',';
        append_fixed(t, p.max_drawdown_pct, 6);
        fmt::format_to(out_it(t), ",{},", p.fills);
        append_fixed(t, p.net_fees, f.value_decimals);
        t += ',';
        append_fixed(t, p.mean_abs_inventory, f.quantity_decimals);
        t += '\n';
        out.row_done();
    }
}

// ---------------------------------------------------------------------------------------------
// Metric tables shared by the JSON, Markdown and HTML writers

enum class metric_kind : std::uint8_t { money, percent, ratio, count, seconds, quantity };

struct metric_row {
    std::string_view key;
    std::string_view label;
    double value;
    metric_kind kind;
};

struct metric_group {
    std::string_view title;
    std::vector<metric_row> rows;
};

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
          {"cancel_to_trade", "Cancel-to-trade ratio", m.cancel_to_trade, k::ratio}}},
        {"PnL attribution and costs",
         {{"spread_capture_pnl", "Spread capture PnL", m.spread_capture_pnl, k::money},
          {"inventory_pnl", "Inventory PnL", m.inventory_pnl, k::money},
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

void append_json_metric(std::string& out, const metric_row& row) {
    if (row.kind == metric_kind::count) {
        fmt::format_to(out_it(out), "{}", static_cast<std::uint64_t>(row.value));
    } else {
        append_json_number(out, row.value);
    }
}

void append_json_parameters(std::string& out, const std::vector<report_parameter>& parameters) {
    out += "  \"parameters\": {";
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        out += i == 0 ? "\n    " : ",\n    ";
        append_json_string(out, parameters[i].key);
        out += ": ";
        append_json_string(out, parameters[i].value);
    }
    out += parameters.empty() ? "},\n" : "\n  },\n";
}

void append_json_files(std::string& out, std::initializer_list<std::string_view> files) {
    out += "  \"files\": [";
    bool first = true;
    for (const auto file : files) {
        out += first ? "" : ", ";
        append_json_string(out, file);
        first = false;
    }
    out += "]\n";
}

void append_json_counters(std::string& out, const std::vector<report_counter>& counters) {
    out += "  \"run_counts\": {";
    for (std::size_t i = 0; i < counters.size(); ++i) {
        out += i == 0 ? "\n    " : ",\n    ";
        append_json_string(out, counters[i].key);
        fmt::format_to(out_it(out), ": {}", counters[i].value);
    }
    out += counters.empty() ? "},\n" : "\n  },\n";
}

// Annualised return, volatility, Sharpe, Sortino and Calmar scale a short run to a year; under
// a day that extrapolation says little, and the reader must be told so next to the numbers.
bool needs_annualisation_caveat(const run_metrics& m) noexcept {
    return m.duration_s > 0.0 && m.duration_s < annualisation_caveat_below_s;
}

std::string annualisation_caveat(const run_metrics& m) {
    return fmt::format("Caveat: this run covers {} s, less than a day; its annualised return, "
                       "volatility, Sharpe, Sortino and Calmar ratios are extrapolated from it "
                       "and are not reliable estimates.",
                       display(m.duration_s, 1));
}

std::string md_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        if (c == '|' || c == '\\' || c == '*' || c == '_' || c == '`') {
            out += '\\';
        }
        out += c == '\n' ? ' ' : c;
    }
    return out;
}

void append_md_parameters(std::string& out, const std::vector<report_parameter>& parameters) {
    if (parameters.empty()) {
        return;
    }
    out += "\n## Parameters\n\n| Parameter | Value |\n|---|---|\n";
    for (const auto& p : parameters) {
        fmt::format_to(out_it(out), "| {} | {} |\n", md_escape(p.key), md_escape(p.value));
    }
}

// ---------------------------------------------------------------------------------------------
// HTML

constexpr std::string_view html_style =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "max-width:1000px;margin:24px auto;padding:0 12px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;"
    "padding-bottom:4px}"
    ".cards{display:flex;flex-wrap:wrap;gap:10px}"
    ".card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}"
    ".card .v{font-size:19px;font-weight:600}.card .k{font-size:12px;color:#666}"
    "svg.chart{width:100%;height:auto;display:block;margin:10px 0}"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0}"
    "th,td{border-bottom:1px solid #eee;padding:3px 10px;text-align:left}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".note{color:#666;font-size:12px}";

void open_html(std::string& out, std::string_view title) {
    fmt::format_to(out_it(out),
                   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
                   svg::escape_html(title), html_style, svg::escape_html(title));
}

void close_html(std::string& out) {
    out += "<p class=\"note\">Generated by quoter. This page is self-contained and works "
           "offline.</p>\n</body>\n</html>\n";
}

void append_card(std::string& out, std::string_view label, const std::string& value) {
    fmt::format_to(out_it(out),
                   "<div class=\"card\"><div class=\"v\">{}</div>"
                   "<div class=\"k\">{}</div></div>\n",
                   svg::escape_html(value), svg::escape_html(label));
}

void append_html_parameters(std::string& out, const std::vector<report_parameter>& parameters) {
    if (parameters.empty()) {
        return;
    }
    out += "<h2>Parameters</h2>\n<table>\n";
    for (const auto& p : parameters) {
        fmt::format_to(out_it(out), "<tr><td>{}</td><td>{}</td></tr>\n", svg::escape_html(p.key),
                       svg::escape_html(p.value));
    }
    out += "</table>\n";
}

// The charts of one run: equity, inventory, quotes around the mid, and quote offsets.
void append_run_charts(std::string& out, const run_report& report) {
    const auto pnl = report.pnl;
    std::vector<double> equity(pnl.size()), inventory(pnl.size()), mid(pnl.size()), bid(pnl.size()),
        ask(pnl.size());
    for (std::size_t i = 0; i < pnl.size(); ++i) {
        equity[i] = pnl[i].equity;
        inventory[i] = pnl[i].inventory;
        mid[i] = pnl[i].mid;
        bid[i] = pnl[i].bid_quote;
        ask[i] = pnl[i].ask_quote;
    }
    const std::array<std::span<const double>, 5> all{equity, inventory, mid, bid, ask};
    const std::vector<std::size_t> keep = downsample_min_max(pnl.size(), all, report.chart_buckets);

    const auto pick = [&](const std::vector<double>& values) {
        std::vector<double> picked;
        picked.reserve(keep.size());
        for (const auto i : keep) {
            picked.push_back(values[i]);
        }
        return picked;
    };
    std::vector<double> x_s;
    x_s.reserve(keep.size());
    for (const auto i : keep) {
        x_s.push_back(static_cast<double>(pnl[i].time_ns - pnl.front().time_ns) * 1e-9);
    }
    std::vector<double> bid_offset, ask_offset;
    bid_offset.reserve(keep.size());
    ask_offset.reserve(keep.size());
    for (const auto i : keep) {
        bid_offset.push_back(bid[i] - mid[i]);
        ask_offset.push_back(ask[i] - mid[i]);
    }

    if (keep.size() < pnl.size()) {
        fmt::format_to(out_it(out),
                       "<p class=\"note\">Charts show {} of {} samples: every bucket's first, "
                       "last, lowest and highest point; pnl.csv has them all.</p>\n",
                       keep.size(), pnl.size());
    }
    out += "<h2>Equity</h2>\n";
    out += svg::render(svg::line_chart{.title = "Equity (quote units)",
                                       .y_label = "equity",
                                       .x_s = x_s,
                                       .series = {{"equity", "#1f77b4", pick(equity)}}});
    out += "<h2>Inventory</h2>\n";
    out += svg::render(svg::line_chart{.title = "Inventory (base units)",
                                       .y_label = "inventory",
                                       .x_s = x_s,
                                       .series = {{"inventory", "#ff7f0e", pick(inventory)}},
                                       .zero_line = true});
    out += "<h2>Quotes around the mid</h2>\n";
    out += svg::render(svg::line_chart{.title = "Mid and quoted bid/ask",
                                       .y_label = "price",
                                       .x_s = x_s,
                                       .series = {{"ask", "#d62728", pick(ask)},
                                                  {"mid", "#555555", pick(mid)},
                                                  {"bid", "#2ca02c", pick(bid)}}});
    // Over a long run the spread is far thinner than the price range; the last stretch, at full
    // resolution, shows the quotes step around the mid.
    constexpr std::size_t zoom_samples = 300;
    if (pnl.size() > zoom_samples) {
        const std::size_t first = pnl.size() - zoom_samples;
        const auto tail = [&](const std::vector<double>& values) {
            return std::vector<double>(values.begin() + static_cast<std::ptrdiff_t>(first),
                                       values.end());
        };
        std::vector<double> tail_x;
        tail_x.reserve(zoom_samples);
        for (std::size_t i = first; i < pnl.size(); ++i) {
            tail_x.push_back(static_cast<double>(pnl[i].time_ns - pnl.front().time_ns) * 1e-9);
        }
        out += svg::render(svg::line_chart{.title = "Mid and quoted bid/ask, last 300 samples",
                                           .y_label = "price",
                                           .x_s = std::move(tail_x),
                                           .series = {{"ask", "#d62728", tail(ask)},
                                                      {"mid", "#555555", tail(mid)},
                                                      {"bid", "#2ca02c", tail(bid)}}});
    }
    out += svg::render(svg::line_chart{.title = "Quote distance from the mid",
                                       .y_label = "price - mid",
                                       .x_s = std::move(x_s),
                                       .series = {{"ask - mid", "#d62728", std::move(ask_offset)},
                                                  {"bid - mid", "#2ca02c", std::move(bid_offset)}},
                                       .zero_line = true});
}

void append_distribution_table(std::string& out, const multi_path_metrics& m,
                               const report_format& f) {
    struct row {
        std::string_view label;
        const distribution_stats* stats;
        int decimals;
    };
    const std::array<row, 5> rows{{{"Final PnL", &m.final_pnl, std::min(f.value_decimals, 4)},
                                   {"Final inventory", &m.final_inventory, f.quantity_decimals},
                                   {"Sharpe ratio", &m.sharpe, 3},
                                   {"Max drawdown", &m.max_drawdown, std::min(f.value_decimals, 4)},
                                   {"Fills", &m.fills, 1}}};
    out += "<table>\n<tr><th></th><th>n</th><th>mean</th><th>std dev</th><th>min</th>"
           "<th>p5</th><th>median</th><th>p95</th><th>max</th></tr>\n";
    for (const auto& r : rows) {
        const auto& s = *r.stats;
        fmt::format_to(out_it(out), "<tr><td>{}</td><td class=\"n\">{}</td>", r.label, s.count);
        for (const double v : {s.mean, s.stddev, s.min, s.p05, s.median, s.p95, s.max}) {
            fmt::format_to(out_it(out), "<td class=\"n\">{}</td>", display(v, r.decimals));
        }
        out += "</tr>\n";
    }
    out += "</table>\n";
}

// ---------------------------------------------------------------------------------------------
// Files

template <class Emit>
core::result<std::filesystem::path, report_error> write_file(const std::filesystem::path& path,
                                                             Emit&& emit) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (!file) {
        return core::unexpected{report_error{path.string(), "cannot open for writing"}};
    }
    output out(&file);
    emit(out);
    out.flush();
    file.close();
    if (!file) {
        return core::unexpected{report_error{path.string(), "write failed"}};
    }
    return path;
}

core::result<bool, report_error> make_directory(const std::filesystem::path& dir) {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error) {
        return core::unexpected{report_error{dir.string(), error.message()}};
    }
    return true;
}

} // namespace

// -------------------------------------------------------------------------------------------------
// Public formatters

std::string format_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f) {
    output out;
    emit_pnl_csv(pnl, f, out);
    return std::move(out.text());
}

std::string format_fills_csv(std::span<const fill_record> fills, const report_format& f) {
    output out;
    emit_fills_csv(fills, f, out);
    return std::move(out.text());
}

std::string format_orders_csv(std::span<const order_record> orders, const report_format& f) {
    output out;
    emit_orders_csv(orders, f, out);
    return std::move(out.text());
}

std::string format_paths_csv(std::span<const path_summary> paths, const report_format& f) {
    output out;
    emit_paths_csv(paths, f, out);
    return std::move(out.text());
}

std::string format_report_json(const run_report& report) {
    std::string out = "{\n  \"title\": ";
    append_json_string(out, report.title);
    out += ",\n  \"generator\": \"quoter\",\n  \"kind\": \"single_path\",\n";
    append_json_parameters(out, report.parameters);
    fmt::format_to(out_it(out),
                   "  \"counts\": {{\"pnl_samples\": {}, \"fills\": {}, \"orders\": {}}},\n",
                   report.pnl.size(), report.fills.size(), report.orders.size());
    out += "  \"metrics\": {";
    bool first = true;
    for (const auto& group : metric_groups(report.metrics)) {
        for (const auto& row : group.rows) {
            out += first ? "\n    " : ",\n    ";
            first = false;
            append_json_string(out, row.key);
            out += ": ";
            append_json_metric(out, row);
        }
    }
    out += "\n  },\n";
    append_json_counters(out, report.counters);
    append_json_files(out, {"pnl.csv", "fills.csv", "orders.csv", "report.md", "report.html"});
    out += "}\n";
    return out;
}

std::string format_report_markdown(const run_report& report) {
    std::string out;
    fmt::format_to(out_it(out), "# {}\n\n", md_escape(report.title));
    fmt::format_to(out_it(out), "{} samples over {} s, {} fills, {} order events.\n",
                   report.pnl.size(), display(report.metrics.duration_s, 3), report.fills.size(),
                   report.orders.size());
    if (needs_annualisation_caveat(report.metrics)) {
        fmt::format_to(out_it(out), "\n> {}\n", annualisation_caveat(report.metrics));
    }
    for (const auto& group : metric_groups(report.metrics)) {
        fmt::format_to(out_it(out), "\n## {}\n\n| Metric | Value |\n|---|---:|\n", group.title);
        for (const auto& row : group.rows) {
            fmt::format_to(out_it(out), "| {} | {} |\n", md_escape(row.label),
                           display(row, report.format));
        }
    }
    if (!report.counters.empty()) {
        out += "\n## Run counts\n\n| Count | Value |\n|---|---:|\n";
        for (const auto& c : report.counters) {
            fmt::format_to(out_it(out), "| {} | {} |\n", md_escape(c.label), c.value);
        }
    }
    append_md_parameters(out, report.parameters);
    out += "\n## Files\n\n- `pnl.csv`: time series of mid, quotes, inventory, cash, equity and "
           "PnL\n- `fills.csv`: every fill\n- `orders.csv`: every order event\n"
           "- `report.json`: these metrics, machine-readable\n"
           "- `report.html`: charts (opens offline)\n";
    return out;
}

std::string format_report_html(const run_report& report) {
    std::string out;
    open_html(out, report.title);
    const run_metrics& m = report.metrics;
    const int money = std::min(report.format.value_decimals, 4);
    out += "<div class=\"cards\">\n";
    append_card(out, "Total PnL", display(m.total_pnl, money));
    append_card(out, "Return", display(m.total_return_pct, 3, "%"));
    append_card(out, "Sharpe", display(m.sharpe, 2));
    append_card(out, "Max drawdown", display(m.max_drawdown_pct, 2, "%"));
    append_card(out, "Fills", display(static_cast<double>(m.fills), 0));
    append_card(out, "Final inventory",
                display(m.final_inventory, report.format.quantity_decimals));
    append_card(out, "Spread capture", display(m.spread_capture_pnl, money));
    append_card(out, "Inventory PnL", display(m.inventory_pnl, money));
    out += "</div>\n";
    if (needs_annualisation_caveat(m)) {
        fmt::format_to(out_it(out), "<p class=\"note\">{}</p>\n",
                       svg::escape_html(annualisation_caveat(m)));
    }
    append_run_charts(out, report);
    for (const auto& group : metric_groups(m)) {
        fmt::format_to(out_it(out), "<h2>{}</h2>\n<table>\n", group.title);
        for (const auto& row : group.rows) {
            fmt::format_to(out_it(out), "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
                           svg::escape_html(row.label), display(row, report.format));
        }
        out += "</table>\n";
    }
    if (!report.counters.empty()) {
        out += "<h2>Run counts</h2>\n<table>\n";
        for (const auto& c : report.counters) {
            fmt::format_to(out_it(out), "<tr><td>{}</td><td class=\"n\">{}</td></tr>\n",
                           svg::escape_html(c.label), c.value);
        }
        out += "</table>\n";
    }
    append_html_parameters(out, report.parameters);
    close_html(out);
    return out;
}

std::string format_multi_path_json(const multi_path_report& report) {
    std::string out = "{\n  \"title\": ";
    append_json_string(out, report.title);
    out += ",\n  \"generator\": \"quoter\",\n  \"kind\": \"multi_path\",\n";
    append_json_parameters(out, report.parameters);
    fmt::format_to(out_it(out), "  \"paths\": {},\n  \"aggregate\": {{", report.metrics.paths);
    const std::array<std::pair<std::string_view, const distribution_stats*>, 5> fields{{
        {"final_pnl", &report.metrics.final_pnl},
        {"final_inventory", &report.metrics.final_inventory},
        {"sharpe", &report.metrics.sharpe},
        {"max_drawdown", &report.metrics.max_drawdown},
        {"fills", &report.metrics.fills},
    }};
    bool first = true;
    for (const auto& [name, s] : fields) {
        out += first ? "\n    " : ",\n    ";
        first = false;
        append_json_string(out, name);
        fmt::format_to(out_it(out), ": {{\"count\": {}", s->count);
        const std::array<std::pair<std::string_view, double>, 7> values{{{"mean", s->mean},
                                                                         {"stddev", s->stddev},
                                                                         {"min", s->min},
                                                                         {"p05", s->p05},
                                                                         {"median", s->median},
                                                                         {"p95", s->p95},
                                                                         {"max", s->max}}};
        for (const auto& [key, value] : values) {
            fmt::format_to(out_it(out), ", \"{}\": ", key);
            append_json_number(out, value);
        }
        out += "}";
    }
    out += "\n  },\n";
    append_json_files(out, {"paths.csv", "report.md", "report.html"});
    out += "}\n";
    return out;
}

std::string format_multi_path_markdown(const multi_path_report& report) {
    std::string out;
    const auto& m = report.metrics;
    fmt::format_to(out_it(out), "# {}\n\n{} independent paths.\n\n", md_escape(report.title),
                   m.paths);
    out += "| Quantity | n | mean | std dev | min | p5 | median | p95 | max |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const int money = std::min(report.format.value_decimals, 4);
    const std::array<std::tuple<std::string_view, const distribution_stats*, int>, 5> rows{{
        {"Final PnL", &m.final_pnl, money},
        {"Final inventory", &m.final_inventory, report.format.quantity_decimals},
        {"Sharpe ratio", &m.sharpe, 3},
        {"Max drawdown", &m.max_drawdown, money},
        {"Fills", &m.fills, 1},
    }};
    for (const auto& [label, s, decimals] : rows) {
        fmt::format_to(out_it(out), "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", label,
                       s->count, display(s->mean, decimals), display(s->stddev, decimals),
                       display(s->min, decimals), display(s->p05, decimals),
                       display(s->median, decimals), display(s->p95, decimals),
                       display(s->max, decimals));
    }
    append_md_parameters(out, report.parameters);
    out += "\n## Files\n\n- `paths.csv`: one row per path\n"
           "- `report.json`: the aggregate, machine-readable\n"
           "- `report.html`: histograms (opens offline)\n";
    return out;
}

std::string format_multi_path_html(const multi_path_report& report) {
    std::string out;
    open_html(out, report.title);
    const auto& m = report.metrics;
    const int money = std::min(report.format.value_decimals, 4);
    out += "<div class=\"cards\">\n";
    append_card(out, "Paths", fmt::format("{}", m.paths));
    append_card(out, "Mean final PnL", display(m.final_pnl.mean, money));
    append_card(out, "Std dev final PnL", display(m.final_pnl.stddev, money));
    append_card(out, "Mean final inventory",
                display(m.final_inventory.mean, report.format.quantity_decimals));
    append_card(out, "Std dev final inventory",
                display(m.final_inventory.stddev, report.format.quantity_decimals));
    append_card(out, "Mean Sharpe", display(m.sharpe.mean, 2));
    out += "</div>\n<h2>Across paths</h2>\n";
    append_distribution_table(out, m, report.format);

    std::vector<double> final_pnl, final_inventory;
    final_pnl.reserve(report.paths.size());
    final_inventory.reserve(report.paths.size());
    for (const auto& p : report.paths) {
        final_pnl.push_back(p.final_pnl);
        final_inventory.push_back(p.final_inventory);
    }
    out += "<h2>Final PnL</h2>\n";
    out += svg::render(svg::histogram{.title = "Distribution of final PnL",
                                      .x_label = "final PnL (quote units)",
                                      .values = std::move(final_pnl)});
    out += "<h2>Final inventory</h2>\n";
    out += svg::render(svg::histogram{.title = "Distribution of final inventory",
                                      .x_label = "final inventory (base units)",
                                      .values = std::move(final_inventory),
                                      .color = "#ff7f0e"});
    if (report.representative != nullptr) {
        fmt::format_to(out_it(out), "<h2>Example path: {}</h2>\n",
                       svg::escape_html(report.representative->title));
        append_run_charts(out, *report.representative);
    }

    constexpr std::size_t max_rows = 1000;
    out += "<h2>Paths</h2>\n";
    if (report.paths.size() > max_rows) {
        fmt::format_to(out_it(out),
                       "<p class=\"note\">First {} of {} paths; paths.csv has all.</p>\n", max_rows,
                       report.paths.size());
    }
    out += "<table>\n<tr><th>path</th><th>seed</th><th>final PnL</th><th>return</th>"
           "<th>final inventory</th><th>Sharpe</th><th>max drawdown</th><th>fills</th></tr>\n";
    for (std::size_t i = 0; i < report.paths.size() && i < max_rows; ++i) {
        const auto& p = report.paths[i];
        fmt::format_to(out_it(out),
                       "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                       "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                       "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                       p.path_index, p.seed, display(p.final_pnl, money),
                       display(p.total_return_pct, 3, "%"),
                       display(p.final_inventory, report.format.quantity_decimals),
                       display(p.sharpe, 2), display(p.max_drawdown, money), p.fills);
    }
    out += "</table>\n";
    append_html_parameters(out, report.parameters);
    close_html(out);
    return out;
}

// -------------------------------------------------------------------------------------------------
// Writers

core::result<std::vector<std::filesystem::path>, report_error>
write_run_report(const std::filesystem::path& dir, const run_report& report) {
    if (auto made = make_directory(dir); !made) {
        return core::unexpected{made.error()};
    }
    std::vector<std::filesystem::path> written;
    std::optional<report_error> failure;
    const auto add = [&](std::string_view name, auto&& emit) {
        if (failure) {
            return;
        }
        auto file = write_file(dir / name, emit);
        if (file) {
            written.push_back(*file);
        } else {
            failure = file.error();
        }
    };
    const auto text = [](std::string content) {
        return [content = std::move(content)](output& out) { out.text() += content; };
    };
    add("pnl.csv", [&](output& out) { emit_pnl_csv(report.pnl, report.format, out); });
    add("fills.csv", [&](output& out) { emit_fills_csv(report.fills, report.format, out); });
    add("orders.csv", [&](output& out) { emit_orders_csv(report.orders, report.format, out); });
    add("report.json", text(format_report_json(report)));
    add("report.md", text(format_report_markdown(report)));
    add("report.html", text(format_report_html(report)));
    if (failure) {
        return core::unexpected{std::move(*failure)};
    }
    return written;
}

core::result<std::vector<std::filesystem::path>, report_error>
write_multi_path_report(const std::filesystem::path& dir, const multi_path_report& report) {
    if (auto made = make_directory(dir); !made) {
        return core::unexpected{made.error()};
    }
    std::vector<std::filesystem::path> written;
    const std::array<std::pair<std::string_view, std::string>, 3> documents{{
        {"report.json", format_multi_path_json(report)},
        {"report.md", format_multi_path_markdown(report)},
        {"report.html", format_multi_path_html(report)},
    }};
    auto paths = write_file(dir / "paths.csv",
                            [&](output& out) { emit_paths_csv(report.paths, report.format, out); });
    if (!paths) {
        return core::unexpected{paths.error()};
    }
    written.push_back(*paths);
    for (const auto& [name, content] : documents) {
        auto file = write_file(dir / name, [&](output& out) { out.text() += content; });
        if (!file) {
            return core::unexpected{file.error()};
        }
        written.push_back(*file);
    }
    return written;
}

// -------------------------------------------------------------------------------------------------
// Downsampling

std::vector<std::size_t> downsample_min_max(std::size_t count,
                                            std::span<const std::span<const double>> series,
                                            std::size_t buckets) {
    std::vector<std::size_t> keep;
    if (buckets == 0 || count <= 4 * buckets) {
        keep.resize(count);
        std::iota(keep.begin(), keep.end(), std::size_t{0});
        return keep;
    }
    keep.reserve(buckets * (2 + 3 * series.size()));
    for (std::size_t b = 0; b < buckets; ++b) {
        const std::size_t lo = b * count / buckets;
        const std::size_t hi = (b + 1) * count / buckets;
        if (lo >= hi) {
            continue;
        }
        keep.push_back(lo);
        keep.push_back(hi - 1);
        for (const auto& values : series) {
            std::size_t min_at = hi;
            std::size_t max_at = hi;
            std::size_t gap_at = hi;
            for (std::size_t i = lo; i < hi; ++i) {
                const double v = values[i];
                if (std::isnan(v)) {
                    gap_at = gap_at == hi ? i : gap_at; // keep a gap visible as a gap
                    continue;
                }
                if (min_at == hi || v < values[min_at]) {
                    min_at = i;
                }
                if (max_at == hi || v > values[max_at]) {
                    max_at = i;
                }
            }
            for (const std::size_t i : {min_at, max_at, gap_at}) {
                if (i != hi) {
                    keep.push_back(i);
                }
            }
        }
    }
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    return keep;
}

report_format report_format_for(const core::symbol_spec& spec) noexcept {
    report_format format;
    format.price_decimals = spec.price_decimals();
    // A book mid lies on a half tick: one more decimal writes it exactly.
    format.mid_decimals = spec.price_decimals() + 1;
    format.quantity_decimals = spec.qty_decimals();
    format.value_decimals = std::min(spec.price_decimals() + spec.qty_decimals(), 10);
    return format;
}

} // namespace quoter::sim
