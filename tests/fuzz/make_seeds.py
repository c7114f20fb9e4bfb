#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are committed; this script documents how each was made and rebuilds them:
    tests/fuzz/make_seeds.py [path/to/shared/data/binance]
Captured seeds are a handful of lines from the Binance captures (MIT-licensed example data of the
hftbacktest project, see ../shared/data/binance/README.md); the REST snapshot is cut to its best
20 levels a side. Every other seed is written here by hand: futures variants, and the invalid
inputs of issue 9 (a trailing '}', '"zz":tru', '17231612x5308' in a number field, a '\\q' string
escape, update ids that jump by 10^10), each applied to messages that would otherwise apply to a
book.
"""
import gzip
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DATA = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared/data/binance"
JUMP = 10**10


def captured(name, count):
    """The first `count` lines of a capture, as (ns, json text)."""
    out = []
    with gzip.open(DATA / name, "rt") as capture:
        for line in capture:
            ns, text = line.rstrip("\n").split(" ", 1)
            out.append((int(ns), text))
            if len(out) == count:
                break
    return out


def trim_snapshot(text, levels=20):
    body = json.loads(text)
    body["bids"] = body["bids"][:levels]
    body["asks"] = body["asks"][:levels]
    return json.dumps(body, separators=(",", ":"))


def payload(text):
    """The "data" object of a combined-stream envelope, in its original bytes."""
    start = text.index('"data":') + len('"data":')
    return text[start:-1]


# The invalid classes, each a function of a valid message.
def anchor(text):
    """The field the corruptions go in front of: the symbol, or a snapshot's bids."""
    return '"s":' if '"s":' in text else '"bids":'


def trailing_brace(text):
    return text + "}"


def truncated_literal(text):
    # '"zz":tru' before the symbol field: a field the decoder skips, with a broken literal.
    return text.replace(anchor(text), '"zz":tru,' + anchor(text), 1)


def letter_in_number(text):
    # A letter inside the event time (or, for a bookTicker, the update id).
    for field in ('"E":', '"u":', '"lastUpdateId":', '"t":'):
        at = text.find(field)
        if at >= 0:
            start = at + len(field)
            end = start
            while text[end].isdigit():
                end += 1
            digits = text[start:end]
            middle = len(digits) // 2
            return text[:start] + digits[:middle] + "x" + digits[middle + 1:] + text[end:]
    raise ValueError(text)


def letter_in_skipped_number(text):
    # The same, in a field the decoder does not read.
    return text.replace(anchor(text), '"Z":17231612x5308,' + anchor(text), 1)


def bad_escape(text):
    return text.replace(anchor(text), '"x\\q":1,' + anchor(text), 1)


def bad_escape_value(text):
    return text.replace(anchor(text), '"x":"\\q",' + anchor(text), 1)


INVALID = {
    "trailing-brace": trailing_brace,
    "zz-tru": truncated_literal,
    "letter-in-number": letter_in_number,
    "letter-in-skipped-number": letter_in_skipped_number,
    "bad-escape-key": bad_escape,
    "bad-escape-value": bad_escape_value,
}


def write(target, name, text):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def with_ids(text, first=None, final=None, prev=None):
    """A depthUpdate or bookTicker with its update ids replaced (same layout)."""
    import re

    if first is not None:
        text = re.sub(r'"U":\d+', f'"U":{first}', text, count=1)
    if final is not None:
        text = re.sub(r'"u":\d+', f'"u":{final}', text, count=1)
    if prev is not None:
        text = re.sub(r'"pu":\d+', f'"pu":{prev}', text, count=1)
    return text


# -- hand-written futures messages (USD-M, BTCUSDT tick 0.10) ---------------------------------
FUT_SNAPSHOT = ('{"lastUpdateId":5009323900,"E":1723161255200,"T":1723161255190,'
                '"bids":[["61837.60","3.788"],["61837.50","0.617"],["61837.20","0.106"]],'
                '"asks":[["61837.70","1.546"],["61838.00","0.323"],["61839.90","0.402"]]}')


def fut_diff(first, final, prev, bids='[["61837.60","3.790"]]', asks='[["61837.70","1.500"]]',
             envelope=True):
    data = ('{"e":"depthUpdate","E":1723161255208,"T":1723161255205,"s":"BTCUSDT",'
            f'"U":{first},"u":{final},"pu":{prev},"b":{bids},"a":{asks}}}')
    return '{"stream":"btcusdt@depth@100ms","data":' + data + "}" if envelope else data


def fut_ticker(update_id, bid="61837.60", ask="61837.70"):
    data = ('{"e":"bookTicker","u":' + str(update_id) + ',"E":1723161255343,"T":1723161255342,'
            f'"s":"BTCUSDT","b":"{bid}","B":"3.788","a":"{ask}","A":"1.546"}}')
    return '{"stream":"btcusdt@bookTicker","data":' + data + "}"


FUT_TRADE = ('{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1723161255343,"a":26129,'
             '"s":"BTCUSDT","p":"61837.60","q":"0.020","f":100,"l":105,"T":1723161255342,'
             '"m":true}}')


def decoder_seeds(btc, eth):
    depth, depth2, ticker, trade, snapshot = btc[0][1], btc[1][1], btc[2][1], btc[3][1], btc[7][1]
    snapshot = trim_snapshot(snapshot)
    valid = {
        "spot-depth-envelope": depth,
        "spot-depth-envelope-2": depth2,
        "spot-depth-payload": payload(depth),
        "spot-ticker-envelope": ticker,
        "spot-ticker-payload": payload(ticker),
        "spot-trade": trade,
        "spot-eth-depth": eth[1][1],
        "spot-eth-ticker": eth[0][1],
        "spot-snapshot": snapshot,
        "spot-agg-trade": FUT_TRADE.replace('"61837.60","q":"0.020"', '"61837.63","q":"0.02000"'),
        "spot-depth-spaced": json.dumps(json.loads(depth), indent=1),
        "spot-depth-reordered": json.dumps(
            {"data": json.loads(payload(depth)), "stream": "btcusdt@depth@100ms"},
            separators=(",", ":")),
        "spot-ticker-jump": with_ids(ticker, final=json.loads(ticker)["data"]["u"] + JUMP),
        "spot-depth-jump": with_ids(depth, final=json.loads(depth)["data"]["u"] + JUMP),
        "futures-depth": fut_diff(5009323901, 5009323905, 5009323900),
        "futures-depth-payload": fut_diff(5009323901, 5009323905, 5009323900, envelope=False),
        "futures-ticker": fut_ticker(5009323906),
        "futures-agg-trade": FUT_TRADE,
        "futures-snapshot": FUT_SNAPSHOT,
        "futures-depth-jump": fut_diff(5009323901, 5009323905 + JUMP, 5009323900),
        "server-shutdown": '{"stream":"btcusdt@depth@100ms","data":{"e":"serverShutdown",'
                           '"E":1723161255208}}',
        "subscription-reply": '{"result":null,"id":1}',
        "rest-error": '{"code":-1121,"msg":"Invalid symbol."}',
    }
    for name, text in valid.items():
        write("decoder", name + ".json", text)
    bases = {
        "spot-depth": depth,
        "spot-ticker": ticker,
        "spot-trade": trade,
        "spot-snapshot": snapshot,
        "futures-depth": fut_diff(5009323901, 5009323905, 5009323900),
        "futures-ticker": fut_ticker(5009323906),
    }
    for base_name, base in bases.items():
        for kind, corrupt in INVALID.items():
            write("decoder", f"invalid-{base_name}-{kind}.json", corrupt(base))


def capture_lines(lines):
    return "".join(f"{ns} {text}\n" for ns, text in lines)


def book_sync_seeds(btc, eth):
    # The first 16 lines of the BTCUSDT capture: diffs buffered, the REST snapshot, then the
    # diffs and bookTickers of a synced book.
    lines = [(ns, trim_snapshot(text) if text.startswith('{"lastUpdateId"') else text)
             for ns, text in btc[:16]]
    write("book_sync", "spot-btc-capture.txt", capture_lines(lines))
    eth_lines = [(ns, trim_snapshot(text) if text.startswith('{"lastUpdateId"') else text)
                 for ns, text in eth[:12]]
    write("book_sync", "spot-eth-capture.txt", capture_lines(eth_lines))

    # The diff at index 9 continues the chain once the book is synced: each invalid copy of it
    # comes first, so that a decoder which accepted it would apply it.
    diff_index = 9
    assert '"depthUpdate"' in lines[diff_index][1]
    for kind, corrupt in INVALID.items():
        ns, text = lines[diff_index]
        seq = lines[:diff_index] + [(ns - 1, corrupt(text))] + lines[diff_index:]
        write("book_sync", f"spot-invalid-diff-{kind}.txt", capture_lines(seq))
    ticker_index = 10
    assert '@bookTicker' in lines[ticker_index][1]
    for kind, corrupt in INVALID.items():
        ns, text = lines[ticker_index]
        seq = lines[:ticker_index] + [(ns - 1, corrupt(text))] + lines[ticker_index:]
        write("book_sync", f"spot-invalid-ticker-{kind}.txt", capture_lines(seq))

    # Update ids that jump 10^10 ahead: a bookTicker, then a diff, followed by the real stream
    # and a staleness check 10 s later.
    ns, text = lines[ticker_index]
    jumped = with_ids(text, final=json.loads(text)["data"]["u"] + JUMP)
    tail = lines[ticker_index:] + [(lines[-1][0] + 10_000_000_000, "!check-stale")]
    write("book_sync", "spot-ticker-jump.txt",
          capture_lines(lines[:ticker_index] + [(ns - 1, jumped)] + tail))
    ns, text = lines[diff_index]
    data = json.loads(text)["data"]
    jumped = with_ids(text, final=data["u"] + JUMP)
    tail = lines[diff_index + 1:] + [(lines[-1][0] + 10_000_000_000, "!check-stale")]
    write("book_sync", "spot-diff-jump.txt",
          capture_lines(lines[:diff_index] + [(ns, jumped)] + tail))

    # Transport events: a disconnect mid-stream, a failed snapshot, a resync.
    events = lines[:6] + [(lines[6][0], "!snapshot-failed")] + lines[6:12] + [
        (lines[12][0], "!disconnect"), (lines[12][0] + 1, "!connect")] + lines[12:]
    write("book_sync", "spot-transport-events.txt", capture_lines(events))

    # USD-M futures: buffered diff, snapshot, the straddling diff, a pu chain, a ticker, a
    # trade, a gap, and invalid copies of a chained diff.
    t = 1723161254000000000
    fut = [
        (t, "!connect"),
        (t + 1, fut_diff(5009323895, 5009323899, 5009323894)),
        (t + 2, fut_diff(5009323899, 5009323903, 5009323898)),
        (t + 3, FUT_SNAPSHOT),
        (t + 4, fut_diff(5009323904, 5009323910, 5009323903,
                         bids='[["61837.50","0"],["61837.40","1.000"]]')),
        (t + 5, fut_ticker(5009323912)),
        (t + 6, FUT_TRADE),
        (t + 7, fut_diff(5009323911, 5009323915, 5009323910)),
    ]
    write("book_sync", "futures-session.txt", capture_lines(fut))
    chained = fut_diff(5009323916, 5009323920, 5009323915, asks='[["61837.80","2.000"]]')
    for kind, corrupt in INVALID.items():
        write("book_sync", f"futures-invalid-diff-{kind}.txt",
              capture_lines(fut + [(t + 8, corrupt(chained)), (t + 9, chained)]))
    write("book_sync", "futures-gap.txt", capture_lines(
        fut + [(t + 8, fut_diff(5009323930, 5009323931, 5009323929))]))
    write("book_sync", "futures-ticker-jump.txt", capture_lines(
        fut + [(t + 8, fut_ticker(5009323915 + JUMP)), (t + 9, chained),
               (t + 10_000_000_000, "!check-stale")]))


CONFIG_VALID = """\
# A complete file for the fuzz schema.
[engine]
mode = "paper"
symbol = "ETHUSDT"
testnet = true

[threads]
md_cpu = 2
wait_policy = "yield"

[symbol]
tick_size = "0.01"
step_size = "0.0001"

[strategy]
spread_bps = 7.5
order_size_pct = 2
levels = 3
refresh_ms = 250

[md]
streams = ["depth", "trade", "bookTicker"]
max_levels = 1000
price_band_pct = -1.5e-3

[risk.limits]
max_position = 0.25
max_orders_per_s = 20
kill_on_disconnect = false

[profile.dev.threads]
md_cpu = -1
wait_policy = "block"

[profile.dev.strategy]
spread_bps = 12.0
"""

CONFIG_ERRORS = """\
[engine]
mode = "backtest"            # not a choice
symbol = 42                  # wrong type
testnet = "yes"

[threads]
md_cpu = 4096                # out of range
wait_policy = "spinn"        # typo: did you mean

[symbol]
tick_size = 0.01             # a float, not a decimal string
step_size = "1e-5"

[strategy]
spread_bps = nan
order_size_pct = 0           # exclusive minimum
levels = -1
refresh_ms = 1.5
spred_bps = 3                # unknown key

[md]
streams = ["depth", 3]
max_levels = 9223372036854775807

[risk.limits]
max_position = inf

[profile.prd.strategy]
spread_bps = 1

[unknown_table]
x = 1
"""

CONFIG_STRINGS = """\
[engine]
symbol = "BTC\\u00e9\\t\\"quoted\\"\\\\ \\U0001F600 é"
mode = 'live'

[md]
streams = ['multi\\nline', \"\"\"three
lines\"\"\", "", "a,b"]
price_band_pct = 1.7976931348623157e308

[strategy]
spread_bps = 0.1
refresh_ms = 0x10

[risk]
limits = { max_position = 5e-324, max_orders_per_s = 0b101, kill_on_disconnect = true }
"""

CONFIG_SYNTAX = """\
[engine
mode = "sim"
"""


def config_seeds():
    write("config", "valid-schema.toml", CONFIG_VALID)
    write("config", "every-error.toml", CONFIG_ERRORS)
    write("config", "strings-and-numbers.toml", CONFIG_STRINGS)
    write("config", "syntax-error.toml", CONFIG_SYNTAX)
    repo_config = HERE.parents[1] / "config" / "live-testnet.toml"
    write("config", "repo-live-testnet.toml", repo_config.read_text())


def main():
    btc = captured("spot-btcusdt-20240808.gz", 16)
    eth = captured("spot-ethusdt-20240808.gz", 12)
    decoder_seeds(btc, eth)
    book_sync_seeds(btc, eth)
    config_seeds()


if __name__ == "__main__":
    main()
