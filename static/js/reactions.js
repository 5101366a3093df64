// Reactions in the live panel (docs/replies-reactions.md): a small picker on each
// message (a button opens it; arrow keys, Home/End and Tab move, Enter picks, Escape
// closes), the counts as chips under the text with the names on hover, a click on a
// chip toggles my own. Live for everyone through `reaction` frames.
//
// State per message id: emoji -> {count, mine, users: Map(id -> name)}. History and
// backlog items are per viewer (`mine` is mine); `reaction` frames are shared by all,
// so `mine` is derived from their `user.id`. Frames apply idempotently (a person
// already counted is not counted twice), so the `ack` of my own reaction and its
// broadcast frame may arrive in either order. After a reconnect the loaded messages'
// reactions are fetched again over HTTP (a backlog replays only new messages).

import { api } from "./api.js";

// The documented set, in exactly these code points (chat/reactions.py).
export const EMOJI = [
  ["\u{1F44D}", "Daumen hoch"],
  ["\u2764\uFE0F", "Herz"],
  ["\u{1F604}", "Lachen"],
  ["\u{1F389}", "Feiern"],
  ["\u{1F440}", "Gesehen"],
  ["\u{1F64F}", "Danke"],
  ["\u2705", "Erledigt"],
  ["\u{1F44F}", "Applaus"],
];
const NAMES = new Map(EMOJI);
const RESYNC_PAGE = 200;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function nameList(names) {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} und ${names.at(-1)}`;
}

export class Reactions {
  constructor(panel) {
    this.panel = panel;
    this.state = new Map(); // message id -> Map(emoji -> {count, mine, users})
    this.subscriptions = 0;
    this.openPicker = null;
    document.addEventListener("click", (event) => {
      if (this.openPicker && !event.target.closest(".chat-picker, .chat-action-react")) this.closePicker(false);
    });
  }

  /** Replace a message's reactions with a per-viewer list (history, backlog, ack). */
  load(messageId, list) {
    const emojis = new Map();
    for (const item of Array.isArray(list) ? list : []) {
      if (!item || !NAMES.has(item.emoji) || !(item.count > 0)) continue;
      const users = new Map();
      for (const user of item.users || []) users.set(Number(user.id), user.display_name || "Unbekannt");
      emojis.set(item.emoji, { count: Number(item.count), mine: Boolean(item.mine), users });
    }
    this.state.set(messageId, emojis);
  }

  /** Chips under the text of a message, plus state from its data the first time. */
  decorate(node, data, deleted) {
    node.querySelector(".chat-reactions")?.remove();
    if (data.id === undefined || typeof data.seq !== "number") return;
    if (deleted) {
      this.state.delete(data.id);
      return;
    }
    // Frames shared by all (message_edited) carry `mine` false: known state wins.
    if (!this.state.has(data.id)) this.load(data.id, data.reactions);
    const emojis = this.state.get(data.id);
    if (!emojis.size) return;
    const row = el("div", "chat-reactions");
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Reaktionen");
    // In the order of each emoji's first reaction (docs/replies-reactions.md): the
    // server's lists come in that order and a new emoji from a frame joins at the end.
    for (const [emoji, entry] of emojis) {
      if (!NAMES.has(emoji) || entry.count < 1) continue;
      const names = Array.from(entry.users.values());
      const others = entry.count - names.length;
      let who = nameList(names);
      if (others > 0) who = names.length ? `${names.join(", ")} und ${others} weitere` : `${others} Personen`;
      const chip = el("button", "chat-reaction");
      chip.type = "button";
      chip.dataset.emoji = emoji;
      chip.title = `${NAMES.get(emoji)}: ${who}`;
      chip.setAttribute("aria-pressed", String(entry.mine));
      chip.setAttribute(
        "aria-label",
        `${NAMES.get(emoji)}, ${entry.count}: ${who}. ${entry.mine ? "Meine Reaktion entfernen" : "Ebenfalls reagieren"}`,
      );
      chip.classList.toggle("is-mine", entry.mine);
      chip.append(el("span", "chat-reaction-emoji", emoji), el("span", "chat-reaction-count", String(entry.count)));
      chip.disabled = !this.panel.canWrite;
      chip.addEventListener("click", () => this.toggle(data.id, emoji));
      row.append(chip);
    }
    const body = node.querySelector(".chat-body");
    (node.querySelector(".chat-post-card") || body).after(row);
  }

  redraw(messageId) {
    const entry = this.panel.findById(messageId);
    if (entry) this.decorate(entry.node, entry.data, Boolean(entry.data.deleted || entry.data.deleted_at));
  }

  toggle(messageId, emoji) {
    const mine = Boolean(this.state.get(messageId)?.get(emoji)?.mine);
    this.panel.sendOrAlert({ type: "react", message: messageId, emoji, on: !mine, ref: `react:${messageId}:${emoji}` });
  }

  /** A `reaction` frame: someone (maybe me, in another tab) set or removed one. */
  onFrame(frame) {
    const messageId = frame.message;
    if (!this.state.has(messageId)) {
      if (!this.panel.findById(messageId)) return; // not loaded: history brings it
      this.state.set(messageId, new Map());
    }
    const emojis = this.state.get(messageId);
    const userId = Number(frame.user?.id);
    const isMe = userId === this.panel.me.id;
    let entry = emojis.get(frame.emoji);
    if (frame.on) {
      if (!entry) {
        entry = { count: 0, mine: false, users: new Map() };
        emojis.set(frame.emoji, entry);
      }
      const counted = entry.users.has(userId) || (isMe && entry.mine);
      if (!counted) entry.count += 1;
      entry.users.set(userId, frame.user?.display_name || "Unbekannt");
      if (isMe) entry.mine = true;
    } else if (entry) {
      const counted = entry.users.has(userId) || (isMe && entry.mine) || entry.count > entry.users.size;
      if (counted) entry.count -= 1;
      entry.users.delete(userId);
      if (isMe) entry.mine = false;
      if (entry.count < 1) emojis.delete(frame.emoji);
    }
    this.redraw(messageId);
  }

  /** The answer to my own `react`: the message's reactions as I see them. */
  onAck(frame) {
    this.load(frame.message, frame.reactions);
    this.redraw(frame.message);
  }

  /** After a reconnect: what changed on loaded messages meanwhile, fetched again. */
  async onSubscribed() {
    this.subscriptions += 1;
    if (this.subscriptions === 1 || this.panel.oldestSeq === null) return;
    let after = this.panel.oldestSeq - 1;
    try {
      for (let pages = 0; pages < 50; pages += 1) {
        const page = await api(`/conversations/${this.panel.conversationId}/messages?after=${after}&limit=${RESYNC_PAGE}`);
        const results = page?.results || [];
        for (const item of results) {
          if (!this.panel.findById(item.id)) continue;
          this.load(item.id, item.reactions);
          this.redraw(item.id);
        }
        if (results.length < RESYNC_PAGE) break;
        after = results.at(-1).seq;
      }
    } catch {
      // The next reconnect tries again.
    }
  }

  // ---- the picker ----

  /** The "Reagieren" button of a message: opens the picker below it. */
  actionButton(data) {
    const button = el("button", "chat-action chat-action-react", "☺+");
    button.type = "button";
    button.setAttribute("aria-label", "Reaktion hinzufügen");
    button.setAttribute("aria-haspopup", "true");
    button.setAttribute("aria-expanded", "false");
    button.title = "Reaktion hinzufügen";
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.openPicker?.opener === button) this.closePicker(true);
      else this.showPicker(button, data.id);
    });
    return button;
  }

  showPicker(opener, messageId) {
    this.closePicker(false);
    this.panel.closeMenus(); // on touch screens the "⋯" menu gives way to the picker
    const picker = el("div", "chat-picker");
    picker.setAttribute("role", "toolbar");
    picker.setAttribute("aria-label", "Reaktion wählen");
    picker.id = `reaktionen-${this.panel.conversationId}-${messageId}`;
    const mine = this.state.get(messageId) || new Map();
    const buttons = EMOJI.map(([emoji, name]) => {
      const button = el("button", "chat-picker-emoji", emoji);
      button.type = "button";
      const set = Boolean(mine.get(emoji)?.mine);
      button.setAttribute("aria-label", set ? `${name} (entfernen)` : name);
      button.setAttribute("aria-pressed", String(set));
      button.title = name;
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        this.toggle(messageId, emoji);
        this.closePicker(true);
      });
      return button;
    });
    picker.append(...buttons);
    picker.addEventListener("keydown", (event) => {
      const index = buttons.indexOf(document.activeElement);
      let next = null;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") next = (index + 1) % buttons.length;
      else if (event.key === "ArrowLeft" || event.key === "ArrowUp") next = (index - 1 + buttons.length) % buttons.length;
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = buttons.length - 1;
      else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.closePicker(true);
        return;
      }
      if (next !== null) {
        event.preventDefault();
        buttons[next].focus();
      }
    });
    picker.addEventListener("focusout", (event) => {
      if (this.openPicker?.picker === picker && !picker.contains(event.relatedTarget) && event.relatedTarget !== opener) {
        this.closePicker(false);
      }
    });
    opener.setAttribute("aria-expanded", "true");
    opener.setAttribute("aria-controls", picker.id);
    opener.closest(".chat-message").classList.add("is-picking");
    opener.closest(".chat-content").append(picker);
    this.openPicker = { picker, opener };
    buttons[0].focus();
  }

  closePicker(focusOpener) {
    const open = this.openPicker;
    if (!open) return;
    this.openPicker = null;
    open.picker.remove();
    open.opener.setAttribute("aria-expanded", "false");
    open.opener.closest(".chat-message")?.classList.remove("is-picking");
    if (focusOpener && open.opener.isConnected) open.opener.focus();
  }
}
