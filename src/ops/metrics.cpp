// The metrics registry and its Prometheus text exposition writer (format 0.0.4):
//   # HELP name help-text        (backslash and newline escaped)
//   # TYPE name counter|gauge|histogram
//   name{label="value",...} value
// Counters of time count ns and write seconds. Histograms write cumulative name_bucket{le="..."}
// samples ending with le="+Inf", then name_sum (seconds) and name_count.
#include "quoter/ops/metrics.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <stdexcept>

namespace quoter::ops {

std::string_view to_string(metric_type type) noexcept {
    switch (type) {
    case metric_type::counter:
        return "counter";
    case metric_type::gauge:
        return "gauge";
    case metric_type::histogram:
        return "histogram";
    }
    return "untyped";
}

namespace {

[[nodiscard]] bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
[[nodiscard]] bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (quote && c == '"') {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

/// Prometheus floats: Go's ParseFloat syntax, with +Inf, -Inf and NaN spelled that way.
void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", value);
    }
}

// Dividing (rather than multiplying by 1e-9) rounds once, so 1000 ns prints as 1e-06.
constexpr double ns_per_second = 1e9;

constexpr std::array<core::duration_ns, 19> latency_buckets{
    1'000,      2'500,       5'000,       10'000,      25'000,        50'000,     100'000,
    250'000,    500'000,     1'000'000,   2'500'000,   5'000'000,     10'000'000, 25'000'000,
    50'000'000, 100'000'000, 250'000'000, 500'000'000, 1'000'000'000,
};

} // namespace

bool valid_metric_name(std::string_view name) noexcept {
    if (name.empty() || !(is_alpha(name[0]) || name[0] == ':')) {
        return false;
    }
    for (const char c : name) {
        if (!is_alpha(c) && !is_digit(c) && c != ':') {
            return false;
        }
    }
    return true;
}

bool valid_label_name(std::string_view name) noexcept {
    if (name.empty() || !is_alpha(name[0]) || name.starts_with("__")) {
        return false;
    }
    for (const char c : name) {
        if (!is_alpha(c) && !is_digit(c)) {
            return false;
        }
    }
    return true;
}

std::span<const core::duration_ns> default_latency_buckets_ns() noexcept {
    return latency_buckets;
}

histogram_metric::histogram_metric(std::span<const core::duration_ns> bounds_ns) {
    if (bounds_ns.empty() || bounds_ns.size() > max_buckets) {
        throw std::invalid_argument(fmt::format("a histogram needs 1 to {} bucket bounds, got {}",
                                                max_buckets, bounds_ns.size()));
    }
    for (std::size_t i = 0; i < bounds_ns.size(); ++i) {
        if (bounds_ns[i] < 0 || (i > 0 && bounds_ns[i] <= bounds_ns[i - 1])) {
            throw std::invalid_argument("histogram bucket bounds must be non-negative and "
                                        "strictly increasing");
        }
        bounds_ns_[i] = static_cast<std::uint64_t>(bounds_ns[i]);
    }
    bucket_count_ = bounds_ns.size();
}

struct metrics_registry::series {
    std::vector<metric_label> labels;
    counter_metric counter;
    gauge_metric gauge;
    std::unique_ptr<histogram_metric> histogram;
};

struct metrics_registry::family {
    std::string name;
    std::string help;
    metric_type type = metric_type::counter;
    /// A counter of ns, written in seconds (seconds_counter).
    bool ns_in_seconds = false;
    std::vector<std::unique_ptr<series>> members;
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

metrics_registry::series& metrics_registry::add(std::string_view name, std::string_view help,
                                                metric_type type, std::vector<metric_label> labels,
                                                bool ns_in_seconds) {
    if (!valid_metric_name(name)) {
        throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", name));
    }
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (!valid_label_name(labels[i].name) ||
            (type == metric_type::histogram && labels[i].name == "le")) {
            throw std::invalid_argument(
                fmt::format("metric {}: invalid label name \"{}\"", name, labels[i].name));
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (labels[j].name == labels[i].name) {
                throw std::invalid_argument(
                    fmt::format("metric {}: label \"{}\" given twice", name, labels[i].name));
            }
        }
    }
    family* target = nullptr;
    for (const auto& f : families_) {
        if (f->name == name) {
            target = f.get();
        }
    }
    if (target == nullptr) {
        auto created = std::make_unique<family>();
        created->name = std::string(name);
        created->help = std::string(help);
        created->type = type;
        created->ns_in_seconds = ns_in_seconds;
        target = created.get();
        families_.push_back(std::move(created));
    } else if (target->type != type || target->help != help ||
               target->ns_in_seconds != ns_in_seconds) {
        throw std::invalid_argument(
            fmt::format("metric {} registered again with a different type or help", name));
    }
    for (const auto& existing : target->members) {
        bool same = existing->labels.size() == labels.size();
        for (std::size_t i = 0; same && i < labels.size(); ++i) {
            same = existing->labels[i].name == labels[i].name &&
                   existing->labels[i].value == labels[i].value;
        }
        if (same) {
            throw std::invalid_argument(
                fmt::format("metric {}: a series with these labels already exists", name));
        }
    }
    auto member = std::make_unique<series>();
    member->labels = std::move(labels);
    target->members.push_back(std::move(member));
    return *target->members.back();
}

counter_metric& metrics_registry::counter(std::string_view name, std::string_view help,
                                          std::vector<metric_label> labels) {
    return add(name, help, metric_type::counter, std::move(labels)).counter;
}

counter_metric& metrics_registry::seconds_counter(std::string_view name, std::string_view help,
                                                  std::vector<metric_label> labels) {
    return add(name, help, metric_type::counter, std::move(labels), true).counter;
}

gauge_metric& metrics_registry::gauge(std::string_view name, std::string_view help,
                                      std::vector<metric_label> labels) {
    return add(name, help, metric_type::gauge, std::move(labels)).gauge;
}

histogram_metric& metrics_registry::histogram(std::string_view name, std::string_view help,
                                              std::span<const core::duration_ns> bounds_ns,
                                              std::vector<metric_label> labels) {
    auto histogram = std::make_unique<histogram_metric>(bounds_ns);
    series& s = add(name, help, metric_type::histogram, std::move(labels));
    s.histogram = std::move(histogram);
    return *s.histogram;
}

namespace {

/// `{a="x",b="y"` plus an optional extra label, then `}`; nothing when there are no labels.
void append_labels(std::string& out, const std::vector<metric_label>& labels,
                   std::string_view extra_name = {}, std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) {
        return;
    }
    out += '{';
    bool first = true;
    const auto one = [&](std::string_view name, std::string_view value) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += name;
        out += "=\"";
        append_escaped(out, value, true);
        out += '"';
    };
    for (const auto& label : labels) {
        one(label.name, label.value);
    }
    if (!extra_name.empty()) {
        one(extra_name, extra_value);
    }
    out += '}';
}

} // namespace

void metrics_registry::write_exposition(std::string& out) const {
    for (const auto& f : families_) {
        out += "# HELP ";
        out += f->name;
        out += ' ';
        append_escaped(out, f->help, false);
        out += "\n# TYPE ";
        out += f->name;
        out += ' ';
        out += to_string(f->type);
        out += '\n';
        for (const auto& s : f->members) {
            switch (f->type) {
            case metric_type::counter:
                out += f->name;
                append_labels(out, s->labels);
                if (f->ns_in_seconds) {
                    out += ' ';
                    append_number(out, static_cast<double>(s->counter.value()) / ns_per_second);
                    out += '\n';
                } else {
                    fmt::format_to(std::back_inserter(out), " {}\n", s->counter.value());
                }
                break;
            case metric_type::gauge:
                out += f->name;
                append_labels(out, s->labels);
                out += ' ';
                append_number(out, s->gauge.value());
                out += '\n';
                break;
            case metric_type::histogram: {
                const histogram_metric& h = *s->histogram;
                // Read the buckets first and derive the count from them, so that the +Inf
                // bucket and _count always agree even while the writer is observing.
                std::uint64_t cumulative = 0;
                std::string le;
                for (std::size_t i = 0; i <= h.bucket_count(); ++i) {
                    cumulative += h.bucket(i);
                    le.clear();
                    if (i == h.bucket_count()) {
                        le = "+Inf";
                    } else {
                        append_number(le, static_cast<double>(h.bound_ns(i)) / ns_per_second);
                    }
                    out += f->name;
                    out += "_bucket";
                    append_labels(out, s->labels, "le", le);
                    fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
                }
                out += f->name;
                out += "_sum";
                append_labels(out, s->labels);
                out += ' ';
                append_number(out, static_cast<double>(h.sum_ns()) / ns_per_second);
                out += '\n';
                out += f->name;
                out += "_count";
                append_labels(out, s->labels);
                fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
                break;
            }
            }
        }
    }
}

std::vector<std::string> metrics_registry::sample_names() const {
    std::vector<std::string> names;
    for (const auto& f : families_) {
        if (f->type == metric_type::histogram) {
            names.push_back(f->name + "_bucket");
            names.push_back(f->name + "_sum");
            names.push_back(f->name + "_count");
        } else {
            names.push_back(f->name);
        }
    }
    return names;
}

} // namespace quoter::ops
