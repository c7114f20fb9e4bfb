// Report files: each document is formatted by its writer (report_csv.cpp, report_json.cpp,
// report_markdown.cpp, report_html.cpp) and written here. CSV rows are produced into a buffer
// that is flushed to the file every megabyte, which keeps memory flat for runs with millions of
// samples; the pure format_* functions use the same row code without a file.
#include "report_detail.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <optional>
#include <system_error>

namespace quoter::sim {

using namespace report_detail;

namespace {

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

equity_spread make_equity_spread(std::vector<double> x_s,
                                 std::span<const std::vector<double>> pnl_by_path) {
    equity_spread out;
    if (pnl_by_path.empty()) {
        return out;
    }
    const std::size_t points = x_s.size();
    out.x_s = std::move(x_s);
    for (auto* series : {&out.p05, &out.p25, &out.median, &out.p75, &out.p95}) {
        series->reserve(points);
    }
    // Quantile q of sorted values, interpolating linearly between the two nearest ranks.
    const auto quantile = [](const std::vector<double>& sorted, double q) {
        if (sorted.empty()) {
            return std::numeric_limits<double>::quiet_NaN();
        }
        const double rank = q * static_cast<double>(sorted.size() - 1);
        const auto below = static_cast<std::size_t>(std::floor(rank));
        const std::size_t above = std::min(below + 1, sorted.size() - 1);
        const double weight = rank - static_cast<double>(below);
        return sorted[below] + (sorted[above] - sorted[below]) * weight;
    };
    std::vector<double> values;
    values.reserve(pnl_by_path.size());
    for (std::size_t t = 0; t < points; ++t) {
        values.clear();
        for (const auto& path : pnl_by_path) {
            if (t < path.size() && std::isfinite(path[t])) {
                values.push_back(path[t]);
            }
        }
        std::sort(values.begin(), values.end());
        out.p05.push_back(quantile(values, 0.05));
        out.p25.push_back(quantile(values, 0.25));
        out.median.push_back(quantile(values, 0.50));
        out.p75.push_back(quantile(values, 0.75));
        out.p95.push_back(quantile(values, 0.95));
    }
    return out;
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
