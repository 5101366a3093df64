// Live unread counts on list pages (inbox, start page): each listed conversation is
// subscribed live-only (no backlog) and counts messages from others as they arrive.

const MAX_WATCHED = 100;

class WatchedConversation {
  constructor(conversationId, items, connection, me) {
    this.conversationId = conversationId;
    this.items = items;
    this.connection = connection;
    this.me = me;
    this.seen = new Set();
  }

  onReady() {
    this.connection.send({ type: "subscribe", conversation: this.conversationId }, this);
  }

  onDisconnected() {
    for (const item of this.items) item.dataset.live = "false";
  }

  onAccessLost() {}

  onError() {}

  onFrame(frame) {
    if (frame.type === "subscribed") {
      for (const item of this.items) item.dataset.live = "true";
      return;
    }
    if (frame.type === "read") {
      this.setCount(0);
      return;
    }
    if (frame.type !== "message" || Number(frame.author?.id) === this.me.id) return;
    if (this.seen.has(frame.seq)) return;
    this.seen.add(frame.seq);
    this.setCount(this.count() + 1);
    for (const item of this.items) {
      const list = item.closest("ul, ol");
      const row = item.closest("li");
      if (list && row && list.dataset.liveOrder === "activity") list.prepend(row);
    }
  }

  count() {
    return Number(this.items[0]?.dataset.unread || 0);
  }

  setCount(count) {
    for (const item of this.items) {
      item.dataset.unread = String(count);
      item.classList.toggle("is-unread", count > 0);
      let badge = item.querySelector(".badge");
      if (!badge && count > 0) {
        badge = document.createElement("span");
        badge.className = "badge";
        item.append(badge);
      }
      if (!badge) continue;
      badge.textContent = String(count);
      badge.setAttribute("aria-label", `${count} ungelesen`);
      badge.hidden = count === 0;
    }
  }
}

export function watchUnread(connection, me, skip) {
  const byConversation = new Map();
  for (const item of document.querySelectorAll("[data-live-unread]")) {
    const id = Number(item.dataset.liveUnread);
    if (!id || skip.has(id)) continue;
    if (!byConversation.has(id)) byConversation.set(id, []);
    byConversation.get(id).push(item);
  }
  for (const [id, items] of Array.from(byConversation).slice(0, MAX_WATCHED)) {
    connection.register(new WatchedConversation(id, items, connection, me));
  }
}
