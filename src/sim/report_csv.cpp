// The CSV files: pnl.csv, fills.csv, orders.csv and paths.csv, one row per record. One table
// writer serves them all; each file is a list of columns, a column being its header name and the
// function that writes its cell of a row.
#include "report_detail.hpp"

#include <array>
#include <cmath>
#include <cstddef>

namespace quoter::sim {

namespace report_detail {
namespace {

/// One CSV column of a row type: its header name and the writer of its cell (no separator).
template <class Row> struct csv_column {
    std::string_view name;
    void (*write)(std::string& cell, const Row& row, const report_format& f);
};

/// The header line, then one line per row, each handed to the output as it is completed.
template <class Row, std::size_t N>
void emit_csv(std::span<const Row> rows, const std::array<csv_column<Row>, N>& columns,
              const report_format& f, output& out) {
    std::string& header = out.text();
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) {
            header += ',';
        }
        header += columns[i].name;
    }
    header += '\n';
    for (const Row& row : rows) {
        std::string& t = out.text();
        for (std::size_t i = 0; i < N; ++i) {
            if (i > 0) {
                t += ',';
            }
            columns[i].write(t, row, f);
        }
        t += '\n';
        out.row_done();
    }
}

/// The decimals a number column is written with.
enum class digits : std::uint8_t { price, mid, quantity, value, ratio, spread };

constexpr int decimals(digits d, const report_format& f) noexcept {
    switch (d) {
    case digits::price:
        return f.price_decimals;
    case digits::mid:
        return f.mid_decimals;
    case digits::quantity:
        return f.quantity_decimals;
    case digits::value:
        return f.value_decimals;
    case digits::ratio:
        return 6;
    case digits::spread:
        return f.price_decimals + 2; // a mean of tick-grid spreads: finer than one tick
    }
    return f.value_decimals;
}

/// A member written as an integer (or any type fmt prints as it is).
template <class Row, auto Member>
void integer_cell(std::string& t, const Row& r, const report_format&) {
    fmt::format_to(out_it(t), "{}", r.*Member);
}

/// A member written through its to_string() name.
template <class Row, auto Member>
void name_cell(std::string& t, const Row& r, const report_format&) {
    t += to_string(r.*Member);
}

/// A double member in fixed point (an empty cell when it is not finite).
template <class Row, auto Member, digits D>
void fixed_cell(std::string& t, const Row& r, const report_format& f) {
    append_fixed(t, r.*Member, decimals(D, f));
}

template <class Row, auto Member> constexpr csv_column<Row> integer(std::string_view name) {
    return {name, &integer_cell<Row, Member>};
}
template <class Row, auto Member> constexpr csv_column<Row> name(std::string_view name) {
    return {name, &name_cell<Row, Member>};
}
template <class Row, auto Member, digits D> constexpr csv_column<Row> fixed(std::string_view name) {
    return {name, &fixed_cell<Row, Member, D>};
}

using P = pnl_sample;
constexpr std::array<csv_column<P>, 10> pnl_columns{{
    integer<P, &P::time_ns>("time_ns"),
    fixed<P, &P::mid, digits::mid>("mid"),
    fixed<P, &P::bid_quote, digits::price>("bid"),
    fixed<P, &P::ask_quote, digits::price>("ask"),
    fixed<P, &P::inventory, digits::quantity>("inventory"),
    fixed<P, &P::cash, digits::value>("cash"),
    fixed<P, &P::equity, digits::value>("equity"),
    fixed<P, &P::realized_pnl, digits::value>("realized_pnl"),
    fixed<P, &P::unrealized_pnl, digits::value>("unrealized_pnl"),
    fixed<P, &P::fees, digits::value>("fees"),
}};

using F = fill_record;
constexpr std::array<csv_column<F>, 12> fill_columns{{
    integer<F, &F::time_ns>("time_ns"),
    integer<F, &F::order_id>("order_id"),
    name<F, &F::side>("side"),
    integer<F, &F::level>("level"),
    name<F, &F::role>("liquidity"),
    fixed<F, &F::price, digits::price>("price"),
    fixed<F, &F::quantity, digits::quantity>("quantity"),
    {"notional",
     [](std::string& t, const F& r, const report_format& f) {
         append_fixed(t, r.price * r.quantity, f.value_decimals);
     }},
    fixed<F, &F::fee, digits::value>("fee"),
    fixed<F, &F::mid, digits::mid>("mid"),
    fixed<F, &F::realized_pnl, digits::value>("realized_pnl"),
    fixed<F, &F::inventory_after, digits::quantity>("inventory_after"),
}};

using O = order_record;
constexpr std::array<csv_column<O>, 8> order_columns{{
    integer<O, &O::time_ns>("time_ns"),
    integer<O, &O::order_id>("order_id"),
    name<O, &O::event>("event"),
    name<O, &O::side>("side"),
    integer<O, &O::level>("level"),
    fixed<O, &O::price, digits::price>("price"),
    fixed<O, &O::quantity, digits::quantity>("quantity"),
    fixed<O, &O::filled_quantity, digits::quantity>("filled_quantity"),
}};

using S = path_summary;
constexpr std::array<csv_column<S>, 12> path_columns{{
    integer<S, &S::path_index>("path"),
    integer<S, &S::seed>("seed"),
    fixed<S, &S::final_pnl, digits::value>("final_pnl"),
    fixed<S, &S::total_return_pct, digits::ratio>("total_return_pct"),
    fixed<S, &S::final_inventory, digits::quantity>("final_inventory"),
    fixed<S, &S::sharpe, digits::ratio>("sharpe"),
    fixed<S, &S::max_drawdown, digits::value>("max_drawdown"),
    fixed<S, &S::max_drawdown_pct, digits::ratio>("max_drawdown_pct"),
    integer<S, &S::fills>("fills"),
    fixed<S, &S::net_fees, digits::value>("net_fees"),
    fixed<S, &S::mean_abs_inventory, digits::quantity>("mean_abs_inventory"),
    fixed<S, &S::mean_quoted_spread, digits::spread>("mean_quoted_spread"),
}};

} // namespace

void emit_pnl_csv(std::span<const pnl_sample> pnl, const report_format& f, output& out) {
    emit_csv(pnl, pnl_columns, f, out);
}

void emit_fills_csv(std::span<const fill_record> fills, const report_format& f, output& out) {
    emit_csv(fills, fill_columns, f, out);
}

void emit_orders_csv(std::span<const order_record> orders, const report_format& f, output& out) {
    emit_csv(orders, order_columns, f, out);
}

void emit_paths_csv(std::span<const path_summary> paths, const report_format& f, output& out) {
    emit_csv(paths, path_columns, f, out);
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
