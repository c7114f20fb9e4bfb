// order_api: the spot WebSocket API order endpoints of quoter-venue (/ws-api/v3):
// order.place (LIMIT, LIMIT_MAKER), order.cancel, order.cancelReplace (STOP_ON_FAILURE and
// ALLOW_FAILURE), openOrders.cancelAll, order.status,
// openOrders.status, account.status and the user-data stream (userDataStream.subscribe.signature).
// Every request must carry the configured apiKey, a timestamp within its recvWindow and a valid
// HMAC-SHA256 signature over its parameters (all but `signature`, sorted by name, `k=v` joined by
// `&`, as Binance checks them); refusals use Binance's codes (-2015, -1022, -1021, -1102, -2010,
// -2011).
//
// Matching is the project's simulated exchange with zero latency, against the venue's own book:
// before each request the simulated exchange is shown the symbol's best bid and ask, so a
// LIMIT_MAKER that would cross is refused with -2010 and resting orders fill when the book has
// moved through them by the time of a later request or book update (on_book). Every change of
// an order (NEW, TRADE, CANCELED, EXPIRED) becomes an executionReport, every fill also an
// outboundAccountPosition of the venue's one account; the server sends them to the sessions
// that subscribed.
//
// Not thread-safe: one instance on the venue's io_loop thread.
#pragma once

#include "account_balances.hpp"
#include "ed25519_verifier.hpp"
#include "market.hpp"
#include "request_checks.hpp"

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/binance_signer.hpp"
#include "quoter/exec/order_types.hpp"
#include "quoter/exec/sim_exchange.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace quoter::venue {

struct order_api_options {
    /// The one API key accepted, and its HMAC secret. The defaults are the example key and
    /// secret of Binance's API documentation, so documented examples verify as they are.
    std::string api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    std::string api_secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
    /// Ed25519 public key (PEM) of api_key, when the account's key is an Ed25519 key: requests
    /// are then verified against it (Ed25519 signatures in base64) instead of the HMAC secret,
    /// and session.logon is accepted. Empty: an HMAC key (session.logon is refused).
    std::string api_ed25519_public_pem;
    /// Starting balances of the account (asset, 10^-8 units), spot and futures wallet alike
    /// (--balance); an asset not named starts at 0, a quote asset (USDT, USD) at 100,000.
    std::vector<std::pair<std::string, std::int64_t>> balances_e8;
    /// Resting orders fill as maker when the book moves through them (--no-resting-fills: they
    /// wait, so an order through the book is filled in part, by the top level only).
    bool resting_fills = true;
    /// The futures account is in hedge mode (--hedge-mode): GET /fapi/v1/positionSide/dual
    /// answers dualSidePosition true, and an order without a LONG or SHORT positionSide is
    /// rejected (-4061), as Binance rejects it.
    bool hedge_mode = false;
};

/// One WebSocket API connection's authentication (session.logon). Owned by the server's
/// session, handed to order_api::handle with each of its requests.
struct api_session {
    bool logged_on = false;         ///< session.logon succeeded on this connection.
    std::int64_t connected_ms = 0;  ///< Venue time the connection opened.
    std::int64_t authorized_ms = 0; ///< Venue time of the logon.
};

struct order_api_stats {
    std::uint64_t requests = 0;
    std::uint64_t signature_failures = 0;
    std::uint64_t orders_placed = 0;
    std::uint64_t buy_orders_placed = 0; ///< Of orders_placed, buys.
    std::uint64_t orders_rejected = 0;
    std::uint64_t orders_cancelled = 0;
    std::uint64_t answers_dropped = 0;      ///< order.place answers withheld by the fault.
    std::uint64_t failed_after_execute = 0; ///< Executed requests answered 5xx by the fault.
    std::uint64_t cancel_alls_lost = 0;     ///< cancelAll requests lost by the fault.
    std::uint64_t cancels_lost = 0;         ///< order.cancel requests lost by the fault.
    std::uint64_t trades = 0;               ///< Fills (one per executionReport TRADE).
    std::uint64_t buy_trades = 0;           ///< Of those, fills of buy orders.
    std::uint64_t trade_lists = 0;          ///< myTrades requests answered.
    std::uint64_t user_events = 0;          ///< executionReport and outboundAccountPosition events.
    std::uint64_t subscriptions = 0;        ///< userDataStream.subscribe.signature accepted.
    std::uint64_t place_requests = 0;       ///< order.place requests received (any outcome).
    std::uint64_t replace_requests = 0;     ///< order.cancelReplace requests received.
    std::uint64_t replaces_done = 0;        ///< Of those, both halves succeeded.
    std::uint64_t answers_429 = 0;          ///< Requests answered 429 (rate limit fault).
    /// Requests answered 429 because the venue's own counts were full (see usage_counter):
    /// -1003 (request weight) and -1015 (orders); not executed.
    std::uint64_t weight_limit_answers = 0;
    std::uint64_t order_limit_answers = 0;
    std::uint64_t answers_418 = 0; ///< Requests answered 418 (banned).
    /// Requests that arrived after a 429 and before its retryAfter: each one turns into a ban.
    std::uint64_t requests_in_backoff = 0;
    std::uint64_t clock_rejects = 0;     ///< Requests refused -1021 (timestamp outside window).
    std::uint64_t time_requests = 0;     ///< `time` requests answered.
    std::uint64_t silenced_requests = 0; ///< Requests swallowed by the silence fault.
    std::uint64_t answers_delayed = 0;   ///< order.place answers delayed by the fault.
    std::uint64_t status_answers_delayed = 0; ///< order.status answers delayed by the fault.
    std::uint64_t replace_halves_unknown = 0; ///< New-order halves answered -1007 by the fault.
    std::uint64_t trade_events_garbled = 0;   ///< TRADE events sent unreadable by the fault.
    std::uint64_t orders_late = 0;            ///< order.place requests held by the late fault.
    /// Of those, refused when they reached the matching engine: their recvWindow had passed.
    std::uint64_t late_orders_expired = 0;
    std::uint64_t streams_terminated = 0; ///< User-data subscriptions ended by the fault.
    std::uint64_t logons = 0;             ///< session.logon accepted.
    /// Requests without apiKey / signature on a connection that has not logged on (refused).
    std::uint64_t unauthenticated = 0;
};

class order_api final : private exec::exec_report_sink {
public:
    order_api(market_state& market, order_api_options options);
    ~order_api();
    order_api(const order_api&) = delete;
    order_api& operator=(const order_api&) = delete;

    /// Answers one request frame ({"id":..,"method":..,"params":{..}}); wall_now_ms: the wall
    /// clock (the venue's clock is it plus the clock fault's offset). An empty answer is not
    /// sent (a fault withheld it). session: the connection's logon state (session.logon sets it;
    /// a logged-on connection's requests may omit apiKey and signature); null: a connection
    /// that never logs on.
    [[nodiscard]] std::string handle(std::string_view request, std::int64_t wall_now_ms,
                                     api_session* session = nullptr);

    [[nodiscard]] const order_api_stats& stats() const { return stats_; }
    /// The venue's request weight and order counts of this API (limits from market.limits).
    [[nodiscard]] const usage_counter& usage() const { return usage_; }
    /// Orders resting on the venue (every symbol).
    [[nodiscard]] std::size_t open_order_count() const;
    /// Their client order ids, as a JSON array of strings.
    [[nodiscard]] std::string open_client_ids_json() const;

    /// Shows the book of `symbol` to the matching engine, so that resting orders fill when the
    /// market has moved through them. Called after every depth update.
    void on_book(std::size_t symbol, std::int64_t wall_now_ms);
    /// User-data events made since the last call (bare event objects, oldest first); the
    /// server wraps them as {"subscriptionId":N,"event":...} for each subscribed session.
    [[nodiscard]] std::vector<std::string> take_events();
    /// The subscription id the last handle() call opened, once.
    [[nodiscard]] std::optional<std::uint64_t> take_subscription();

    /// Faults of order.place below apply to order.cancelReplace as well (one count for both):
    /// it is executed (both halves) and then its answer is dropped, answered 503 or delayed.
    ///
    /// Fault: the next `count` order.place requests are executed but get no answer (handle()
    /// returns an empty string), like an answer lost between the matching engine and the
    /// client.
    void drop_place_answers(std::uint32_t count) { drop_place_answers_ = count; }
    /// Fault: the next `count` order.place / order.cancel requests are executed, then answered
    /// 503 -1006 ("execution status unknown"), as Binance's 5xx after the matching engine took
    /// the request.
    void fail_after_execute(std::uint32_t count) { fail_after_execute_ = count; }
    /// Fault: the next `count` openOrders.cancelAll requests are not executed and answered 503
    /// -1006 (lost on the way to the matching engine): the orders keep resting.
    void lose_cancel_alls(std::uint32_t count) { lose_cancel_alls_ = count; }
    /// Fault: the next `count` order.cancel are not executed and answer 503 -1006.
    void lose_cancels(std::uint32_t count) { lose_cancels_ = count; }
    /// Fault: request weight exhausted for `ms` from now_ms (venue time). Every request is
    /// answered 429 -1003 with retryAfter = the end of the window, and nothing is executed; a
    /// request that arrives after a 429 was answered and before its retryAfter gets the client
    /// banned: 418 -1003 for every request until ban_ms after it. ban_now: ban at once.
    void limit_rate(std::int64_t now_ms, std::int64_t ms, std::int64_t ban_ms, bool ban_now);
    /// Fault: the venue's clock runs offset_ms ahead of the wall clock (negative: behind), for
    /// the timestamp check, `time` answers and event times.
    void set_clock_offset(std::int64_t offset_ms) { clock_offset_ms_ = offset_ms; }
    /// Fault: requests arriving before now_ms + ms are neither executed nor answered (lost on the
    /// way), as a venue that stopped answering.
    void silence(std::int64_t now_ms, std::int64_t ms) { silent_until_ms_ = now_ms + ms; }
    /// Fault: the next `count` order.place answers are held back `ms` (the order executes at
    /// once). take_answer_delay() says how long to hold the answer handle() just returned.
    void delay_place_answers(std::uint32_t count, std::int64_t ms) {
        delay_place_answers_ = count;
        place_answer_delay_ms_ = ms;
    }
    /// Fault: the next `count` order.cancelReplace whose halves both succeed answer their new
    /// order's half -1007 ("execution status unknown"), though it rests.
    void unknown_replace_halves(std::uint32_t count) { unknown_replace_halves_ = count; }
    /// Fault: the next `count` TRADE executionReports carry an unreadable last price ("L"), as
    /// an event the reader cannot take would.
    void garble_trade_events(std::uint32_t count) { garble_trade_events_ = count; }
    /// Fault: the next `count` order.status answers are held back `ms`, answered as the
    /// request arrived (a reply slow on its way back).
    void delay_status_answers(std::uint32_t count, std::int64_t ms) {
        delay_status_answers_ = count;
        status_answer_delay_ms_ = ms;
    }
    [[nodiscard]] std::int64_t take_answer_delay() {
        const std::int64_t out = answer_delay_ms_;
        answer_delay_ms_ = 0;
        return out;
    }
    /// Fault: the next `count` order.place requests are answered 503 -1007 ("execution status
    /// unknown") at once and reach the matching engine `ms` later, as a request stuck on its
    /// way to Binance's engine: until then order.status finds no such order (-2013). When they
    /// get there they are checked again against their timestamp + recvWindow (refused then,
    /// never executed, when it passed) and executed as order.place would, with the events.
    /// take_late_execution() says when the server must call execute_late_orders().
    void execute_late(std::uint32_t count, std::int64_t ms) {
        late_orders_ = count;
        late_order_ms_ = ms;
    }
    [[nodiscard]] std::int64_t take_late_execution() {
        const std::int64_t out = late_execution_ms_;
        late_execution_ms_ = 0;
        return out;
    }
    /// The held order.place requests due at wall_now_ms reach the matching engine.
    void execute_late_orders(std::int64_t wall_now_ms);
    /// Fault: ends every user-data subscription (the server sends eventStreamTerminated and
    /// stops the events); counted.
    void count_stream_terminated() { ++stats_.streams_terminated; }
    /// Fault (an outside transfer): sets the account's balance of `asset` (10^-8 units) without
    /// any order or event, as a deposit or withdrawal the user stream does not report as a fill.
    /// wall_now_ms: the wall clock, ms (the venue's clock fault applies).
    void set_balance(const std::string& asset, std::int64_t amount_e8, std::int64_t wall_now_ms);
    /// Fees from now on: bps of each trade's notional, in the quote asset; with asset (e.g.
    /// BNB) and asset_price (quote asset per unit of it, > 0) charged in that asset instead, as
    /// Binance does when the account pays its fees with BNB; with asset "received", bps of
    /// what the trade received, in that asset (a buy's in the base asset), as Binance charges
    /// an account that does not pay with BNB.
    void set_fees(std::int64_t bps, const std::string& asset, std::int64_t asset_price);
    /// The account's balances as a JSON object {"BTC":<10^-8 units>,...} (assets touched so
    /// far).
    [[nodiscard]] std::string balances_json() const;

private:
    struct parsed_request;

    /// The symbol a request names; when it names none or an unknown one, nothing, with the
    /// answer refusing the request in refusal.
    [[nodiscard]] std::optional<std::size_t> required_symbol(const parsed_request& request,
                                                             std::string& refusal) const;

    /// What the rateLimits array of the answer being made lists.
    enum class usage_report : std::uint8_t { none, weight, weight_and_orders };

    /// handle() without the rateLimits array.
    std::string answer(std::string_view request, std::int64_t wall_now_ms, api_session* session);
    [[nodiscard]] std::string render_usage() const;
    void on_exec_report(const exec::exec_report& report) noexcept override;
    void ensure_exchange();
    void show_book(std::size_t symbol, std::int64_t now_ms);

    std::string place(const parsed_request& request, std::int64_t now_ms);
    std::string cancel(const parsed_request& request, std::int64_t now_ms);
    /// order.cancelReplace: the cancel as order.cancel would, then (unless STOP_ON_FAILURE and
    /// the cancel failed) the new order as order.place would, answered with both halves.
    std::string cancel_replace(const parsed_request& request, std::int64_t now_ms);
    std::string cancel_all(const parsed_request& request, std::int64_t now_ms);
    std::string order_status(const parsed_request& request);
    /// myTrades of a symbol, of one order when orderId is given: every trade kept (open orders
    /// and the finished ones order.status still knows), ascending trade id.
    std::string my_trades(const parsed_request& request);
    std::string subscribe(const parsed_request& request);
    std::string logon(const parsed_request& request, api_session* session, std::int64_t now_ms);
    /// Checks the request's signature with the account's key (HMAC hex, or Ed25519 base64).
    [[nodiscard]] bool signature_valid(std::string_view payload, std::string_view signature) const;
    std::string open_orders(const parsed_request& request);
    std::string account(const parsed_request& request);
    /// trade_id: the trade's id for a fill (-1 otherwise).
    void add_execution_report(const tracked_order& order, const exec::exec_report& report,
                              std::int64_t trade_id);
    void add_account_position(std::size_t symbol);
    [[nodiscard]] std::pair<std::string, std::string> assets(std::size_t symbol) const;
    std::int64_t& balance_e8(const std::string& asset);
    /// listed: as order.status and openOrders.status show it (time and updateTime), else as
    /// the answer to a request (transactTime).
    std::string render_order(const tracked_order& order, bool full, bool listed = false) const;
    /// True when `order` is on `symbol` and matches the request's origClientOrderId and orderId
    /// (each null when absent; at least one is given): how cancels and queries name an order.
    static bool names_order(const tracked_order& order, std::size_t symbol,
                            const std::string* orig_client_id, const std::string* order_id);

    market_state& market_;
    order_api_options options_;
    exec::hmac_signer signer_;
    std::optional<ed25519_verifier> ed25519_; ///< The account's Ed25519 key, if it has one.
    std::vector<core::symbol_spec> specs_;
    std::unique_ptr<exec::sim_exchange> exchange_;
    std::map<std::uint64_t, tracked_order> orders_; ///< By the exchange's client_order_id.
    /// Finished orders, oldest first, for order.status (at most max_finished_orders).
    std::deque<tracked_order> finished_;
    static constexpr std::size_t max_finished_orders = 10'000;
    std::vector<exec::exec_report> reports_; ///< Reports of the request being handled.
    std::uint64_t next_id_ = 1;
    std::uint64_t next_exchange_id_ = 1;
    order_api_stats stats_;
    std::uint32_t drop_place_answers_ = 0;
    std::uint32_t fail_after_execute_ = 0;
    std::uint32_t lose_cancel_alls_ = 0;
    std::uint32_t lose_cancels_ = 0;
    rate_limit_windows limits_; ///< The rate limit fault (venue time).
    usage_counter usage_;       ///< The venue's own counts (venue time).
    usage_report usage_report_ = usage_report::none;
    std::int64_t clock_offset_ms_ = 0; ///< Venue clock minus wall clock.
    std::int64_t engine_ms_ = 0;       ///< Latest time the matching engine was shown.
    std::int64_t silent_until_ms_ = 0; ///< Requests are swallowed until then.
    std::uint32_t delay_place_answers_ = 0;
    std::int64_t place_answer_delay_ms_ = 0;
    std::uint32_t unknown_replace_halves_ = 0;
    std::uint32_t garble_trade_events_ = 0;
    std::uint32_t delay_status_answers_ = 0;
    std::int64_t status_answer_delay_ms_ = 0;
    std::int64_t answer_delay_ms_ = 0; ///< Hold of the answer handle() just returned.
    /// An order.place held by the late-execution fault: its frame, due time (wall ms) and the
    /// connection's logon state when it arrived.
    struct late_order {
        std::string request;
        std::int64_t due_ms = 0;
        api_session session;
    };
    std::vector<late_order> late_requests_;
    std::uint32_t late_orders_ = 0;
    std::int64_t late_order_ms_ = 0;
    std::int64_t late_execution_ms_ = 0; ///< The request handle() just held: due this much later.
    bool executing_late_ = false;        ///< A held request is being executed: no fault, no count.
    std::vector<std::string> events_;
    std::optional<std::uint64_t> new_subscription_;
    std::uint64_t next_subscription_ = 0;
    std::int64_t next_trade_id_ = 1;
    std::int64_t now_ms_ = 0;
    /// newClientOrderId of the cancel being handled ("" when none): `c` of its report.
    std::string cancel_client_id_;
    /// The venue's one account: free balance per asset (see order_api_options::balances_e8).
    account_balances balances_;
    /// Venue time of the account's last balance change (a fill, an outside transfer; the
    /// venue's start before any): account.status's updateTime, outboundAccountPosition's `u`.
    std::int64_t balances_updated_ms_ = 0;
    std::int64_t fee_bps_ = 0;         ///< Commission, bps of notional (0: none).
    std::string fee_asset_;            ///< Asset it is charged in ("": the quote asset).
    std::int64_t fee_asset_price_ = 0; ///< Quote asset per unit of fee_asset_.
    bool fee_in_received_ = false;     ///< Charged in what the trade received.
};

} // namespace quoter::venue
