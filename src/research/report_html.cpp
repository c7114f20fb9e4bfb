// report.html of a sweep: one self-contained page (inline SVG, no script, no network) with the
// ranking, a heat map of the objective when exactly two keys were swept on a grid, and a scatter
// of mean PnL against mean max drawdown, one dot per trial.
#include "quoter/research/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace quoter::research {
namespace {

std::string escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '&':
            out += "&amp;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string num(double value) {
    return std::isfinite(value) ? fmt::format("{:.4g}", value) : std::string("-");
}

std::string value_of(const trial_row& row, std::string_view key) {
    for (const auto& p : row.parameters) {
        if (p.key == key) {
            return p.value;
        }
    }
    return {};
}

std::string params_text(const trial_row& row) {
    std::string out = fmt::format("trial {}", row.index);
    for (const auto& p : row.parameters) {
        out += fmt::format(", {}={}", p.key, p.value);
    }
    return out;
}

/// Red (worst) through white to green (best), t in [0, 1].
std::string colour(double t) {
    if (!std::isfinite(t)) {
        return "#dddddd";
    }
    t = std::clamp(t, 0.0, 1.0);
    const auto mix = [](double a, double b, double s) { return static_cast<int>(a + (b - a) * s); };
    if (t < 0.5) {
        const double s = t / 0.5;
        return fmt::format("#{:02x}{:02x}{:02x}", mix(214, 255, s), mix(96, 255, s),
                           mix(77, 255, s));
    }
    const double s = (t - 0.5) / 0.5;
    return fmt::format("#{:02x}{:02x}{:02x}", mix(255, 26, s), mix(255, 152, s), mix(255, 80, s));
}

/// `title`: what the cells show ("Mean PnL"), for the chart's accessible name.
std::string heat_map(const results_file& results, std::string_view title) {
    const objective& goal = results.header.goal;
    const auto& keys = results.header.keys;
    std::vector<std::string> xs;
    std::vector<std::string> ys;
    for (const auto& row : results.rows) {
        const auto x = value_of(row, keys[0]);
        const auto y = value_of(row, keys[1]);
        if (std::find(xs.begin(), xs.end(), x) == xs.end()) {
            xs.push_back(x);
        }
        if (std::find(ys.begin(), ys.end(), y) == ys.end()) {
            ys.push_back(y);
        }
    }
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (const auto& row : results.rows) {
        const double v = goal.value(row.stats);
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    constexpr int cell_w = 72;
    constexpr int cell_h = 28;
    constexpr int left = 110;
    constexpr int top = 30;
    // The swept keys are named under the grid, one line each, in full: the canvas widens to the
    // longer line (7 px a character bounds 11 px sans-serif), since a key name is often wider
    // than a grid of a few columns and the browser cuts off what leaves the canvas.
    const std::string columns_caption = "columns: " + keys[0];
    const std::string rows_caption = "rows: " + keys[1];
    constexpr int caption_left = 10;
    constexpr int char_w = 7;
    const int caption_w =
        char_w * static_cast<int>(std::max(columns_caption.size(), rows_caption.size()));
    const int width =
        std::max(left + cell_w * static_cast<int>(xs.size()) + 20, caption_left + caption_w + 10);
    const int grid_bottom = top + cell_h * static_cast<int>(ys.size());
    const int height = grid_bottom + 50;
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
        "aria-label=\"{}: {}; {}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        width, height, escape(title), escape(columns_caption), escape(rows_caption));
    for (const auto& row : results.rows) {
        const auto xi = std::find(xs.begin(), xs.end(), value_of(row, keys[0])) - xs.begin();
        const auto yi = std::find(ys.begin(), ys.end(), value_of(row, keys[1])) - ys.begin();
        const double v = goal.value(row.stats);
        const double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        const int x = left + cell_w * static_cast<int>(xi);
        const int y = top + cell_h * static_cast<int>(yi);
        out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" "
                           "stroke=\"#fff\"><title>{}: {}</title></rect>"
                           "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                           x, y, cell_w, cell_h, colour(t), escape(params_text(row)), num(v),
                           x + cell_w / 2, y + cell_h / 2 + 4, num(v));
    }
    for (std::size_t i = 0; i < xs.size(); ++i) {
        out +=
            fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                        left + cell_w * static_cast<int>(i) + cell_w / 2, top - 8, escape(xs[i]));
    }
    for (std::size_t i = 0; i < ys.size(); ++i) {
        out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6,
                           top + cell_h * static_cast<int>(i) + cell_h / 2 + 4, escape(ys[i]));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n<text x=\"{}\" y=\"{}\">{}</text>\n"
                       "</svg>\n",
                       caption_left, grid_bottom + 22, escape(columns_caption), caption_left,
                       grid_bottom + 38, escape(rows_caption));
    return out;
}

std::string scatter(const results_file& results, std::size_t best_row) {
    const std::size_t pnl = metric_index("total_pnl");
    const std::size_t dd = metric_index("max_drawdown");
    double x_lo = std::numeric_limits<double>::infinity();
    double x_hi = -x_lo;
    double y_lo = x_lo;
    double y_hi = -x_lo;
    for (const auto& row : results.rows) {
        const double x = row.stats[dd].mean;
        const double y = row.stats[pnl].mean;
        if (std::isfinite(x) && std::isfinite(y)) {
            x_lo = std::min(x_lo, x);
            x_hi = std::max(x_hi, x);
            y_lo = std::min(y_lo, y);
            y_hi = std::max(y_hi, y);
        }
    }
    if (!std::isfinite(x_lo)) {
        return "<p>No trial has a finite PnL and drawdown.</p>\n";
    }
    if (x_hi <= x_lo) {
        x_hi = x_lo + 1.0;
    }
    if (y_hi <= y_lo) {
        y_hi = y_lo + 1.0;
    }
    constexpr double w = 560;
    constexpr double h = 360;
    constexpr double left = 70;
    constexpr double top = 20;
    const auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * w; };
    const auto py = [&](double y) { return top + h - (y - y_lo) / (y_hi - y_lo) * h; };
    std::string out = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
        "aria-label=\"Mean PnL against mean max drawdown, one dot per trial\" "
        "font-family=\"sans-serif\" font-size=\"11\">\n"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n",
        left + w + 20, top + h + 50, left, top, w, h);
    if (y_lo < 0 && y_hi > 0) {
        out += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#bbb\" "
                           "stroke-dasharray=\"4 3\"/>\n",
                           left, left + w, py(0), py(0));
    }
    for (std::size_t i = 0; i < results.rows.size(); ++i) {
        const auto& row = results.rows[i];
        const double x = row.stats[dd].mean;
        const double y = row.stats[pnl].mean;
        if (!std::isfinite(x) || !std::isfinite(y)) {
            continue;
        }
        out +=
            fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" "
                        "fill-opacity=\"0.7\"><title>{}: PnL {}, max drawdown {}</title>"
                        "</circle>\n",
                        px(x), py(y), i == best_row ? 6 : 4, i == best_row ? "#d62728" : "#1f77b4",
                        escape(params_text(row)), num(y), num(x));
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" "
                       "text-anchor=\"end\">{}</text>\n",
                       left, top + h + 16, num(x_lo), left + w, top + h + 16, num(x_hi));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" "
                       "y=\"{}\" text-anchor=\"end\">{}</text>\n",
                       left - 6, top + h, num(y_lo), left - 6, top + 10, num(y_hi));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">mean max drawdown "
                       "(quote units); the best trial in red</text>\n"
                       "<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" "
                       "text-anchor=\"middle\">mean PnL</text>\n</svg>\n",
                       left + w / 2, top + h + 38, top + h / 2, top + h / 2);
    return out;
}

} // namespace

std::string report_html(const results_file& results) {
    const auto& h = results.header;
    const auto defs = metric_defs();
    const std::size_t one = metric_index(h.goal.metric());
    const std::string label =
        one < defs.size() ? std::string(defs[one].label) : std::string(to_string(h.goal));
    const auto order = rank(results);
    std::string out = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>quoter sweep: {}</title>\n<style>body{{font-family:sans-serif;margin:2em;"
        "max-width:1100px}}table{{border-collapse:collapse;font-size:13px}}td,th{{border:1px "
        "solid #ccc;padding:3px 8px;text-align:right}}th{{background:#f3f3f3}}</style></head>"
        "<body>\n<h1>quoter sweep of {}</h1>\n<p>{} of {} trials, each on {}; ranked by the "
        "{}. Fingerprint {}.</p>\n",
        escape(h.config_name), escape(h.config_name), results.rows.size(), h.total_trials,
        escape(h.unit_names),
        escape(one < defs.size() ? "mean " + label : "the objective " + label),
        escape(h.fingerprint));
    if (h.keys.size() == 2 && h.grid_only && !results.rows.empty()) {
        const std::string shown = one < defs.size() ? "Mean " + label : label;
        out += fmt::format("<h2>{} over the two swept keys</h2>\n", escape(shown));
        out += heat_map(results, shown);
    } else {
        out += "<p>The heat map needs exactly two keys swept on a grid.</p>\n";
    }
    out += "<h2>PnL against drawdown</h2>\n";
    out += scatter(results, order.empty() ? results.rows.size() : order.front());
    out += "<h2>Ranking (best 50)</h2>\n<table><tr><th>rank</th><th>trial</th>";
    for (const auto& key : h.keys) {
        out += fmt::format("<th>{}</th>", escape(key));
    }
    out += fmt::format("<th>{}</th><th>PnL mean</th><th>PnL sd</th><th>Sharpe</th>"
                       "<th>max drawdown</th><th>fills</th></tr>\n",
                       escape(label));
    const std::size_t pnl = metric_index("total_pnl");
    for (std::size_t r = 0; r < order.size() && r < 50; ++r) {
        const auto& row = results.rows[order[r]];
        out += fmt::format("<tr><td>{}</td><td>{}</td>", r + 1, row.index);
        for (const auto& key : h.keys) {
            out += fmt::format("<td>{}</td>", escape(value_of(row, key)));
        }
        out += fmt::format("<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                           "</tr>\n",
                           num(h.goal.value(row.stats)), num(row.stats[pnl].mean),
                           num(row.stats[pnl].stddev), num(row.stats[metric_index("sharpe")].mean),
                           num(row.stats[metric_index("max_drawdown")].mean),
                           num(row.stats[metric_index("fills")].mean));
    }
    out += "</table>\n<p>Every metric with its spread over paths: trials.csv and trials.json; "
           "the best configuration: best.toml.</p>\n</body></html>\n";
    return out;
}

} // namespace quoter::research
