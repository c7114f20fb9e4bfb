// Trial rows, the results file, merging and ranking.
#include "quoter/research/results.hpp"

#include "quoter/core/quoted_string.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace quoter::research {
namespace {

constexpr std::string_view format_name = "quoter-sweep-results-1";

double as_double(std::uint64_t value) {
    return static_cast<double>(value);
}

double pnl_to_drawdown(const sim::run_metrics& m) {
    return m.max_drawdown > 0.0 ? m.total_pnl / m.max_drawdown
                                : std::numeric_limits<double>::quiet_NaN();
}

// clang-format off
constexpr std::array metrics{
    metric_def{"total_pnl", "PnL", [](const sim::run_metrics& m) { return m.total_pnl; }},
    metric_def{"total_return_pct", "return %", [](const sim::run_metrics& m) { return m.total_return_pct; }},
    metric_def{"sharpe", "Sharpe", [](const sim::run_metrics& m) { return m.sharpe; }},
    metric_def{"sortino", "Sortino", [](const sim::run_metrics& m) { return m.sortino; }},
    metric_def{"calmar", "Calmar", [](const sim::run_metrics& m) { return m.calmar; }},
    metric_def{"annualized_volatility_pct", "volatility % a year", [](const sim::run_metrics& m) { return m.annualized_volatility_pct; }},
    metric_def{"max_drawdown", "max drawdown", [](const sim::run_metrics& m) { return m.max_drawdown; }},
    metric_def{"max_drawdown_pct", "max drawdown %", [](const sim::run_metrics& m) { return m.max_drawdown_pct; }},
    metric_def{"pnl_to_drawdown", "PnL / max drawdown", &pnl_to_drawdown},
    metric_def{"fills", "fills", [](const sim::run_metrics& m) { return as_double(m.fills); }},
    metric_def{"buy_fills", "buy fills", [](const sim::run_metrics& m) { return as_double(m.buy_fills); }},
    metric_def{"sell_fills", "sell fills", [](const sim::run_metrics& m) { return as_double(m.sell_fills); }},
    metric_def{"win_rate_pct", "win rate %", [](const sim::run_metrics& m) { return m.win_rate_pct; }},
    metric_def{"profit_factor", "profit factor", [](const sim::run_metrics& m) { return m.profit_factor; }},
    metric_def{"fill_ratio", "fill ratio", [](const sim::run_metrics& m) { return m.fill_ratio; }},
    metric_def{"cancel_to_trade", "cancel/trade", [](const sim::run_metrics& m) { return m.cancel_to_trade; }},
    metric_def{"orders_submitted", "orders", [](const sim::run_metrics& m) { return as_double(m.orders_submitted); }},
    metric_def{"cancels", "cancels", [](const sim::run_metrics& m) { return as_double(m.cancels); }},
    metric_def{"rejects", "rejects", [](const sim::run_metrics& m) { return as_double(m.rejects); }},
    metric_def{"spread_capture_pnl", "spread capture", [](const sim::run_metrics& m) { return m.spread_capture_pnl; }},
    metric_def{"inventory_pnl", "inventory PnL", [](const sim::run_metrics& m) { return m.inventory_pnl; }},
    metric_def{"adverse_selection_1s", "adverse selection 1 s", [](const sim::run_metrics& m) { return m.adverse_selection_1s; }},
    metric_def{"adverse_selection_10s", "adverse selection 10 s", [](const sim::run_metrics& m) { return m.adverse_selection_10s; }},
    metric_def{"adverse_selection_60s", "adverse selection 60 s", [](const sim::run_metrics& m) { return m.adverse_selection_60s; }},
    metric_def{"mean_quoted_spread", "mean quoted spread", [](const sim::run_metrics& m) { return m.mean_quoted_spread; }},
    metric_def{"net_fees", "net fees", [](const sim::run_metrics& m) { return m.net_fees; }},
    metric_def{"volume_base", "volume (base)", [](const sim::run_metrics& m) { return m.volume_base; }},
    metric_def{"turnover", "turnover", [](const sim::run_metrics& m) { return m.turnover; }},
    metric_def{"final_inventory", "final inventory", [](const sim::run_metrics& m) { return m.final_inventory; }},
    metric_def{"mean_abs_inventory", "mean |inventory|", [](const sim::run_metrics& m) { return m.mean_abs_inventory; }},
    metric_def{"max_abs_inventory", "max |inventory|", [](const sim::run_metrics& m) { return m.max_abs_inventory; }},
    metric_def{"time_at_soft_limit_pct", "time at soft limit %", [](const sim::run_metrics& m) { return m.time_at_soft_limit_pct; }},
    metric_def{"time_at_hard_limit_pct", "time at hard limit %", [](const sim::run_metrics& m) { return m.time_at_hard_limit_pct; }},
    metric_def{"rate_holds", "order-rate holds", [](const sim::run_metrics& m) { return as_double(m.rate_holds); }},
    metric_def{"rate_held_pct", "time held by order rates %", [](const sim::run_metrics& m) { return m.rate_held_pct; }},
};
// clang-format on

std::string number_json(double value) {
    if (std::isnan(value)) {
        return "null";
    }
    if (std::isinf(value)) {
        return value > 0 ? "\"inf\"" : "\"-inf\"";
    }
    return fmt::format("{:.17g}", value);
}

std::string string_json(std::string_view text) {
    std::string out;
    core::append_quoted(out, text);
    return out;
}

std::array<double, 8> stats_values(const sim::distribution_stats& s) {
    return {static_cast<double>(s.count), s.mean, s.stddev, s.min, s.p05, s.median, s.p95, s.max};
}

std::optional<double> read_number(simdjson::dom::element element) {
    if (element.is_null()) {
        return std::numeric_limits<double>::quiet_NaN();
    }
    std::string_view text;
    if (element.get(text) == simdjson::SUCCESS) {
        if (text == "inf") {
            return std::numeric_limits<double>::infinity();
        }
        if (text == "-inf") {
            return -std::numeric_limits<double>::infinity();
        }
        return std::nullopt;
    }
    double value = 0.0;
    if (element.get(value) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::string> read_text(simdjson::dom::object object, std::string_view key) {
    std::string_view text;
    if (object.at_key(key).get(text) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return std::string(text);
}

std::optional<std::uint64_t> read_count(simdjson::dom::object object, std::string_view key) {
    std::uint64_t value = 0;
    if (object.at_key(key).get(value) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return value;
}

std::optional<results_header> parse_header(simdjson::dom::object object) {
    results_header header;
    const auto format = read_text(object, "format");
    const auto print = read_text(object, "fingerprint");
    const auto goal = read_text(object, "objective");
    const auto total = read_count(object, "trials");
    const auto units = read_count(object, "units");
    const auto unit_names = read_text(object, "unit_names");
    const auto name = read_text(object, "config_name");
    const auto text = read_text(object, "config_text");
    const auto profile = read_text(object, "profile");
    bool grid_only = false;
    simdjson::dom::array keys;
    if (!format || *format != format_name || !print || !goal || !total || !units || !unit_names ||
        !name || !text || !profile ||
        object.at_key("grid_only").get(grid_only) != simdjson::SUCCESS ||
        object.at_key("keys").get(keys) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    const auto parsed_goal = parse_objective(*goal);
    if (!parsed_goal) {
        return std::nullopt;
    }
    header.fingerprint = *print;
    header.goal = *parsed_goal;
    header.total_trials = *total;
    header.units = *units;
    header.unit_names = *unit_names;
    header.config_name = *name;
    header.config_text = *text;
    header.profile = *profile;
    header.grid_only = grid_only;
    for (const auto key : keys) {
        std::string_view k;
        if (key.get(k) != simdjson::SUCCESS) {
            return std::nullopt;
        }
        header.keys.emplace_back(k);
    }
    return header;
}

std::optional<trial_row> parse_row(simdjson::dom::object object) {
    trial_row row;
    const auto index = read_count(object, "trial");
    const auto units = read_count(object, "units");
    simdjson::dom::array params;
    simdjson::dom::object stats;
    if (!index || !units || object.at_key("params").get(params) != simdjson::SUCCESS ||
        object.at_key("stats").get(stats) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    row.index = *index;
    row.units = *units;
    for (const auto pair : params) {
        simdjson::dom::array kv;
        std::string_view key;
        std::string_view value;
        if (pair.get(kv) != simdjson::SUCCESS || kv.size() != 2 ||
            kv.at(0).get(key) != simdjson::SUCCESS || kv.at(1).get(value) != simdjson::SUCCESS) {
            return std::nullopt;
        }
        row.parameters.push_back({std::string(key), std::string(value)});
    }
    row.stats.resize(metrics.size());
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        simdjson::dom::element element;
        if (stats.at_key(metrics[m].name).get(element) == simdjson::NO_SUCH_FIELD) {
            // A metric added since the row was written: not measured (no values).
            row.stats[m] = sim::describe_distribution({});
            continue;
        }
        simdjson::dom::array values;
        if (element.get(values) != simdjson::SUCCESS || values.size() != 8) {
            return std::nullopt;
        }
        std::array<double, 8> v{};
        for (std::size_t i = 0; i < 8; ++i) {
            const auto number = read_number(values.at(i).value_unsafe());
            if (!number) {
                return std::nullopt;
            }
            v[i] = *number;
        }
        row.stats[m] = {static_cast<std::size_t>(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
    }
    return row;
}

} // namespace

std::span<const metric_def> metric_defs() noexcept {
    return metrics;
}

std::size_t metric_index(std::string_view name) noexcept {
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        if (metrics[i].name == name) {
            return i;
        }
    }
    return metrics.size();
}

trial_row summarize_trial(const trial& t, std::span<const sim::run_metrics> units) {
    trial_row row;
    row.index = t.index;
    row.parameters = t.parameters;
    row.units = units.size();
    std::vector<double> values(units.size());
    for (const auto& def : metrics) {
        for (std::size_t u = 0; u < units.size(); ++u) {
            values[u] = def.read(units[u]);
        }
        row.stats.push_back(sim::describe_distribution(values));
    }
    return row;
}

std::string row_json(const trial_row& row) {
    std::string out = fmt::format("{{\"trial\":{},\"units\":{},\"params\":[", row.index, row.units);
    for (std::size_t i = 0; i < row.parameters.size(); ++i) {
        out += fmt::format("{}[{},{}]", i == 0 ? "" : ",", string_json(row.parameters[i].key),
                           string_json(row.parameters[i].value));
    }
    out += "],\"stats\":{";
    for (std::size_t m = 0; m < metrics.size() && m < row.stats.size(); ++m) {
        const auto v = stats_values(row.stats[m]);
        out += fmt::format("{}\"{}\":[", m == 0 ? "" : ",", metrics[m].name);
        for (std::size_t i = 0; i < v.size(); ++i) {
            out += i == 0 ? "" : ",";
            out += number_json(v[i]);
        }
        out += ']';
    }
    return out + "}}";
}

std::string header_json(const results_header& h) {
    std::string keys;
    for (std::size_t i = 0; i < h.keys.size(); ++i) {
        keys += i == 0 ? "" : ",";
        keys += string_json(h.keys[i]);
    }
    return fmt::format("{{\"format\":\"{}\",\"fingerprint\":{},\"objective\":{},\"keys\":[{}],"
                       "\"trials\":{},\"units\":{},\"unit_names\":{},\"grid_only\":{},"
                       "\"config_name\":{},\"profile\":{},\"config_text\":{}}}",
                       format_name, string_json(h.fingerprint), string_json(to_string(h.goal)),
                       keys, h.total_trials, h.units, string_json(h.unit_names),
                       h.grid_only ? "true" : "false", string_json(h.config_name),
                       string_json(h.profile), string_json(h.config_text));
}

core::result<results_file, std::string> read_results(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        return core::unexpected{fmt::format("{}: cannot be read", file.string())};
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    results_file out;
    simdjson::dom::parser parser;
    std::size_t start = 0;
    std::size_t line_number = 0;
    std::map<std::size_t, trial_row> rows;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        if (end == std::string::npos) {
            break; // an unfinished last line: the run stopped while writing it
        }
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        simdjson::dom::object object;
        if (parser.parse(line).get(object) != simdjson::SUCCESS) {
            return core::unexpected{
                fmt::format("{}:{}: not a results line", file.string(), line_number)};
        }
        if (line_number == 1) {
            auto header = parse_header(object);
            if (!header) {
                return core::unexpected{
                    fmt::format("{}: not a quoter sweep results file (or from another version)",
                                file.string())};
            }
            out.header = std::move(*header);
            continue;
        }
        auto row = parse_row(object);
        if (!row) {
            return core::unexpected{
                fmt::format("{}:{}: malformed trial row", file.string(), line_number)};
        }
        rows.insert_or_assign(row->index, std::move(*row));
    }
    if (line_number == 0) {
        return core::unexpected{fmt::format("{}: empty results file", file.string())};
    }
    for (auto& [index, row] : rows) {
        out.rows.push_back(std::move(row));
    }
    return out;
}

core::result<results_writer, std::string>
results_writer::open(const std::filesystem::path& file, const results_header& header, bool append) {
    std::FILE* handle = std::fopen(file.c_str(), append ? "a" : "w");
    if (handle == nullptr) {
        return core::unexpected{fmt::format("{}: cannot be written", file.string())};
    }
    if (!append) {
        const std::string line = header_json(header) + '\n';
        if (std::fwrite(line.data(), 1, line.size(), handle) != line.size() ||
            std::fflush(handle) != 0) {
            std::fclose(handle);
            return core::unexpected{fmt::format("{}: cannot be written", file.string())};
        }
    }
    return results_writer(handle);
}

results_writer::~results_writer() {
    if (file_ != nullptr) {
        std::fclose(file_);
    }
}

bool results_writer::append(const trial_row& row) {
    if (file_ == nullptr) {
        return false;
    }
    const std::string line = row_json(row) + '\n';
    return std::fwrite(line.data(), 1, line.size(), file_) == line.size() &&
           std::fflush(file_) == 0;
}

core::result<results_file, std::string> merge_results(std::span<const results_file> parts) {
    if (parts.empty()) {
        return core::unexpected{std::string("nothing to merge")};
    }
    results_file out;
    out.header = parts.front().header;
    std::map<std::size_t, const trial_row*> rows;
    for (const auto& part : parts) {
        if (part.header.fingerprint != out.header.fingerprint || !(part.header == out.header)) {
            return core::unexpected{fmt::format(
                "the results come from different sweeps (fingerprints {} and {}): a merge needs "
                "the same configuration, swept keys, paths, seed and objective",
                out.header.fingerprint, part.header.fingerprint)};
        }
        for (const auto& row : part.rows) {
            const auto [it, fresh] = rows.emplace(row.index, &row);
            if (!fresh && row_json(*it->second) != row_json(row)) {
                return core::unexpected{
                    fmt::format("trial {} has different results in two files", row.index)};
            }
        }
    }
    for (const auto& [index, row] : rows) {
        out.rows.push_back(*row);
    }
    return out;
}

std::vector<std::size_t> rank(const results_file& results) {
    std::vector<std::size_t> order(results.rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    const auto score = [&](std::size_t i) {
        return results.header.goal.value(results.rows[i].stats);
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const double x = score(a);
        const double y = score(b);
        if (std::isnan(x) || std::isnan(y)) {
            return !std::isnan(x) && std::isnan(y);
        }
        return x > y;
    });
    return order;
}

} // namespace quoter::research
