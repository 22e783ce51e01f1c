#!/usr/bin/env node
// The server conformance contract (adapters/apps/src/conformance.rs) on the
// official socket.io 2.x server (Engine.IO v3, Socket.IO rev 4), for the
// client conformance checks run with `--eio 3`:
//
//   node server2.js --port PORT [--ping-interval MS] [--ping-timeout MS]
//
// Namespaces "/" and "/custom" (socket.io 2.x answers others with the error
// "Invalid namespace"); `auth` carries `{}` (rev 4 has no auth payload);
// `message` → `message-back`; `message-with-ack` acked with the same
// arguments; `broadcast` to every socket of "/"; `emit-with-ack` sent back
// with an ack request, the answer re-emitted as `emit-with-ack-result`;
// `disconnect-me` disconnects that namespace socket.
"use strict";

const http = require("node:http");

function parseArgs(argv) {
  const opts = { port: 3000, pingInterval: 300, pingTimeout: 200 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = Number(argv[++i]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`bad value for ${a}`);
    if (a === "--port") opts.port = v;
    else if (a === "--ping-interval") opts.pingInterval = v;
    else if (a === "--ping-timeout") opts.pingTimeout = v;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const httpServer = http.createServer();
const io = require("socket.io")(httpServer, {
  path: "/socket.io",
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: 1e6,
  serveClient: false,
});

function onConnection(socket) {
  socket.emit("auth", {});
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
  socket.on("broadcast", (...args) => io.of("/").emit("broadcast", ...args));
  socket.on("emit-with-ack", (...args) => {
    socket.emit("emit-with-ack", ...args, (...reply) => {
      socket.emit("emit-with-ack-result", ...reply);
    });
  });
  socket.on("disconnect-me", () => socket.disconnect());
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);

httpServer.listen(opts.port, "127.0.0.1", () => {
  console.log(`socket.io 2.x server listening on 127.0.0.1:${opts.port}`);
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
