// binance_spot_gateway: the order_gateway of Binance spot, over the WebSocket API (/ws-api/v3).
//
// Two threads. The core thread calls submit / cancel / cancel_all / poll: each request is
// encoded and HMAC-signed into a fixed buffer (spot_request_encoder) and pushed on an SPSC ring;
// nothing is allocated, formatted or locked there. The gateway's own I/O thread owns the
// WebSocket connection (net's Beast transport, kept out of this header): it sends what the ring
// holds, reads answers, decodes them (answer_decoder) and pushes exec reports on a second ring
// that poll() drains into the sink.
//
// User data: on every (re)connect the session subscribes to the user-data stream
// (userDataStream.subscribe.signature); executionReports (NEW, TRADE, CANCELED, EXPIRED,
// REJECTED) become reports too. Every order report passes one funnel that remembers, per order
// of this run, whether its ack and its end were reported and how much fill: an ack or an end is
// reported once whichever source tells first (answer, stream, status query), and a fill only for
// the quantity beyond what was reported already, so a trade seen on the stream and again in an
// order.status result (or replayed) is booked once. A placement whose outcome the stream told
// is not reported unknown when its answer is lost.
//
// Outcomes (see order_gateway): an answer maps to ack / reject / cancelled / cancel_reject. A
// new order whose answer does not come within request_timeout_ms, whose answer is a 5xx / -1006
// / -1007, or which is in flight when the connection drops, is reported `unknown` and resolved
// by an order.status query (after the reconnect, for a drop); the query's answer gives the real
// state (NEW -> ack, FILLED -> fill, CANCELED/EXPIRED -> cancelled, no such order -> reject).
// It is never sent again. A cancel left unanswered is resolved the same way. -1021 resyncs the
// server-time offset from the venue's time and retries once. 429 / 418 reject the request (the
// venue did not take it) and hold every non-cancel request until the venue's retry time. Every
// API error reaches the sink as a reject or cancel_reject, so risk's error-storm trigger sees it.
//
// Threading: construct, start() and stop() on the owning thread; order_gateway calls on the
// core thread only; everything else runs on the gateway's I/O thread.
#pragma once

#include "quoter/core/symbol_spec.hpp"
#include "quoter/exec/order_gateway.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace quoter::exec {

struct binance_spot_gateway_config {
    /// WebSocket API endpoint, e.g. "wss://ws-api.testnet.binance.vision/ws-api/v3".
    std::string url;
    std::string api_key;
    std::string secret; ///< HMAC-SHA256 secret; forgotten after construction (signer state).
    std::int64_t recv_window_ms = 5'000;
    /// Instance tag and start time of the client order ids (see client_id_factory).
    std::string id_tag = "q";
    std::int64_t start_us = 0;
    /// A request without answer after this long is unknown and gets queried (ms).
    std::int64_t request_timeout_ms = 2'000;
    /// Delay before reconnecting after the connection dropped (ms).
    std::int64_t reconnect_delay_ms = 200;
    /// Subscribe to the user-data stream on every (re)connect (userDataStream.subscribe.
    /// signature): executionReports bring acks, fills and cancels, also of orders whose answer
    /// was lost. false only for tests of the query path.
    bool user_data_stream = true;
};

/// What the gateway saw; written by the I/O thread, readable from any thread (relaxed).
struct binance_gateway_counters {
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> answers{0};
    std::atomic<std::uint64_t> api_errors{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> unknowns{0};
    std::atomic<std::uint64_t> status_queries{0};
    std::atomic<std::uint64_t> clock_retries{0};
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::uint64_t> disconnects{0};
    std::atomic<std::uint64_t> reports_dropped{0}; ///< Report ring full (core not polling).
    std::atomic<std::uint64_t> user_events{0};     ///< User-data stream events received.
    std::atomic<std::uint64_t> balance_updates{0}; ///< outboundAccountPosition events.
    std::atomic<std::uint64_t> fills{0};           ///< Fill reports delivered (after dedup).
};

class binance_spot_gateway final : public order_gateway {
public:
    /// symbols: index = order_request::symbol; must outlive the gateway. Allocates everything
    /// here (rings, decoder, request table).
    binance_spot_gateway(binance_spot_gateway_config config,
                         std::span<const core::symbol_spec> symbols);
    ~binance_spot_gateway() override;
    binance_spot_gateway(const binance_spot_gateway&) = delete;
    binance_spot_gateway& operator=(const binance_spot_gateway&) = delete;

    /// Starts the I/O thread, which connects (and reconnects) on its own.
    void start();
    /// Closes the connection and joins the I/O thread. Requests still queued are dropped.
    void stop();
    /// True while the WebSocket session is open.
    [[nodiscard]] bool connected() const noexcept;
    /// True once the venue confirmed this session's user-data subscription (until it drops).
    [[nodiscard]] bool user_stream_subscribed() const noexcept;
    [[nodiscard]] const binance_gateway_counters& counters() const noexcept;
    /// Local-to-venue clock offset in ms (venue time = local wall time + offset).
    [[nodiscard]] std::int64_t server_time_offset_ms() const noexcept;

    void set_report_sink(exec_report_sink* sink) noexcept override;
    [[nodiscard]] gateway_error submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel(std::uint32_t symbol, client_order_id id,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel_all(std::uint32_t symbol,
                                           core::timestamp_ns now) noexcept override;
    std::size_t poll(core::timestamp_ns now) noexcept override;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

} // namespace quoter::exec
