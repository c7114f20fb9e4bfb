// futures_api: the USD-M futures order endpoints of quoter-venue (REST under /fapi) with the
// listenKey user-data stream and the countdownCancelAll dead-man's switch.
//
// Endpoints: POST /fapi/v1/order (LIMIT with timeInForce GTC, IOC, FOK or GTX; reduceOnly),
// DELETE /fapi/v1/order, DELETE /fapi/v1/allOpenOrders, GET /fapi/v1/order, GET
// /fapi/v1/openOrders, GET /fapi/v1/userTrades, GET /fapi/v2/account,
// POST /fapi/v1/countdownCancelAll (signed) and
// POST / PUT / DELETE /fapi/v1/listenKey (API key only). Signed requests are checked as Binance
// checks them: the X-MBX-APIKEY header is the configured key (401, -2015), `signature` is the
// HMAC-SHA256 of the query string (without the signature) followed by the body (400, -1022),
// `timestamp` lies within `recvWindow` (400, -1021), mandatory parameters are present (400,
// -1102).
//
// Matching is the project's simulated exchange with zero latency against the venue's own book,
// as for the spot WebSocket API: a GTX order that would take is refused (-5022), a reduce-only
// order that would not reduce the position is refused (-2022), resting orders fill as the book
// moves through them. Every change of an order becomes an ORDER_TRADE_UPDATE, every fill also an
// ACCOUNT_UPDATE with the symbol's position, for the sessions on the active listenKey.
//
// The countdown: a countdownCancelAll with countdownTime > 0 arms the symbol's timer (0 disarms);
// tick() cancels every open order of a symbol whose timer ran out, as Binance does when a client
// stops sending its heartbeat.
//
// Faults: expire_listen_key() (the stream gets listenKeyExpired, the key is gone: keep-alives
// answer -1125); silence (requests are neither executed nor answered); answers dropped or
// answered 503 -1006 after executing.
//
// Not thread-safe: one instance on the venue's io_loop thread.
#pragma once

#include "account_balances.hpp"
#include "market.hpp"
#include "order_api.hpp"
#include "request_checks.hpp"

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace quoter::venue {

struct futures_api_stats {
    std::uint64_t requests = 0;
    std::uint64_t signature_failures = 0;
    std::uint64_t orders_placed = 0;
    std::uint64_t orders_rejected = 0;
    std::uint64_t orders_cancelled = 0;
    std::uint64_t trades = 0;
    std::uint64_t user_events = 0;
    std::uint64_t listen_keys_created = 0;
    std::uint64_t listen_keys_expired = 0;
    std::uint64_t listen_keys_lost = 0; ///< Forgotten by the listen_key_lose fault.
    std::uint64_t keepalives = 0;
    std::uint64_t heartbeats = 0;        ///< countdownCancelAll requests accepted.
    std::uint64_t countdown_cancels = 0; ///< Orders cancelled because a countdown ran out.
    std::uint64_t silenced = 0;          ///< Requests swallowed by the silence fault.
    std::uint64_t answers_dropped = 0;
    std::uint64_t answers_delayed = 0;        ///< Placement answers held back by the delay fault.
    std::uint64_t status_answers_delayed = 0; ///< Order query answers held back by the fault.
    std::uint64_t trade_events_garbled = 0;   ///< TRADE events sent unreadable by the fault.
    std::uint64_t failed_after_execute = 0;
    std::uint64_t cancel_alls_lost = 0; ///< Cancel-alls the lose fault swallowed.
    std::uint64_t orders_late = 0;      ///< Placements held by the late-execution fault.
    /// Of those, refused when they reached the matching engine: their recvWindow had passed.
    std::uint64_t late_orders_expired = 0;
    std::uint64_t answers_429 = 0; ///< Requests answered 429 (rate limit fault).
    /// Requests answered 429 because the venue's own counts were full: -1003 (request weight),
    /// -1015 (orders); not executed.
    std::uint64_t weight_limit_answers = 0;
    std::uint64_t order_limit_answers = 0;
    std::uint64_t answers_418 = 0; ///< Requests answered 418 (banned).
    /// Requests that arrived after a 429 and before its Retry-After: each one earns a ban.
    std::uint64_t requests_in_backoff = 0;
    std::uint64_t clock_rejects = 0; ///< Signed requests refused -1021.
    std::uint64_t account_reads = 0; ///< GET /fapi/v2/account requests answered.
    std::uint64_t trade_lists = 0;   ///< GET /fapi/v1/userTrades requests answered.
};

/// The answer to one REST request. withheld: send nothing (silence or a dropped answer).
struct futures_answer {
    int status = 200;
    std::string body;
    bool withheld = false;
    /// Sent this many ms late (the delay fault); 0: at once.
    std::int64_t delay_ms = 0;
    /// 429 / 418: seconds until the client may send again (the Retry-After header); 0: none.
    std::int64_t retry_after_s = 0;
    /// The venue's counts after the request (X-MBX-USED-WEIGHT-1M, X-MBX-ORDER-COUNT-10S,
    /// X-MBX-ORDER-COUNT-1M); -1: not counted (the fault refused it first), no headers.
    std::int64_t used_weight_1m = -1;
    std::int64_t order_count_10s = -1;
    std::int64_t order_count_1m = -1;
};

class futures_api final : private exec::exec_report_sink {
public:
    futures_api(market_state& market, order_api_options options);
    ~futures_api();
    futures_api(const futures_api&) = delete;
    futures_api& operator=(const futures_api&) = delete;

    /// The venue's request weight and order counts of this API (limits from market.limits).
    [[nodiscard]] const usage_counter& usage() const { return usage_; }
    /// True for the paths this class answers.
    [[nodiscard]] static bool serves(std::string_view path);
    /// One request. query: the raw query string (without '?'); body: the raw body; api_key:
    /// the X-MBX-APIKEY header; now_ms: venue time.
    [[nodiscard]] futures_answer handle(std::string_view method, std::string_view path,
                                        std::string_view query, std::string_view body,
                                        std::string_view api_key, std::int64_t now_ms);

    /// Shows the book of `symbol` to the matching engine (after every depth update).
    void on_book(std::size_t symbol, std::int64_t now_ms);
    /// Runs the countdowns (call often, e.g. every few ms).
    void tick(std::int64_t now_ms);

    /// True for the active listenKey (the only one a stream may open on).
    [[nodiscard]] bool is_listen_key(std::string_view key) const;
    /// User-data events made since the last call: (listenKey, event JSON), oldest first.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> take_events();
    /// listenKeys expired since the last call: their streams are closed after the event.
    [[nodiscard]] std::vector<std::string> take_expired_keys();

    /// Fault: the active listenKey expires now.
    void expire_listen_key(std::int64_t now_ms);
    /// Fault: the active listenKey is forgotten without a word: no listenKeyExpired, its
    /// stream stays open but carries nothing more; keep-alives answer -1125.
    void lose_listen_key();
    /// Fault: requests until until_ms are swallowed (not executed, not answered).
    void silence_until(std::int64_t until_ms) { silent_until_ms_ = until_ms; }
    [[nodiscard]] std::int64_t silent_until() const { return silent_until_ms_; }
    /// Fault: the next `count` order placements execute without an answer.
    void drop_place_answers(std::uint32_t count) { drop_place_answers_ = count; }
    /// Fault: the next `count` order placements execute at once; their answers leave `ms` later.
    void delay_place_answers(std::uint32_t count, std::int64_t ms) {
        delay_place_answers_ = count;
        place_answer_delay_ms_ = ms;
    }
    /// Fault: the next `count` order queries are answered as they arrive; their answers leave
    /// `ms` later.
    void delay_status_answers(std::uint32_t count, std::int64_t ms) {
        delay_status_answers_ = count;
        status_answer_delay_ms_ = ms;
    }
    /// Fault: the next `count` TRADE ORDER_TRADE_UPDATE events carry an unreadable last price
    /// ("L"), as an event the reader cannot take would.
    void garble_trade_events(std::uint32_t count) { garble_trade_events_ = count; }
    /// Fault: the next `count` order placements execute, then answer 503 -1006.
    void fail_after_execute(std::uint32_t count) { fail_after_execute_ = count; }
    /// Fault: the next `count` DELETE /fapi/v1/allOpenOrders are not executed and answer 503
    /// -1006.
    void lose_cancel_alls(std::uint32_t count) { lose_cancel_alls_ = count; }
    /// Fault: the next `count` GET /fapi/v1/time are answered 429 -1003 with a Retry-After of
    /// `ms`, which starts a backoff as any 429 does: a request before its end earns a 418 and
    /// counts in requests_in_backoff.
    void limit_time_requests(std::uint32_t count, std::int64_t ms) {
        time_limits_ = count;
        time_limit_ms_ = ms;
    }
    /// A GET /fapi/v1/time: that fault's 429, or nothing (the server answers the time).
    [[nodiscard]] std::optional<futures_answer> refuse_time_request(std::int64_t now_ms);
    /// Fault: the next `count` order placements are answered 503 -1007 ("execution status
    /// unknown") at once and reach the matching engine `ms` later (at the first tick() after):
    /// until then GET /fapi/v1/order answers -2013; then they are checked again against their
    /// timestamp + recvWindow (refused, never executed, when it passed) and executed.
    void execute_late(std::uint32_t count, std::int64_t ms) {
        late_orders_ = count;
        late_order_ms_ = ms;
    }
    /// Fault: request weight used up for `ms` from now_ms: every request is answered 429 -1003
    /// with Retry-After and not executed; one arriving after a 429 and before its Retry-After
    /// earns a ban: 418 -1003 for every request for ban_ms. ban_now: banned at once.
    void limit_rate(std::int64_t now_ms, std::int64_t ms, std::int64_t ban_ms, bool ban_now);
    /// Fault: the venue's clock runs offset_ms ahead of the wall clock (negative: behind) for
    /// the timestamp / recvWindow check (-1021) and GET /fapi/v1/time.
    void set_clock_offset(std::int64_t offset_ms) { clock_offset_ms_ = offset_ms; }
    /// Someone else's market order of side `aggressor` and quantity `qty` (decimal text) trades
    /// with the account's resting orders of the other side, best price first, each as maker at
    /// its own price; the events go to the stream as any fill's. Returns the quantity filled
    /// (decimal text; "0" when nothing rests there), or nothing when qty is not a positive
    /// quantity of the symbol's step.
    std::optional<std::string> outside_market_order(std::size_t symbol, core::side aggressor,
                                                    std::string_view qty, std::int64_t now_ms);
    /// Fault (an outside transfer): sets the wallet balance of `asset` (10^-8 units) without any
    /// order or event. wall_now_ms: the wall clock, ms.
    void set_wallet(const std::string& asset, std::int64_t amount_e8, std::int64_t wall_now_ms);
    [[nodiscard]] std::int64_t clock_offset() const { return clock_offset_ms_; }

    [[nodiscard]] const futures_api_stats& stats() const { return stats_; }
    [[nodiscard]] std::size_t open_order_count() const;
    [[nodiscard]] std::string open_client_ids_json() const;
    /// {"BTCUSDT":"0.010",...}: the account's positions.
    [[nodiscard]] std::string positions_json() const;
    /// {"USDT":<10^-8 units>,...}: the wallet balances (assets touched so far).
    [[nodiscard]] std::string wallet_json() const { return wallet_.json(); }
    /// Symbols whose countdown is armed.
    [[nodiscard]] std::size_t countdowns_armed() const;

private:
    using params = std::map<std::string, std::string, std::less<>>;

    /// The symbol a request names; when it names none or an unknown one, nothing, with the
    /// answer refusing the request in refusal.
    [[nodiscard]] std::optional<std::size_t> required_symbol(const params& p,
                                                             futures_answer& refusal) const;

    void on_exec_report(const exec::exec_report& report) noexcept override;
    void ensure_exchange();
    void show_book(std::size_t symbol, std::int64_t now_ms);
    futures_answer signed_request(std::string_view method, std::string_view path,
                                  std::string_view query, std::string_view body,
                                  std::int64_t now_ms);
    /// handle() after the rate limits.
    futures_answer answer(std::string_view method, std::string_view path, std::string_view query,
                          std::string_view body, std::string_view api_key, std::int64_t now_ms);
    /// REQUEST_WEIGHT of a request, from Binance's USD-M documentation.
    static std::int64_t request_weight(std::string_view method, std::string_view path,
                                       std::string_view query);
    futures_answer listen_key(std::string_view method, std::int64_t now_ms);
    futures_answer place(const params& p, std::int64_t now_ms);
    futures_answer cancel(const params& p, std::int64_t now_ms);
    futures_answer cancel_all(const params& p, std::int64_t now_ms);
    futures_answer query_order(const params& p) const;
    futures_answer open_orders(const params& p) const;
    /// GET /fapi/v1/userTrades of a symbol (of one order with orderId), ascending trade id.
    futures_answer user_trades(const params& p);
    /// GET /fapi/v2/account: every wallet and every position, of one state.
    futures_answer account();
    /// The margin asset of symbol (its quote asset, as exchangeInfo names it).
    [[nodiscard]] std::string margin_asset(std::size_t symbol) const;
    futures_answer countdown(const params& p, std::int64_t now_ms);
    /// Cancels every open order of symbol through the matching engine; returns how many.
    std::size_t cancel_symbol(std::size_t symbol, std::int64_t now_ms);
    [[nodiscard]] const tracked_order* find_order(std::size_t symbol, const params& p) const;
    [[nodiscard]] std::string render_order(const tracked_order& order) const;
    /// trade_id: the trade's id for a fill (0 otherwise).
    void add_order_event(const tracked_order& order, const exec::exec_report& report,
                         std::int64_t trade_id);
    void add_account_event(std::size_t symbol);
    [[nodiscard]] std::string format_position(std::size_t symbol) const;
    void forget_finished();

    market_state& market_;
    order_api_options options_;
    exec::hmac_signer signer_;
    std::vector<core::symbol_spec> specs_;
    std::unique_ptr<exec::sim_exchange> exchange_;
    std::map<std::uint64_t, tracked_order> orders_; ///< By the exchange's client_order_id.
    std::vector<exec::exec_report> reports_;        ///< Reports of the request being handled.
    std::vector<std::int64_t> positions_;           ///< Signed lots per symbol.
    std::vector<double> entry_prices_;              ///< Average entry price per symbol.
    /// Wallet balance per margin asset: the starting balance plus realized PnL.
    account_balances wallet_;
    /// Venue time of each position's last change (0: never), its updateTime in the account.
    std::vector<std::int64_t> positions_updated_ms_;
    /// Venue time of each wallet asset's last change (the venue's start before any), the
    /// asset's updateTime in GET /fapi/v2/account.
    std::map<std::string, std::int64_t, std::less<>> wallet_updated_ms_;
    std::int64_t started_ms_ = 0;
    std::vector<std::int64_t> countdown_at_ms_; ///< Per symbol; 0: not armed.
    std::uint64_t next_id_ = 1;
    std::int64_t next_trade_id_ = 1;
    std::int64_t now_ms_ = 0;
    std::string listen_key_;            ///< The active key ("" when none).
    std::uint64_t next_listen_key_ = 1; ///< Makes every key different.
    std::vector<std::pair<std::string, std::string>> events_;
    std::vector<std::string> expired_keys_;
    std::int64_t silent_until_ms_ = 0;
    std::uint32_t drop_place_answers_ = 0;
    std::uint32_t delay_place_answers_ = 0;
    std::int64_t place_answer_delay_ms_ = 0;
    std::uint32_t delay_status_answers_ = 0;
    std::uint32_t garble_trade_events_ = 0;
    std::int64_t status_answer_delay_ms_ = 0;
    std::uint32_t fail_after_execute_ = 0;
    std::uint32_t lose_cancel_alls_ = 0;
    std::uint32_t time_limits_ = 0;
    std::int64_t time_limit_ms_ = 0;
    /// A placement held by the late-execution fault: its query and body as sent, and when it
    /// reaches the matching engine (ms, the time handle() was given).
    struct late_order {
        std::string query;
        std::string body;
        std::int64_t due_ms = 0;
    };
    std::vector<late_order> late_requests_;
    std::uint32_t late_orders_ = 0;
    std::int64_t late_order_ms_ = 0;
    bool executing_late_ = false;      ///< A held placement is being executed: the fault stays out.
    rate_limit_windows limits_;        ///< The rate limit fault (venue time).
    usage_counter usage_;              ///< The venue's own counts (venue time).
    std::int64_t clock_offset_ms_ = 0; ///< Venue clock minus wall clock.
    futures_api_stats stats_;
};

} // namespace quoter::venue
