#include "quoter/exec/binance_rate_limits.hpp"

#include "exec/binance_json.hpp"

#include <algorithm>

namespace quoter::exec {
namespace {

[[nodiscard]] core::duration_ns interval_unit(std::string_view interval) noexcept {
    if (interval == "SECOND") {
        return core::ns_per_s;
    }
    if (interval == "MINUTE") {
        return 60 * core::ns_per_s;
    }
    if (interval == "HOUR") {
        return 3600 * core::ns_per_s;
    }
    if (interval == "DAY") {
        return 86'400 * core::ns_per_s;
    }
    return 0;
}

} // namespace

std::string_view describe(admit_result result) noexcept {
    switch (result) {
    case admit_result::ok:
        return "ok";
    case admit_result::over_limit:
        return "over the venue's request limits";
    case admit_result::backing_off:
        return "backing off after HTTP 429";
    case admit_result::banned:
        return "stopped after HTTP 418 until the ban lifts";
    }
    return "unknown";
}

int parse_rate_limit_rules(std::string_view json, std::span<rate_limit_rule> out) {
    detail::json_reader reader(json.size());
    detail::dom::object root;
    if (reader.parse(json).get(root) != simdjson::SUCCESS) {
        return -1;
    }
    detail::dom::array limits;
    detail::dom::object result;
    if (root.at_key("rateLimits").get(limits) != simdjson::SUCCESS &&
        (root.at_key("result").get(result) != simdjson::SUCCESS ||
         result.at_key("rateLimits").get(limits) != simdjson::SUCCESS)) {
        return -1;
    }
    int written = 0;
    for (const detail::dom::element item : limits) {
        detail::dom::object object;
        if (item.get(object) != simdjson::SUCCESS) {
            continue;
        }
        detail::field_reader fields(object);
        const std::string_view type = fields.text("rateLimitType");
        const core::duration_ns unit = interval_unit(fields.text("interval"));
        const std::int64_t number = fields.integer("intervalNum");
        const std::int64_t limit = fields.integer("limit");
        if (!fields.ok || unit == 0 || number <= 0 || limit <= 0 ||
            static_cast<std::size_t>(written) == out.size()) {
            continue;
        }
        rate_limit_rule rule;
        if (type == "REQUEST_WEIGHT") {
            rule.type = rate_limit_type::request_weight;
        } else if (type == "ORDERS") {
            rule.type = rate_limit_type::orders;
        } else if (type == "RAW_REQUESTS") {
            rule.type = rate_limit_type::raw_requests;
        } else {
            continue;
        }
        rule.interval_ns = unit * number;
        rule.limit = limit;
        out[static_cast<std::size_t>(written++)] = rule;
    }
    return written;
}

bool order_rate_limiter::add_rule(const rate_limit_rule& rule) noexcept {
    if (count_ == max_rules || rule.limit <= 0 || rule.interval_ns <= 0) {
        return false;
    }
    rules_[count_++] = rule_state{rule, core::window_counter<60>(rule.interval_ns), 0, 0};
    return true;
}

bool order_rate_limiter::counts(const rule_state& state, request_class kind) noexcept {
    return state.rule.type != rate_limit_type::orders || kind == request_class::new_order;
}

std::int64_t order_rate_limiter::cost(const rule_state& state, std::uint32_t weight) noexcept {
    return state.rule.type == rate_limit_type::request_weight ? std::int64_t{weight} : 1;
}

std::int64_t order_rate_limiter::used(std::size_t rule, core::timestamp_ns now) noexcept {
    rule_state& state = rules_[rule];
    const auto local = static_cast<std::int64_t>(state.local.count(now));
    return now < state.floor_until ? std::max(local, state.floor) : local;
}

admit_result order_rate_limiter::try_send(request_class kind, std::uint32_t weight,
                                          core::timestamp_ns now) noexcept {
    if (banned_) {
        if (now < resume_at_) {
            return admit_result::banned;
        }
        banned_ = false;
    }
    if (kind == request_class::new_order && now < orders_resume_at_) {
        return admit_result::backing_off;
    }
    bool kill_in_backoff = false;
    if (now < resume_at_) {
        kill_in_backoff = kind == request_class::kill && config_.kill_interval > 0 &&
                          (last_kill_ == 0 || now - last_kill_ >= config_.kill_interval);
        if (!kill_in_backoff) {
            return admit_result::backing_off;
        }
    }
    const bool may_use_reserve = kind == request_class::cancel || kind == request_class::kill;
    for (std::size_t i = 0; i < count_; ++i) {
        const rule_state& state = rules_[i];
        if (!counts(state, kind)) {
            continue;
        }
        const std::int64_t reserve =
            may_use_reserve ? 0 : state.rule.limit * config_.cancel_reserve_pct / 100;
        if (used(i, now) + cost(state, weight) > state.rule.limit - reserve) {
            return admit_result::over_limit;
        }
    }
    for (std::size_t i = 0; i < count_; ++i) {
        rule_state& state = rules_[i];
        if (!counts(state, kind)) {
            continue;
        }
        const std::int64_t amount = cost(state, weight);
        state.local.add(now, static_cast<std::uint32_t>(amount));
        if (now < state.floor_until) {
            state.floor += amount;
        }
    }
    if (kill_in_backoff) {
        last_kill_ = now;
    }
    return admit_result::ok;
}

void order_rate_limiter::set_floor(rate_limit_type type, core::duration_ns interval,
                                   std::int64_t count, core::timestamp_ns now,
                                   core::duration_ns venue_offset) noexcept {
    if (count < 0) {
        return;
    }
    for (std::size_t i = 0; i < count_; ++i) {
        rule_state& state = rules_[i];
        if (state.rule.type != type || state.rule.interval_ns != interval) {
            continue;
        }
        // The venue counts in intervals aligned to its clock; its count holds until the end of
        // the current one (in our clock). Requests still in flight are not in it yet, so an
        // earlier, larger floor of the same interval is kept.
        const core::timestamp_ns venue_now = now + venue_offset;
        const core::timestamp_ns until = venue_now - venue_now % interval + interval - venue_offset;
        if (now < state.floor_until && state.floor_until == until) {
            state.floor = std::max(state.floor, count);
        } else {
            state.floor = count;
            state.floor_until = until;
        }
    }
}

void order_rate_limiter::on_usage(const rate_usage& usage, core::timestamp_ns now,
                                  core::duration_ns venue_offset) noexcept {
    set_floor(rate_limit_type::request_weight, 60 * core::ns_per_s, usage.weight_1m, now,
              venue_offset);
    set_floor(rate_limit_type::orders, 10 * core::ns_per_s, usage.orders_10s, now, venue_offset);
    set_floor(rate_limit_type::orders, 60 * core::ns_per_s, usage.orders_1m, now, venue_offset);
    set_floor(rate_limit_type::orders, 86'400 * core::ns_per_s, usage.orders_1d, now, venue_offset);
}

core::duration_ns order_rate_limiter::escalate() noexcept {
    next_backoff_ = next_backoff_ == 0 ? config_.backoff_initial
                                       : std::min(next_backoff_ * 2, config_.backoff_max);
    return next_backoff_;
}

void order_rate_limiter::on_order_count_refusal(core::timestamp_ns now) noexcept {
    orders_resume_at_ = std::max(orders_resume_at_, now + escalate());
}

void order_rate_limiter::on_outcome(answer_outcome outcome, std::int64_t retry_after_ms,
                                    core::timestamp_ns now, int code) noexcept {
    const core::timestamp_ns retry_at =
        retry_after_ms > 0 ? retry_after_ms * core::ns_per_ms : core::timestamp_ns{0};
    switch (outcome) {
    case answer_outcome::retry_after: {
        const core::duration_ns backoff = escalate();
        const core::timestamp_ns until = retry_at > now ? retry_at : now + backoff;
        if (code == order_count_code) {
            orders_resume_at_ = std::max(orders_resume_at_, until);
        } else {
            resume_at_ = std::max(resume_at_, until);
        }
        return;
    }
    case answer_outcome::banned: {
        banned_ = true;
        next_backoff_ = config_.backoff_max;
        const core::timestamp_ns until = retry_at > now ? retry_at : now + config_.backoff_max;
        resume_at_ = std::max(resume_at_, until);
        return;
    }
    case answer_outcome::unknown:
    case answer_outcome::malformed:
        return; // says nothing about the limits
    default:
        // The venue processed a request: the escalation starts again from the first step, but a
        // pause already ordered still runs to its end.
        next_backoff_ = 0;
        return;
    }
}

} // namespace quoter::exec
