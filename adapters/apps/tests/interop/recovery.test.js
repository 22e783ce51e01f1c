"use strict";
// Connection state recovery with socket.io-client 4.x: needs a server
// started with `--recovery MS` (see README.md). The transport is cut with
// `socket.io.engine.close()` (what socket.io's own tests do), with
// reconnection paused so the missed events are emitted while the client is
// away, then the client reconnects with `socket.connect()`.
//
//   SERVER_URL=http://127.0.0.1:3000 TRANSPORTS=websocket node --test recovery.test.js

const { describe, test, after } = require("node:test");
const assert = require("node:assert/strict");
const { io } = require("socket.io-client");

const SERVER_URL = process.env.SERVER_URL || "http://127.0.0.1:3000";
const TRANSPORTS = (process.env.TRANSPORTS || "websocket").split(",").map((s) => s.trim());
const T = { timeout: 20000 };

const sockets = [];
function client() {
  const socket = io(SERVER_URL, {
    transports: TRANSPORTS,
    forceNew: true,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
  });
  sockets.push(socket);
  return socket;
}
after(() => sockets.forEach((s) => s.disconnect()));

const once = (emitter, event, ms = 5000) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ack = (socket, ...args) => new Promise((resolve) => socket.emit(...args, (...a) => resolve(a)));

// Records every event `socket` gets (the offset stripped, and checked).
function record(socket) {
  const got = [];
  socket.onAny((event, ...args) => {
    const offset = args.pop();
    assert.equal(typeof offset, "string", `${event} carries an offset`);
    got.push([event, ...args]);
  });
  return got;
}

// Cuts the transport without letting the client reconnect by itself.
async function cut(socket) {
  socket.io.reconnection(false);
  const gone = once(socket, "disconnect");
  socket.io.engine.close();
  await gone;
}

async function comeBack(socket) {
  const back = once(socket, "connect");
  socket.io.reconnection(true);
  socket.connect();
  await back;
}

describe(`connection state recovery over ${TRANSPORTS.join(",")}`, () => {
  test("pid, offsets, and a first connection that is not recovered", T, async () => {
    const a = client();
    const [auth] = await once(a, "auth");
    assert.deepEqual(auth, {});
    assert.equal(a.recovered, false);
    assert.equal(typeof a._pid, "string");
    assert.equal(typeof a._lastOffset, "string");
  });

  test("missed broadcasts and room broadcasts: once, in order, several times in a row", T, async () => {
    const room = `r-${process.pid}-${Date.now()}`;
    const a = client();
    const helper = client();
    await Promise.all([once(a, "connect"), once(helper, "connect")]);
    assert.deepEqual(await ack(a, "join", room), [true]);
    const id = a.id;
    for (let round = 1; round <= 3; round++) {
      await cut(a);
      const got = record(a);
      const seen = once(helper, "broadcast");
      helper.emit("room-broadcast", room, "in-room", round);
      helper.emit("room-broadcast", `${room}-other`, "elsewhere", round);
      helper.emit("broadcast", "all", round);
      await seen; // the server did all three
      await comeBack(a);
      assert.equal(a.recovered, true, `round ${round}`);
      assert.equal(a.id, id, "same socket id");
      await sleep(200);
      a.offAny();
      const events = got.filter(([e]) => e !== "auth");
      assert.deepEqual(events, [
        ["room-broadcast", "in-room", round],
        ["broadcast", "all", round],
      ]);
    }
    // Still in the room after three recoveries.
    const live = once(a, "room-broadcast");
    helper.emit("room-broadcast", room, "live");
    assert.deepEqual((await live).slice(0, 1), ["live"]);
  });

  test("a socket that got no event yet recovers", T, async () => {
    const a = client();
    const helper = client();
    await Promise.all([once(a, "connect"), once(helper, "connect")]);
    await sleep(100);
    // As if the `auth` event had not arrived: the client sends no offset.
    delete a._lastOffset;
    await cut(a);
    const got = record(a);
    const seen = once(helper, "broadcast");
    helper.emit("broadcast", "while-away");
    await seen;
    await comeBack(a);
    assert.equal(a.recovered, true);
    await sleep(200);
    assert.deepEqual(
      got.filter(([e]) => e !== "auth"),
      [["broadcast", "while-away"]],
    );
  });

  test("a server-side disconnect is not recovered", T, async () => {
    const a = client();
    await once(a, "connect");
    const id = a.id;
    const gone = once(a, "disconnect");
    a.emit("disconnect-me");
    assert.equal((await gone)[0], "io server disconnect");
    const back = once(a, "connect");
    a.connect();
    await back;
    assert.equal(a.recovered, false);
    assert.notEqual(a.id, id);
  });
});
