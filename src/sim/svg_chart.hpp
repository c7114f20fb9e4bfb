// Inline SVG charts for the HTML reports: line charts with gaps and histograms. Private to the
// sim module. Output is plain SVG markup without an xmlns attribute (HTML5 does not need one),
// so a report contains no URL at all; coordinates are written with one decimal, which makes the
// markup a deterministic function of the data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace quoter::sim::svg {

struct line_series {
    std::string_view name;
    std::string_view color; ///< CSS colour, e.g. "#1f77b4"
    std::vector<double> y;  ///< one value per x; NaN leaves a gap
};

/// A shaded area between two curves (a quantile band), drawn under the lines.
struct line_band {
    std::string_view name;
    std::string_view color; ///< CSS colour of the fill (drawn translucent)
    std::vector<double> lo; ///< one value per x; NaN leaves a gap
    std::vector<double> hi;
};

/// Points marked on the chart (fills): a small triangle pointing up or down.
struct point_markers {
    std::string_view name;
    std::string_view color;
    std::string_view css_class; ///< class of every marker, e.g. "fill-buy"
    bool up = true;             ///< triangle pointing up (buys) or down (sells)
    std::vector<double> x_s;    ///< seconds since the start, as line_chart::x_s
    std::vector<double> y;
};

struct line_chart {
    std::string_view title;
    std::string_view y_label;
    std::vector<double> x_s; ///< seconds since the start of the run, non-decreasing
    std::vector<line_series> series;
    bool zero_line = false; ///< draw y = 0 when it is in range
    std::vector<line_band> bands{};
    std::vector<point_markers> markers{};
};

/// An <svg> element with axes, gridlines, a legend, the bands under one path per series, and
/// the markers on top.
[[nodiscard]] std::string render(const line_chart& chart);

struct histogram {
    std::string_view title;
    std::string_view x_label;
    std::vector<double> values; ///< non-finite values are ignored
    std::string_view color = "#1f77b4";
};

/// An <svg> element with one bar per bin (about sqrt(n) bins, 5 to 50) and a line at the mean.
[[nodiscard]] std::string render(const histogram& chart);

/// Escapes &, <, >, " and ' for HTML text and attribute values.
[[nodiscard]] std::string escape_html(std::string_view text);

} // namespace quoter::sim::svg
