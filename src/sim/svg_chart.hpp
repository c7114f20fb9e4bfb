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

struct line_chart {
    std::string_view title;
    std::string_view y_label;
    std::vector<double> x_s; ///< seconds since the start of the run, non-decreasing
    std::vector<line_series> series;
    bool zero_line = false; ///< draw y = 0 when it is in range
};

/// An <svg> element with axes, gridlines, a legend and one path per series.
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
