"use strict";
// HTTP-level part of the contract (no Socket.IO client involved):
//   EIO missing or not 3/4 -> 400 {"code":5,"message":"Unsupported protocol version"}
//   unknown transport      -> 400 {"code":0,...}
// The checks use WebSocket upgrade requests (the websocket transport is always
// served); the polling handshake checks run only when TRANSPORTS has polling.

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const http = require("node:http");
const crypto = require("node:crypto");
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
});
