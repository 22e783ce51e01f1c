"use strict";
// Shared helpers for the interop suite: configuration from the environment,
// a uniform adapter over socket.io-client 4.x and 2.x, event waiting with
// timeouts, and value normalisation for comparing payloads that contain binary.

const assert = require("node:assert/strict");

const SERVER_URL = (process.env.SERVER_URL || "").replace(/\/+$/, "");
if (!SERVER_URL) {
  throw new Error("SERVER_URL is not set (e.g. SERVER_URL=http://127.0.0.1:3000)");
}

const VALID_TRANSPORTS = new Set(["websocket", "polling"]);
const TRANSPORTS = (process.env.TRANSPORTS || "websocket")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
for (const t of TRANSPORTS) {
  if (!VALID_TRANSPORTS.has(t)) throw new Error(`TRANSPORTS: unknown transport ${JSON.stringify(t)}`);
}
if (TRANSPORTS.length === 0) throw new Error("TRANSPORTS is empty");

// Default time limit for one awaited event.
const WAIT_MS = Number(process.env.INTEROP_WAIT_MS || 5000);

const io4 = require("socket.io-client");
const io2 = require("socket.io-client-v2");

const commonOpts = () => ({
  transports: TRANSPORTS.slice(),
  reconnection: false,
  timeout: WAIT_MS,
});

// A uniform view of the two client generations. `open(nsp, {token, manager})`
// creates a socket and registers the `auth` listener synchronously, so the
// `auth` event that the server emits on connection cannot be missed.
const CLIENTS = [
  {
    id: "v4",
    name: `socket.io-client ${require("socket.io-client/package.json").version}`,
    newManager() {
      return new io4.Manager(SERVER_URL, commonOpts());
    },
    rawSocket(nsp, { token, manager } = {}) {
      const auth = token === undefined ? undefined : { token };
      if (manager) return manager.socket(nsp, auth ? { auth } : {});
      return io4.io(SERVER_URL + nsp, { ...commonOpts(), forceNew: true, ...(auth ? { auth } : {}) });
    },
    // Heartbeat evidence: the server pings (EIO 4), the Manager re-emits "ping".
    heartbeatEvent: "ping",
    // Resolves with a description of the refusal of an invalid namespace.
    namespaceRefusal(socket) {
      return nextEvent(socket, "connect_error", { failOnDisconnect: false }).then(([err]) => ({
        message: err && err.message,
      }));
    },
  },
  {
    id: "v2",
    name: `socket.io-client ${require("socket.io-client-v2/package.json").version}`,
    newManager() {
      return io2.Manager(SERVER_URL, commonOpts());
    },
    rawSocket(nsp, { token, manager } = {}) {
      // Socket.IO 2.x has no auth payload: the query of the namespace URL is
      // sent in the CONNECT packet (`40/custom?token=abc,`).
      const query = token === undefined ? undefined : `token=${encodeURIComponent(token)}`;
      if (manager) return manager.socket(nsp, query ? { query } : {});
      return io2(SERVER_URL + nsp + (query ? `?${query}` : ""), { ...commonOpts(), forceNew: true });
    },
    // Heartbeat evidence: the client pings (EIO 3), the Manager emits "pong".
    heartbeatEvent: "pong",
    namespaceRefusal(socket) {
      return nextEvent(socket, "error", { failOnDisconnect: false }).then(([data]) => data);
    },
  },
];

// Keeps every socket/manager created during a test, closes them all at the end.
class Tracker {
  constructor(t) {
    this.sockets = [];
    this.managers = [];
    t.after(() => this.closeAll());
  }
  closeAll() {
    for (const s of this.sockets) {
      try {
        s.removeAllListeners && s.removeAllListeners();
        // socket.io-client 2.x re-emits errors; swallow late ones after the test.
        s.on && s.on("error", () => {});
        s.disconnect();
        if (s.io) {
          // Close the underlying connection too (forceNew managers are per socket).
          s.io.removeAllListeners && s.io.removeAllListeners();
          s.io.on && s.io.on("error", () => {});
          if (s.io.engine) s.io.engine.close();
        }
      } catch (_) {
        /* best effort */
      }
    }
    for (const m of this.managers) {
      try {
        if (m.engine) m.engine.close();
      } catch (_) {
        /* best effort */
      }
    }
    this.sockets = [];
    this.managers = [];
  }
}

// Open a socket on `nsp` with client `c`; returns {socket, auth, connected}:
// `auth` resolves with the payload of the server's `auth` event and
// `connected` when the client reports the namespace connected.
function open(tracker, c, nsp, opts = {}) {
  const socket = c.rawSocket(nsp, opts);
  tracker.sockets.push(socket);
  const auth = nextEvent(socket, "auth").then((args) => {
    assert.equal(args.length, 1, `auth event should carry exactly one argument, got ${inspect(args)}`);
    return args[0];
  });
  const connected = nextEvent(socket, "connect");
  // Avoid unhandled rejections when a test does not await one of them.
  auth.catch(() => {});
  connected.catch(() => {});
  return { socket, auth, connected };
}

// Open and wait until connected and the `auth` event has arrived.
async function connect(tracker, c, nsp = "/", opts = {}) {
  const h = open(tracker, c, nsp, opts);
  const [, authPayload] = await Promise.all([h.connected, h.auth]);
  return { socket: h.socket, auth: authPayload };
}

function newManager(tracker, c) {
  const m = c.newManager();
  tracker.managers.push(m);
  return m;
}

// Wait for the next `event` on `emitter` whose args satisfy `filter`. Rejects
// on timeout and, unless disabled, when the socket disconnects or reports a
// connection error first.
function nextEvent(emitter, event, { timeout = WAIT_MS, filter = null, failOnDisconnect = true } = {}) {
  return new Promise((resolve, reject) => {
    const cleanups = [];
    const done = (fn, v) => {
      for (const c of cleanups) c();
      fn(v);
    };
    const timer = setTimeout(
      () => done(reject, new Error(`timed out after ${timeout} ms waiting for event ${JSON.stringify(event)}`)),
      timeout
    );
    cleanups.push(() => clearTimeout(timer));
    const listen = (name, fn) => {
      emitter.on(name, fn);
      cleanups.push(() => emitter.off ? emitter.off(name, fn) : emitter.removeListener(name, fn));
    };
    listen(event, (...args) => {
      if (filter && !filter(args)) return;
      done(resolve, args);
    });
    if (failOnDisconnect) {
      for (const bad of ["disconnect", "connect_error", "error"]) {
        if (bad === event) continue;
        listen(bad, (...args) =>
          done(reject, new Error(`got ${JSON.stringify(bad)} ${inspect(args)} while waiting for ${JSON.stringify(event)}`))
        );
      }
    }
  });
}

// Collect `count` occurrences of `event` (in arrival order).
function collect(emitter, event, count, { timeout = WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const got = [];
    const cleanup = () => {
      clearTimeout(timer);
      for (const [n, f] of listeners) emitter.off ? emitter.off(n, f) : emitter.removeListener(n, f);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeout} ms: got ${got.length}/${count} ${JSON.stringify(event)} events`));
    }, timeout);
    const onEvent = (...args) => {
      got.push(args);
      if (got.length === count) {
        cleanup();
        resolve(got);
      }
    };
    const onDisconnect = (reason) => {
      cleanup();
      reject(new Error(`disconnected (${reason}) after ${got.length}/${count} ${JSON.stringify(event)} events`));
    };
    const listeners = [
      [event, onEvent],
      ["disconnect", onDisconnect],
    ];
    for (const [n, f] of listeners) emitter.on(n, f);
  });
}

// Emit with an ack callback; resolves with the ack arguments.
function emitWithAck(socket, event, args, { timeout = WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ack for ${JSON.stringify(event)} within ${timeout} ms`)),
      timeout
    );
    socket.emit(event, ...args, (...ackArgs) => {
      clearTimeout(timer);
      resolve(ackArgs);
    });
  });
}

// Resolves if `event` does NOT happen within `ms` (rejects if it does).
function expectSilence(emitter, event, ms, filter = null) {
  return new Promise((resolve, reject) => {
    const fn = (...args) => {
      if (filter && !filter(args)) return;
      clearTimeout(timer);
      emitter.off ? emitter.off(event, fn) : emitter.removeListener(event, fn);
      reject(new Error(`unexpected ${JSON.stringify(event)} ${inspect(args)}`));
    };
    const timer = setTimeout(() => {
      emitter.off ? emitter.off(event, fn) : emitter.removeListener(event, fn);
      resolve();
    }, ms);
    emitter.on(event, fn);
  });
}

// Normalise a received value for comparison: every binary flavour (Buffer,
// ArrayBuffer, typed arrays — which one a client yields depends on client
// version and transport) becomes {$binary: hex}; objects become plain objects.
function norm(v) {
  if (Buffer.isBuffer(v)) return { $binary: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { $binary: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { $binary: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) out[k] = norm(v[k]);
    return out;
  }
  return v;
}

function assertSame(actual, expected, message) {
  assert.deepStrictEqual(norm(actual), norm(expected), message);
}

function inspect(v) {
  const s = require("node:util").inspect(v, { depth: 4, breakLength: Infinity, maxStringLength: 80 });
  return s.length > 300 ? s.slice(0, 300) + "…" : s;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = {
  SERVER_URL,
  TRANSPORTS,
  WAIT_MS,
  CLIENTS,
  Tracker,
  open,
  connect,
  newManager,
  nextEvent,
  collect,
  emitWithAck,
  expectSilence,
  norm,
  assertSame,
  inspect,
  sleep,
};
