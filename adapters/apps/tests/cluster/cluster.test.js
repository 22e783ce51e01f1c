"use strict";
// Cluster interop: socket.io-client 4.x clients on every node of one Redis
// cluster made of our nodes and a Node.js node (cluster-server.js). The
// Rust launcher (../cluster.rs) starts Redis and the nodes and runs this
// file once per phase:
//
//   NODES=blocking=http://127.0.0.1:3001,mio=http://127.0.0.1:3002,node=http://127.0.0.1:3003 \
//   REDIS_URL=redis://127.0.0.1:6379 PHASE=full node --test cluster.test.js
//
// PHASE=full: every operation across every pair of nodes, and the
// @socket.io/redis-emitter; PHASE=stopped: NODES lists the nodes still
// running after one was stopped (requests complete without it);
// PHASE=restarted: after a Redis restart (reconnection, resubscription).

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { io } = require("socket.io-client");

const NODES = (process.env.NODES || "")
  .split(",")
  .filter(Boolean)
  .map((entry) => {
    const [name, url] = entry.split("=");
    return { name, url };
  });
const REDIS_URL = process.env.REDIS_URL;
const PHASE = process.env.PHASE || "full";
const T = { timeout: 30000 };
// Below the 2 s server-side-emit timeout: the request completed because
// every live node answered, not at its deadline.
const PROMPT_MS = 1800;

if (NODES.length < 2) throw new Error("NODES must list at least two nodes");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unique = (label) => `${label}-${process.pid}-${Date.now()}-${Math.random()}`;
const others = (node) => NODES.filter((n) => n !== node).map((n) => n.name).sort();

/** A connected client of `node`, answering `ack-all-ping`. */
async function connect(node, label = "client") {
  const socket = io(node.url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: 5000,
  });
  socket.label = `${label}@${node.name}`;
  socket.on("ack-all-ping", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(`pong ${socket.label}`);
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (e) => reject(new Error(`${socket.label}: ${e.message}`)));
  });
  return socket;
}

/** The arguments of the next `event` on `socket`, within `ms`. */
function next(socket, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`${socket.label}: no ${event} within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      clearTimeout(timer);
      socket.off(event, on);
      resolve(args);
    };
    socket.on(event, on);
  });
}

/** Every `event` on `socket` until the returned stop function is called. */
function record(socket, event) {
  const got = [];
  const on = (...args) => got.push(args);
  socket.on(event, on);
  return () => {
    socket.off(event, on);
    return got;
  };
}

async function call(socket, event, ...args) {
  return socket.timeout(10000).emitWithAck(event, ...args);
}

/** Buffers of the client come as Buffer: compare them as byte arrays. */
function plain(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { bytes: [...Buffer.from(value)] };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

function closeAll(sockets) {
  for (const s of sockets) s.disconnect();
}

/** Until every node's server-side emit is answered by all the others. */
async function clusterFormed(clients, deadlineMs = 15000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const answers = await Promise.all(clients.map((c) => call(c, "server-side-emit")));
    if (answers.every((a, i) => JSON.stringify(a) === JSON.stringify(others(NODES[i])))) return;
    if (Date.now() > deadline) {
      assert.fail(`the cluster did not form: ${JSON.stringify(answers)}`);
    }
    await sleep(300);
  }
}

if (PHASE === "full") {
  describe(`cluster of ${NODES.map((n) => n.name).join(", ")}`, () => {
    // Two clients per node: `member` joins the suite's room, `other` not.
    const room = unique("room");
    let members = [];
    let outsiders = [];
    let all = [];

    before(async () => {
      members = await Promise.all(NODES.map((n) => connect(n, "member")));
      outsiders = await Promise.all(NODES.map((n) => connect(n, "other")));
      all = [...members, ...outsiders];
      for (const m of members) assert.equal(await call(m, "join", room), true);
      await clusterFormed(members);
    });

    after(() => closeAll(all));

    test("server-side emit with acks: every node gathers the others' answers", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const started = Date.now();
        const answers = await call(members[i], "server-side-emit", "from", node.name);
        assert.deepEqual(answers, others(node), `server-side-emit from ${node.name}`);
        assert.ok(Date.now() - started < PROMPT_MS, `${node.name}: answered at the timeout`);
      }
    });

    test("broadcast crosses every pair of nodes, binary included", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const args = [
          `from ${node.name}`,
          Buffer.from([i, 0, 1, 2, 255]),
          { nested: Buffer.from(`bytes of ${node.name}`), n: i, list: [1, "two", null] },
        ];
        const got = all.map((c) => next(c, "broadcast"));
        outsiders[i].emit("broadcast", ...args);
        const received = await Promise.all(got);
        for (const [j, r] of received.entries()) {
          assert.deepEqual(plain(r), plain(args), `${node.name} -> ${all[j].label}`);
        }
      }
    });

    test("room broadcast crosses every pair of nodes, only to the room", T, async () => {
      const stops = outsiders.map((o) => record(o, "room-broadcast"));
      for (const [i, node] of NODES.entries()) {
        const args = [`room from ${node.name}`, Buffer.from([7, i])];
        const got = members.map((m) => next(m, "room-broadcast"));
        outsiders[i].emit("room-broadcast", room, ...args);
        const received = await Promise.all(got);
        for (const [j, r] of received.entries()) {
          assert.deepEqual(plain(r), plain(args), `${node.name} -> ${members[j].label}`);
        }
      }
      await sleep(300);
      for (const [j, stop] of stops.entries()) {
        assert.deepEqual(stop(), [], `${outsiders[j].label} is not in the room`);
      }
    });

    test("fetch-sockets from any node lists the sockets of all nodes", T, async () => {
      const ids = all.map((c) => c.id).sort();
      for (const [i, node] of NODES.entries()) {
        const listed = await call(members[i], "fetch-sockets");
        assert.deepEqual(listed, ids, `fetch-sockets from ${node.name}`);
      }
    });

    test("broadcast with acks (ack-all) gathers the answers of every node's clients", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const count = await call(members[i], "ack-all", 1500);
        assert.equal(count, all.length, `ack-all from ${node.name}`);
      }
    });

    test("disconnect-in-room crosses every pair of nodes", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const doomed = unique(`doomed-${node.name}`);
        const victims = await Promise.all(NODES.map((n) => connect(n, "victim")));
        try {
          for (const v of victims) assert.equal(await call(v, "join", doomed), true);
          const reasons = victims.map((v) => next(v, "disconnect"));
          assert.equal(await call(outsiders[i], "disconnect-room", doomed), true);
          const got = await Promise.all(reasons);
          for (const [j, [reason]] of got.entries()) {
            assert.equal(reason, "io server disconnect", `${node.name} -> ${victims[j].label}`);
          }
          assert.ok(all.every((c) => c.connected), "the clients outside the room stay");
        } finally {
          closeAll(victims);
        }
      }
    });

    test("the Node.js @socket.io/redis-emitter reaches the clients of every node (emit, to, socketsJoin/Leave, disconnectSockets)", T, async () => {
      const { createClient } = require("redis");
      const { Emitter } = require("@socket.io/redis-emitter");
      const client = createClient({ url: REDIS_URL });
      client.on("error", () => {});
      await client.connect();
      try {
        const emitter = new Emitter(client);
        const args = ["from the emitter", Buffer.from([1, 2, 3]), { n: 1 }];
        const got = all.map((c) => next(c, "emitted"));
        emitter.emit("emitted", ...args);
        for (const [j, r] of (await Promise.all(got)).entries()) {
          assert.deepEqual(plain(r), plain(args), `emitter -> ${all[j].label}`);
        }
        const stops = outsiders.map((o) => record(o, "emitted-room"));
        const inRoom = members.map((m) => next(m, "emitted-room"));
        emitter.to(room).emit("emitted-room", "room only");
        for (const r of await Promise.all(inRoom)) assert.deepEqual(r, ["room only"]);
        await sleep(300);
        for (const stop of stops) assert.deepEqual(stop(), []);

        // socketsJoin / socketsLeave requests (the bytes of io.socketsJoin
        // on a Node.js node too): the room's sockets on every node join.
        const joined = unique("joined");
        emitter.in(room).socketsJoin(joined);
        await sleep(300);
        const outside = outsiders.map((o) => record(o, "room-broadcast"));
        const viaJoin = members.map((m) => next(m, "room-broadcast"));
        outsiders[0].emit("room-broadcast", joined, "joined by the emitter");
        for (const r of await Promise.all(viaJoin)) assert.deepEqual(r, ["joined by the emitter"]);
        emitter.in(room).socketsLeave(joined);
        await sleep(300);
        const left = members.map((m) => record(m, "room-broadcast"));
        outsiders[0].emit("room-broadcast", joined, "left");
        await sleep(300);
        for (const stop of [...left, ...outside]) assert.deepEqual(stop(), []);

        // disconnectSockets.
        const doomed = unique("doomed-by-the-emitter");
        const victims = await Promise.all(NODES.map((n) => connect(n, "victim")));
        try {
          for (const v of victims) assert.equal(await call(v, "join", doomed), true);
          const reasons = victims.map((v) => next(v, "disconnect"));
          emitter.in(doomed).disconnectSockets();
          for (const [reason] of await Promise.all(reasons)) {
            assert.equal(reason, "io server disconnect");
          }
        } finally {
          closeAll(victims);
        }
      } finally {
        await client.quit();
      }
    });
  });
}

if (PHASE === "stopped") {
  describe(`after a node stopped: ${NODES.map((n) => n.name).join(", ")} remain`, () => {
    let clients = [];
    before(async () => {
      clients = await Promise.all(NODES.map((n) => connect(n)));
    });
    after(() => closeAll(clients));

    test("server-side emit completes with the remaining nodes' answers", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const started = Date.now();
        const answers = await call(clients[i], "server-side-emit");
        assert.deepEqual(answers, others(node), `server-side-emit from ${node.name}`);
        assert.ok(Date.now() - started < PROMPT_MS, `${node.name}: waited for the stopped node`);
      }
    });

    test("fetch-sockets completes with the remaining nodes' sockets", T, async () => {
      const ids = clients.map((c) => c.id).sort();
      for (const [i, node] of NODES.entries()) {
        const started = Date.now();
        assert.deepEqual(await call(clients[i], "fetch-sockets"), ids, node.name);
        assert.ok(Date.now() - started < PROMPT_MS, `${node.name}: waited for the stopped node`);
      }
    });

    test("broadcasts still cross the remaining nodes", T, async () => {
      for (const [i, node] of NODES.entries()) {
        const got = clients.map((c) => next(c, "broadcast"));
        clients[i].emit("broadcast", `after the stop, from ${node.name}`);
        for (const r of await Promise.all(got)) {
          assert.deepEqual(r, [`after the stop, from ${node.name}`]);
        }
      }
    });
  });
}

if (PHASE === "restarted") {
  describe(`after a Redis restart: ${NODES.map((n) => n.name).join(", ")}`, () => {
    let clients = [];
    before(async () => {
      clients = await Promise.all(NODES.map((n) => connect(n)));
    });
    after(() => closeAll(clients));

    test("the nodes reconnect and subscribe again: broadcasts cross", T, async () => {
      // Until a broadcast from every node crosses to every node (each
      // node's publisher and subscriber reconnect on their own, with
      // backoff; what is published while a subscriber is away is lost, as
      // with Redis pub/sub everywhere)...
      const deadline = Date.now() + 20000;
      for (let attempt = 0; ; attempt++) {
        const probes = NODES.map((n) => `probe ${attempt} from ${n.name}`);
        const stops = clients.map((c) => record(c, "broadcast"));
        clients.forEach((c, i) => c.emit("broadcast", probes[i]));
        await sleep(500);
        const received = stops.map((stop) => stop().map((args) => args[0]));
        if (received.every((got) => probes.every((p) => got.includes(p)))) break;
        assert.ok(Date.now() < deadline, `not every broadcast crossed within 20 s: ${JSON.stringify(received)}`);
      }
      // ... then from every node, binary included.
      for (const [i, node] of NODES.entries()) {
        const args = [`after the restart, from ${node.name}`, Buffer.from([i])];
        const got = clients.map((c) => next(c, "broadcast"));
        clients[i].emit("broadcast", ...args);
        for (const r of await Promise.all(got)) assert.deepEqual(plain(r), plain(args));
      }
    });

    test("requests cross again (server-side emit from every node)", T, async () => {
      await clusterFormed(clients, 15000);
    });
  });
}
