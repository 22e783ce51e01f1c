#!/usr/bin/env node
// A Node.js node of the cluster interop test: the official `socket.io` 4.x
// server with `@socket.io/redis-adapter` 8.x (the `redis` 4.x client),
// implementing the conformance contract's clauses that the cluster test
// uses (see adapters/apps/src/conformance.rs; the non-cluster clauses as in
// ../interop/reference-server.js):
//
//   node cluster-server.js --port PORT --redis redis://HOST:PORT [--node-name NAME]
//                          [--ping-interval MS] [--ping-timeout MS]
//
// `broadcast`, `room-broadcast`, `fetch-sockets`, `ack-all`,
// `disconnect-room` act cluster-wide; `server-side-emit` (...args) emits
// `hello` to the other servers (acknowledgement timeout: the adapter's
// `requestsTimeout`, 2 s) and acks with the sorted answers; `hello` is
// answered with the node name. Stops on SIGTERM.
"use strict";

const http = require("node:http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-adapter");

function parseArgs(argv) {
  const opts = { port: 3000, pingInterval: 300, pingTimeout: 200, redis: null, nodeName: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      return v;
    };
    const number = () => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new Error(`bad value for ${a}`);
      return n;
    };
    if (a === "--port") opts.port = number();
    else if (a === "--ping-interval") opts.pingInterval = number();
    else if (a === "--ping-timeout") opts.pingTimeout = number();
    else if (a === "--redis") opts.redis = value();
    else if (a === "--node-name") opts.nodeName = value();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!opts.redis) throw new Error("--redis is required");
  if (opts.nodeName === null) opts.nodeName = String(opts.port);
  return opts;
}

function onConnection(io, socket) {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("broadcast", (...args) => io.of("/").emit("broadcast", ...args));
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(true);
  });
  socket.on("room-broadcast", (room, ...args) => {
    io.of("/").to(room).emit("room-broadcast", ...args);
  });
  socket.on("fetch-sockets", async (ack) => {
    const sockets = await io.of("/").fetchSockets();
    if (typeof ack === "function") ack(sockets.map((s) => s.id).sort());
  });
  socket.on("ack-all", (ms, ack) => {
    io.of("/")
      .timeout(ms)
      .emit("ack-all-ping", (err, responses) => {
        if (typeof ack === "function") ack(responses.length);
      });
  });
  socket.on("disconnect-room", (room, ack) => {
    if (typeof ack === "function") ack(true);
    io.of("/").in(room).disconnectSockets(false);
  });
  socket.on("server-side-emit", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    io.of("/").serverSideEmit("hello", ...args, (err, responses) => {
      if (ack) ack([...(responses || [])].map(String).sort());
    });
  });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pubClient = createClient({ url: opts.redis });
  const subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) {
    // Reconnection is the client's (a Redis restart is part of the test).
    client.on("error", (err) => console.error(`redis: ${err.message}`));
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);

  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    path: "/socket.io/",
    pingInterval: opts.pingInterval,
    pingTimeout: opts.pingTimeout,
    maxHttpBufferSize: 1e6,
    adapter: createAdapter(pubClient, subClient, { requestsTimeout: 2000 }),
  });
  io.of("/").on("connection", (socket) => onConnection(io, socket));
  io.of("/").on("hello", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(opts.nodeName);
  });

  httpServer.listen(opts.port, "127.0.0.1", () => {
    console.log(`cluster node ${opts.nodeName} listening on 127.0.0.1:${opts.port}`);
  });

  const shutdown = () => {
    io.close();
    Promise.allSettled([pubClient.quit(), subClient.quit()]).finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
