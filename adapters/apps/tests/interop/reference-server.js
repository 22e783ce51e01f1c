#!/usr/bin/env node
// Reference implementation of the interop contract on the official `socket.io`
// server. It exists only to validate the interop suite itself:
//
//   node run-against.js -- node reference-server.js
//
// Contract (see README.md): namespaces "/" and "/custom"; on connection emit
// `auth` with the handshake auth (for Socket.IO 2.x clients the socket.io
// 4.x server derives it from the namespace query); echo `message` as
// `message-back`; ack `message-with-ack` with the same arguments; `broadcast`
// is re-emitted to every socket of "/"; `emit-with-ack` is sent back with an ack
// request and the client's ack arguments come back as `emit-with-ack-result`;
// `disconnect-me` disconnects that socket (namespace) from the server side;
// `join` (room) joins and acks `true`; `room-broadcast` (room, ...args) emits
// `room-broadcast` with args to the room's sockets of "/"; `fetch-sockets` acks
// with the sorted ids of the sockets of "/"; `ack-all` (ms) emits
// `ack-all-ping` with an ack to every socket of "/" with a timeout of ms, then
// acks with the number of answers. `--parser msgpack`: socket.io-msgpack-parser
// for every client (as our `--parser msgpack`). `--recovery MS` turns on
// connection state recovery (maxDisconnectionDuration MS, skipMiddlewares),
// as our servers'.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const https = require("node:https");
const { Server } = require("socket.io");

function parseArgs(argv) {
  const opts = { port: 3000, pingInterval: 300, pingTimeout: 200 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`missing value for ${a}`);
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`bad value for ${a}: ${v}`);
      return n;
    };
    if (a === "--tls-cert") opts.tlsCert = argv[++i];
    else if (a === "--tls-key") opts.tlsKey = argv[++i];
    else if (a === "--port") opts.port = next();
    else if (a === "--ping-interval") opts.pingInterval = next();
    else if (a === "--ping-timeout") opts.pingTimeout = next();
    else if (a === "--parser") opts.parser = argv[++i];
    else if (a === "--recovery") opts.recovery = next();
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// The contract is stricter than the official server about the EIO query
// parameter: with `allowEIO3: true`, engine.io treats a missing or unknown EIO
// value as 3. The contract (and our server) answer HTTP 400
// {"code":5,"message":"Unsupported protocol version"} unless EIO is 3 or 4.
// This shim, in front of engine.io, makes the reference follow the contract.
function eioRejected(req) {
  const url = new URL(req.url, "http://localhost");
  if (!url.pathname.startsWith("/socket.io/")) return false;
  const eio = url.searchParams.get("EIO");
  return eio !== "3" && eio !== "4";
}
const UNSUPPORTED = JSON.stringify({ code: 5, message: "Unsupported protocol version" });

// `--tls-cert PEM --tls-key PEM`: HTTPS (and wss://) instead of HTTP, for
// the TLS checks of the Rust client (adapters/apps/tests/client_interop.rs).
const httpServer =
  opts.tlsCert && opts.tlsKey
    ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) })
    : http.createServer();
const io = new Server(httpServer, {
  path: "/socket.io/",
  allowEIO3: true,
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  connectTimeout: 1000,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  ...(opts.parser === "msgpack" ? { parser: require("socket.io-msgpack-parser") } : {}),
  // `--recovery MS`: connection state recovery on, as our conformance
  // servers' flag (adapters/apps/tests/client_interop.rs).
  ...(opts.recovery !== undefined && {
    connectionStateRecovery: { maxDisconnectionDuration: opts.recovery, skipMiddlewares: true },
  }),
});

// Install the EIO shim in front of the listeners engine.io attached.
for (const event of ["request", "upgrade"]) {
  const listeners = httpServer.listeners(event).slice();
  httpServer.removeAllListeners(event);
  httpServer.on(event, (req, resOrSocket, head) => {
    if (eioRejected(req)) {
      if (event === "request") {
        resOrSocket.writeHead(400, { "Content-Type": "application/json" });
        resOrSocket.end(UNSUPPORTED);
      } else {
        resOrSocket.end(
          "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n" +
            `Content-Length: ${Buffer.byteLength(UNSUPPORTED)}\r\n\r\n${UNSUPPORTED}`
        );
      }
      return;
    }
    for (const l of listeners) l.call(httpServer, req, resOrSocket, head);
  });
}

function onConnection(socket) {
  socket.emit("auth", socket.handshake.auth);

  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });

  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });

  socket.on("broadcast", (...args) => {
    io.of("/").emit("broadcast", ...args);
  });

  socket.on("emit-with-ack", (...args) => {
    socket.emit("emit-with-ack", ...args, (...reply) => {
      socket.emit("emit-with-ack-result", ...reply);
    });
  });

  // Leave only this namespace (DISCONNECT packet); other namespaces of the
  // same connection stay connected. (disconnect(true) would close them all.)
  socket.on("disconnect-me", () => {
    socket.disconnect();
  });

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
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);

httpServer.listen(opts.port, "127.0.0.1", () => {
  console.log(`reference server listening on 127.0.0.1:${opts.port}`);
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
