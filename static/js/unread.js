// Unread counts outside the open conversation: the "Nachrichten" badge in the
// navigation (unread direct messages), list pages (inbox, start page) and their
// heading totals.
//
// The state is kept per conversation as two seqs, `last` (newest message known) and
// `read` (my marker); unread = last - read (own messages move my marker, as on the
// server). Every `hello` (so every reconnect) carries both for each conversation and
// replaces what was counted, so nothing that arrived while the socket was down is
// missed. Between hellos, `message` frames of subscribed conversations, `read` frames
// (my other tabs) and `direct_message` notifications (a conversation that did not
// exist at hello time) move them.

const MAX_WATCHED = 100;

class Watcher {
  constructor(conversationId, tracker) {
    this.conversationId = conversationId;
    this.tracker = tracker;
  }

  onReady(hello) {
    // The connection greets every handler after each hello; one registered while that
    // hello is handled would otherwise subscribe twice.
    if (hello && hello === this.greeted) return;
    this.greeted = hello;
    // `after` = what the latest hello (or notification) said: the backlog brings
    // exactly what came since, counted by seq, so nothing is counted twice.
    const state = this.tracker.state(this.conversationId);
    const frame = { type: "subscribe", conversation: this.conversationId };
    if (state.last > 0) frame.after = state.last;
    this.tracker.connection.send(frame, this);
  }

  onDisconnected() {
    this.live = false;
    this.tracker.setLive(this.conversationId, false);
    document.body.dataset.unread = "stale";
  }

  onAccessLost() {}

  onError() {}

  onFrame(frame) {
    if (frame.type !== "subscribed") return;
    // From here on messages are live ones, not the catch-up backlog.
    this.live = true;
    this.tracker.setLive(this.conversationId, true);
  }
}

export class UnreadTracker {
  constructor(connection, me, panelConversations) {
    this.connection = connection;
    this.me = me;
    this.panels = panelConversations; // conversations a panel on this page owns
    this.conversations = new Map(); // id -> {last, read, kind, title}
    this.watched = new Map(); // id -> Watcher
    this.toast = () => {};
    this.navBadge = document.getElementById("messages-badge");
    this.onChange = () => {};
    // What the server rendered is the truth until the first hello.
    for (const item of document.querySelectorAll("[data-live-unread]")) {
      const id = Number(item.dataset.liveUnread);
      if (!id) continue;
      const state = this.state(id);
      if (item.dataset.kind) state.kind = item.dataset.kind;
      state.rendered = Number(item.dataset.unread || 0);
    }
    connection.on("hello", (frame) => this.onHello(frame));
    connection.on("message", (frame) => this.onMessage(frame));
    connection.on("read", (frame) => this.onRead(frame));
    connection.on("notification", (frame) => this.onNotification(frame));
  }

  state(id) {
    if (!this.conversations.has(id)) {
      this.conversations.set(id, { last: 0, read: 0, kind: "", title: "", rendered: null });
    }
    return this.conversations.get(id);
  }

  unread(id) {
    const state = this.state(id);
    if (state.rendered !== null) return state.rendered;
    return Math.max(0, state.last - state.read);
  }

  onHello(frame) {
    for (const c of frame.conversations || []) {
      const id = Number(c.id);
      if (!id) continue;
      const state = this.state(id);
      state.last = Math.max(0, Number(c.last_seq) || 0);
      state.read = Math.max(0, Number(c.last_read_seq) || 0);
      state.kind = c.kind || state.kind;
      state.title = c.title || state.title;
      state.rendered = null;
    }
    // Direct conversations are watched on every page (the navigation badge), listed
    // ones on the page that lists them.
    const wanted = new Set();
    for (const item of document.querySelectorAll("[data-live-unread]")) wanted.add(Number(item.dataset.liveUnread));
    for (const [id, state] of this.conversations) if (state.kind === "direct") wanted.add(id);
    for (const id of wanted) this.watch(id);
    this.render();
    // The counts are now the server's (tests and styles may wait for it).
    document.body.dataset.unread = "live";
  }

  watch(id) {
    if (!id || this.panels.has(id) || this.watched.has(id) || this.watched.size >= MAX_WATCHED) return;
    const watcher = new Watcher(id, this);
    this.watched.set(id, watcher);
    this.connection.register(watcher);
  }

  onMessage(frame) {
    const id = Number(frame.conversation);
    const seq = Number(frame.seq) || 0;
    if (!id || !seq) return;
    const state = this.state(id);
    state.rendered = null;
    const wasUnread = this.unread(id);
    state.last = Math.max(state.last, seq);
    if (Number(frame.author?.id) === this.me.id) state.read = Math.max(state.read, seq);
    if (this.unread(id) > wasUnread) this.moveToTop(id);
    this.render();
    // Every live direct message toasts (as in Slack), not only the first of an unread
    // stretch, which is all the `direct_message` notification marks.
    if (state.kind === "direct" && this.isLive(id) && Number(frame.author?.id) !== this.me.id) {
      this.toast({
        title: `Neue Nachricht von ${frame.author?.display_name || "einer Person"}`,
        text: String(frame.body || "").slice(0, 140),
        url: `/nachrichten/${id}/`,
        link: "Öffnen",
      });
    }
  }

  /** Watched here and subscribed: its messages arrive live (and toast). */
  isLive(id) {
    return Boolean(this.watched.get(id)?.live);
  }

  onRead(frame) {
    const id = Number(frame.conversation);
    if (!id) return;
    const state = this.state(id);
    state.rendered = null;
    state.read = Math.max(state.read, Number(frame.seq) || 0);
    state.last = Math.max(state.last, state.read);
    this.render();
  }

  onNotification(frame) {
    if (frame.kind !== "direct_message") return;
    const data = frame.data || {};
    const id = Number(data.conversation_id ?? data.conversation);
    const seq = Number(data.seq) || 0;
    if (!id || !seq) return;
    const state = this.state(id);
    state.rendered = null;
    state.kind = "direct";
    if (!state.title) state.title = data.author?.display_name || "";
    // A conversation opened after the hello: count from the notified message on.
    if (state.last === 0 && state.read === 0) state.read = seq - 1;
    state.last = Math.max(state.last, seq);
    this.ensureListed(id, state);
    this.watch(id);
    this.moveToTop(id);
    this.render();
  }

  setLive(id, live) {
    for (const item of document.querySelectorAll(`[data-live-unread="${id}"]`)) item.dataset.live = String(live);
  }

  /** A new direct conversation appears on lists of direct conversations (start page). */
  ensureListed(id, state) {
    for (const list of document.querySelectorAll("[data-live-list='direct']")) {
      if (list.querySelector(`[data-live-unread="${id}"]`)) continue;
      list.hidden = false;
      list.closest("section")?.querySelector("[data-live-empty]")?.remove();
      const row = document.createElement("li");
      const link = document.createElement("a");
      link.className = "item";
      link.href = `/nachrichten/${id}/`;
      link.dataset.liveUnread = String(id);
      link.dataset.kind = "direct";
      link.dataset.unread = "0";
      const avatar = document.createElement("span");
      avatar.className = "avatar";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = (state.title || "?").slice(0, 1);
      const main = document.createElement("span");
      main.className = "item-main";
      const title = document.createElement("span");
      title.className = "item-title";
      title.textContent = state.title || "Direktnachricht";
      main.append(title);
      link.append(avatar, main);
      row.append(link);
      list.prepend(row);
    }
  }

  moveToTop(id) {
    for (const item of document.querySelectorAll(`[data-live-unread="${id}"]`)) {
      const list = item.closest("ul, ol");
      const row = item.closest("li");
      if (list && row && list.dataset.liveOrder === "activity") list.prepend(row);
    }
  }

  render() {
    for (const item of document.querySelectorAll("[data-live-unread]")) {
      const id = Number(item.dataset.liveUnread);
      if (this.panels.has(id)) continue;
      setBadge(item, this.unread(id), { append: true });
      item.dataset.unread = String(this.unread(id));
      item.classList.toggle("is-unread", this.unread(id) > 0);
    }
    for (const total of document.querySelectorAll("[data-live-unread-total]")) {
      const scope = total.dataset.liveUnreadTotal;
      let sum = 0;
      const counted = new Set();
      for (const item of document.querySelectorAll("[data-live-unread]")) {
        const id = Number(item.dataset.liveUnread);
        if (counted.has(id)) continue;
        if (scope === "direct" && item.dataset.kind !== "direct") continue;
        counted.add(id);
        sum += Number(item.dataset.unread || 0);
      }
      setBadge(total, sum);
    }
    if (this.navBadge) {
      let direct = 0;
      for (const [id, state] of this.conversations) {
        if (state.kind === "direct" && !this.panels.has(id)) direct += this.unread(id);
      }
      setBadge(this.navBadge, direct);
    }
    this.onChange();
  }

  /** Unread direct messages outside the open panel (for the "Menü" sign). */
  directUnread() {
    return Number(this.navBadge?.dataset.count || 0);
  }
}

/** Show `count` in the item's `.badge` (created when needed); hidden at 0. */
function setBadge(host, count, { append = false } = {}) {
  let badge = host.classList.contains("badge") ? host : host.querySelector(":scope > .badge");
  if (!badge && count > 0 && append) {
    badge = document.createElement("span");
    badge.className = "badge";
    host.append(badge);
  }
  if (!badge) return;
  badge.dataset.count = String(count);
  const number = badge.querySelector(".badge-count") || badge;
  number.textContent = count > 99 ? "99+" : String(count);
  if (badge.classList.contains("badge") && !badge.querySelector(".visually-hidden")) {
    badge.setAttribute("aria-label", `${count} ungelesen`);
  }
  badge.hidden = count === 0;
}
