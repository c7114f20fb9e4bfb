// The CSV files: pnl.csv, fills.csv, orders.csv and paths.csv, one row per record.
#include "report_detail.hpp"

#include <cmath>

namespace quoter::sim {

namespace report_detail {

void emit_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f, output& out) {
    out.text() += "time_ns,mid,bid,ask,inventory,cash,equity,realized_pnl,unrealized_pnl,fees\n";
    for (const auto& s : pnl) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},", s.time_ns);
        append_fixed(t, s.mid, f.mid_decimals);
        t += ',';
        append_fixed(t, s.bid_quote, f.price_decimals);
        t += ',';
        append_fixed(t, s.ask_quote, f.price_decimals);
        t += ',';
        append_fixed(t, s.inventory, f.quantity_decimals);
        for (const double v : {s.cash, s.equity, s.realized_pnl, s.unrealized_pnl, s.fees}) {
            t += ',';
            append_fixed(t, v, f.value_decimals);
        }
        t += '\n';
        out.row_done();
    }
}

void emit_fills_csv(std::span<const fill_record> fills, const report_format& f, output& out) {
    out.text() += "time_ns,order_id,side,level,liquidity,price,quantity,notional,fee,mid,"
                  "realized_pnl,inventory_after\n";
    for (const auto& r : fills) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},{},{},{},", r.time_ns, r.order_id, to_string(r.side),
                       r.level, to_string(r.role));
        append_fixed(t, r.price, f.price_decimals);
        t += ',';
        append_fixed(t, r.quantity, f.quantity_decimals);
        t += ',';
        append_fixed(t, r.price * r.quantity, f.value_decimals);
        t += ',';
        append_fixed(t, r.fee, f.value_decimals);
        t += ',';
        append_fixed(t, r.mid, f.mid_decimals);
        t += ',';
        append_fixed(t, r.realized_pnl, f.value_decimals);
        t += ',';
        append_fixed(t, r.inventory_after, f.quantity_decimals);
        t += '\n';
        out.row_done();
    }
}

void emit_orders_csv(std::span<const order_record> orders, const report_format& f, output& out) {
    out.text() += "time_ns,order_id,event,side,level,price,quantity,filled_quantity\n";
    for (const auto& r : orders) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},{},{},{},", r.time_ns, r.order_id, to_string(r.event),
                       to_string(r.side), r.level);
        append_fixed(t, r.price, f.price_decimals);
        t += ',';
        append_fixed(t, r.quantity, f.quantity_decimals);
        t += ',';
        append_fixed(t, r.filled_quantity, f.quantity_decimals);
        t += '\n';
        out.row_done();
    }
}

void emit_paths_csv(std::span<const path_summary> paths, const report_format& f, output& out) {
    out.text() += "path,seed,final_pnl,total_return_pct,final_inventory,sharpe,max_drawdown,"
                  "max_drawdown_pct,fills,net_fees,mean_abs_inventory,mean_quoted_spread\n";
    for (const auto& p : paths) {
        std::string& t = out.text();
        fmt::format_to(out_it(t), "{},{},", p.path_index, p.seed);
        append_fixed(t, p.final_pnl, f.value_decimals);
        t += ',';
        append_fixed(t, p.total_return_pct, 6);
        t += ',';
        append_fixed(t, p.final_inventory, f.quantity_decimals);
        t += ',';
        append_fixed(t, p.sharpe, 6);
        t += ',';
        append_fixed(t, p.max_drawdown, f.value_decimals);
        t += ',';
        append_fixed(t, p.max_drawdown_pct, 6);
        fmt::format_to(out_it(t), ",{},", p.fills);
        append_fixed(t, p.net_fees, f.value_decimals);
        t += ',';
        append_fixed(t, p.mean_abs_inventory, f.quantity_decimals);
        t += ',';
        if (std::isfinite(p.mean_quoted_spread)) {
            append_fixed(t, p.mean_quoted_spread, f.price_decimals + 2);
        }
        t += '\n';
        out.row_done();
    }
}

} // namespace report_detail

using namespace report_detail;

std::string format_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f) {
    output out;
    emit_pnl_csv(pnl, f, out);
    return std::move(out.text());
}

std::string format_fills_csv(std::span<const fill_record> fills, const report_format& f) {
    output out;
    emit_fills_csv(fills, f, out);
    return std::move(out.text());
}

std::string format_orders_csv(std::span<const order_record> orders, const report_format& f) {
    output out;
    emit_orders_csv(orders, f, out);
    return std::move(out.text());
}

std::string format_paths_csv(std::span<const path_summary> paths, const report_format& f) {
    output out;
    emit_paths_csv(paths, f, out);
    return std::move(out.text());
}

} // namespace quoter::sim
