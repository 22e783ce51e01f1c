"use strict";
// Three client generations on one server: socket.io-client 0.9 (Socket.IO
// 0.9 protocol), 2.x (Engine.IO 3) and 4.x (Engine.IO 4) in the `/` room get
// the same broadcasts. Transports from $TRANSPORTS (for 0.9 see lib/legacy.js).
//
//   SERVER_URL=http://127.0.0.1:3000 node --test mixed.test.js

const { describe, test } = require("node:test");
const assert = require("node:assert/strict");
const { CLIENTS, TRANSPORTS, Tracker, connect, nextEvent, expectSilence, assertSame } = require("./lib/harness");
const L = require("./lib/legacy");

const T = { timeout: 20000 };
const [v4, v2] = CLIENTS;

// A unique first argument, so that broadcasts of other tests are ignored.
const tokenFor = (label) => `mixed09-${label}-${process.pid}-${Date.now()}-${Math.random()}`;

describe(`mixed 0.9, 2.x and 4.x clients [${TRANSPORTS.join(",")}; 0.9: ${L.LABEL}]`, () => {
  test("a broadcast reaches every / socket of the three generations, not /custom", T, async (t) => {
    const tr = new Tracker(t);
    const tr09 = new L.LegacyTracker(t);
    const [a09, b09] = await Promise.all([L.connect09(tr09, "/"), L.connect09(tr09, "/?token=abc")]);
    // /custom multiplexed on the connection of b09, and on a connection of its own.
    const [custom09mux, custom09] = await Promise.all([L.join09(b09.ns, "/custom"), L.connect09(tr09, "/custom")]);
    const modern = await Promise.all([connect(tr, v4, "/"), connect(tr, v2, "/")]);
    const customModern = await Promise.all([connect(tr, v4, "/custom"), connect(tr, v2, "/custom")]);

    const mains = [
      ["0.9 a", a09.ns],
      ["0.9 b", b09.ns],
      ["4.x", modern[0].socket],
      ["2.x", modern[1].socket],
    ];
    const customs = [
      ["0.9 /custom multiplexed", custom09mux.ns],
      ["0.9 /custom", custom09.ns],
      ["4.x /custom", customModern[0].socket],
      ["2.x /custom", customModern[1].socket],
    ];
    const senders = [
      ["from 0.9 on /", a09.ns],
      ["from 2.x on /", modern[1].socket],
      ["from 4.x on /", modern[0].socket],
      ["from 0.9 on /custom", custom09.ns],
      ["from 4.x on /custom", customModern[0].socket],
    ];
    for (const [label, sender] of senders) {
      const token = tokenFor(label);
      const isOurs = (args) => args[0] === token;
      const arrivals = mains.map(([name, s]) =>
        nextEvent(s, "broadcast", { filter: isOurs }).then((args) => [name, args])
      );
      // /custom sockets must not get it (watched while / receives it, and a bit longer).
      const silences = customs.map(([, s]) => expectSilence(s, "broadcast", 600, isOurs));
      const payload = [token, { label, n: [1, 2.5, null, true], nested: { "é": "😀" } }, "a:b::c", 0];
      sender.emit("broadcast", ...payload);
      for (const [name, args] of await Promise.all(arrivals)) assertSame(args, payload, `${label} → ${name}`);
      await Promise.all(silences);
    }
  });

  test("a broadcast with binary skips the 0.9 clients (no binary in 0.9), which stay connected", T, async (t) => {
    const tr = new Tracker(t);
    const tr09 = new L.LegacyTracker(t);
    const { ns: ns09 } = await L.connect09(tr09, "/");
    const [m4, m2] = await Promise.all([connect(tr, v4, "/"), connect(tr, v2, "/")]);

    const token = tokenFor("binary");
    const isOurs = (args) => args[0] === token;
    const payload = [token, Buffer.from([0xca, 0xfe]), { b: Buffer.from([1]) }];
    const arrivals = [m4.socket, m2.socket].map((s) => nextEvent(s, "broadcast", { filter: isOurs }));
    const silent09 = expectSilence(ns09, "broadcast", 600, isOurs);
    const stays09 = expectSilence(ns09, "disconnect", 600);
    m4.socket.emit("broadcast", ...payload);
    for (const args of await Promise.all(arrivals)) assertSame(args, payload);
    await Promise.all([silent09, stays09]);
    assert.equal(ns09.socket.connected, true);

    // The next text-only broadcast reaches all three.
    const token2 = tokenFor("after-binary");
    const isOurs2 = (args) => args[0] === token2;
    const all = [ns09, m4.socket, m2.socket].map((s) => nextEvent(s, "broadcast", { filter: isOurs2 }));
    m2.socket.emit("broadcast", token2, "text only");
    for (const args of await Promise.all(all)) assertSame(args, [token2, "text only"]);
  });
});
