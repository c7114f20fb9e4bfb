// The objective expression: a recursive-descent parser compiling to postfix steps, and their
// evaluation over a trial row's statistics.
#include "quoter/research/objective.hpp"

#include "quoter/research/results.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace quoter::research {
namespace {

using step = objective::step;

/// The statistics a metric name's suffix picks, in the order of step::stat.
constexpr std::array<std::string_view, 8> stat_names{"mean",   "sd",  "min", "p05",
                                                     "median", "p95", "max", "count"};

double stat_of(const sim::distribution_stats& s, std::uint8_t stat) noexcept {
    switch (stat) {
    case 0:
        return s.mean;
    case 1:
        return s.stddev;
    case 2:
        return s.min;
    case 3:
        return s.p05;
    case 4:
        return s.median;
    case 5:
        return s.p95;
    case 6:
        return s.max;
    default:
        return static_cast<double>(s.count);
    }
}

struct function_def {
    std::string_view name;
    std::size_t min_arguments;
    std::size_t max_arguments;
};
constexpr std::array<function_def, 6> functions{
    function_def{"abs", 1, 1}, function_def{"sqrt", 1, 1}, function_def{"log", 1, 1},
    function_def{"exp", 1, 1}, function_def{"min", 2, 64}, function_def{"max", 2, 64}};

std::string metric_list() {
    std::string out = "pnl";
    for (const metric_def& m : metric_defs()) {
        out += fmt::format(", {}", m.name);
    }
    return out;
}

class parser {
public:
    explicit parser(std::string_view text) : text_(text) {}

    core::result<std::vector<step>, std::string> run() {
        expression();
        if (error_.empty()) {
            blanks();
            if (at_ < text_.size()) {
                fail(at_, "expected an operator (+ - * /) or the end");
            }
        }
        if (!error_.empty()) {
            return core::unexpected{error_};
        }
        return std::move(out_);
    }

private:
    void blanks() {
        while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_])) != 0) {
            ++at_;
        }
    }
    bool take(char c) {
        blanks();
        if (at_ < text_.size() && text_[at_] == c) {
            ++at_;
            return true;
        }
        return false;
    }
    void fail(std::size_t position, std::string_view what) {
        if (error_.empty()) {
            error_ =
                fmt::format("syntax error at position {} of \"{}\": {}", position + 1, text_, what);
        }
    }
    void emit(step::kind what) { out_.push_back(step{.what = what}); }

    void expression() {
        // Bounded nesting: the parser recurses once per parenthesis or function call.
        if (++nesting_ > 64) {
            fail(at_, "nested too deeply");
            return;
        }
        term();
        while (error_.empty()) {
            if (take('+')) {
                term();
                emit(step::kind::add);
            } else if (take('-')) {
                term();
                emit(step::kind::subtract);
            } else {
                break;
            }
        }
        --nesting_;
    }
    void term() {
        unary();
        while (error_.empty()) {
            if (take('*')) {
                unary();
                emit(step::kind::multiply);
            } else if (take('/')) {
                unary();
                emit(step::kind::divide);
            } else {
                return;
            }
        }
    }
    void unary() {
        if (take('-')) {
            unary();
            emit(step::kind::negate);
        } else if (take('+')) {
            unary();
        } else {
            primary();
        }
    }
    void primary() {
        blanks();
        if (!error_.empty()) {
            return;
        }
        if (at_ >= text_.size()) {
            fail(at_, "expected a number, a metric, a function or \"(\", found the end");
            return;
        }
        const char c = text_[at_];
        if (c == '(') {
            ++at_;
            expression();
            if (error_.empty() && !take(')')) {
                fail(at_, "expected \")\"");
            }
            return;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.') {
            number();
            return;
        }
        if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
            name();
            return;
        }
        fail(at_, fmt::format("expected a number, a metric, a function or \"(\", found \"{}\"", c));
    }
    void number() {
        const std::size_t begin = at_;
        double value = 0.0;
        const auto [end, ec] =
            std::from_chars(text_.data() + begin, text_.data() + text_.size(), value);
        if (ec != std::errc{} || !std::isfinite(value)) {
            fail(begin, "expected a number");
            return;
        }
        at_ = static_cast<std::size_t>(end - text_.data());
        out_.push_back(step{.what = step::kind::number, .number = value});
    }
    std::string_view identifier() {
        const std::size_t begin = at_;
        while (at_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[at_])) != 0 || text_[at_] == '_')) {
            ++at_;
        }
        return text_.substr(begin, at_ - begin);
    }
    void name() {
        const std::size_t begin = at_;
        const std::string_view word = identifier();
        if (take('(')) {
            call(word, begin);
            return;
        }
        const std::string_view metric = word == "pnl" ? std::string_view("total_pnl") : word;
        const std::size_t index = metric_index(metric);
        if (index >= metric_defs().size()) {
            const auto known = std::find_if(functions.begin(), functions.end(),
                                            [&](const auto& f) { return f.name == word; });
            if (known != functions.end()) {
                fail(at_, fmt::format("expected \"(\" after the function {}", word));
                return;
            }
            error_ = fmt::format("unknown metric \"{}\" at position {} of \"{}\"; metrics: {}",
                                 word, begin + 1, text_, metric_list());
            return;
        }
        std::uint8_t stat = 0;
        if (at_ < text_.size() && text_[at_] == '.') {
            ++at_;
            const std::size_t stat_at = at_;
            const std::string_view suffix = identifier();
            const std::string_view canonical = suffix == "stddev" ? "sd" : suffix;
            const auto found = std::find(stat_names.begin(), stat_names.end(), canonical);
            if (found == stat_names.end()) {
                error_ = fmt::format(
                    "unknown statistic \"{}\" at position {} of \"{}\"; after a metric: .mean, "
                    ".sd, .min, .p05, .median, .p95, .max, .count",
                    suffix, stat_at + 1, text_);
                return;
            }
            stat = static_cast<std::uint8_t>(found - stat_names.begin());
        }
        out_.push_back(step{.what = step::kind::metric, .metric = index, .stat = stat});
    }
    void call(std::string_view word, std::size_t begin) {
        const auto found = std::find_if(functions.begin(), functions.end(),
                                        [&](const auto& f) { return f.name == word; });
        if (found == functions.end()) {
            error_ = fmt::format("unknown function \"{}\" at position {} of \"{}\"; functions: "
                                 "abs, sqrt, log, exp, min, max",
                                 word, begin + 1, text_);
            return;
        }
        std::size_t count = 0;
        if (!take(')')) {
            do {
                expression();
                ++count;
            } while (error_.empty() && take(','));
            if (error_.empty() && !take(')')) {
                fail(at_, "expected \",\" or \")\"");
            }
        }
        if (!error_.empty()) {
            return;
        }
        if (count < found->min_arguments || count > found->max_arguments) {
            error_ = fmt::format("{}() at position {} of \"{}\" takes {}, not {}", word, begin + 1,
                                 text_,
                                 found->min_arguments == found->max_arguments
                                     ? fmt::format("{} argument{}", found->min_arguments,
                                                   found->min_arguments == 1 ? "" : "s")
                                     : fmt::format("at least {} arguments", found->min_arguments),
                                 count);
            return;
        }
        out_.push_back(step{.what = step::kind::call,
                            .function = static_cast<std::uint8_t>(found - functions.begin()),
                            .arguments = count});
    }

    std::string_view text_;
    std::size_t at_ = 0;
    int nesting_ = 0;
    std::string error_;
    std::vector<step> out_;
};

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
        text.remove_suffix(1);
    }
    return text;
}

} // namespace

objective::objective()
    : text_("pnl"), metric_("total_pnl"), program_{step{.what = step::kind::metric,
                                                        .metric = metric_index("total_pnl")}} {}

core::result<objective, std::string> objective::parse(std::string_view text) {
    const std::string_view given = trimmed(text);
    if (given.empty()) {
        return core::unexpected{std::string(
            "empty objective; give pnl, sharpe, pnl_drawdown or an expression over the metrics")};
    }
    // The shortcuts of a ratio that is itself a metric (per unit, then averaged).
    const std::string_view source =
        given == "pnl_drawdown" || given == "pnl/dd" ? std::string_view("pnl_to_drawdown") : given;
    auto program = parser(source).run();
    if (!program) {
        return core::unexpected{program.error()};
    }
    objective out;
    out.text_ = std::string(given);
    out.program_ = std::move(*program);
    out.metric_.clear();
    if (out.program_.size() == 1 && out.program_.front().what == step::kind::metric &&
        out.program_.front().stat == 0) {
        out.metric_ = std::string(metric_defs()[out.program_.front().metric].name);
    }
    return out;
}

double objective::value(std::span<const sim::distribution_stats> stats) const noexcept {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    // Deep enough for any expression a person writes; deeper ones evaluate to NaN.
    std::array<double, 64> stack{};
    std::size_t depth = 0;
    for (const step& s : program_) {
        switch (s.what) {
        case step::kind::number:
        case step::kind::metric:
            if (depth == stack.size()) {
                return nan;
            }
            stack[depth++] =
                s.what == step::kind::number
                    ? s.number
                    : (s.metric < stats.size() ? stat_of(stats[s.metric], s.stat) : nan);
            break;
        case step::kind::negate:
            stack[depth - 1] = -stack[depth - 1];
            break;
        case step::kind::add:
        case step::kind::subtract:
        case step::kind::multiply:
        case step::kind::divide: {
            const double b = stack[--depth];
            double& a = stack[depth - 1];
            a = s.what == step::kind::add        ? a + b
                : s.what == step::kind::subtract ? a - b
                : s.what == step::kind::multiply ? a * b
                : b == 0.0                       ? nan
                                                 : a / b;
            break;
        }
        case step::kind::call: {
            const std::size_t n = s.arguments;
            double* args = stack.data() + (depth - n);
            double result = nan;
            switch (s.function) {
            case 0:
                result = std::abs(args[0]);
                break;
            case 1:
                result = args[0] < 0.0 ? nan : std::sqrt(args[0]);
                break;
            case 2:
                result = args[0] <= 0.0 ? nan : std::log(args[0]);
                break;
            case 3:
                result = std::exp(args[0]);
                break;
            default: {
                // NaN in any argument makes min/max NaN: a trial without a value ranks last.
                result = args[0];
                for (std::size_t i = 1; i < n; ++i) {
                    if (std::isnan(args[i]) || std::isnan(result)) {
                        result = nan;
                        break;
                    }
                    result =
                        s.function == 4 ? std::min(result, args[i]) : std::max(result, args[i]);
                }
                break;
            }
            }
            depth -= n;
            stack[depth++] = result;
            break;
        }
        }
    }
    return depth == 1 ? stack[0] : nan;
}

std::string_view to_string(const objective& o) noexcept {
    return o.text();
}

core::result<objective, std::string> parse_objective(std::string_view text) {
    return objective::parse(text);
}

std::string_view objective_metric(const objective& o) noexcept {
    return o.metric();
}

} // namespace quoter::research
