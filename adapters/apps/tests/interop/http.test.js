"use strict";
// HTTP-level part of the contract (no Socket.IO client involved):
//   EIO missing or not 3/4 -> 400 {"code":5,"message":"Unsupported protocol version"}
//   unknown transport      -> 400 {"code":0,...}
// The checks use WebSocket upgrade requests (the websocket transport is always
// served); the polling handshake checks run only when TRANSPORTS has polling.
//   polling answers over 1024 bytes are compressed by Accept-Encoding (gzip or
//   deflate, as engine.io's httpCompression), and socket.io-client 4.x over its
//   fetch() polling transport (which sends Accept-Encoding, as a browser's XHR
//   does) decodes them.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const crypto = require("node:crypto");
const zlib = require("node:zlib");
const { SERVER_URL, TRANSPORTS } = require("./lib/harness");

const T = { timeout: 10000 };

// Send a GET (optionally a WebSocket upgrade) to /socket.io/?<query>; resolves
// with {status, headers, body} (body as text; "" for a 101 upgrade).
function request(query, { upgrade = false } = {}) {
  return new Promise((resolve, reject) => {
    const headers = upgrade
      ? {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": crypto.randomBytes(16).toString("base64"),
        }
      : {};
    const req = http.request(`${SERVER_URL}/socket.io/?${query}`, { method: "GET", headers, agent: false });
    req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, headers: res.headers, body: "" });
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const ERROR_MESSAGES = { 0: "Transport unknown", 5: "Unsupported protocol version" };

// A 400 whose body is the engine.io JSON error {"code":N,"message":...}. For a
// refused WebSocket upgrade (`text: true`) engine.io answers with the bare
// message as text/html instead, so either form is accepted there.
function assertError(res, code, { text = false, checkMessage = true } = {}) {
  assert.equal(res.status, 400, `status (body: ${res.body})`);
  if (text && res.body.trim() === ERROR_MESSAGES[code]) return;
  let body;
  try {
    body = JSON.parse(res.body);
  } catch (_) {
    assert.fail(`expected a JSON error body with code ${code}, got ${JSON.stringify(res.body)}`);
  }
  assert.equal(body.code, code, `error code in ${res.body}`);
  if (checkMessage) assert.equal(body.message, ERROR_MESSAGES[code]);
}

describe("HTTP contract", () => {
  test("websocket upgrade with EIO=4 is accepted (101)", T, async () => {
    const res = await request("EIO=4&transport=websocket", { upgrade: true });
    assert.equal(res.status, 101);
  });

  test("websocket upgrade with EIO=3 is accepted (101)", T, async () => {
    const res = await request("EIO=3&transport=websocket", { upgrade: true });
    assert.equal(res.status, 101);
  });

  for (const [label, query] of [
    ["missing EIO", "transport=websocket"],
    ["EIO=5", "EIO=5&transport=websocket"],
    ["EIO=2", "EIO=2&transport=websocket"],
    ["EIO=abc", "EIO=abc&transport=websocket"],
  ]) {
    test(`websocket upgrade with ${label} -> 400 code 5 "Unsupported protocol version"`, T, async () => {
      assertError(await request(query, { upgrade: true }), 5, { text: true });
    });
  }

  test("unknown transport -> 400 code 0", T, async () => {
    assertError(await request("EIO=4&transport=foo"), 0, { checkMessage: false });
  });

  test("unknown transport on a websocket upgrade -> 400 code 0", T, async () => {
    assertError(await request("EIO=4&transport=foo", { upgrade: true }), 0, { text: true, checkMessage: false });
  });

  const polling = TRANSPORTS.includes("polling");
  test("polling with missing EIO -> 400 code 5", { ...T, skip: !polling && "TRANSPORTS has no polling" }, async () => {
    assertError(await request("transport=polling"), 5);
  });

  test("polling handshake EIO=4 announces the session", { ...T, skip: !polling && "TRANSPORTS has no polling" }, async () => {
    const res = await request("EIO=4&transport=polling");
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body[0], "0", `open packet: ${res.body}`);
    const open = JSON.parse(res.body.slice(1));
    assert.equal(typeof open.sid, "string");
    assert.deepEqual(open.upgrades, ["websocket"]);
    assert.equal(typeof open.pingInterval, "number");
    assert.equal(typeof open.pingTimeout, "number");
    assert.equal(open.maxPayload, 1000000);
  });

  // ---- compressed polling --------------------------------------------------

  // A polling request with raw bytes back: {status, headers, raw}.
  function pollingRequest(method, query, { headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request(`${SERVER_URL}/socket.io/?${query}`, { method, headers, agent: false });
      req.setTimeout(5000, () => req.destroy(new Error("request timed out")));
      req.on("response", (res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, raw: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  const decode = (res) => {
    switch (res.headers["content-encoding"]) {
      case "gzip":
        return zlib.gunzipSync(res.raw).toString("utf8");
      case "deflate":
        return zlib.inflateSync(res.raw).toString("utf8");
      case undefined:
        return res.raw.toString("utf8");
      default:
        throw new Error(`unexpected content-encoding ${res.headers["content-encoding"]}`);
    }
  };

  // GETs with `encoding` until a payload contains `needle`: [response, text].
  async function pollFor(sid, encoding, needle) {
    const seen = [];
    for (let i = 0; i < 10; i++) {
      const res = await pollingRequest("GET", `EIO=4&transport=polling&sid=${sid}`, {
        headers: { "Accept-Encoding": encoding },
      });
      assert.equal(res.status, 200, `GET: ${res.raw}`);
      const text = decode(res);
      if (text.includes(needle)) return [res, text];
      seen.push(text.slice(0, 80));
    }
    assert.fail(`no ${needle} in 10 GETs (${JSON.stringify(seen)})`);
  }

  const skipPolling = { ...T, skip: !polling && "TRANSPORTS has no polling" };
  for (const encoding of ["gzip", "deflate"]) {
    test(`polling answers over 1024 bytes are ${encoding}-compressed, small ones are not`, skipPolling, async () => {
      const open = await pollingRequest("GET", "EIO=4&transport=polling");
      const { sid } = JSON.parse(open.raw.toString("utf8").slice(1));
      const post = (body) =>
        pollingRequest("POST", `EIO=4&transport=polling&sid=${sid}`, {
          headers: { "Content-Type": "text/plain;charset=UTF-8" },
          body,
        });
      assert.equal((await post("40")).status, 200);
      // The CONNECT answer (and `auth`): small, sent as is.
      const [small, connected] = await pollFor(sid, encoding, "40{");
      assert.equal(small.headers["content-encoding"], undefined, connected);
      const big = "compressible ".repeat(400);
      assert.equal((await post(`42${JSON.stringify(["message", big])}`)).status, 200);
      const [res, text] = await pollFor(sid, encoding, "message-back");
      assert.equal(res.headers["content-encoding"], encoding);
      assert.ok(res.raw.length < big.length / 4, `${res.raw.length} bytes on the wire`);
      const packet = text.split("\x1e").find((p) => p.includes("message-back"));
      // (A server with connection state recovery appends an offset.)
      const [name, echoed] = JSON.parse(packet.slice(2));
      assert.equal(name, "message-back");
      assert.ok(echoed === big, `echoed ${String(echoed).length} chars, sent ${big.length}`);
      await post("1");
    });
  }

  test("socket.io-client 4.x over fetch() polling decodes compressed answers", skipPolling, async () => {
    const { io } = require("socket.io-client");
    // engine.io-client comes with socket.io-client (same lock file).
    const { Fetch } = require("engine.io-client");
    const encodings = [];
    const original = globalThis.fetch;
    globalThis.fetch = async (...args) => {
      const res = await original(...args);
      encodings.push(res.headers.get("content-encoding"));
      return res;
    };
    const socket = io(SERVER_URL, { transports: [Fetch], forceNew: true, reconnection: false });
    try {
      await new Promise((resolve, reject) => {
        socket.once("connect", resolve);
        socket.once("connect_error", reject);
      });
      const big = Array.from({ length: 500 }, (_, i) => `item ${i}`).join(",");
      const back = new Promise((resolve) => socket.once("message-back", resolve));
      socket.emit("message", big);
      const echoed = await back;
      assert.ok(echoed === big, `echoed ${String(echoed).length} chars, sent ${big.length}`);
      assert.ok(
        encodings.some((e) => e === "gzip" || e === "deflate"),
        `no compressed answer among ${JSON.stringify(encodings)}`
      );
    } finally {
      socket.disconnect();
      globalThis.fetch = original;
    }
  });
});
