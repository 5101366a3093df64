// One WebSocket per tab to /ws/v1/ (docs/protocol.md): hello, reconnect with exponential
// back-off and full jitter (docs/protocol.md, "Reconnecting": a handshake a busy server
// refuses with 503 + Retry-After looks like any failed connection to a browser, so the
// back-off alone spreads a reconnect storm), ping keep-alive, and frames routed to
// their conversation.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30000;
const PING_EVERY_MS = 25000;
const PONG_TIMEOUT_MS = 10000;
// A short blip is not worth a banner: the state shows only when it lasts.
const SHOW_STATE_AFTER_MS = 1200;
const CLOSE_SIGNED_OUT = 4001;

export class Connection {
  constructor({ url, stateElement }) {
    this.url = url;
    this.stateElement = stateElement;
    this.ws = null;
    this.signedOut = false;
    this.ready = false;
    this.attempt = 0;
    this.hello = null;
    this.conversations = new Map(); // conversation id -> handler (a ChatPanel)
    this.listeners = new Map(); // frame type -> [callbacks]
    this.refOwners = new Map(); // ref -> handler, for errors that carry only a ref
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.stateTimer = null;
    this.everConnected = false;

    window.addEventListener("online", () => this.reconnectSoon());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectSoon();
    });
    window.addEventListener("pagehide", () => this.dispose());
    window.addEventListener("pageshow", (event) => {
      // Restored from the back/forward cache: the old socket is gone, start again.
      if (!event.persisted) return;
      this.disposed = false;
      this.connect();
    });
  }

  on(type, callback) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(callback);
  }

  emit(type, frame) {
    for (const callback of this.listeners.get(type) || []) callback(frame);
  }

  register(handler) {
    this.conversations.set(handler.conversationId, handler);
    if (this.ready) handler.onReady(this.hello);
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.onClosed(null);
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    ws.addEventListener("close", (event) => this.onClosed(ws, event.code));
    ws.addEventListener("error", () => {
      // "close" follows; nothing else to do here.
    });
  }

  /** Send a frame if the socket is up and greeted; false when it is not. */
  send(frame, owner = null) {
    if (!this.ready || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    if (owner && frame.ref) this.refOwners.set(frame.ref, owner);
    try {
      this.ws.send(JSON.stringify(frame));
    } catch {
      return false;
    }
    return true;
  }

  receive(frame) {
    this.armPongTimeout(false);
    if (!frame || typeof frame.type !== "string") return;
    switch (frame.type) {
      case "hello":
        this.onHello(frame);
        return;
      case "pong":
        return;
      case "notification":
        this.emit("notification", frame);
        return;
      case "error": {
        const owner = frame.ref ? this.refOwners.get(frame.ref) : null;
        if (frame.ref) this.refOwners.delete(frame.ref);
        // A subscription the server dropped (removed from a closed group) names it.
        const dropped = !owner && frame.conversation ? this.conversations.get(Number(frame.conversation)) : null;
        if (owner) owner.onError(frame);
        else if (dropped) dropped.onAccessLost(frame);
        else this.emit("error", frame);
        return;
      }
      default: {
        if (frame.ref) this.refOwners.delete(frame.ref);
        const handler = this.conversations.get(Number(frame.conversation));
        if (handler) handler.onFrame(frame);
        this.emit(frame.type, frame);
      }
    }
  }

  onHello(frame) {
    this.hello = frame;
    this.ready = true;
    this.attempt = 0;
    this.everConnected = true;
    this.signedOut = false;
    this.setState(null);
    this.startPing();
    this.emit("hello", frame);
    for (const handler of this.conversations.values()) handler.onReady(frame);
  }

  onClosed(ws, code = null) {
    if (ws !== null && ws !== this.ws) return;
    // 4001: this session or token ended (signed out elsewhere, password changed,
    // account deleted). Say so; a reconnect that succeeds clears it.
    if (code === CLOSE_SIGNED_OUT) this.signedOut = true;
    const wasReady = this.ready;
    this.ready = false;
    this.ws = null;
    this.stopPing();
    this.refOwners.clear();
    if (wasReady) {
      for (const handler of this.conversations.values()) handler.onDisconnected();
    }
    if (this.disposed) return;
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    if (this.reconnectTimer) return;
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    // Full jitter: many tabs cut by one server restart do not come back in lockstep.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
    if (!this.stateTimer) {
      this.stateTimer = setTimeout(() => {
        this.stateTimer = null;
        if (!this.ready) {
          this.setState(
            this.signedOut
              ? "Sie wurden abgemeldet. Bitte melden Sie sich erneut an."
              : "Verbindung wird wiederhergestellt…",
          );
        }
      }, SHOW_STATE_AFTER_MS);
    }
  }

  /** Come back at once (network back, tab visible again) instead of waiting out the back-off. */
  reconnectSoon() {
    if (this.ready || this.disposed || this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.connect();
  }

  startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (this.send({ type: "ping" })) this.armPongTimeout(true);
    }, PING_EVERY_MS);
  }

  stopPing() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }

  /** Any frame proves the connection alive; a ping unanswered for 10 s drops it. */
  armPongTimeout(arm) {
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (!arm) return;
    this.pongTimer = setTimeout(() => {
      const dead = this.ws;
      if (dead) {
        try {
          dead.close(4000, "keine Antwort");
        } catch {
          // already closing
        }
      }
      this.onClosed(dead);
    }, PONG_TIMEOUT_MS);
  }

  setState(text) {
    clearTimeout(this.stateTimer);
    this.stateTimer = null;
    if (!this.stateElement) return;
    this.stateElement.textContent = text || "";
    this.stateElement.hidden = !text;
    document.body.classList.toggle("is-offline", Boolean(text));
  }

  dispose() {
    this.disposed = true;
    clearTimeout(this.reconnectTimer);
    this.stopPing();
    if (this.ws) this.ws.close(1000);
  }
}
