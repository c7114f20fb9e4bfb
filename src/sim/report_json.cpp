// report.json of a single run and of many paths.
#include "report_detail.hpp"

#include <array>
#include <initializer_list>
#include <utility>

namespace quoter::sim {

using namespace report_detail;

namespace {

void append_json_metric(std::string& out, const metric_row& row) {
    if (row.kind == metric_kind::count) {
        fmt::format_to(out_it(out), "{}", static_cast<std::uint64_t>(row.value));
    } else {
        append_json_number(out, row.value);
    }
}

void append_json_parameters(std::string& out, const std::vector<report_parameter>& parameters) {
    out += "  \"parameters\": {";
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        out += i == 0 ? "\n    " : ",\n    ";
        append_json_string(out, parameters[i].key);
        out += ": ";
        append_json_string(out, parameters[i].value);
    }
    out += parameters.empty() ? "},\n" : "\n  },\n";
}

void append_json_files(std::string& out, std::initializer_list<std::string_view> files) {
    out += "  \"files\": [";
    bool first = true;
    for (const auto file : files) {
        out += first ? "" : ", ";
        append_json_string(out, file);
        first = false;
    }
    out += "]\n";
}

// "annualisation_caveat": the caveat's text, or null when the run needs none.
void append_json_caveat(std::string& out, const std::string& caveat) {
    out += "  \"annualisation_caveat\": ";
    if (caveat.empty()) {
        out += "null";
    } else {
        append_json_string(out, caveat);
    }
    out += ",\n";
}

void append_json_counters(std::string& out, const std::vector<report_counter>& counters) {
    out += "  \"run_counts\": {";
    for (std::size_t i = 0; i < counters.size(); ++i) {
        out += i == 0 ? "\n    " : ",\n    ";
        append_json_string(out, counters[i].key);
        fmt::format_to(out_it(out), ": {}", counters[i].value);
    }
    out += counters.empty() ? "},\n" : "\n  },\n";
}

void append_json_provenance(std::string& out, const report_provenance& p) {
    if (p.config_file.empty() && p.version.empty() && p.generated.empty()) {
        return;
    }
    out += "  \"provenance\": {\"config_file\": ";
    append_json_string(out, p.config_file);
    out += ", \"version\": ";
    append_json_string(out, p.version);
    out += ", \"generated\": ";
    append_json_string(out, p.generated);
    out += "},\n";
}

void append_json_alerts(std::string& out, const std::vector<report_alert>& alerts) {
    out += "  \"alerts\": [";
    for (std::size_t i = 0; i < alerts.size(); ++i) {
        out += i == 0 ? "\n    {\"kind\": " : ",\n    {\"kind\": ";
        append_json_string(out, alerts[i].kind);
        fmt::format_to(out_it(out), ", \"count\": {}, \"examples\": [", alerts[i].count);
        for (std::size_t e = 0; e < alerts[i].examples.size(); ++e) {
            out += e == 0 ? "" : ", ";
            append_json_string(out, alerts[i].examples[e]);
        }
        out += "]}";
    }
    out += alerts.empty() ? "],\n" : "\n  ],\n";
}

} // namespace

std::string format_report_json(const run_report& report) {
    std::string out = "{\n  \"title\": ";
    append_json_string(out, report.title);
    out += ",\n  \"generator\": \"quoter\",\n  \"kind\": \"single_path\",\n";
    append_json_provenance(out, report.provenance);
    append_json_parameters(out, report.parameters);
    fmt::format_to(out_it(out),
                   "  \"counts\": {{\"pnl_samples\": {}, \"fills\": {}, \"orders\": {}}},\n",
                   report.pnl.size(), report.fills.size(), report.orders.size());
    out += "  \"metrics\": {";
    bool first = true;
    for (const auto& group : metric_groups(report.metrics)) {
        for (const auto& row : group.rows) {
            out += first ? "\n    " : ",\n    ";
            first = false;
            append_json_string(out, row.key);
            out += ": ";
            append_json_metric(out, row);
        }
    }
    out += "\n  },\n";
    append_json_caveat(out, needs_annualisation_caveat(report.metrics)
                                ? annualisation_caveat(report.metrics)
                                : "");
    append_json_counters(out, report.counters);
    append_json_alerts(out, report.alerts);
    append_json_files(out, {"pnl.csv", "fills.csv", "orders.csv", "report.md", "report.html"});
    out += "}\n";
    return out;
}

std::string format_multi_path_json(const multi_path_report& report) {
    std::string out = "{\n  \"title\": ";
    append_json_string(out, report.title);
    out += ",\n  \"generator\": \"quoter\",\n  \"kind\": \"multi_path\",\n";
    append_json_provenance(out, report.provenance);
    append_json_parameters(out, report.parameters);
    fmt::format_to(out_it(out), "  \"paths\": {},\n  \"aggregate\": {{", report.metrics.paths);
    const std::array<std::pair<std::string_view, const distribution_stats*>, 7> fields{{
        {"final_pnl", &report.metrics.final_pnl},
        {"final_inventory", &report.metrics.final_inventory},
        {"sharpe", &report.metrics.sharpe},
        {"max_drawdown", &report.metrics.max_drawdown},
        {"fills", &report.metrics.fills},
        {"mean_quoted_spread", &report.metrics.mean_quoted_spread},
        {"rate_held_pct", &report.metrics.rate_held_pct},
    }};
    bool first = true;
    for (const auto& [name, s] : fields) {
        if (s == &report.metrics.mean_quoted_spread && s->count == 0) {
            continue; // not measured by this run
        }
        out += first ? "\n    " : ",\n    ";
        first = false;
        append_json_string(out, name);
        fmt::format_to(out_it(out), ": {{\"count\": {}", s->count);
        const std::array<std::pair<std::string_view, double>, 7> values{{{"mean", s->mean},
                                                                         {"stddev", s->stddev},
                                                                         {"min", s->min},
                                                                         {"p05", s->p05},
                                                                         {"median", s->median},
                                                                         {"p95", s->p95},
                                                                         {"max", s->max}}};
        for (const auto& [key, value] : values) {
            fmt::format_to(out_it(out), ", \"{}\": ", key);
            append_json_number(out, value);
        }
        out += "}";
    }
    out += "\n  },\n";
    append_json_caveat(out, paths_annualisation_caveat(report.path_duration_s));
    append_json_counters(out, report.counters);
    append_json_alerts(out, report.alerts);
    append_json_files(out, {"paths.csv", "report.md", "report.html"});
    out += "}\n";
    return out;
}

} // namespace quoter::sim
