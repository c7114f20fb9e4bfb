// Fuzz target: one Binance market-data message (any bytes) through md::binance_decoder and
// md::feed_handler, on a spot and on a USD-M futures instrument set.
//
// Beyond "no crash, no sanitizer report", every input must satisfy:
//   1. The canonical-layout reader and the general path decode it identically (the decoder's
//      header promises this on every input): as a stream message, as a capture line with a
//      fallback symbol, and as a REST snapshot body.
//   2. Strictness: when simdjson's DOM parser rejects the input, the decoder reports it
//      malformed, and handing it to a feed changes nothing: not the book, its state, its ids, its
//      buffered diffs or counters, not the events published, not the shutdown notice. To make
//      this bite, the book is first brought to a synced state at exactly the update id the input
//      would continue (a depthUpdate's U - 1 or pu, a bookTicker's u - 1), so that a message the
//      decoder wrongly accepts is applied, not dropped as a gap or duplicate.
//   3. After every input the books keep the order book's invariants, and the feed's published
//      events keep md_event's (see fuzz_support.hpp).
#include "fuzz_support.hpp"

#include "quoter/md/binance_decoder.hpp"
#include "quoter/md/feed_handler.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace {

using namespace quoter;

constexpr core::timestamp_ns prime_ns = 1'723'161'254'000'000'000;
constexpr core::timestamp_ns input_ns = prime_ns + 1'000'000;
/// Update id of the primed book when the input names none it could continue.
constexpr std::uint64_t default_update_id = 1000;

md::decoder_config decoder_config(bool fast_path) {
    md::decoder_config config;
    config.max_message_bytes = std::size_t{1} << 20U;
    config.max_levels_per_side = 256;
    config.canonical_fast_path = fast_path;
    return config;
}

bool same_levels(std::span<const core::book_level> a, std::span<const core::book_level> b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

/// Property 1: two decoders, one with and one without the canonical reader, agree in full.
void expect_same_decode(const md::decoded_message& a, const md::decoded_message& b,
                        std::string_view input) {
    const bool same =
        a.kind == b.kind && a.error == b.error && a.symbol == b.symbol &&
        a.local_ns == b.local_ns && a.depth.first_update_id == b.depth.first_update_id &&
        a.depth.final_update_id == b.depth.final_update_id &&
        a.depth.prev_final_update_id == b.depth.prev_final_update_id &&
        a.depth.has_prev_final_update_id == b.depth.has_prev_final_update_id &&
        a.depth.exchange_ns == b.depth.exchange_ns &&
        a.depth.transaction_ns == b.depth.transaction_ns &&
        same_levels(a.depth.bids, b.depth.bids) && same_levels(a.depth.asks, b.depth.asks) &&
        a.ticker.update_id == b.ticker.update_id && a.ticker.bid == b.ticker.bid &&
        a.ticker.ask == b.ticker.ask && a.ticker.exchange_ns == b.ticker.exchange_ns &&
        a.ticker.transaction_ns == b.ticker.transaction_ns &&
        a.trade.trade_id == b.trade.trade_id && a.trade.px == b.trade.px &&
        a.trade.qty == b.trade.qty && a.trade.aggressor == b.trade.aggressor &&
        a.trade.count == b.trade.count && a.trade.trade_ns == b.trade.trade_ns &&
        a.trade.exchange_ns == b.trade.exchange_ns;
    fuzz::expect(same, "the canonical reader and the general path decode alike", input);
}

/// One market's instruments, decoders and feed, built once and re-primed for every input.
class venue_harness {
public:
    explicit venue_harness(md::market venue)
        : venue_(venue), registry_(fuzz::make_registry(venue)),
          fast_(registry_, decoder_config(true)), general_(registry_, decoder_config(false)),
          feed_(registry_, sink_,
                md::feed_config{.decoder = decoder_config(true),
                                .sync = fuzz::small_sync_config()}) {}

    void run(std::string_view input, bool strict) {
        sink_.set_input(input);
        // The book first: a changed book is the violation that matters most.
        run_stream(input, strict);
        run_rest_snapshot(input, strict);
        // Property 1, for each way a message reaches the decoder.
        for (const md::symbol_id fallback : {md::invalid_symbol, md::symbol_id{0}}) {
            const md::decoded_message& a = fast_.decode_copy(input, input_ns, fallback);
            const md::decoded_message& b = general_.decode_copy(input, input_ns, fallback);
            expect_same_decode(a, b, input);
            if (!strict) {
                fuzz::expect(a.kind == md::message_kind::malformed,
                             "a message that is not valid JSON is reported malformed", input);
            }
        }
    }

private:
    /// Property 2 for a stream message, on a book primed so that the message would apply.
    void run_stream(std::string_view input, bool strict) {
        const md::decoded_message& peek = fast_.decode_copy(input, input_ns, md::invalid_symbol);
        const md::symbol_id symbol = registry_.contains(peek.symbol) ? peek.symbol : 0;
        std::uint64_t target = default_update_id;
        if (peek.kind == md::message_kind::depth_update) {
            target = venue_ == md::market::usdm_futures && peek.depth.has_prev_final_update_id
                         ? peek.depth.prev_final_update_id
                         : peek.depth.first_update_id - 1;
        } else if (peek.kind == md::message_kind::book_ticker) {
            target = peek.ticker.update_id - 1;
        }
        if (!prime_synced(symbol, target)) {
            fuzz::expect(prime_synced(symbol, default_update_id),
                         "the harness brings a book to synced", input);
        }
        check_all(input);

        const std::vector<fuzz::sync_view> before = views();
        const std::uint64_t events = sink_.events();
        sink_.set_input(input);
        const md::message_kind kind = feed_.on_message_copy(input, input_ns).kind;
        const bool shutdown = feed_.take_shutdown_notice();
        if (!strict) {
            fuzz::expect(views() == before,
                         "a message that is not valid JSON leaves every book as it was", input);
            fuzz::expect(sink_.events() == events,
                         "a message that is not valid JSON publishes nothing", input);
            fuzz::expect(!shutdown, "a message that is not valid JSON is no shutdown notice",
                         input);
            fuzz::expect(kind == md::message_kind::malformed,
                         "the feed reports a message that is not valid JSON malformed", input);
        }
        check_all(input);
        sink_.check_tops(feed_);
    }

    /// Property 2 for a REST snapshot body: the book waits for a snapshot, and one that is not
    /// valid JSON must not load (it only counts as a failed request).
    void run_rest_snapshot(std::string_view input, bool strict) {
        feed_.on_disconnected(prime_ns);
        feed_.on_connected(prime_ns);
        const fuzz::sync_view before = fuzz::view_of(feed_.sync(0));
        sink_.set_input(input);
        const md::message_kind kind = feed_.on_snapshot_copy(0, input, input_ns).kind;
        const fuzz::sync_view after = fuzz::view_of(feed_.sync(0));
        if (!strict) {
            fuzz::expect(after.state == before.state && after.update_id == before.update_id &&
                             after.bids == before.bids && after.asks == before.asks &&
                             after.stats.snapshots_applied == before.stats.snapshots_applied,
                         "a snapshot body that is not valid JSON loads nothing", input);
            fuzz::expect(kind == md::message_kind::malformed,
                         "a snapshot body that is not valid JSON is reported malformed", input);
        }
        check_all(input);
        sink_.check_tops(feed_);
    }

    /// Resets the feed and brings symbol's book to synced with update id `target` through a
    /// snapshot and the diff that straddles it. False when the ids cannot be expressed.
    bool prime_synced(md::symbol_id symbol, std::uint64_t target) {
        if (target < 2 || target == UINT64_MAX) {
            return false;
        }
        feed_.on_disconnected(prime_ns);
        feed_.on_connected(prime_ns);
        const std::string_view name = registry_.at(symbol).book_spec.name().view();
        const bool futures = venue_ == md::market::usdm_futures;
        // Prices on both markets' grids (futures BTCUSDT ticks 0.10).
        const std::string snapshot = R"({"lastUpdateId":)" + std::to_string(target - 1) +
                                     R"(,"bids":[["100.00","1.00000000"],["99.90","2.00000000"]],)"
                                     R"("asks":[["100.10","1.00000000"],["100.20","2.00000000"]]})";
        feed_.on_snapshot_copy(symbol, snapshot, prime_ns);
        // Spot: U <= lastUpdateId + 1 <= u. Futures: U <= lastUpdateId <= u.
        const std::uint64_t first = futures ? target - 1 : target;
        std::string diff = R"({"e":"depthUpdate","E":1723161254000,"s":")" + std::string(name) +
                           R"(","U":)" + std::to_string(first) + R"(,"u":)" +
                           std::to_string(target);
        if (futures) {
            diff += R"(,"pu":)" + std::to_string(target - 2);
        }
        diff += R"(,"b":[["99.80","3.00000000"]],"a":[["100.30","3.00000000"]]})";
        feed_.on_message_copy(diff, prime_ns);
        const md::book_sync& sync = feed_.sync(symbol);
        return sync.book_valid() && sync.update_id() == target;
    }

    [[nodiscard]] std::vector<fuzz::sync_view> views() const {
        std::vector<fuzz::sync_view> all;
        for (std::size_t id = 0; id < feed_.symbols(); ++id) {
            all.push_back(fuzz::view_of(feed_.sync(static_cast<md::symbol_id>(id))));
        }
        return all;
    }

    void check_all(std::string_view input) const {
        for (std::size_t id = 0; id < feed_.symbols(); ++id) {
            fuzz::check_sync(feed_.sync(static_cast<md::symbol_id>(id)), input);
        }
    }

    md::market venue_;
    md::symbol_registry registry_;
    md::binance_decoder fast_;
    md::binance_decoder general_;
    fuzz::checking_sink sink_;
    md::feed_handler feed_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::strict_json oracle;
    static venue_harness spot(md::market::spot);
    static venue_harness futures(md::market::usdm_futures);
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const bool strict = oracle.accepts(input);
    spot.run(input, strict);
    futures.run(input, strict);
    return 0;
}
