// objective: what the trials of a sweep are ranked by, an expression over the metrics of a trial
// row (results.hpp). A metric name reads the trial's mean of that metric over its units
// (`sharpe`), a suffix picks another statistic of the same distribution (`total_pnl.sd`,
// `max_drawdown.p95`; .mean .sd .min .p05 .median .p95 .max .count); numbers, + - * /, unary
// minus, parentheses and the functions abs, sqrt, log, exp, min and max (two or more
// arguments) combine them. `pnl` names total_pnl; the shortcuts `pnl_drawdown` and `pnl/dd` are
// the mean of pnl_to_drawdown. Higher is better; NaN (e.g. a division by zero drawdown) ranks
// last.
//
// Examples: `sharpe - 0.5 * sharpe.sd`, `pnl / max(max_drawdown, 1)`, `-abs(final_inventory)`.
//
// Invariants: an objective that parsed refers only to known metrics, so evaluation cannot fail;
// text() is the expression as given (trimmed), which is what results files and fingerprints
// record, so two objectives are equal exactly when their texts are.
#pragma once

#include "quoter/core/result.hpp"
#include "quoter/sim/metrics.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::research {

class objective {
public:
    /// The default objective: mean total PnL ("pnl").
    objective();

    /// Parses an objective. The error names an unknown metric or function, or the position
    /// (1-based, in characters) of a syntax error and what was expected there.
    [[nodiscard]] static core::result<objective, std::string> parse(std::string_view text);

    /// The objective as written (surrounding blanks removed).
    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    /// The metric when the objective is one metric's mean ("total_pnl" for "pnl"), else empty.
    [[nodiscard]] std::string_view metric() const noexcept { return metric_; }
    /// The objective's value for a trial row's statistics (indexed as metric_defs()).
    [[nodiscard]] double value(std::span<const sim::distribution_stats> stats) const noexcept;

    friend bool operator==(const objective& a, const objective& b) { return a.text_ == b.text_; }

    /// One step of the compiled expression (postfix order). Public for the parser only.
    struct step {
        enum class kind : std::uint8_t {
            number,
            metric,
            negate,
            add,
            subtract,
            multiply,
            divide,
            call
        };
        kind what = kind::number;
        double number = 0.0;       ///< kind::number
        std::size_t metric = 0;    ///< kind::metric: metric_defs() index
        std::uint8_t stat = 0;     ///< kind::metric: which statistic (see objective.cpp)
        std::uint8_t function = 0; ///< kind::call
        std::size_t arguments = 0; ///< kind::call
    };

private:
    std::string text_;
    std::string metric_;
    std::vector<step> program_;
};

[[nodiscard]] std::string_view to_string(const objective& o) noexcept;
/// objective::parse.
[[nodiscard]] core::result<objective, std::string> parse_objective(std::string_view text);
/// objective::metric: the metric (see results.hpp) a one-metric objective reads; empty for an
/// expression.
[[nodiscard]] std::string_view objective_metric(const objective& o) noexcept;

} // namespace quoter::research
