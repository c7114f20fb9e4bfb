// Feeds a Binance capture (quoter's .gz capture format: "<local ns> <combined-stream JSON>" per
// line) through ccxt's own WebSocket message handling, offline: each line goes to the client's
// onMessage (ccxt's JSON parse) and from there to binance.handleMessage, which dispatches
// depthUpdate to handleOrderBook (the diff-depth sync and the OrderBook sides), trades and
// bookTicker to theirs. No socket, no snapshot request: the book starts empty at the first
// update's sequence, as quoter's replay does.
//
// Usage: node compare.mjs CAPTURE.gz [--messages depth|all] [--repetitions N]
// Prints one JSON line: messages, CPU seconds, messages per CPU second, wall seconds, resyncs and
// the final top of book (for a sanity check against quoter's).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import ccxt from 'ccxt';

const args = process.argv.slice(2);
const capture = args.find((a) => !a.startsWith('--'));
const option = (name, fallback) => {
    const at = args.indexOf(name);
    return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const which = option('--messages', 'depth');
const repetitions = Number(option('--repetitions', '5'));
if (!capture || !['depth', 'all'].includes(which) || !(repetitions > 0)) {
    console.error('usage: node compare.mjs CAPTURE.gz [--messages depth|all] [--repetitions N]');
    process.exit(2);
}

// Lines as the socket would deliver them: the JSON text after the local timestamp.
const lines = [];
for (const line of gunzipSync(readFileSync(capture)).toString('utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) {
        continue;
    }
    const text = line.slice(space + 1);
    if (which === 'all' || text.includes('"e":"depthUpdate"')) {
        lines.push(text);
    }
}
const firstDepth = lines.find((l) => l.includes('"e":"depthUpdate"'));
if (!firstDepth) {
    console.error(`no depthUpdate in ${capture}`);
    process.exit(1);
}
const first = JSON.parse(firstDepth).data;
const marketId = first.s;
const base = marketId.replace(/(USDT|USDC|BTC|ETH)$/, '');
const quote = marketId.slice(base.length);
const symbol = `${base}/${quote}`;

const exchange = new ccxt.pro.binance({ enableRateLimit: false });
exchange.setMarkets([
    {
        id: marketId, symbol, base, quote, baseId: base, quoteId: quote, type: 'spot', spot: true,
        margin: false, swap: false, future: false, option: false, contract: false, active: true,
        precision: { price: 0.01, amount: 0.00001 }, limits: {}, info: {},
    },
]);
const url = `wss://stream.binance.com:9443/stream?streams=${marketId.toLowerCase()}@depth@100ms`;
const client = exchange.client(url);

let resyncs = 0;
/// An empty book whose next update must start at firstUpdate (as after a snapshot).
const freshBook = (firstUpdate) => {
    const book = exchange.orderBook({}, 1000);
    book.reset({ bids: [], asks: [], nonce: firstUpdate - 1 });
    exchange.orderbooks[symbol] = book;
};

const run = () => {
    freshBook(first.U);
    for (let i = 0; i < lines.length; ++i) {
        client.onMessage({ data: lines[i] });
        if (exchange.orderbooks[symbol] === undefined) {
            // ccxt dropped the book on a sequence gap (ChecksumError): start over from the next
            // update, as a resync with an empty snapshot would.
            ++resyncs;
            const next = lines[i + 1];
            freshBook(next ? Number(JSON.parse(next).data.U ?? 0) : 0);
        }
    }
};

run(); // warm-up: JIT, hidden classes
resyncs = 0;
const cpu0 = process.cpuUsage();
const wall0 = process.hrtime.bigint();
for (let r = 0; r < repetitions; ++r) {
    run();
}
const wall = Number(process.hrtime.bigint() - wall0) * 1e-9;
const cpuUsed = process.cpuUsage(cpu0);
const cpu = (cpuUsed.user + cpuUsed.system) * 1e-6;
const book = exchange.orderbooks[symbol];
const messages = lines.length * repetitions;
console.log(JSON.stringify({
    ccxt: ccxt.version, node: process.version, capture, messages_kind: which,
    messages, repetitions, cpu_s: cpu, wall_s: wall,
    messages_per_cpu_s: messages / cpu, messages_per_wall_s: messages / wall,
    resyncs: resyncs / repetitions,
    best_bid: book?.bids?.[0] ?? null, best_ask: book?.asks?.[0] ?? null,
}));
