#!/usr/bin/env node
// Run the interop suite against a server command.
//
//   node run-against.js [--transports LIST] [--files LIST] [--start-timeout MS] [--] SERVER_CMD [ARGS...]
//
// Picks a free port on 127.0.0.1 and starts SERVER_CMD with `--port PORT`
// appended (or with every "{port}" argument replaced by the port, if any),
// waits until the port accepts TCP connections, runs
// `node --test <test files>` (default: all of them; `--files` takes a
// comma-separated subset) with SERVER_URL=http://127.0.0.1:PORT and
// TRANSPORTS=LIST (default: $TRANSPORTS or "websocket"), then stops the server
// (SIGTERM to its process group, SIGKILL after 5 s). Exits with the test
// runner's status (1 if the server could not be started or died early).
//
// Examples:
//   node run-against.js --files interop.test.js,http.test.js -- node reference-server.js
//   node run-against.js --transports polling,websocket --files interop.test.js -- node reference-server.js --ping-interval 300
//   node run-against.js -- cargo run --release -p socketio-blocking --example conformance --
//   node run-against.js -- cargo run --release -p socketio-mio --example mio_conformance --
//   node run-against.js -- ../../../../target/release/examples/conformance
"use strict";

const { spawn } = require("node:child_process");
const net = require("node:net");

// legacy.test.js and mixed.test.js need a server that also speaks Socket.IO
// 0.9 (the official 4.x reference-server.js does not).
const TEST_FILES = ["interop.test.js", "http.test.js", "legacy.test.js", "mixed.test.js"];
// Files run only when named with --files (they need a server started with
// particular options: see README.md).
const OPT_IN_FILES = ["recovery.test.js", "msgpack.test.js"];

function usage(msg) {
  if (msg) console.error(`run-against: ${msg}`);
  console.error("usage: node run-against.js [--transports LIST] [--files LIST] [--start-timeout MS] [--] SERVER_CMD [ARGS...]");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { transports: process.env.TRANSPORTS || "websocket", files: TEST_FILES, startTimeout: 120000, cmd: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    } else if (a === "--transports") o.transports = argv[++i];
    else if (a === "--files") o.files = (argv[++i] || "").split(",").map((f) => f.trim()).filter(Boolean);
    else if (a === "--start-timeout") o.startTimeout = Number(argv[++i]);
    else if (a.startsWith("--")) usage(`unknown option ${a}`);
    else break;
  }
  o.cmd = argv.slice(i);
  if (o.cmd.length === 0) usage("missing server command");
  if (!o.transports) usage("--transports needs a value");
  if (o.files.length === 0) usage("--files needs a value");
  for (const f of o.files) if (!TEST_FILES.includes(f) && !OPT_IN_FILES.includes(f)) usage(`--files: unknown test file ${f}`);
  if (!(o.startTimeout > 0)) usage("--start-timeout needs a positive number");
  return o;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const port = await freePort();
  const hasPlaceholder = o.cmd.some((a) => a.includes("{port}"));
  const cmd = hasPlaceholder ? o.cmd.map((a) => a.split("{port}").join(String(port))) : [...o.cmd, "--port", String(port)];

  console.error(`run-against: starting ${cmd.join(" ")}`);
  const server = spawn(cmd[0], cmd.slice(1), {
    stdio: ["ignore", "inherit", "inherit"],
    detached: true, // own process group, so `cargo run` and its child both get the signal
    env: { ...process.env, PORT: String(port) },
  });
  let serverExit = null;
  const exited = new Promise((resolve) =>
    server.on("exit", (code, signal) => {
      serverExit = { code, signal };
      resolve(serverExit);
    })
  );
  server.on("error", (err) => {
    serverExit = { error: err };
  });

  const stopServer = async () => {
    if (serverExit) return;
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch (_) {
      return;
    }
    const t = setTimeout(() => {
      console.error("run-against: server ignored SIGTERM for 5 s, sending SIGKILL");
      try {
        process.kill(-server.pid, "SIGKILL");
      } catch (_) {
        /* gone */
      }
    }, 5000);
    await exited;
    clearTimeout(t);
  };
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      await stopServer();
      process.exit(130);
    });
  }

  // Wait for the port.
  const deadline = Date.now() + o.startTimeout;
  for (;;) {
    if (serverExit) {
      console.error(`run-against: server exited before accepting connections: ${JSON.stringify(serverExit)}`);
      process.exit(1);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      console.error(`run-against: server did not accept on 127.0.0.1:${port} within ${o.startTimeout} ms`);
      await stopServer();
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const env = { ...process.env, SERVER_URL: `http://127.0.0.1:${port}`, TRANSPORTS: o.transports };
  console.error(`run-against: SERVER_URL=${env.SERVER_URL} TRANSPORTS=${env.TRANSPORTS}`);
  const runner = spawn(process.execPath, ["--test", "--test-concurrency=1", ...o.files], {
    cwd: __dirname,
    stdio: "inherit",
    env,
  });
  const code = await new Promise((resolve) => runner.on("exit", (c, s) => resolve(c === null ? 1 : c)));

  const diedEarly = serverExit;
  await stopServer();
  if (diedEarly) {
    console.error(`run-against: the server died during the tests: ${JSON.stringify(diedEarly)}`);
    process.exit(code || 1);
  }
  console.error(`run-against: server stopped (${JSON.stringify(serverExit)})`);
  process.exit(code);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

