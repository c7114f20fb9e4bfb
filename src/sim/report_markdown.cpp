// report.md of a single run and of many paths.
#include "report_detail.hpp"

#include <algorithm>
#include <array>
#include <tuple>

namespace quoter::sim {

using namespace report_detail;

namespace {

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

void append_md_alerts(std::string& out, const std::vector<report_alert>& alerts) {
    if (alerts.empty()) {
        return;
    }
    out += "\n## Alerts\n\n| Alert | Count | First |\n|---|---:|---|\n";
    for (const auto& a : alerts) {
        std::string examples;
        for (const auto& e : a.examples) {
            examples += (examples.empty() ? "" : "; ") + e;
        }
        fmt::format_to(out_it(out), "| {} | {} | {} |\n", md_escape(a.kind), a.count,
                       md_escape(examples));
    }
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

// "Run counts", when there are any.
void append_md_counters(std::string& out, const std::vector<report_counter>& counters) {
    if (counters.empty()) {
        return;
    }
    out += "\n## Run counts\n\n| Count | Value |\n|---|---:|\n";
    for (const auto& c : counters) {
        fmt::format_to(out_it(out), "| {} | {} |\n", md_escape(c.label), c.value);
    }
}

} // namespace

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
    append_md_counters(out, report.counters);
    append_md_alerts(out, report.alerts);
    append_md_parameters(out, report.parameters);
    out += "\n## Files\n\n- `pnl.csv`: time series of mid, quotes, inventory, cash, equity and "
           "PnL\n- `fills.csv`: every fill\n- `orders.csv`: every order event\n"
           "- `report.json`: these metrics, machine-readable\n"
           "- `report.html`: charts (opens offline)\n";
    return out;
}

std::string format_multi_path_markdown(const multi_path_report& report) {
    std::string out;
    const auto& m = report.metrics;
    fmt::format_to(out_it(out), "# {}\n\n{} independent paths.\n\n", md_escape(report.title),
                   m.paths);
    if (const std::string caveat = paths_annualisation_caveat(report.path_duration_s);
        !caveat.empty()) {
        fmt::format_to(out_it(out), "> {}\n\n", caveat);
    }
    out += "| Quantity | n | mean | std dev | min | p5 | median | p95 | max |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    const int money = std::min(report.format.value_decimals, 4);
    const std::array<std::tuple<std::string_view, const distribution_stats*, int>, 7> rows{{
        {"Final PnL", &m.final_pnl, money},
        {"Final inventory", &m.final_inventory, report.format.quantity_decimals},
        {"Sharpe ratio", &m.sharpe, 3},
        {"Max drawdown", &m.max_drawdown, money},
        {"Fills", &m.fills, 1},
        {"Mean quoted spread", &m.mean_quoted_spread, report.format.price_decimals + 2},
        {"New orders held by order-rate limits (%)", &m.rate_held_pct, 2},
    }};
    for (const auto& [label, s, decimals] : rows) {
        if (s->count == 0 && s == &m.mean_quoted_spread) {
            continue; // not measured by this run
        }
        fmt::format_to(out_it(out), "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", label,
                       s->count, display(s->mean, decimals), display(s->stddev, decimals),
                       display(s->min, decimals), display(s->p05, decimals),
                       display(s->median, decimals), display(s->p95, decimals),
                       display(s->max, decimals));
    }
    append_md_counters(out, report.counters);
    append_md_alerts(out, report.alerts);
    append_md_parameters(out, report.parameters);
    out += "\n## Files\n\n- `paths.csv`: one row per path\n"
           "- `report.json`: the aggregate, machine-readable\n"
           "- `report.html`: histograms (opens offline)\n";
    return out;
}

} // namespace quoter::sim
