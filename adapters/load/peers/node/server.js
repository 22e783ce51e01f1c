// The Node.js peer of adapters/load/run-side-by-side.sh: socket.io 4.x
// (default `ws` engine) serving the part of the conformance contract the
// load generator uses, on 127.0.0.1:PORT. Namespaces `/` and `/custom`;
// `auth` on connection; `message` -> `message-back`; `message-with-ack` ->
// ack; `broadcast` -> every socket of `/`; `join` -> ack true;
// `room-broadcast(room, ...args)` -> the room's sockets of `/`. Engine.IO
// v4 and v3 (allowEIO3), WebSocket and polling.
//
// usage: node server.js --port PORT [--ping-interval MS] [--ping-timeout MS]
"use strict";
const http = require("http");
const { Server } = require("socket.io");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? Number(process.argv[i + 1]) : fallback;
}

const port = arg("--port", NaN);
if (!Number.isInteger(port)) {
  console.error("usage: node server.js --port PORT [--ping-interval MS] [--ping-timeout MS]");
  process.exit(2);
}

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: arg("--ping-interval", 25000),
  pingTimeout: arg("--ping-timeout", 20000),
  maxHttpBufferSize: 1e6,
  allowEIO3: true,
});

function onConnection(socket) {
  socket.emit("auth", socket.handshake.auth || {});
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
  socket.on("room-broadcast", (room, ...args) => io.of("/").to(room).emit("room-broadcast", ...args));
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);

httpServer.listen(port, "127.0.0.1", () => console.error(`node peer: listening on 127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
