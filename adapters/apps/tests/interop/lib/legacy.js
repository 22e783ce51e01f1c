"use strict";
// The Socket.IO 0.9 client (npm socket.io-client 0.9.x, installed under the
// alias `socket.io-client-v09`) for the interop suite: which 0.9 transport a
// TRANSPORTS variant uses, opening and tracking sockets, a tap on the decoded
// packets the client receives, and an HTTP probe of the server's session.
//
// The 0.9 client API: `io.connect(url, opts)` does the handshake
// (`GET /socket.io/1/?<url query>&t=<ms>`) and returns the namespace of the
// URL's path (`""` for `/`); `ns.of("/custom")` multiplexes another endpoint
// on the same connection (`1::/custom`). A namespace is an event emitter
// (`on`, `removeListener`) whose `emit` sends an event; `send` / `json.send`
// send `message` (3) / `json` (4) packets, which arrive as `message` events.

const assert = require("node:assert/strict");
const { SERVER_URL, TRANSPORTS, WAIT_MS, nextEvent } = require("./harness");

const io = require("socket.io-client-v09");
const VERSION = require("socket.io-client-v09/package.json").version;

// The suite's TRANSPORTS variants for 0.9, which has no upgrade:
// `websocket` → websocket only, `polling` → xhr-polling only, anything else
// (`polling,websocket`, the clients' default) → the 0.9 client's default
// (no `transports` option: the first of its transports the handshake offers).
function legacyTransports(list) {
  const key = list.join(",");
  if (key === "websocket") return ["websocket"];
  if (key === "polling") return ["xhr-polling"];
  return null;
}
const TRANSPORTS_09 = legacyTransports(TRANSPORTS);
// The transport the client must end up on (the default picks websocket).
const EXPECTED_TRANSPORT = TRANSPORTS_09 ? TRANSPORTS_09[0] : "websocket";
const LABEL = TRANSPORTS_09 ? TRANSPORTS_09.join(",") : "default transports";
const NAME = `socket.io-client ${VERSION}`;

function options() {
  return {
    "force new connection": true,
    reconnect: false,
    "connect timeout": WAIT_MS,
    // Connect below, after setting the transports.
    "auto connect": false,
  };
}

// Keeps every 0.9 connection created during a test and closes them all at
// the end (a namespace's `disconnect()` only leaves its endpoint, so the
// underlying `io.Socket` is closed).
class LegacyTracker {
  constructor(t) {
    this.sockets = new Set();
    t.after(() => this.closeAll());
  }
  add(ns) {
    this.sockets.add(ns.socket);
    return ns;
  }
  closeAll() {
    for (const s of this.sockets) {
      try {
        s.options.reconnect = false;
        for (const name of Object.keys(s.namespaces)) s.namespaces[name].removeAllListeners();
        s.removeAllListeners();
        if (s.connected || s.connecting) {
          if (s.transport) s.disconnect();
          else {
            // Handshake in flight: its completion must open no transport
            // (and arm no heartbeat timer, which would need one).
            s.getTransport = () => null;
            s.setHeartbeatTimeout = () => {};
          }
        }
        if (s.transport) s.transport.clearTimeouts();
        clearTimeout(s.heartbeatTimeoutTimer);
        clearTimeout(s.connectTimeoutTimer);
      } catch (_) {
        /* best effort */
      }
    }
    this.sockets.clear();
  }
}

// `io.connect(SERVER_URL + path)`; `path` may carry a query ("/?token=abc",
// "/custom?token=abc"), which the 0.9 client sends with the handshake.
//
// The transports are set on the socket, not passed as the `transports`
// option: the client merges options element by element into its defaults,
// and `transports` defaults to the shared array `io.transports` (in Node
// `["websocket", "xhr-polling", "websocket", "xhr-polling"]`, each transport
// module registers itself twice), so `{transports: ["xhr-polling"]}` would
// become `["xhr-polling", "xhr-polling", "websocket", "xhr-polling"]` (for
// every later socket too), and the handshake's order (websocket first) wins.
function rawConnect(path = "/") {
  const ns = io.connect(SERVER_URL + path, options());
  if (TRANSPORTS_09) ns.socket.options.transports = TRANSPORTS_09.slice();
  ns.socket.connect();
  return ns;
}

// Registers `connect` and `auth` waiters at once (events are delivered
// asynchronously, so nothing is missed). `auth` resolves with the payload.
function watch(ns) {
  const connected = nextEvent(ns, "connect");
  const auth = nextEvent(ns, "auth").then((args) => {
    assert.equal(args.length, 1, "auth event has one argument");
    return args[0];
  });
  connected.catch(() => {});
  auth.catch(() => {});
  return { ns, connected, auth };
}

// Opens a new connection to `path`, waits for `connect` and `auth`.
async function connect09(tracker, path = "/") {
  const h = watch(tracker.add(rawConnect(path)));
  const [, auth] = await Promise.all([h.connected, h.auth]);
  assert.equal(h.ns.socket.transport.name, EXPECTED_TRANSPORT, "the 0.9 transport in use");
  return { ns: h.ns, auth };
}

// Joins `endpoint` on the connection of `ns` (`1::/custom`).
async function join09(ns, endpoint) {
  const h = watch(ns.of(endpoint));
  const [, auth] = await Promise.all([h.connected, h.auth]);
  return { ns: h.ns, auth };
}

// The auth of the global endpoint is the handshake query, which always holds
// the client's cache buster `t` (milliseconds): check it and drop it.
function withoutT(auth) {
  assert.ok(auth && typeof auth === "object", `auth is an object: ${JSON.stringify(auth)}`);
  assert.match(String(auth.t), /^\d+$/, "the handshake query carries the client's t=<ms>");
  const { t, ...rest } = auth;
  return rest;
}

// Decoded packets the client receives (heartbeats excepted), for every
// endpoint of the connection: `tap(ns)` returns a list that fills up.
function tap(ns) {
  const s = ns.socket;
  if (!s.$packets) {
    s.$packets = [];
    const orig = s.onPacket;
    s.onPacket = function (packet) {
      s.$packets.push(packet);
      for (const f of s.$waiters.slice()) f(packet);
      return orig.call(this, packet);
    };
    s.$waiters = [];
  }
  return s.$packets;
}

// The next received packet matching `filter` (from now on).
function nextPacket(ns, filter, { timeout = WAIT_MS } = {}) {
  tap(ns);
  const s = ns.socket;
  return new Promise((resolve, reject) => {
    const f = (p) => {
      if (!filter(p)) return;
      clearTimeout(timer);
      s.$waiters.splice(s.$waiters.indexOf(f), 1);
      resolve(p);
    };
    const timer = setTimeout(() => {
      s.$waiters.splice(s.$waiters.indexOf(f), 1);
      reject(new Error(`timed out after ${timeout} ms waiting for a packet`));
    }, timeout);
    s.$waiters.push(f);
  });
}

// Counts the server's heartbeats (`2::`) on the connection of `ns`, which the
// transport answers itself; returns a getter.
function countHeartbeats(ns) {
  const transport = ns.socket.transport;
  let beats = 0;
  const orig = transport.onHeartbeat;
  transport.onHeartbeat = function (...args) {
    beats++;
    return orig.apply(this, args);
  };
  return () => beats;
}

// Whether the server still knows the session `sid`: polls
// `GET /socket.io/1/xhr-polling/<sid>` until the answer is the reference's
// "client not handshaken" error `7:::1+0` (resolves true), or `until` ms pass
// (resolves false). A still-open polling session may take the probe as its
// poll; a `0::` answer there means the server closed it meanwhile.
async function sessionGone(sid, until = 3000) {
  const deadline = Date.now() + until;
  for (;;) {
    try {
      const res = await fetch(`${SERVER_URL}/socket.io/1/xhr-polling/${sid}?t=${Date.now()}`, {
        signal: AbortSignal.timeout(1000),
      });
      const body = await res.text();
      if (res.status === 200 && body === "7:::1+0") return true;
    } catch (_) {
      /* timed out: the probe was held as a poll */
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

module.exports = {
  io,
  VERSION,
  NAME,
  LABEL,
  TRANSPORTS_09,
  EXPECTED_TRANSPORT,
  LegacyTracker,
  rawConnect,
  watch,
  connect09,
  join09,
  withoutT,
  tap,
  nextPacket,
  countHeartbeats,
  sessionGone,
};
