"use strict";
// Interop suite: drives the server at $SERVER_URL with the official
// socket.io-client 4.x and 2.x (transports from $TRANSPORTS, default
// "websocket"). See README.md for the server contract.
//
//   SERVER_URL=http://127.0.0.1:3000 node --test interop.test.js
//   node run-against.js -- node reference-server.js     (self-check)

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const {
  CLIENTS,
  TRANSPORTS,
  Tracker,
  open,
  connect,
  newManager,
  nextEvent,
  collect,
  emitWithAck,
  expectSilence,
  assertSame,
} = require("./lib/harness");

const T = { timeout: 15000 };
// The acknowledgement timeout the tests give `ack-all` (ms).
const ACK_ALL_MS = 1500;

// A room name no other test uses.
const roomName = (label) => `room-${label}-${process.pid}-${Date.now()}-${Math.random()}`;
const HEARTBEAT_WINDOW_MS = Number(process.env.INTEROP_HEARTBEAT_MS || 1500);

// Lone UTF-16 surrogates: JSON.stringify escapes them ("\ud800"), which is
// valid JSON but not representable as UTF-8 text. Opt-in (see README.md).
const LONE_SURROGATES = process.env.INTEROP_LONE_SURROGATES === "1";

// Emit `message` with args and expect `message-back` with the same args.
async function echo(socket, ...args) {
  const back = nextEvent(socket, "message-back");
  socket.emit("message", ...args);
  const got = await back;
  assertSame(got, args);
  return got;
}

const buf = (...bytes) => Buffer.from(bytes);

function bigString() {
  // ~490 KB of UTF-8: ASCII plus 2-, 3- and 4-byte sequences.
  return "a".repeat(400_000) + "é€😀\u{10FFFF}".repeat(7_000) + "end";
}

for (const c of CLIENTS) {
  describe(`${c.name} [${TRANSPORTS.join(",")}]`, () => {
    // ---- connection & auth -------------------------------------------------

    test("connect to / without auth: auth event is {}", T, async (t) => {
      const tr = new Tracker(t);
      const { socket, auth } = await connect(tr, c, "/");
      assert.equal(socket.connected, true);
      assert.ok(typeof socket.id === "string" && socket.id.length > 0, "socket id is set");
      assertSame(auth, {});
    });

    test("connect to /custom without auth: auth event is {}", T, async (t) => {
      const tr = new Tracker(t);
      const { auth } = await connect(tr, c, "/custom");
      assertSame(auth, {});
    });

    test('connect to /custom with token "abc": auth event is {"token":"abc"}', T, async (t) => {
      const tr = new Tracker(t);
      const { auth } = await connect(tr, c, "/custom", { token: "abc" });
      assertSame(auth, { token: "abc" });
    });

    if (c.id === "v4") {
      test('connect to / with auth {token:"abc"}: auth event is {"token":"abc"}', T, async (t) => {
        const tr = new Tracker(t);
        const { auth } = await connect(tr, c, "/", { token: "abc" });
        assertSame(auth, { token: "abc" });
      });
    } else {
      test("connect to /?token=abc: no CONNECT packet for / in 2.x, auth event is {}", T, async (t) => {
        // A 2.x client never sends a CONNECT packet for "/" (the server
        // connects it implicitly), so there is no namespace query: the
        // engine.io handshake query (?token=abc&EIO=3&transport=…) must not
        // leak into the auth object.
        const tr = new Tracker(t);
        const { auth } = await connect(tr, c, "/", { token: "abc" });
        assertSame(auth, {});
      });
    }

    test("/ and /custom multiplexed on one connection are independent", T, async (t) => {
      const tr = new Tracker(t);
      const m = newManager(tr, c);
      const main = open(tr, c, "/", { manager: m });
      const custom = open(tr, c, "/custom", { manager: m, token: "xyz" });
      const [, mainAuth, , customAuth] = await Promise.all([main.connected, main.auth, custom.connected, custom.auth]);
      assertSame(mainAuth, {});
      assertSame(customAuth, { token: "xyz" });
      assert.equal(main.socket.io, custom.socket.io, "one Manager (one Engine.IO connection)");

      const silentMain = expectSilence(main.socket, "message-back", 300);
      await echo(custom.socket, "to custom");
      await silentMain;
      const silentCustom = expectSilence(custom.socket, "message-back", 300);
      await echo(main.socket, "to main");
      await silentCustom;
    });

    test("invalid namespace /random is refused", T, async (t) => {
      const tr = new Tracker(t);
      const socket = c.rawSocket("/random");
      tr.sockets.push(socket);
      const refusal = await c.namespaceRefusal(socket);
      // 4.x: connect_error with err.message; 2.x: `error` event whose data is
      // the CONNECT_ERROR payload object.
      assertSame(refusal, { message: "Invalid namespace" });
      assert.equal(socket.connected, false);
    });

    test("invalid namespace on a shared connection leaves / working", T, async (t) => {
      const tr = new Tracker(t);
      const m = newManager(tr, c);
      const main = open(tr, c, "/", { manager: m });
      await Promise.all([main.connected, main.auth]);
      const bad = c.rawSocket("/random", { manager: m });
      tr.sockets.push(bad);
      assertSame(await c.namespaceRefusal(bad), { message: "Invalid namespace" });
      await echo(main.socket, "still here", 1);
    });

    // ---- echo ---------------------------------------------------------------

    test("echo strings", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, "hello");
      await echo(socket, "");
      await echo(socket, 'quotes " \' backslash \\ slash / tab \t newline \n cr \r');
      await echo(socket, "control \u0000\u0001\u001f\u007f and separators \u2028\u2029");
      await echo(socket, "looks like a packet: 42[\"x\"] 451-[{\"_placeholder\":true,\"num\":0}]");
      await echo(socket, "{\"not\":\"an object\"}", "[1,2]", "null", "123");
    });

    test("echo numbers, booleans, null", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, 0, 1, -1, 42, 3.14, -2.5e-7, 1e21, 1e300, 5e-324);
      await echo(socket, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 0.1 + 0.2);
      await echo(socket, true, false, null);
    });

    test("echo nested objects and arrays", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, { a: 1, b: "two", c: [true, false, null], d: { e: { f: { g: [[], {}, [[[]]]] } } } });
      await echo(socket, [1, [2, [3, [4, [5, [6, [7, [8, [9, [10]]]]]]]]]]);
      await echo(socket, { "": "empty key", "key with spaces": 1, "ключ": "значение", "🔑": "🗝️" });
      // Key order is preserved.
      const back = await echo(socket, { z: 1, a: 2, m: 3, b: 4 });
      assert.deepEqual(Object.keys(back[0]), ["z", "a", "m", "b"]);
      await echo(socket, { _placeholder: false, num: 0 }, { _placeholder: "true", num: 1 });
      await echo(socket, { arr: Array.from({ length: 1000 }, (_, i) => ({ i, s: String(i) })) });
    });

    test("echo unicode (BMP, emoji, astral, combining, RTL)", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, "héllo wörld ñ ß", "日本語テキスト", "中文", "Ελληνικά", "עברית", "العربية");
      await echo(socket, "😀🎉👍🏽👨‍👩‍👧‍👦🏳️‍🌈", "𝄞 𝕳𝖊𝖑𝖑𝖔 \u{10FFFF} \u{1F600}");
      await echo(socket, "e\u0301 a\u0308 \uFEFF BOM \uFFFD replacement");
      await echo(socket, { "emoji🎉key": ["🎉", { nested: "𝄞" }] });
    });

    test("lone surrogates (opt-in: INTEROP_LONE_SURROGATES=1)", { ...T, skip: !LONE_SURROGATES }, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, "lone high \ud800 lone low \udc00 reversed \udc00\ud800");
    });

    test("echo with no arguments: emit('message')", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const got = await echo(socket);
      assert.equal(got.length, 0);
    });

    test("echo with many arguments", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const args = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? `s${i}` : { i }));
      const got = await echo(socket, ...args);
      assert.equal(got.length, 20);
    });

    test("echo a ~500 KB string", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const s = bigString();
      assert.ok(Buffer.byteLength(s) > 480_000 && Buffer.byteLength(s) < 1_000_000);
      await echo(socket, s);
      await echo(socket, "small after big");
    });

    test("echo on /custom", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/custom");
      await echo(socket, "custom", 1, { x: [2] });
    });

    // ---- binary -------------------------------------------------------------

    test("binary: one buffer", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, buf(1, 2, 3));
      await echo(socket, Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    });

    test("binary: several buffers", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, buf(1, 2, 3), buf(4, 5, 6));
      await echo(socket, ...Array.from({ length: 10 }, (_, i) => buf(i, i, i)));
    });

    test("binary: nested in objects and arrays", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, { data: buf(0xde, 0xad, 0xbe, 0xef) });
      await echo(socket, [buf(1), [buf(2), { deep: [buf(3)] }]]);
      await echo(socket, { a: [{ b: { c: buf(0xff, 0x00) } }], list: [buf(7), buf(8)] });
    });

    test("binary: mixed with JSON values", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, "text", buf(1, 2), 42, { b: buf(3) }, null, [true, buf(4, 5)], "😀");
      // In a packet without attachments, a placeholder lookalike is plain JSON.
      // (In a binary packet it would be resolved: the protocol has no escaping.)
      await echo(socket, { _placeholder: true, num: 0, note: "json lookalike" });
    });

    test("binary: empty buffer and a 200 KB buffer", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      await echo(socket, Buffer.alloc(0));
      const big = Buffer.alloc(200_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      await echo(socket, big, "after");
    });

    // ---- acks ---------------------------------------------------------------

    test("ack client→server: message-with-ack returns the same arguments", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      assertSame(await emitWithAck(socket, "message-with-ack", [1, "2", { 3: [false] }]), [1, "2", { 3: [false] }]);
      assertSame(await emitWithAck(socket, "message-with-ack", ["😀 unicode"]), ["😀 unicode"]);
      assertSame(await emitWithAck(socket, "message-with-ack", []), []);
    });

    test("ack client→server with binary arguments", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const args = [buf(1, 2, 3), { nested: buf(4, 5, 6), n: 1 }, "text"];
      assertSame(await emitWithAck(socket, "message-with-ack", args), args);
    });

    test("ack client→server on /custom", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/custom");
      assertSame(await emitWithAck(socket, "message-with-ack", ["custom", buf(1)]), ["custom", buf(1)]);
    });

    test("200 concurrent acks each resolve with their own arguments", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => emitWithAck(socket, "message-with-ack", [i, `#${i}`]))
      );
      results.forEach((r, i) => assertSame(r, [i, `#${i}`]));
    });

    test("ack server→client: emit-with-ack, answered from the client's handler", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const A = [1, "2", { 3: [true] }];
      const B = ["ack", { from: "client" }, 7];
      const received = [];
      socket.on("emit-with-ack", (...args) => {
        const ack = args.pop();
        assert.equal(typeof ack, "function", "server asked for an ack");
        received.push(args);
        ack(...B);
      });
      const result = nextEvent(socket, "emit-with-ack-result");
      socket.emit("emit-with-ack", ...A);
      assertSame(await result, B);
      assert.equal(received.length, 1);
      assertSame(received[0], A);
    });

    test("ack server→client with binary arguments (both ways)", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/custom");
      const A = [buf(1, 2, 3), { b: buf(4) }];
      const B = [{ reply: buf(5, 6) }, buf(7), "done"];
      let received;
      socket.on("emit-with-ack", (...args) => {
        const ack = args.pop();
        received = args;
        ack(...B);
      });
      const result = nextEvent(socket, "emit-with-ack-result");
      socket.emit("emit-with-ack", ...A);
      assertSame(await result, B);
      assertSame(received, A);
    });

    test("ack server→client with an empty ack", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      socket.on("emit-with-ack", (...args) => args.pop()());
      const result = nextEvent(socket, "emit-with-ack-result");
      socket.emit("emit-with-ack", "x");
      assertSame(await result, []);
    });

    // ---- disconnects --------------------------------------------------------

    test('client disconnect: reason "io client disconnect"', T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const d = nextEvent(socket, "disconnect");
      socket.disconnect();
      assert.equal((await d)[0], "io client disconnect");
      assert.equal(socket.connected, false);
    });

    test("client leaves /custom on a shared connection, / keeps working, /custom rejoins", T, async (t) => {
      const tr = new Tracker(t);
      const m = newManager(tr, c);
      const main = open(tr, c, "/", { manager: m });
      const custom = open(tr, c, "/custom", { manager: m, token: "abc" });
      await Promise.all([main.connected, main.auth, custom.connected, custom.auth]);
      const d = nextEvent(custom.socket, "disconnect");
      custom.socket.disconnect();
      assert.equal((await d)[0], "io client disconnect");
      await echo(main.socket, "main still connected");
      // Rejoin /custom on the same connection: a new CONNECT, a new auth event.
      const again = nextEvent(custom.socket, "auth");
      const reconnected = nextEvent(custom.socket, "connect");
      custom.socket.connect();
      const [[auth]] = await Promise.all([again, reconnected]);
      assertSame(auth, { token: "abc" });
      await echo(custom.socket, "custom again");
    });

    test('server disconnect (disconnect-me): reason "io server disconnect"', T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const d = nextEvent(socket, "disconnect");
      socket.emit("disconnect-me");
      assert.equal((await d)[0], "io server disconnect");
      assert.equal(socket.connected, false);
    });

    test("server disconnects /custom on a shared connection, / keeps working", T, async (t) => {
      const tr = new Tracker(t);
      const m = newManager(tr, c);
      const main = open(tr, c, "/", { manager: m });
      const custom = open(tr, c, "/custom", { manager: m });
      await Promise.all([main.connected, main.auth, custom.connected, custom.auth]);
      const d = nextEvent(custom.socket, "disconnect");
      const mainSilent = expectSilence(main.socket, "disconnect", 300);
      custom.socket.emit("disconnect-me");
      assert.equal((await d)[0], "io server disconnect");
      await mainSilent;
      await echo(main.socket, "main survives");
    });

    // ---- heartbeat ----------------------------------------------------------

    test("stays connected across several heartbeats, then still echoes", { timeout: 30000 }, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      // Watch for at least INTEROP_HEARTBEAT_MS (1.5 s: ~5 heartbeats at the
      // contract's default 300 ms interval), and for at least 3 intervals when
      // the server was started with a longer --ping-interval.
      const engine = socket.io.engine; // engine.io-client 6 keeps them private
      const pingInterval = engine._pingInterval ?? engine.pingInterval;
      const pingTimeout = engine._pingTimeout ?? engine.pingTimeout;
      assert.ok(pingInterval > 0 && pingTimeout > 0, `handshake has pingInterval/pingTimeout (${pingInterval}/${pingTimeout})`);
      const windowMs = Math.max(HEARTBEAT_WINDOW_MS, 3 * pingInterval + pingTimeout);
      let beats = 0;
      socket.io.on(c.heartbeatEvent, () => beats++);
      await expectSilence(socket, "disconnect", windowMs);
      assert.ok(beats >= 2, `expected at least 2 heartbeats (${c.heartbeatEvent}) in ${windowMs} ms, saw ${beats}`);
      assert.equal(socket.connected, true);
      await echo(socket, "still alive", beats);
      assertSame(await emitWithAck(socket, "message-with-ack", ["ack alive"]), ["ack alive"]);
    });

    // ---- volume -------------------------------------------------------------

    test("1000 numbered messages back to back arrive complete and in order", { timeout: 30000 }, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const N = 1000;
      const all = collect(socket, "message-back", N, { timeout: 20000 });
      for (let i = 0; i < N; i++) socket.emit("message", i, `msg-${i}`);
      const got = await all;
      got.forEach((args, i) => assert.deepEqual(args, [i, `msg-${i}`], `message #${i}`));
    });

    test("50 concurrent clients: echoes, acks, then a broadcast reaches all", { timeout: 30000 }, async (t) => {
      const tr = new Tracker(t);
      const N = 50;
      const conns = await Promise.all(Array.from({ length: N }, () => connect(tr, c, "/")));
      const ids = new Set(conns.map((x) => x.socket.id));
      assert.equal(ids.size, N, "distinct socket ids");
      await Promise.all(
        conns.map(async ({ socket }, i) => {
          for (let k = 0; k < 3; k++) await echo(socket, { client: i, k }, `c${i}-${k}`);
          const acks = await Promise.all([
            emitWithAck(socket, "message-with-ack", [i, "a"]),
            emitWithAck(socket, "message-with-ack", [i, buf(i)]),
          ]);
          assertSame(acks, [
            [i, "a"],
            [i, buf(i)],
          ]);
        })
      );
      const token = `broadcast-${process.pid}-${Date.now()}-${Math.random()}`;
      const isOurs = (args) => args[0] === token;
      const arrivals = conns.map(({ socket }) =>
        nextEvent(socket, "broadcast", { filter: isOurs, timeout: 10000 })
      );
      conns[7].socket.emit("broadcast", token, { from: 7 }, buf(1, 2, 3));
      const got = await Promise.all(arrivals);
      for (const args of got) assertSame(args, [token, { from: 7 }, buf(1, 2, 3)]);
    });

    // ---- rooms, fetch-sockets, ack-all ---------------------------------------

    test("join is acknowledged with true", T, async (t) => {
      const tr = new Tracker(t);
      const { socket } = await connect(tr, c, "/");
      const room = roomName(`${c.id}-join`);
      assertSame(await emitWithAck(socket, "join", [room]), [true]);
      // Joining a room one is in is no error.
      assertSame(await emitWithAck(socket, "join", [room]), [true]);
    });

    test("room-broadcast reaches exactly the room's / members, sender included, with the remaining args", T, async (t) => {
      const tr = new Tracker(t);
      const [a, b, outsider] = (await Promise.all([1, 2, 3].map(() => connect(tr, c, "/")))).map((x) => x.socket);
      const { socket: custom } = await connect(tr, c, "/custom");
      const room = roomName(`${c.id}-room-broadcast`);
      for (const s of [a, b]) assertSame(await emitWithAck(s, "join", [room]), [true]);
      // A /custom socket in a room of the same name is not reached.
      assertSame(await emitWithAck(custom, "join", [room]), [true]);
      for (const [sender, label] of [
        [a, "from a member"],
        [outsider, "from a non-member"],
      ]) {
        const payload = [label, { n: [1, 2.5, null] }, buf(0xbe, 0xef), "😀"];
        const arrivals = [a, b].map((s) => nextEvent(s, "room-broadcast"));
        const silences = [outsider, custom].map((s) => expectSilence(s, "room-broadcast", 500));
        sender.emit("room-broadcast", room, ...payload);
        for (const args of await Promise.all(arrivals)) assertSame(args, payload, label);
        await Promise.all(silences);
      }
    });

    test("fetch-sockets is acknowledged with the sorted ids of the / sockets, the caller's included", T, async (t) => {
      const tr = new Tracker(t);
      const mains = (await Promise.all([1, 2, 3].map(() => connect(tr, c, "/")))).map((x) => x.socket);
      const { socket: custom } = await connect(tr, c, "/custom");
      for (const [caller, label] of [
        [mains[1], "from /"],
        [custom, "from /custom"],
      ]) {
        const acked = await emitWithAck(caller, "fetch-sockets", []);
        assert.equal(acked.length, 1, `${label}: one ack argument`);
        const [ids] = acked;
        assert.ok(Array.isArray(ids) && ids.every((id) => typeof id === "string"), `${label}: ${ids}`);
        assert.deepEqual(ids, [...ids].sort(), `${label}: sorted`);
        assert.equal(new Set(ids).size, ids.length, `${label}: distinct`);
        // Every socket of / (sockets of earlier tests may still be leaving).
        for (const s of mains) assert.ok(ids.includes(s.id), `${label}: ${s.id} in ${ids}`);
        assert.ok(!ids.includes(custom.id), `${label}: the /custom socket is not listed`);
      }
    });

    test("ack-all acknowledges with the number of answers; one client never answers", { timeout: 20000 }, async (t) => {
      const tr = new Tracker(t);
      const [caller, a, b, silent] = (await Promise.all([1, 2, 3, 4].map(() => connect(tr, c, "/")))).map(
        (x) => x.socket
      );
      const answered = [caller, a, b].map(
        (s) =>
          new Promise((resolve) =>
            s.on("ack-all-ping", (cb) => {
              cb();
              resolve();
            })
          )
      );
      // Pinged too, but never answers.
      const pinged = nextEvent(silent, "ack-all-ping");
      const started = Date.now();
      const answer = await emitWithAck(caller, "ack-all", [ACK_ALL_MS], { timeout: ACK_ALL_MS + 10000 });
      const took = Date.now() - started;
      assertSame(answer, [3]);
      assert.ok(took >= ACK_ALL_MS - 100, `the server waited for the timeout (${took} ms)`);
      await Promise.all([pinged, ...answered]);
    });
  });
}

// ---- both generations together ----------------------------------------------

describe(`mixed 4.x and 2.x clients [${TRANSPORTS.join(",")}]`, () => {
  test("broadcast reaches every / socket of both generations, not /custom", T, async (t) => {
    const tr = new Tracker(t);
    const [v4, v2] = CLIENTS;
    const mains = await Promise.all([
      connect(tr, v4, "/"),
      connect(tr, v4, "/"),
      connect(tr, v2, "/"),
      connect(tr, v2, "/"),
    ]);
    const customs = await Promise.all([connect(tr, v4, "/custom"), connect(tr, v2, "/custom")]);

    for (const [sender, label] of [
      [mains[2].socket, "from 2.x on /"],
      [customs[0].socket, "from 4.x on /custom"],
    ]) {
      const token = `mixed-${label}-${Date.now()}-${Math.random()}`;
      const isOurs = (args) => args[0] === token;
      const arrivals = mains.map(({ socket }) => nextEvent(socket, "broadcast", { filter: isOurs }));
      // /custom sockets must not get it (watched while the / sockets receive it and a bit longer).
      const silences = customs.map(({ socket }) => expectSilence(socket, "broadcast", 800, isOurs));
      const payload = [token, { label }, buf(0xca, 0xfe), "😀"];
      sender.emit("broadcast", ...payload);
      for (const args of await Promise.all(arrivals)) assertSame(args, payload, label);
      await Promise.all(silences);
    }
  });

  test("rooms, fetch-sockets and ack-all across both generations", { timeout: 20000 }, async (t) => {
    const tr = new Tracker(t);
    const [v4, v2] = CLIENTS;
    const [a4, b4, a2, b2] = (
      await Promise.all([connect(tr, v4, "/"), connect(tr, v4, "/"), connect(tr, v2, "/"), connect(tr, v2, "/")])
    ).map((x) => x.socket);
    const room = roomName("mixed");
    for (const s of [a4, a2]) assertSame(await emitWithAck(s, "join", [room]), [true]);
    const arrivals = [a4, a2].map((s) => nextEvent(s, "room-broadcast"));
    const silences = [b4, b2].map((s) => expectSilence(s, "room-broadcast", 500));
    b2.emit("room-broadcast", room, "from 2.x", { x: 1 });
    for (const args of await Promise.all(arrivals)) assertSame(args, ["from 2.x", { x: 1 }]);
    await Promise.all(silences);

    const [ids] = await emitWithAck(a2, "fetch-sockets", []);
    assert.deepEqual(ids, [...ids].sort(), "sorted");
    for (const s of [a4, b4, a2, b2]) assert.ok(ids.includes(s.id), `${s.id} in ${ids}`);

    // 4.x and 2.x answer, one 2.x client does not.
    for (const s of [a4, b4, a2]) s.on("ack-all-ping", (cb) => cb());
    const pinged = nextEvent(b2, "ack-all-ping");
    assertSame(await emitWithAck(b4, "ack-all", [ACK_ALL_MS], { timeout: ACK_ALL_MS + 10000 }), [3]);
    await pinged;
  });
});
