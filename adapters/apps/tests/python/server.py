"""The server conformance contract (adapters/apps/src/conformance.rs) on
python-socketio 5.x's server, for the client conformance checks:

    python server.py --port PORT [--ping-interval MS] [--ping-timeout MS]

Threading async mode on Werkzeug's development server (threaded), WebSocket
through simple-websocket. Namespaces "/" and "/custom"; others are refused
with "Invalid namespace"; on connection `auth` carries the handshake auth
(`{}` when none); `message` -> `message-back`; `message-with-ack` acked
with the same arguments; `broadcast` to every socket of "/";
`emit-with-ack` sent back with an ack request and the answer re-emitted as
`emit-with-ack-result`; `disconnect-me` disconnects that namespace socket.
Stops on SIGTERM.
"""

import argparse
import signal
import sys

import engineio.payload
import socketio
from werkzeug.serving import make_server

# python-engineio refuses a polling POST of more than 16 packets ("Too many
# packets in payload", a DoS guard); socket.io-client, like our client,
# batches every queued packet up to maxPayload, so a burst of emits over
# long-polling exceeds it. The conformance contract's 1000-message burst
# needs the limit raised.
engineio.payload.Payload.max_decode_packets = 2000

NAMESPACES = ("/", "/custom")


class ConformanceServer(socketio.Server):
    """Emits `auth` once the CONNECT reply is out (an emit from the
    `connect` handler would precede it)."""

    def _handle_connect(self, eio_sid, namespace, data):
        super()._handle_connect(eio_sid, namespace, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and self.manager.is_connected(sid, namespace):
            self.emit("auth", data if data is not None else {}, to=sid, namespace=namespace)


def build(ping_interval, ping_timeout):
    sio = ConformanceServer(
        async_mode="threading",
        namespaces="*",
        ping_interval=ping_interval,
        ping_timeout=ping_timeout,
        max_http_buffer_size=1_000_000,
        cors_allowed_origins="*",
        # One client's events in arrival order (the default runs each
        # handler on its own thread, which reorders the 1000 messages).
        async_handlers=False,
    )

    @sio.on("connect", namespace="*")
    def connect(namespace, sid, environ, auth=None):
        if namespace not in NAMESPACES:
            raise socketio.exceptions.ConnectionRefusedError("Invalid namespace")

    @sio.on("message", namespace="*")
    def message(namespace, sid, *args):
        sio.emit("message-back", args, to=sid, namespace=namespace)

    @sio.on("message-with-ack", namespace="*")
    def message_with_ack(namespace, sid, *args):
        return args

    @sio.on("broadcast", namespace="*")
    def broadcast(namespace, sid, *args):
        sio.emit("broadcast", args, namespace="/")

    @sio.on("emit-with-ack", namespace="*")
    def emit_with_ack(namespace, sid, *args):
        def answered(*reply):
            sio.emit("emit-with-ack-result", reply, to=sid, namespace=namespace)

        sio.emit("emit-with-ack", args, to=sid, namespace=namespace, callback=answered)

    @sio.on("disconnect-me", namespace="*")
    def disconnect_me(namespace, sid, *args):
        sio.disconnect(sid, namespace=namespace)

    return sio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ping-interval", type=int, default=300)
    parser.add_argument("--ping-timeout", type=int, default=200)
    args = parser.parse_args()
    sio = build(args.ping_interval / 1000, args.ping_timeout / 1000)
    app = socketio.WSGIApp(sio, socketio_path="socket.io")
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"python-socketio server listening on 127.0.0.1:{args.port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
