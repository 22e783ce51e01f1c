"use strict";
// socket.io-client 4.x with socket.io-msgpack-parser against a server
// started with `--parser msgpack` (see README.md): every packet is one
// MessagePack map in one binary Engine.IO message. JSON kinds, binary
// (Buffer, Uint8Array, ArrayBuffer) both ways, acks both ways, namespaces
// and connect_error.
//
//   SERVER_URL=http://127.0.0.1:3000 TRANSPORTS=websocket node --test msgpack.test.js

const { describe, test, after } = require("node:test");
const assert = require("node:assert/strict");
const { io } = require("socket.io-client");
const parser = require("socket.io-msgpack-parser");

const SERVER_URL = process.env.SERVER_URL || "http://127.0.0.1:3000";
const TRANSPORTS = (process.env.TRANSPORTS || "websocket").split(",").map((s) => s.trim());
const T = { timeout: 20000 };

const sockets = [];
function client(nsp = "/", opts = {}) {
  const socket = io(SERVER_URL + nsp, { transports: TRANSPORTS, forceNew: true, parser, ...opts });
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
const ack = (socket, ...args) =>
  new Promise((resolve, reject) =>
    socket.timeout(5000).emit(...args, (err, ...a) => (err ? reject(err) : resolve(a))),
  );

// Every JSON kind the protocol carries.
const KINDS = [
  "text",
  "é😀 unicode",
  "",
  0,
  1,
  -1,
  127,
  128,
  65536,
  4294967296,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1.5,
  -0.25,
  null,
  true,
  false,
  [],
  {},
  [1, "two", [3, [4, null]], { five: 5 }],
  { nested: { deeper: { list: [true, false, null], n: -2.5 } }, "": "empty key" },
  "x".repeat(70000),
];

describe(`socket.io-msgpack-parser over ${TRANSPORTS.join(",")}`, () => {
  test("connect with auth: the server's auth event echoes it", T, async () => {
    const s = client("/", { auth: { token: "abc", n: 1 } });
    const [auth] = await once(s, "auth");
    assert.deepEqual(auth, { token: "abc", n: 1 });
    assert.equal(typeof s.id, "string");
  });

  test("every JSON kind round-trips (message → message-back)", T, async () => {
    const s = client();
    await once(s, "connect");
    const back = once(s, "message-back");
    s.emit("message", ...KINDS);
    assert.deepEqual(await back, KINDS);
  });

  test("binary both ways: Buffer, Uint8Array and ArrayBuffer come back as bytes", T, async () => {
    const s = client();
    await once(s, "connect");
    const back = once(s, "message-back");
    const buf = Buffer.from([0, 1, 2, 254, 255]);
    const u8 = new Uint8Array([9, 8, 7]);
    const ab = new Uint8Array([42, 43]).buffer;
    s.emit("message", buf, { inner: [u8] }, ab, Buffer.alloc(0), Buffer.alloc(70000, 3));
    const [a, b, c, d, e] = await back;
    // The reference server sends typed arrays back as ArrayBuffer (ext type 0),
    // ours as bin (a Buffer): bytes either way.
    const bytes = (x) => Array.from(x instanceof ArrayBuffer ? new Uint8Array(x) : x);
    assert.ok(Buffer.isBuffer(a), "bin arrives as a Buffer");
    assert.deepEqual([...a], [0, 1, 2, 254, 255]);
    assert.deepEqual(bytes(b.inner[0]), [9, 8, 7]);
    assert.deepEqual(bytes(c), [42, 43]);
    assert.equal(d.length, 0);
    assert.equal(e.length, 70000);
    assert.ok(e.every((x) => x === 3));
  });

  test("client → server ack, with JSON and binary", T, async () => {
    const s = client();
    await once(s, "connect");
    const answer = await ack(s, "message-with-ack", 1, { a: [null, "b"] }, Buffer.from([5, 6]));
    assert.equal(answer.length, 3);
    assert.deepEqual(answer.slice(0, 2), [1, { a: [null, "b"] }]);
    assert.deepEqual([...answer[2]], [5, 6]);
    // an ack without arguments
    assert.deepEqual(await ack(s, "message-with-ack"), []);
  });

  test("server → client ack: the server gets the client's answer", T, async () => {
    const s = client();
    await once(s, "connect");
    s.on("emit-with-ack", (...args) => {
      const cb = args.pop();
      cb({ got: args.length }, Buffer.from([1, 2, 3]), "done");
    });
    const result = once(s, "emit-with-ack-result");
    s.emit("emit-with-ack", "x", 2);
    const [got, bytes, done] = await result;
    assert.deepEqual(got, { got: 2 });
    assert.deepEqual([...bytes], [1, 2, 3]);
    assert.equal(done, "done");
  });

  test("namespaces: /custom works beside /, broadcast reaches every socket of /", T, async () => {
    const main = client("/");
    const custom = client("/custom");
    await Promise.all([once(main, "connect"), once(custom, "connect")]);
    const back = once(custom, "message-back");
    custom.emit("message", "in custom", Buffer.from([7]));
    const [text, bin] = await back;
    assert.equal(text, "in custom");
    assert.deepEqual([...bin], [7]);
    const other = client("/");
    await once(other, "connect");
    const got = [once(main, "broadcast"), once(other, "broadcast")];
    main.emit("broadcast", { all: true }, Buffer.from([1]));
    for (const [obj, b] of await Promise.all(got)) {
      assert.deepEqual(obj, { all: true });
      assert.deepEqual([...b], [1]);
    }
  });

  test("connect_error for a namespace the server refuses", T, async () => {
    const s = client("/not-there");
    const [err] = await once(s, "connect_error");
    assert.equal(err.message, "Invalid namespace");
  });

  test("the server disconnects on request (DISCONNECT packet)", T, async () => {
    const s = client();
    await once(s, "connect");
    const gone = once(s, "disconnect");
    s.emit("disconnect-me");
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect");
  });
});
