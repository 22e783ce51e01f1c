// The chat page: plain JS on the official socket.io-client bundle (global
// `io`). Default client options: HTTP long-polling first, then the upgrade
// to WebSocket. `?transports=websocket` (comma-separated list) overrides the
// transports, e.g. to try the page against a server without polling.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const options = {};
  if (params.get("transports")) {
    options.transports = params.get("transports").split(",").filter(Boolean);
  }

  const socket = io(options);
  const state = { nick: null, room: null, typing: false, typingTimer: null };
  const typers = new Map(); // nick -> timer that forgets it

  // --- connection status and transport ---------------------------------
  function showTransport() {
    const engine = socket.io.engine;
    $("transport").textContent =
      socket.connected && engine && engine.transport ? engine.transport.name : "-";
  }
  socket.io.on("open", () => {
    const engine = socket.io.engine;
    engine.on("upgrade", showTransport);
    engine.on("close", showTransport);
    showTransport();
  });
  socket.on("connect", () => {
    $("status").textContent = "connected";
    $("status").className = "up";
    showTransport();
    // After a reconnection: take the nickname and the room back.
    if (state.nick) {
      const room = state.room;
      setNick(state.nick, () => {
        if (room && room !== "lobby") joinRoom(room);
      });
    }
  });
  socket.on("disconnect", (reason) => {
    $("status").textContent = "disconnected (" + reason + ")";
    $("status").className = "down";
    showTransport();
    typers.forEach((timer) => clearTimeout(timer));
    typers.clear();
    showTypers();
  });
  socket.on("connect_error", (err) => {
    $("status").textContent = "cannot connect: " + err.message;
    $("status").className = "down";
  });

  // --- rendering -----------------------------------------------------------
  function time(ts) {
    return new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function append(li) {
    const list = $("messages");
    const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
    list.appendChild(li);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function span(cls, text) {
    const s = document.createElement("span");
    s.className = cls;
    s.textContent = text;
    return s;
  }

  socket.on("chat-message", (msg) => {
    const li = document.createElement("li");
    li.className = "message" + (msg.nick === state.nick ? " mine" : "");
    li.append(span("time", time(msg.ts)), span("nick", msg.nick), span("text", msg.text));
    append(li);
    forgetTyper(msg.nick);
  });

  socket.on("notice", (n) => {
    const li = document.createElement("li");
    li.className = "notice";
    li.append(span("time", time(n.ts)), span("text", n.text));
    append(li);
  });

  socket.on("members", (m) => {
    // Only members of our current room reach us.
    $("room-name").textContent = m.room;
    const list = $("members");
    list.replaceChildren(
      ...m.members.map((nick) => {
        const li = document.createElement("li");
        li.textContent = nick;
        return li;
      })
    );
  });

  socket.on("rooms", (rooms) => {
    const select = $("rooms");
    const chosen = select.value || state.room;
    select.replaceChildren(
      ...rooms.map((r) => {
        const o = document.createElement("option");
        o.value = r.name;
        o.textContent = r.name + " (" + r.members + ")";
        return o;
      })
    );
    if (rooms.some((r) => r.name === chosen)) select.value = chosen;
  });

  // --- typing notices --------------------------------------------------------
  function showTypers() {
    const nicks = [...typers.keys()];
    $("typing").textContent =
      nicks.length === 0
        ? ""
        : nicks.length === 1
          ? nicks[0] + " is typing…"
          : nicks.slice(0, -1).join(", ") + " and " + nicks[nicks.length - 1] + " are typing…";
  }
  function forgetTyper(nick) {
    clearTimeout(typers.get(nick));
    if (typers.delete(nick)) showTypers();
  }
  socket.on("typing", ({ nick }) => {
    clearTimeout(typers.get(nick));
    // A lost stop-typing must not leave the line up forever.
    typers.set(nick, setTimeout(() => forgetTyper(nick), 6000));
    showTypers();
  });
  socket.on("stop-typing", ({ nick }) => forgetTyper(nick));

  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (state.typing) {
      state.typing = false;
      socket.emit("stop-typing");
    }
  }
  $("message").addEventListener("input", () => {
    if (!$("message").value) return stopTyping();
    if (!state.typing) {
      state.typing = true;
      socket.emit("typing");
    }
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 2000);
  });

  // --- actions -----------------------------------------------------------------
  function enterRoom(room) {
    state.room = room;
    $("room-name").textContent = room;
    $("rooms").value = room;
    $("leave-button").disabled = room === "lobby";
  }

  function setNick(nick, then) {
    socket.emit("set-nick", nick, (answer) => {
      if (answer.error) {
        $("nick-error").textContent = answer.error;
        return;
      }
      $("nick-error").textContent = "";
      state.nick = answer.nick;
      $("me").textContent = answer.nick;
      $("nick").value = answer.nick;
      for (const id of ["message", "send-button", "join-button"]) $(id).disabled = false;
      $("message").placeholder = "say something";
      enterRoom(answer.room);
      if (then) then();
    });
  }

  function joinRoom(room) {
    socket.emit("join-room", room, (answer) => {
      if (answer.error) {
        $("room-error").textContent = answer.error;
        return;
      }
      $("room-error").textContent = "";
      $("new-room").value = "";
      enterRoom(answer.room);
    });
  }

  $("nick-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setNick($("nick").value);
  });

  $("room-form").addEventListener("submit", (e) => {
    e.preventDefault();
    joinRoom($("new-room").value.trim() || $("rooms").value);
  });

  $("leave-button").addEventListener("click", () => {
    socket.emit("leave-room", (answer) => {
      if (answer.error) {
        $("room-error").textContent = answer.error;
        return;
      }
      $("room-error").textContent = "";
      enterRoom(answer.room);
    });
  });

  $("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("message");
    const text = input.value;
    if (!text.trim()) return;
    stopTyping();
    socket.emit("chat-message", text, (answer) => {
      $("send-error").textContent = answer.error || "";
    });
    input.value = "";
  });
})();
