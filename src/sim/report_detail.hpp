// Internals shared by the report writers (one file per format: report_csv.cpp,
// report_json.cpp, report_markdown.cpp, report_html.cpp; report.cpp writes the files): number
// formatting, the buffered output the CSV rows go through, and the metric table every document
// shows. Private to the sim module.
#pragma once

#include "quoter/sim/report.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::sim::report_detail {

using out_it = std::back_insert_iterator<std::string>;

// ---------------------------------------------------------------------------------------------
// Numbers

/// Fixed-point text; an empty field for non-finite values; "-0.00" normalised to "0.00".
void append_fixed(std::string& out, double value, int decimals);
[[nodiscard]] std::string fixed(double value, int decimals);
/// Shortest round-trip representation, which is valid JSON for finite values; null otherwise.
void append_json_number(std::string& out, double value);
void append_json_string(std::string& out, std::string_view text);
/// Text for Markdown and HTML: "n/a" for undefined values, "inf" for unbounded ones.
[[nodiscard]] std::string display(double value, int decimals, std::string_view suffix = {});

// ---------------------------------------------------------------------------------------------
// Buffered output: rows go to a buffer flushed to the file every megabyte (or kept, without a
// file, for the pure format_* functions).

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
// CSV rows (report_csv.cpp)

void emit_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f, output& out);
void emit_fills_csv(std::span<const fill_record> fills, const report_format& f, output& out);
void emit_orders_csv(std::span<const order_record> orders, const report_format& f, output& out);
void emit_paths_csv(std::span<const path_summary> paths, const report_format& f, output& out);

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

[[nodiscard]] std::vector<metric_group> metric_groups(const run_metrics& m);
[[nodiscard]] std::string display(const metric_row& row, const report_format& f);

/// Annualised return, volatility, Sharpe, Sortino and Calmar scale a short run to a year; under
/// a day that extrapolation says little, and the reader must be told so next to the numbers.
[[nodiscard]] bool needs_annualisation_caveat(double duration_s) noexcept;
[[nodiscard]] bool needs_annualisation_caveat(const run_metrics& m) noexcept;
[[nodiscard]] std::string annualisation_caveat(const run_metrics& m);
/// The caveat of a multi-path report whose paths each cover path_duration_s; empty when none
/// is needed (a day or more, or not given).
[[nodiscard]] std::string paths_annualisation_caveat(double path_duration_s);

} // namespace quoter::sim::report_detail
