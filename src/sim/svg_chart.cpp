// Layout: a fixed 960 x 300 canvas (scaled by the browser through viewBox), a plot area inside
// fixed margins, about five "nice" ticks per axis (1, 2 or 5 times a power of ten). Tick
// positions are computed by counting, not by repeated addition, so labels do not drift.
#include "svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>

namespace quoter::sim::svg {

namespace {

constexpr double width = 960.0;
constexpr double height = 300.0;
constexpr double margin_left = 84.0;
constexpr double margin_right = 20.0;
constexpr double margin_top = 34.0;
constexpr double margin_bottom = 42.0;
constexpr double plot_w = width - margin_left - margin_right;
constexpr double plot_h = height - margin_top - margin_bottom;

struct axis_ticks {
    double step = 1.0;
    int decimals = 0;
    std::vector<double> values;
};

// Ticks covering [lo, hi] with a 1-2-5 step; powers of ten are found by counting so the result
// does not depend on the C library's log10.
axis_ticks make_ticks(double lo, double hi, int target) {
    axis_ticks t;
    const double raw = (hi - lo) / target;
    if (!(raw > 0) || !std::isfinite(raw)) {
        t.values.push_back(lo);
        return t;
    }
    double power = 1.0;
    int decimals = 0;
    while (power > raw) {
        power /= 10.0;
        ++decimals;
    }
    while (power * 10.0 <= raw) {
        power *= 10.0;
        decimals = std::max(0, decimals - 1);
    }
    constexpr std::array<double, 4> multiples{1.0, 2.0, 5.0, 10.0};
    for (const double m : multiples) {
        if (m * power >= raw) {
            t.step = m * power;
            if (m == 10.0) {
                decimals = std::max(0, decimals - 1);
            }
            break;
        }
    }
    t.decimals = decimals;
    const auto first = static_cast<std::int64_t>(std::ceil(lo / t.step - 1e-9));
    for (std::int64_t k = first; static_cast<double>(k) * t.step <= hi + t.step * 1e-9; ++k) {
        t.values.push_back(static_cast<double>(k) * t.step);
        if (t.values.size() > 50) {
            break;
        }
    }
    return t;
}

std::string format_tick(double value, int decimals) {
    std::string text = fmt::format("{:.{}f}", value, decimals);
    if (text.size() > 1 && text[0] == '-' && text.find_first_not_of("0.", 1) == std::string::npos) {
        text.erase(0, 1); // "-0.0" from a tick that is zero up to rounding
    }
    return text;
}

struct range {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -std::numeric_limits<double>::infinity();
    void add(double v) {
        if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    [[nodiscard]] bool empty() const { return !(lo <= hi); }
};

// Widens a degenerate or tight range so lines do not sit on the frame.
range padded(range r) {
    if (r.empty()) {
        return {0.0, 1.0};
    }
    if (r.hi == r.lo) {
        const double pad = r.lo != 0 ? std::abs(r.lo) * 0.01 : 1.0;
        return {r.lo - pad, r.hi + pad};
    }
    const double pad = (r.hi - r.lo) * 0.05;
    return {r.lo - pad, r.hi + pad};
}

struct time_axis {
    double divisor = 1.0;
    std::string_view label = "time (s)";
};

time_axis choose_time_axis(double span_s) {
    if (span_s > 2.0 * 86400.0) {
        return {86400.0, "time (days)"};
    }
    if (span_s > 2.0 * 3600.0) {
        return {3600.0, "time (h)"};
    }
    if (span_s > 120.0) {
        return {60.0, "time (min)"};
    }
    return {1.0, "time (s)"};
}

using out_it = std::back_insert_iterator<std::string>;

void open_svg(std::string& out, std::string_view title) {
    fmt::format_to(out_it(out),
                   "<svg class=\"chart\" viewBox=\"0 0 {:.0f} {:.0f}\" role=\"img\" "
                   "aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
                   width, height, escape_html(title));
    fmt::format_to(out_it(out),
                   "<rect x=\"0\" y=\"0\" width=\"{:.0f}\" height=\"{:.0f}\" "
                   "fill=\"#ffffff\"/>\n",
                   width, height);
    fmt::format_to(out_it(out),
                   "<text x=\"{:.1f}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{}</text>\n",
                   margin_left, escape_html(title));
}

void draw_frame(std::string& out) {
    fmt::format_to(out_it(out),
                   "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                   "fill=\"none\" stroke=\"#888888\"/>\n",
                   margin_left, margin_top, plot_w, plot_h);
}

void draw_y_axis(std::string& out, const range& y, std::string_view label) {
    const axis_ticks ticks = make_ticks(y.lo, y.hi, 5);
    for (const double v : ticks.values) {
        const double py = margin_top + plot_h - (v - y.lo) / (y.hi - y.lo) * plot_h;
        fmt::format_to(out_it(out),
                       "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
                       "stroke=\"#e5e5e5\"/>\n"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                       margin_left, py, margin_left + plot_w, py, margin_left - 6, py + 4,
                       format_tick(v, ticks.decimals));
    }
    fmt::format_to(out_it(out),
                   "<text x=\"14\" y=\"{:.1f}\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 14 {:.1f})\">{}</text>\n",
                   margin_top + plot_h / 2, margin_top + plot_h / 2, escape_html(label));
}

void draw_x_axis(std::string& out, const range& x, std::string_view label, double divisor) {
    const axis_ticks ticks = make_ticks(x.lo / divisor, x.hi / divisor, 8);
    for (const double v : ticks.values) {
        const double px = margin_left + (v * divisor - x.lo) / (x.hi - x.lo) * plot_w;
        if (px < margin_left - 0.5 || px > margin_left + plot_w + 0.5) {
            continue;
        }
        fmt::format_to(out_it(out),
                       "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
                       "stroke=\"#888888\"/>\n"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                       px, margin_top + plot_h, px, margin_top + plot_h + 4, px,
                       margin_top + plot_h + 16, format_tick(v, ticks.decimals));
    }
    fmt::format_to(out_it(out),
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                   margin_left + plot_w / 2, height - 6, escape_html(label));
}

} // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string render(const line_chart& chart) {
    std::string out;
    open_svg(out, chart.title);

    range x;
    for (const double v : chart.x_s) {
        x.add(v);
    }
    if (x.empty() || x.hi == x.lo) {
        x = padded(x);
    }
    range y;
    for (const auto& s : chart.series) {
        for (const double v : s.y) {
            y.add(v);
        }
    }
    for (const auto& b : chart.bands) {
        for (const auto* side : {&b.lo, &b.hi}) {
            for (const double v : *side) {
                y.add(v);
            }
        }
    }
    for (const auto& m : chart.markers) {
        for (const double v : m.y) {
            y.add(v);
        }
    }
    const bool has_data = !y.empty();
    y = padded(y);

    draw_y_axis(out, y, chart.y_label);
    const time_axis t = choose_time_axis(x.hi - x.lo);
    draw_x_axis(out, x, t.label, t.divisor);
    if (chart.zero_line && y.lo < 0 && y.hi > 0) {
        const double py = margin_top + plot_h - (0 - y.lo) / (y.hi - y.lo) * plot_h;
        fmt::format_to(out_it(out),
                       "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
                       "stroke=\"#999999\" stroke-dasharray=\"4 3\"/>\n",
                       margin_left, py, margin_left + plot_w, py);
    }
    if (!has_data) {
        fmt::format_to(out_it(out),
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">no data</text>\n",
                       margin_left + plot_w / 2, margin_top + plot_h / 2);
    }

    const auto to_px = [&](double xs) {
        return margin_left + (xs - x.lo) / (x.hi - x.lo) * plot_w;
    };
    const auto to_py = [&](double v) {
        return margin_top + plot_h - (v - y.lo) / (y.hi - y.lo) * plot_h;
    };
    // Bands: one polygon per stretch where both edges are finite (upper edge forward, lower
    // edge back).
    for (const auto& b : chart.bands) {
        const std::size_t n = std::min({b.lo.size(), b.hi.size(), chart.x_s.size()});
        std::size_t i = 0;
        while (i < n) {
            while (i < n && !(std::isfinite(b.lo[i]) && std::isfinite(b.hi[i]))) {
                ++i;
            }
            const std::size_t begin = i;
            while (i < n && std::isfinite(b.lo[i]) && std::isfinite(b.hi[i])) {
                ++i;
            }
            if (i - begin < 2) {
                continue;
            }
            std::string points;
            for (std::size_t k = begin; k < i; ++k) {
                fmt::format_to(out_it(points), "{}{:.1f},{:.1f}", points.empty() ? "" : " ",
                               to_px(chart.x_s[k]), to_py(b.hi[k]));
            }
            for (std::size_t k = i; k-- > begin;) {
                fmt::format_to(out_it(points), " {:.1f},{:.1f}", to_px(chart.x_s[k]),
                               to_py(b.lo[k]));
            }
            fmt::format_to(out_it(out),
                           "<polygon class=\"band\" points=\"{}\" fill=\"{}\" "
                           "fill-opacity=\"0.25\" stroke=\"none\"/>\n",
                           points, b.color);
        }
    }

    for (const auto& s : chart.series) {
        std::string d;
        bool pen_down = false;
        std::int64_t last_px = std::numeric_limits<std::int64_t>::min();
        std::int64_t last_py = last_px;
        const std::size_t n = std::min(s.y.size(), chart.x_s.size());
        for (std::size_t i = 0; i < n; ++i) {
            const double v = s.y[i];
            if (!std::isfinite(v)) {
                pen_down = false;
                continue;
            }
            const double px = margin_left + (chart.x_s[i] - x.lo) / (x.hi - x.lo) * plot_w;
            const double py = margin_top + plot_h - (v - y.lo) / (y.hi - y.lo) * plot_h;
            // Points that land on the same tenth of a pixel as the previous one add nothing.
            const auto ix = static_cast<std::int64_t>(std::lround(px * 10));
            const auto iy = static_cast<std::int64_t>(std::lround(py * 10));
            if (pen_down && ix == last_px && iy == last_py) {
                continue;
            }
            fmt::format_to(out_it(d), "{}{:.1f} {:.1f}", pen_down ? "L" : "M",
                           static_cast<double>(ix) / 10, static_cast<double>(iy) / 10);
            pen_down = true;
            last_px = ix;
            last_py = iy;
        }
        if (!d.empty()) {
            fmt::format_to(out_it(out),
                           "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\" "
                           "stroke-linejoin=\"round\"/>\n",
                           d, s.color);
        }
    }

    // Markers: a 7-pixel triangle centred on each point.
    for (const auto& m : chart.markers) {
        const std::size_t n = std::min(m.x_s.size(), m.y.size());
        for (std::size_t i = 0; i < n; ++i) {
            if (!std::isfinite(m.y[i]) || !std::isfinite(m.x_s[i])) {
                continue;
            }
            const double px = to_px(m.x_s[i]);
            const double py = to_py(m.y[i]);
            const double tip = m.up ? -4.0 : 4.0;
            fmt::format_to(out_it(out),
                           "<polygon class=\"{}\" points=\"{:.1f},{:.1f} {:.1f},{:.1f} "
                           "{:.1f},{:.1f}\" fill=\"{}\"/>\n",
                           m.css_class, px, py + tip, px - 3.5, py - tip, px + 3.5, py - tip,
                           m.color);
        }
    }

    // Legend, right-aligned above the plot.
    const std::size_t entries = chart.series.size() + chart.bands.size() + chart.markers.size();
    double lx = width - margin_right - 110.0 * static_cast<double>(entries);
    for (const auto& s : chart.series) {
        fmt::format_to(out_it(out),
                       "<line x1=\"{:.1f}\" y1=\"16\" x2=\"{:.1f}\" y2=\"16\" stroke=\"{}\" "
                       "stroke-width=\"3\"/><text x=\"{:.1f}\" y=\"20\">{}</text>\n",
                       lx, lx + 18, s.color, lx + 23, escape_html(s.name));
        lx += 110.0;
    }
    for (const auto& b : chart.bands) {
        fmt::format_to(out_it(out),
                       "<rect x=\"{:.1f}\" y=\"11\" width=\"18\" height=\"10\" fill=\"{}\" "
                       "fill-opacity=\"0.25\"/><text x=\"{:.1f}\" y=\"20\">{}</text>\n",
                       lx, b.color, lx + 23, escape_html(b.name));
        lx += 110.0;
    }
    for (const auto& m : chart.markers) {
        fmt::format_to(out_it(out),
                       "<polygon points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" "
                       "fill=\"{}\"/><text x=\"{:.1f}\" y=\"20\">{}</text>\n",
                       lx + 9, m.up ? 12.0 : 20.0, lx + 5, m.up ? 20.0 : 12.0, lx + 13,
                       m.up ? 20.0 : 12.0, m.color, lx + 23, escape_html(m.name));
        lx += 110.0;
    }
    draw_frame(out);
    out += "</svg>\n";
    return out;
}

std::string render(const histogram& chart) {
    std::string out;
    open_svg(out, chart.title);

    std::vector<double> values;
    values.reserve(chart.values.size());
    range x;
    double sum = 0.0;
    for (const double v : chart.values) {
        if (std::isfinite(v)) {
            values.push_back(v);
            x.add(v);
            sum += v;
        }
    }
    if (values.empty()) {
        fmt::format_to(out_it(out),
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">no data</text>\n",
                       margin_left + plot_w / 2, margin_top + plot_h / 2);
        draw_frame(out);
        out += "</svg>\n";
        return out;
    }
    if (x.hi == x.lo) {
        x = padded(x);
    }
    const auto bins = static_cast<std::size_t>(
        std::clamp(std::ceil(std::sqrt(static_cast<double>(values.size()))), 5.0, 50.0));
    const double bin_width = (x.hi - x.lo) / static_cast<double>(bins);
    std::vector<std::size_t> counts(bins, 0);
    for (const double v : values) {
        auto bin = static_cast<std::size_t>((v - x.lo) / bin_width);
        counts[std::min(bin, bins - 1)] += 1;
    }
    const std::size_t max_count = *std::max_element(counts.begin(), counts.end());
    const range y{0.0, static_cast<double>(max_count) * 1.08};

    axis_ticks count_ticks = make_ticks(y.lo, y.hi, 5);
    for (const double v : count_ticks.values) {
        if (v != std::floor(v)) {
            continue; // counts are whole numbers
        }
        const double py = margin_top + plot_h - (v - y.lo) / (y.hi - y.lo) * plot_h;
        fmt::format_to(out_it(out),
                       "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
                       "stroke=\"#e5e5e5\"/>\n"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.0f}</text>\n",
                       margin_left, py, margin_left + plot_w, py, margin_left - 6, py + 4, v);
    }
    fmt::format_to(out_it(out),
                   "<text x=\"14\" y=\"{:.1f}\" text-anchor=\"middle\" "
                   "transform=\"rotate(-90 14 {:.1f})\">paths</text>\n",
                   margin_top + plot_h / 2, margin_top + plot_h / 2);
    draw_x_axis(out, x, chart.x_label, 1.0);

    const double bar_w = plot_w / static_cast<double>(bins);
    for (std::size_t b = 0; b < bins; ++b) {
        if (counts[b] == 0) {
            continue;
        }
        const double h = static_cast<double>(counts[b]) / y.hi * plot_h;
        fmt::format_to(out_it(out),
                       "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                       "fill=\"{}\" fill-opacity=\"0.8\"><title>{}</title></rect>\n",
                       margin_left + static_cast<double>(b) * bar_w + 0.5, margin_top + plot_h - h,
                       std::max(bar_w - 1.0, 0.5), h, chart.color, counts[b]);
    }
    const double mean = sum / static_cast<double>(values.size());
    const double mx = margin_left + (mean - x.lo) / (x.hi - x.lo) * plot_w;
    fmt::format_to(
        out_it(out),
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#d62728\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#d62728\">mean</text>\n",
        mx, margin_top, mx, margin_top + plot_h, mx + 4, margin_top + 12);
    draw_frame(out);
    out += "</svg>\n";
    return out;
}

} // namespace quoter::sim::svg
