"use strict";
// Interop with the real Socket.IO 0.9 client (npm socket.io-client 0.9.x in
// Node, alias `socket.io-client-v09`) against the server at $SERVER_URL:
// websocket or xhr-polling (from $TRANSPORTS, see lib/legacy.js), the 0.9
// part of the conformance contract (README.md).
//
//   SERVER_URL=http://127.0.0.1:3000 TRANSPORTS=polling node --test legacy.test.js

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { nextEvent, collect, emitWithAck, expectSilence, assertSame, sleep } = require("./lib/harness");
const L = require("./lib/legacy");

const T = { timeout: 15000 };
const HEARTBEAT_WINDOW_MS = Number(process.env.INTEROP_HEARTBEAT_MS || 1500);

// Emit `message` with args and expect `message-back` with the same args.
async function echo(ns, ...args) {
  const back = nextEvent(ns, "message-back");
  ns.emit("message", ...args);
  const got = await back;
  assertSame(got, args);
  return got;
}

// `send(text)` (a message packet, 3) comes back as a message packet.
async function echoMessage(ns, text) {
  const packet = L.nextPacket(ns, (p) => p.type === "message" && p.endpoint === ns.name);
  const event = nextEvent(ns, "message");
  ns.send(text);
  const [p, [got]] = await Promise.all([packet, event]);
  assert.equal(p.data, text);
  assert.equal(got, text);
}

// `json.send(value)` (a json packet, 4) comes back as a json packet.
async function echoJson(ns, value) {
  const packet = L.nextPacket(ns, (p) => p.type === "json" && p.endpoint === ns.name);
  const event = nextEvent(ns, "message");
  ns.json.send(value);
  const [p, [got]] = await Promise.all([packet, event]);
  assertSame(p.data, value);
  assertSame(got, value);
}

describe(`${L.NAME} [${L.LABEL}]`, () => {
  // ---- connection & auth ---------------------------------------------------

  test("connect to / without a query: handshake, transport, auth is {} (the client's t is left out)", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns, auth } = await L.connect09(tr, "/");
    const s = ns.socket;
    assert.equal(ns.name, "", "the global endpoint");
    assert.equal(s.connected, true);
    assert.ok(typeof s.sessionid === "string" && s.sessionid.length > 0, "session id from the handshake");
    // The contract: heartbeat timeout = close timeout = interval + timeout,
    // advertised in whole seconds (the client keeps milliseconds).
    assert.ok(s.heartbeatTimeout > 0 && s.heartbeatTimeout % 1000 === 0, `heartbeat timeout ${s.heartbeatTimeout}`);
    assert.equal(s.closeTimeout, s.heartbeatTimeout, "close timeout = heartbeat timeout");
    assertSame(auth, {});
  });

  test('connect to /?token=abc: auth is {"token":"abc"}', T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { auth } = await L.connect09(tr, "/?token=abc");
    assertSame(auth, { token: "abc" });
  });

  test('connect to /custom?token=abc: the handshake query is /custom\'s auth {"token":"abc"}', T, async (t) => {
    // io.connect(".../custom?token=abc") sends the query with the handshake
    // and joins with a bare `1::/custom`: the public 0.9 client API has no
    // per-endpoint query, so the server falls back to the handshake query
    // (the reference authorises every endpoint with the handshake data).
    const tr = new L.LegacyTracker(t);
    const { ns, auth } = await L.connect09(tr, "/custom?token=abc");
    assert.equal(ns.name, "/custom");
    assertSame(auth, { token: "abc" });
    await echo(ns, "on custom");
  });

  test('connect packet with a query (1::/custom:?token=abc): /custom auth is {"token":"abc"}', T, async (t) => {
    // The 0.9 encoder writes a connect packet's `qs` field (the client's own
    // reconnect logic does not set it, so the namespace is set up by hand).
    const tr = new L.LegacyTracker(t);
    const { ns: main } = await L.connect09(tr, "/");
    const custom = new L.io.SocketNamespace(main.socket, "/custom");
    main.socket.namespaces["/custom"] = custom;
    const h = L.watch(custom);
    custom.packet({ type: "connect", qs: "?token=abc" });
    const [, auth] = await Promise.all([h.connected, h.auth]);
    assertSame(auth, { token: "abc" });
    await echo(custom, "custom with query");
  });

  test("/ and /custom multiplexed on one connection are independent", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns: main } = await L.connect09(tr, "/?token=xyz");
    const { ns: custom, auth } = await L.join09(main, "/custom");
    assertSame(auth, { token: "xyz" }, "the handshake query, as for /");
    assert.equal(custom.socket, main.socket, "one connection");
    const silentMain = expectSilence(main, "message-back", 300);
    await echo(custom, "to custom");
    await silentMain;
    const silentCustom = expectSilence(custom, "message-back", 300);
    await echo(main, "to main");
    await silentCustom;
  });

  test("invalid endpoint /random is refused (connect_failed), / keeps working", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const lone = tr.add(L.rawConnect("/random"));
    const [reason] = await nextEvent(lone, "connect_failed");
    assert.equal(reason, "unauthorized");

    const { ns: main } = await L.connect09(tr, "/");
    const bad = main.of("/random");
    assert.equal((await nextEvent(bad, "connect_failed"))[0], "unauthorized");
    await echo(main, "still here", 1);
  });

  // ---- events without and with acks -------------------------------------------

  test("emit without callback: message → message-back with the same arguments", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    await echo(ns, "hello");
    await echo(ns, "");
    await echo(ns);
    await echo(ns, 0, 1, -1, 3.14, -2.5e-7, 1e21, Number.MAX_SAFE_INTEGER, true, false, null);
    await echo(ns, 'colons : and :: quotes " \' backslash \\ newline \n tab \t', "5:::{\"name\":\"x\"}");
    await echo(ns, "\ufffd3\ufffd2:: framing lookalike", "control \u0001\u001f and \u2028\u2029");
    await echo(ns, "héllo wörld", "日本語", "😀🎉👍🏽👨‍👩‍👧‍👦", "𝄞 \u{10FFFF}");
    const back = await echo(ns, { z: 1, a: [true, null, { deep: ["x"] }], "🔑": "é" });
    assert.deepEqual(Object.keys(back[0]), ["z", "a", "🔑"], "key order kept");
    await echo(ns, ...Array.from({ length: 20 }, (_, i) => (i % 2 ? `s${i}` : { i })));
  });

  test("emit without callback: a ~200 KB string", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    await echo(ns, "a".repeat(150_000) + "é€😀".repeat(5_000) + "end");
    await echo(ns, "small after big");
  });

  test("emit with callback (data ack): message-with-ack returns the same arguments", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    assertSame(await emitWithAck(ns, "message-with-ack", [1, "2", { 3: [false] }]), [1, "2", { 3: [false] }]);
    assertSame(await emitWithAck(ns, "message-with-ack", ["😀 unicode", "a:b"]), ["😀 unicode", "a:b"]);
    assertSame(await emitWithAck(ns, "message-with-ack", []), []);
  });

  test("emit with callback on /custom, and 100 concurrent acks", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/custom");
    assertSame(await emitWithAck(ns, "message-with-ack", ["custom", 1]), ["custom", 1]);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => emitWithAck(ns, "message-with-ack", [i, `#${i}`]))
    );
    results.forEach((r, i) => assertSame(r, [i, `#${i}`]));
  });

  // ---- message (3) and json (4) packets -----------------------------------------

  test("send: a message packet is echoed as a message packet", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    await echoMessage(ns, "hello");
    await echoMessage(ns, "");
    await echoMessage(ns, "with : colons :: and\nnewlines\r\n");
    await echoMessage(ns, '{"not":"json for the server"}');
    await echoMessage(ns, "unicode é€ 😀 \u{10FFFF}");
  });

  test("send with a callback: the server acknowledges receipt (6:::id), then echoes", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    L.tap(ns);
    const order = [];
    const acked = new Promise((resolve) =>
      ns.send("ack me", (...args) => {
        order.push("ack");
        resolve(args);
      })
    );
    const echoed = nextEvent(ns, "message").then(([m]) => {
      order.push("echo");
      return m;
    });
    const [ackArgs, m] = await Promise.all([acked, echoed]);
    assert.deepEqual(ackArgs, [], "an automatic ack carries no data");
    assert.equal(m, "ack me");
    assert.deepEqual(order, ["ack", "echo"], "the ack comes before the echo (acknowledged on receipt)");
    const ackPacket = ns.socket.$packets.find((p) => p.type === "ack");
    assert.equal(ackPacket.ackId, "1");
  });

  test("json.send: a json packet is echoed as a json packet", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    await echoJson(ns, { a: "b", n: [1, 2.5, null, true], nested: { "é": "😀" } });
    await echoJson(ns, [1, "two", { three: 3 }]);
    await echoJson(ns, "2");
    await echoJson(ns, 42);
    await echoJson(ns, null);
    await echoJson(ns, false);
  });

  test("json.send with a callback on /custom: acknowledged, then echoed", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/custom");
    const acked = new Promise((resolve) => ns.json.send({ x: 1 }, (...args) => resolve(args)));
    const echoed = L.nextPacket(ns, (p) => p.type === "json" && p.endpoint === "/custom");
    assert.deepEqual(await acked, []);
    assertSame((await echoed).data, { x: 1 });
    await echoJson(ns, ["custom"]);
  });

  // ---- server-initiated events with acks ----------------------------------------

  test("server emit with ack: emit-with-ack answered from the client's handler", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const A = [1, "2", { 3: [true] }];
    const B = ["ack", { from: "client" }, 7];
    const received = [];
    ns.on("emit-with-ack", (...args) => {
      const ack = args.pop();
      assert.equal(typeof ack, "function", "the server asked for a data ack");
      received.push(args);
      ack(...B);
    });
    const result = nextEvent(ns, "emit-with-ack-result");
    ns.emit("emit-with-ack", ...A);
    assertSame(await result, B);
    assert.equal(received.length, 1);
    assertSame(received[0], A);
  });

  test("server emit with ack on /custom, and an empty ack", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/custom");
    ns.on("emit-with-ack", (...args) => {
      const ack = args.pop();
      if (args[0] === "empty") ack();
      else ack("custom", ...args);
    });
    let result = nextEvent(ns, "emit-with-ack-result");
    ns.emit("emit-with-ack", "x", { y: "😀" });
    assertSame(await result, ["custom", "x", { y: "😀" }]);
    result = nextEvent(ns, "emit-with-ack-result");
    ns.emit("emit-with-ack", "empty");
    assertSame(await result, []);
  });

  // ---- disconnects ----------------------------------------------------------------

  test("client disconnect: the client reports booted, the server ends the session", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const sid = ns.socket.sessionid;
    const d = nextEvent(ns, "disconnect");
    ns.disconnect(); // `0::`, then the transport closes
    assert.equal((await d)[0], "booted");
    assert.equal(ns.socket.connected, false);
    assert.ok(await L.sessionGone(sid), "the server answers 7:::1+0 for the session afterwards");
  });

  test("forced disconnect (disconnectSync: GET /socket.io/1//<sid>/?disconnect=1) ends the session", T, async (t) => {
    // What the 0.9 client sends on page unload ('sync disconnect on unload').
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const sid = ns.socket.sessionid;
    const d = nextEvent(ns, "disconnect", { failOnDisconnect: false });
    ns.socket.disconnectSync(); // a synchronous XHR
    assert.equal((await d)[0], "booted");
    assert.ok(await L.sessionGone(sid), "the server answers 7:::1+0 for the session afterwards");
  });

  test("client leaves /custom (0::/custom), / keeps working, /custom rejoins", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns: main } = await L.connect09(tr, "/");
    const { ns: custom } = await L.join09(main, "/custom");
    const d = nextEvent(custom, "disconnect");
    custom.disconnect();
    await d;
    await echo(main, "main still connected");
    // /custom is left: its events are not answered any more.
    const silent = expectSilence(custom, "message-back", 300);
    custom.emit("message", "nobody home");
    await silent;
    // Rejoin on the same connection: a new `1::/custom`, a new auth event.
    const again = L.watch(custom);
    custom.packet({ type: "connect" });
    await Promise.all([again.connected, again.auth]);
    await echo(custom, "custom again");
    assert.equal(main.socket.connected, true);
  });

  test("server disconnect (disconnect-me): the client gets 0:: and the session ends", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const sid = ns.socket.sessionid;
    // Over xhr-polling the `0::` reaches the client whether or not a GET is
    // held when the server disconnects it (it waits for the next GET).
    const packet = L.nextPacket(ns, (p) => p.type === "disconnect" || p.type === "error");
    const d = nextEvent(ns, "disconnect", { failOnDisconnect: false });
    ns.emit("disconnect-me");
    const p = await packet;
    assert.equal(p.type, "disconnect", `unexpected ${JSON.stringify(p)}`);
    assert.equal(p.endpoint, "");
    assert.equal((await d)[0], "booted", "a 0:: without reason is reported as booted");
    assert.equal(ns.socket.connected, false);
    assert.ok(await L.sessionGone(sid), "the server answers 7:::1+0 for the session afterwards");
  });

  test("server disconnects /custom (0::/custom), / keeps working", T, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns: main } = await L.connect09(tr, "/");
    const { ns: custom } = await L.join09(main, "/custom");
    const packet = L.nextPacket(main, (p) => p.type === "disconnect");
    const d = nextEvent(custom, "disconnect");
    const mainSilent = expectSilence(main, "disconnect", 300);
    custom.emit("disconnect-me");
    assert.equal((await packet).endpoint, "/custom");
    await d;
    await mainSilent;
    await echo(main, "main survives");
    assert.equal(main.socket.connected, true);
  });

  // ---- heartbeats ------------------------------------------------------------------

  test("stays connected across heartbeats, then still echoes and acks", { timeout: 30000 }, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const beats = L.countHeartbeats(ns);
    // Longer than the client's own timeouts (heartbeat timeout on websocket,
    // close timeout on xhr-polling: both interval + timeout, whole seconds),
    // so a missing heartbeat or poll answer would disconnect it.
    const windowMs = Math.max(HEARTBEAT_WINDOW_MS, ns.socket.heartbeatTimeout + 1000);
    await expectSilence(ns, "disconnect", windowMs);
    assert.ok(beats() >= 2, `expected at least 2 heartbeats (2::) in ${windowMs} ms, saw ${beats()}`);
    assert.equal(ns.socket.connected, true);
    await echo(ns, "still alive", beats());
    assertSame(await emitWithAck(ns, "message-with-ack", ["ack alive"]), ["ack alive"]);
    await echoMessage(ns, "message alive");
  });

  // ---- volume ------------------------------------------------------------------------

  test("500 numbered events back to back arrive complete and in order", { timeout: 30000 }, async (t) => {
    const tr = new L.LegacyTracker(t);
    const { ns } = await L.connect09(tr, "/");
    const N = 500;
    const all = collect(ns, "message-back", N, { timeout: 20000 });
    for (let i = 0; i < N; i++) ns.emit("message", i, `msg-${i}-😀`);
    const got = await all;
    got.forEach((args, i) => assert.deepEqual(args, [i, `msg-${i}-😀`], `message #${i}`));
  });

  test("20 concurrent clients: echoes, acks, then a broadcast reaches all", { timeout: 30000 }, async (t) => {
    const tr = new L.LegacyTracker(t);
    const N = 20;
    const conns = await Promise.all(Array.from({ length: N }, () => L.connect09(tr, "/")));
    assert.equal(new Set(conns.map((c) => c.ns.socket.sessionid)).size, N, "distinct session ids");
    await Promise.all(
      conns.map(async ({ ns }, i) => {
        for (let k = 0; k < 3; k++) await echo(ns, { client: i, k }, `c${i}-${k}`);
        assertSame(await emitWithAck(ns, "message-with-ack", [i, "a"]), [i, "a"]);
      })
    );
    const token = `broadcast09-${process.pid}-${Date.now()}-${Math.random()}`;
    const isOurs = (args) => args[0] === token;
    const arrivals = conns.map(({ ns }) => nextEvent(ns, "broadcast", { filter: isOurs, timeout: 10000 }));
    conns[3].ns.emit("broadcast", token, { from: 3 }, "😀");
    for (const args of await Promise.all(arrivals)) assertSame(args, [token, { from: 3 }, "😀"]);
  });
});
