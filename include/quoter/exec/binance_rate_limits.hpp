// binance_rate_limits: keeps the order path inside Binance's request limits before anything is
// sent, so the venue never has to answer 429, and never turns a 429 into a 418 ban.
//
// Rules come from exchangeInfo's rateLimits (REQUEST_WEIGHT, ORDERS, RAW_REQUESTS over an
// interval). Each rule counts this engine's requests over a sliding window (core's
// window_counter: conservative, it never forgets a request early) and also trusts the venue's
// own count, which covers other programs on the same IP or account: the rateLimits array of
// WebSocket API answers and the X-MBX-USED-WEIGHT-1M / X-MBX-ORDER-COUNT-10S / -1M headers of REST
// answers raise a floor that holds until the end of the venue's current interval (intervals are
// aligned to the clock) and grows with every request sent meanwhile.
//
// Priorities. New orders and queries may use a rule only up to its limit minus
// cancel_reserve_pct percent; cancels and kills may use it to the limit, so a kill always goes out
// even when quoting has used everything it may. ORDERS rules count new orders only.
// Backoff. A 429 stops every request until the venue's retryAfter (or an exponential backoff
// from backoff_initial to backoff_max when it gives none): Binance bans (418) an IP that keeps
// sending after a request-weight 429, so by default kills wait too (the gateway sends them at
// retryAfter); kill_interval > 0 lets one kill per interval through meanwhile. A 429 of the
// unfilled-order count (-1015) stops new orders only: that count is kept per account and only new
// orders add to it, so cancels, kills and queries go on within the weight rules, and a stop or a
// kill is not held back while the account's order window is full. A 418 stops everything, kills
// included, until its retryAfter (backoff_max when none). The next successful answer resets the
// backoff.
//
// Pure logic on injected time (nanoseconds since the Unix epoch, exchange-time estimate): no
// clock reads, no allocation, no I/O. Thread ownership: the thread that sends (gateway I/O).
#pragma once

#include "quoter/core/time.hpp"
#include "quoter/core/window_counter.hpp"
#include "quoter/exec/binance_answer.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace quoter::exec {

enum class rate_limit_type : std::uint8_t {
    request_weight, ///< REQUEST_WEIGHT: sum of request weights.
    orders,         ///< ORDERS: new orders only.
    raw_requests,   ///< RAW_REQUESTS: one per request, whatever its weight.
};

/// One exchangeInfo rateLimits entry.
struct rate_limit_rule {
    rate_limit_type type = rate_limit_type::request_weight;
    core::duration_ns interval_ns = 60 * core::ns_per_s;
    std::int64_t limit = 0;
};

/// Parses exchangeInfo's (or a WebSocket API answer's) rateLimits array from a whole JSON
/// document into out; returns how many rules were written, or -1 when the text is not JSON with
/// a rateLimits array. Start-up only: allocates a parser.
[[nodiscard]] int parse_rate_limit_rules(std::string_view json, std::span<rate_limit_rule> out);

/// What a request is, for the limiter's priorities.
enum class request_class : std::uint8_t {
    new_order, ///< order.place, cancelReplace, POST /fapi/v1/order: weight and ORDERS.
    query,     ///< status, open orders, account, listenKey, countdown: weight only.
    cancel,    ///< order.cancel, DELETE /fapi/v1/order: may use the cancel reserve.
    kill,      ///< cancel-all on a kill: as cancel, and passes a 429 backoff (rarely).
};

enum class admit_result : std::uint8_t {
    ok,          ///< Counted; send it now.
    over_limit,  ///< Sending would break a rule (or eat the cancel reserve); try later.
    backing_off, ///< After a 429: nothing but a rare kill until resume_at() (new orders
                 ///< until orders_resume_at() after an unfilled-order-count 429).
    banned,      ///< After a 418: nothing at all until resume_at().
};

[[nodiscard]] std::string_view describe(admit_result result) noexcept;

struct rate_limiter_config {
    /// Share of every rule kept for cancels and kills, in percent of its limit.
    std::int64_t cancel_reserve_pct = 10;
    core::duration_ns backoff_initial = 1 * core::ns_per_s;
    core::duration_ns backoff_max = 60 * core::ns_per_s;
    /// Minimum spacing of kills during a 429 backoff; 0 (the default): no kill goes out before
    /// the venue's retryAfter, since any request then risks a 418 ban.
    core::duration_ns kill_interval = 0;
};

class order_rate_limiter {
public:
    static constexpr std::size_t max_rules = 6;

    explicit order_rate_limiter(rate_limiter_config config = {}) noexcept : config_(config) {}

    /// Adds a rule (start-up, from exchangeInfo). False when full or the rule is not usable.
    bool add_rule(const rate_limit_rule& rule) noexcept;
    [[nodiscard]] std::size_t rule_count() const noexcept { return count_; }

    /// Counts the request and returns ok when it may be sent now; counts nothing otherwise.
    /// weight: the request's REQUEST_WEIGHT from Binance's documentation.
    [[nodiscard]] admit_result try_send(request_class kind, std::uint32_t weight,
                                        core::timestamp_ns now) noexcept;

    /// The venue's own counters from an answer (rate_usage fields of -1 are ignored).
    /// venue_offset: the venue's clock minus now's (the measured server-time offset), since the
    /// venue's intervals are aligned to its clock, not ours.
    void on_usage(const rate_usage& usage, core::timestamp_ns now,
                  core::duration_ns venue_offset = 0) noexcept;

    /// Binance's error code of a 429 that refused a new order for the account's unfilled-order
    /// count.
    static constexpr int order_count_code = -1015;

    /// The outcome of an answer: 429 and 418 stop sending (a 429 with order_count_code new
    /// orders only); any other answer ends the backoff escalation. retry_after_ms: epoch
    /// milliseconds from the answer, 0 when none; code: the answer's Binance error code.
    void on_outcome(answer_outcome outcome, std::int64_t retry_after_ms, core::timestamp_ns now,
                    int code = 0) noexcept;

    /// A new order refused for the unfilled-order count inside an answer whose own outcome
    /// says nothing of it (the new half of a cancelReplace): new orders stop as after a 429
    /// -1015 without retryAfter.
    void on_order_count_refusal(core::timestamp_ns now) noexcept;

    /// When sending may resume after a 429 or 418 (0 when not stopped).
    [[nodiscard]] core::timestamp_ns resume_at() const noexcept { return resume_at_; }
    /// When new orders may resume after an unfilled-order-count 429 (0 when never stopped).
    [[nodiscard]] core::timestamp_ns orders_resume_at() const noexcept { return orders_resume_at_; }
    [[nodiscard]] bool banned() const noexcept { return banned_; }

    /// What rule i counts at now: the larger of the local count and the venue's floor.
    [[nodiscard]] std::int64_t used(std::size_t rule, core::timestamp_ns now) noexcept;

private:
    struct rule_state {
        rate_limit_rule rule;
        core::window_counter<60> local;
        std::int64_t floor = 0;             ///< Venue-reported count, grown by our sends.
        core::timestamp_ns floor_until = 0; ///< End of the venue interval the floor is for.
    };

    [[nodiscard]] static bool counts(const rule_state& state, request_class kind) noexcept;
    [[nodiscard]] static std::int64_t cost(const rule_state& state, std::uint32_t weight) noexcept;
    /// The next step of the backoff escalation (after a 429 without retryAfter).
    [[nodiscard]] core::duration_ns escalate() noexcept;
    void set_floor(rate_limit_type type, core::duration_ns interval, std::int64_t count,
                   core::timestamp_ns now, core::duration_ns venue_offset) noexcept;

    rate_limiter_config config_;
    std::array<rule_state, max_rules> rules_{};
    std::size_t count_ = 0;
    core::timestamp_ns resume_at_ = 0;
    core::timestamp_ns orders_resume_at_ = 0;
    core::timestamp_ns last_kill_ = 0;
    core::duration_ns next_backoff_ = 0;
    bool banned_ = false;
};

} // namespace quoter::exec
