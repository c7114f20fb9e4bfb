// binance_gateway: the order gateway of the configured Binance market, spot (WebSocket API,
// binance_spot_gateway) or USD-M futures (REST, binance_futures_gateway), behind one type, so the
// live session runs either without knowing which.
//
// Threading: as the wrapped gateway's (construct, start, stop on the owning thread; the
// order_gateway calls on the core thread).
#pragma once

#include "quoter/exec/binance_futures_gateway.hpp"
#include "quoter/exec/binance_spot_gateway.hpp"
#include "quoter/exec/order_gateway.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace quoter::exec {

class binance_gateway final : public order_gateway {
public:
    binance_gateway(binance_spot_gateway_config config, std::span<const core::symbol_spec> symbols);
    binance_gateway(binance_futures_gateway_config config,
                    std::span<const core::symbol_spec> symbols);
    ~binance_gateway() override;
    binance_gateway(const binance_gateway&) = delete;
    binance_gateway& operator=(const binance_gateway&) = delete;

    void start();
    void stop();
    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] bool ready() const noexcept;
    [[nodiscard]] bool futures() const noexcept { return futures_ != nullptr; }
    /// Where orders go: the WebSocket API URL (spot) or the REST origin (futures).
    [[nodiscard]] const std::string& url() const noexcept { return url_; }
    /// The balances the last reconciliation read (spot: account.status, free and locked;
    /// futures: GET /fapi/v2/account and later ACCOUNT_UPDATEs, wallet and cross wallet).
    [[nodiscard]] std::vector<asset_balance> balances() const;
    /// Futures: the positions the last reconciliation read (and ACCOUNT_UPDATE changed); spot:
    /// none.
    [[nodiscard]] std::vector<futures_position> positions() const;
    /// Futures: positions and wallets read together, of one state; spot: empty.
    [[nodiscard]] futures_account account() const;
    [[nodiscard]] const binance_gateway_counters& counters() const noexcept;
    /// nullptr for spot.
    [[nodiscard]] const binance_futures_counters* futures_counters() const noexcept;

    void set_report_sink(exec_report_sink* sink) noexcept override;
    [[nodiscard]] gateway_error submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel(std::uint32_t symbol, client_order_id id,
                                       core::timestamp_ns now) noexcept override;
    [[nodiscard]] gateway_error cancel_all(std::uint32_t symbol,
                                           core::timestamp_ns now) noexcept override;
    /// The wrapped gateway's (order_gateway::kill_unconfirmed).
    [[nodiscard]] bool kill_unconfirmed(std::uint32_t symbol) const noexcept override;
    std::size_t poll(core::timestamp_ns now) noexcept override;
    /// Dry run of submit(): see order_gateway::rehearse_submit.
    [[nodiscard]] bool rehearse_submit(const order_request& request,
                                       core::timestamp_ns now) noexcept override;
    /// Dry run of replace() (the wrapped gateway's).
    [[nodiscard]] bool rehearse_replace(std::uint32_t symbol, client_order_id old_id,
                                        const order_request& request,
                                        core::timestamp_ns now) noexcept override;
    /// Spot: order.cancelReplace unless turned off; futures: no (cancel, then place).
    [[nodiscard]] bool replaces_in_one_request() const noexcept override;
    [[nodiscard]] gateway_error replace(std::uint32_t symbol, client_order_id old_id,
                                        const order_request& request,
                                        core::timestamp_ns now) noexcept override;

    /// The wrapped gateway's (tick latency's `written` hop).
    [[nodiscard]] std::uint64_t next_request_id() const noexcept;
    std::size_t poll_written(std::span<written_stamp> out) noexcept;

private:
    std::unique_ptr<binance_spot_gateway> spot_;
    std::unique_ptr<binance_futures_gateway> futures_;
    std::string url_;
};

} // namespace quoter::exec
