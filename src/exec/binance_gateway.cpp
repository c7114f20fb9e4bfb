#include "quoter/exec/binance_gateway.hpp"

namespace quoter::exec {

binance_gateway::binance_gateway(binance_spot_gateway_config config,
                                 std::span<const core::symbol_spec> symbols)
    : url_(config.url) {
    spot_ = std::make_unique<binance_spot_gateway>(std::move(config), symbols);
}

binance_gateway::binance_gateway(binance_futures_gateway_config config,
                                 std::span<const core::symbol_spec> symbols)
    : url_(config.rest_url) {
    futures_ = std::make_unique<binance_futures_gateway>(std::move(config), symbols);
}

binance_gateway::~binance_gateway() = default;

void binance_gateway::start() {
    futures_ ? futures_->start() : spot_->start();
}

void binance_gateway::stop() {
    futures_ ? futures_->stop() : spot_->stop();
}

bool binance_gateway::connected() const noexcept {
    return futures_ ? futures_->connected() : spot_->connected();
}

bool binance_gateway::ready() const noexcept {
    return futures_ ? futures_->ready() : spot_->ready();
}

std::vector<asset_balance> binance_gateway::balances() const {
    return futures_ ? futures_->balances() : spot_->balances();
}

std::vector<futures_position> binance_gateway::positions() const {
    return futures_ ? futures_->positions() : std::vector<futures_position>{};
}

futures_account binance_gateway::account() const {
    return futures_ ? futures_->account() : futures_account{};
}

const binance_gateway_counters& binance_gateway::counters() const noexcept {
    return futures_ ? futures_->counters() : spot_->counters();
}

const binance_futures_counters* binance_gateway::futures_counters() const noexcept {
    return futures_ ? &futures_->futures_counters() : nullptr;
}

void binance_gateway::set_report_sink(exec_report_sink* sink) noexcept {
    futures_ ? futures_->set_report_sink(sink) : spot_->set_report_sink(sink);
}

gateway_error binance_gateway::submit(const order_request& request,
                                      core::timestamp_ns now) noexcept {
    return futures_ ? futures_->submit(request, now) : spot_->submit(request, now);
}

gateway_error binance_gateway::cancel(std::uint32_t symbol, client_order_id id,
                                      core::timestamp_ns now) noexcept {
    return futures_ ? futures_->cancel(symbol, id, now) : spot_->cancel(symbol, id, now);
}

gateway_error binance_gateway::cancel_all(std::uint32_t symbol, core::timestamp_ns now) noexcept {
    return futures_ ? futures_->cancel_all(symbol, now) : spot_->cancel_all(symbol, now);
}

bool binance_gateway::kill_unconfirmed(std::uint32_t symbol) const noexcept {
    return futures_ ? futures_->kill_unconfirmed(symbol) : spot_->kill_unconfirmed(symbol);
}

bool binance_gateway::rehearse_submit(const order_request& request,
                                      core::timestamp_ns now) noexcept {
    return futures_ ? futures_->rehearse_submit(request, now)
                    : spot_->rehearse_submit(request, now);
}

bool binance_gateway::rehearse_replace(std::uint32_t symbol, client_order_id old_id,
                                       const order_request& request,
                                       core::timestamp_ns now) noexcept {
    return futures_ ? futures_->rehearse_replace(symbol, old_id, request, now)
                    : spot_->rehearse_replace(symbol, old_id, request, now);
}

bool binance_gateway::replaces_in_one_request() const noexcept {
    // Futures REST has no cancel-and-place request: cancel, then place.
    return futures_ ? futures_->replaces_in_one_request() : spot_->replaces_in_one_request();
}

gateway_error binance_gateway::replace(std::uint32_t symbol, client_order_id old_id,
                                       const order_request& request,
                                       core::timestamp_ns now) noexcept {
    return futures_ ? futures_->replace(symbol, old_id, request, now)
                    : spot_->replace(symbol, old_id, request, now);
}

std::size_t binance_gateway::poll(core::timestamp_ns now) noexcept {
    return futures_ ? futures_->poll(now) : spot_->poll(now);
}

std::uint64_t binance_gateway::next_request_id() const noexcept {
    return futures_ ? futures_->next_request_id() : spot_->next_request_id();
}

std::size_t binance_gateway::poll_written(std::span<written_stamp> out) noexcept {
    return futures_ ? futures_->poll_written(out) : spot_->poll_written(out);
}

} // namespace quoter::exec
