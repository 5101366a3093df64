// The live discussion panel of one conversation: history, live messages by seq
// (deduped, gaps filled), optimistic sends, typing, edit/delete, mentions, read markers.

import { api } from "./api.js";
import { AttachmentComposer, renderAttachments } from "./attachments.js";
import { avatarNode, dayKey, dayLabel, formatFull, formatTime, parseDate, uuid } from "./format.js";
import { MentionAutocomplete } from "./mentions.js";
import { formattingHint, handleFormattingKey, lastLine, renderBody } from "./markdown.js";
import { reportButton } from "./report.js";
import { renderPostCard, updatePostCard } from "./postcard.js";
import { Reactions } from "./reactions.js";
import { Replies } from "./replies.js";

const PAGE_SIZE = 50;
const GAP_PAGE_SIZE = 200;
const MAX_ATTEMPTS = 3;
const ACK_TIMEOUT_MS = 10000;
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_SHOW_MS = 5000;
const GAP_WAIT_MS = 300;
const CONTINUATION_MS = 5 * 60 * 1000;
const MAX_CHARS = 4000;
const DELETED_TEXT = "Diese Nachricht wurde gelöscht.";
const HIDDEN_TEXT = "Diese Nachricht wurde von der Moderation ausgeblendet.";
const EMPTY_TEXT = "Noch keine Nachrichten. Schreiben Sie die erste!";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class ChatPanel {
  constructor(root, connection, me, notifier) {
    this.root = root;
    this.connection = connection;
    this.me = me;
    this.notifier = notifier;
    this.conversationId = Number(root.dataset.conversationId);
    this.canWrite = root.dataset.canWrite === "true";
    this.canModerate = root.dataset.canModerate === "true";
    this.messages = new Map(); // seq -> {data, node}
    this.seqs = []; // sorted seqs of rendered messages
    this.pending = new Map(); // client_id -> {body, node, attempts, state, timer}
    this.lastSeq = 0; // everything up to here is known (contiguous)
    this.highestSeen = 0;
    this.oldestSeq = null;
    this.hasOlder = true;
    this.loadingOlder = false;
    this.historyLoaded = false;
    this.lastReadSeq = null; // server-side marker, from hello or the panel's data
    this.readSent = 0;
    this.dividerSeq = null; // messages after this seq were unread when the page opened
    this.gapTimer = null;
    this.filling = false;
    this.typers = new Map();
    this.lastTypingSent = 0;
    this.subscribed = false;
    if (root.dataset.lastReadSeq) this.lastReadSeq = Number(root.dataset.lastReadSeq);

    this.root.dataset.state = "connecting";
    this.replies = new Replies(this);
    this.reactions = new Reactions(this);
    this.build();
    this.observer = new IntersectionObserver((entries) => this.onVisible(entries), {
      root: this.scroller,
      threshold: 0.6,
    });
    document.addEventListener("visibilitychange", () => this.flushRead());
    connection.register(this);
    this.loadInitial();
  }

  // ---- DOM ----

  build() {
    const root = this.root;
    root.classList.add("chat-panel");
    if (!root.hasAttribute("aria-label") && !root.hasAttribute("aria-labelledby")) {
      root.setAttribute("aria-label", root.dataset.title || "Diskussion");
    }
    this.scroller = root.querySelector(".chat-scroll");
    if (!this.scroller) {
      const header = el("div", "chat-panel-header");
      header.append(el("h2", null, root.dataset.title || "Diskussion"));
      this.scroller = el("div", "chat-scroll");
      this.scroller.append(el("div", "chat-history-state"), el("ol", "chat-log"));
      root.append(header, this.scroller, el("div", "chat-typing"));
      if (this.canWrite) root.append(this.buildComposer());
      else root.append(el("p", "chat-readonly", "Treten Sie der Gruppe bei, um mitzuschreiben."));
    }
    this.scroller.setAttribute("role", "log");
    this.scroller.setAttribute("aria-label", "Nachrichten");
    this.scroller.tabIndex = 0;
    this.historyState = root.querySelector(".chat-history-state");
    this.log = root.querySelector(".chat-log");
    this.typingLine = root.querySelector(".chat-typing");
    this.typingLine.setAttribute("aria-live", "polite");
    this.form = root.querySelector(".chat-composer");
    this.jumpButton = el("button", "button button-small jump-latest", "Neue Nachrichten ↓");
    this.jumpButton.type = "button";
    this.jumpButton.hidden = true;
    this.jumpButton.addEventListener("click", () => {
      this.scrollToBottom();
      this.jumpButton.hidden = true;
    });
    this.scroller.append(this.jumpButton);
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.log.addEventListener("click", (event) => {
      if (!event.target.closest(".chat-actions, .chat-more")) this.closeMenus();
    });
    if (this.form) this.wireComposer();
  }

  buildComposer() {
    const form = el("form", "chat-composer");
    const id = `chat-input-${this.conversationId}`;
    const label = el("label", "visually-hidden", "Nachricht schreiben");
    label.htmlFor = id;
    const row = el("div", "chat-composer-row");
    const input = el("textarea");
    input.id = id;
    input.name = "body";
    input.rows = 1;
    input.placeholder = "Nachricht schreiben…";
    input.maxLength = MAX_CHARS;
    // On a phone the word hides behind an arrow (CSS), so the text box gets the row;
    // the button's name stays "Senden".
    const button = el("button", "button chat-send");
    const arrow = el("span", "chat-icon chat-icon-send");
    arrow.setAttribute("aria-hidden", "true");
    button.append(arrow, el("span", "chat-send-label", "Senden"));
    button.type = "submit";
    row.append(input, button);
    form.append(label, row, el("p", "chat-hint", "Enter sendet, Umschalt+Enter beginnt eine neue Zeile, @ erwähnt jemanden."));
    return form;
  }

  wireComposer() {
    this.input = this.form.querySelector("textarea");
    this.composerError = el("p", "field-error");
    this.composerError.setAttribute("role", "alert");
    this.composerError.hidden = true;
    this.form.append(this.composerError);
    this.mentions = new MentionAutocomplete(this.input, this.form, this.root, this.me);
    this.replies.attachComposer(this.form, this.input);
    this.form.querySelector(".chat-hint")?.after(formattingHint());
    this.attachments = new AttachmentComposer(this);
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (this.mentions.handleKey(event)) return;
      if (event.key === "Escape" && this.replies.cancel()) return;
      if (handleFormattingKey(event, this.input)) return;
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.autoGrow();
      this.composerError.hidden = true;
      this.mentions.update();
      const now = Date.now();
      if (this.input.value.trim() && now - this.lastTypingSent >= TYPING_SEND_EVERY_MS) {
        if (this.connection.send({ type: "typing", conversation: this.conversationId })) {
          this.lastTypingSent = now;
        }
      }
    });
  }

  autoGrow() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 160)}px`;
  }

  isAtBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 48;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  setHistoryState(text) {
    this.historyState.textContent = text;
  }

  // ---- loading ----

  async loadInitial() {
    this.setHistoryState("Nachrichten werden geladen…");
    let page;
    try {
      page = await api(`/conversations/${this.conversationId}/messages?limit=${PAGE_SIZE}`);
    } catch (error) {
      this.setHistoryState(
        error.status === 403 || error.status === 404
          ? "Sie haben keinen Zugriff auf diese Unterhaltung."
          : "Die Nachrichten konnten nicht geladen werden. Bitte laden Sie die Seite neu.",
      );
      return;
    }
    const results = page?.results || [];
    this.hasOlder = results.length >= PAGE_SIZE && results[0]?.seq > 1;
    this.render(results);
    for (const message of results) this.lastSeq = Math.max(this.lastSeq, message.seq);
    this.advance();
    this.historyLoaded = true;
    this.setHistoryState(this.hasOlder ? "" : results.length ? "Anfang der Unterhaltung" : EMPTY_TEXT);
    this.placeDivider();
    const divider = this.log.querySelector(".chat-unread");
    // Scroll the log only, never the page around it.
    if (divider) this.scroller.scrollTop = divider.offsetTop - 8;
    else this.scrollToBottom();
    if (this.connection.ready) this.onReady(this.connection.hello);
    this.root.dispatchEvent(new CustomEvent("chat:loaded")); // search.js waits for it
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasOlder || this.oldestSeq === null) return;
    this.loadingOlder = true;
    this.scroller.setAttribute("aria-busy", "true");
    this.setHistoryState("Ältere Nachrichten werden geladen…");
    try {
      const page = await api(
        `/conversations/${this.conversationId}/messages?before=${this.oldestSeq}&limit=${PAGE_SIZE}`,
      );
      const results = page?.results || [];
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      this.render(results);
      this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
      this.hasOlder = results.length >= PAGE_SIZE && results[0]?.seq > 1;
      this.setHistoryState(this.hasOlder ? "" : "Anfang der Unterhaltung");
    } catch {
      this.setHistoryState("Ältere Nachrichten konnten nicht geladen werden.");
    } finally {
      this.loadingOlder = false;
      this.scroller.removeAttribute("aria-busy");
    }
  }

  onScroll() {
    if (this.isAtBottom()) this.jumpButton.hidden = true;
    if (this.scroller.scrollTop < 120) this.loadOlder();
  }

  // ---- the socket ----

  onReady(hello) {
    const known = hello?.conversations?.find((c) => Number(c.id) === this.conversationId);
    if (known && typeof known.last_read_seq === "number") {
      this.lastReadSeq = Math.max(this.lastReadSeq ?? 0, known.last_read_seq);
      this.placeDivider();
    }
    if (!this.historyLoaded || this.revoked) return; // loadInitial subscribes when done
    this.connection.send(
      { type: "subscribe", conversation: this.conversationId, after: this.lastSeq, ref: `sub:${this.conversationId}` },
      this,
    );
    this.resendPending();
  }

  onDisconnected() {
    this.subscribed = false;
    this.root.dataset.state = "connecting";
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      if (entry.state === "sending") this.attemptFailed(entry, false);
    }
  }

  onFrame(frame) {
    switch (frame.type) {
      case "message":
        this.onMessage(frame);
        break;
      case "ack":
        if (frame.emoji !== undefined) this.reactions.onAck(frame);
        else this.onAck(frame);
        break;
      case "reaction":
        this.reactions.onFrame(frame);
        break;
      case "subscribed":
        this.onSubscribed(frame);
        break;
      case "message_edited":
        this.onEdited(frame);
        break;
      case "message_deleted":
        this.onDeleted(frame);
        break;
      case "typing":
        this.onTyping(frame);
        break;
      case "post_updated":
        updatePostCard(this, frame);
        break;
      case "read":
        this.lastReadSeq = Math.max(this.lastReadSeq ?? 0, Number(frame.seq) || 0);
        this.readSent = Math.max(this.readSent, this.lastReadSeq);
        break;
      default:
        break;
    }
  }

  onError(frame) {
    const ref = String(frame.ref || "");
    const entry = this.pending.get(ref);
    if (entry) {
      clearTimeout(entry.timer);
      if (frame.code === "rate_limited" || frame.code === "unavailable") {
        const wait = Math.max(1, Number(frame.retry_after) || 1) * 1000;
        this.attemptFailed(entry, false, wait);
      } else {
        this.markFailed(entry, frame.detail || "Die Nachricht konnte nicht gesendet werden.");
      }
      return;
    }
    if (ref.startsWith("sub:")) {
      if (this.regaining) {
        // Not readable as a non-member either (a closed group, a direct conversation).
        this.revoke(this.regaining);
        return;
      }
      this.setHistoryState("Sie haben keinen Zugriff (mehr) auf diese Unterhaltung.");
      return;
    }
    if (this.notifier) this.notifier.alert(frame.detail || "Die Aktion ist fehlgeschlagen.");
  }

  /**
   * The server dropped the subscription: the person left or was removed, or the group
   * turned closed. An open group may still be read by anyone signed in (PROTOCOL.md,
   * "Identity and access"), so the panel subscribes once more and goes on as such a
   * reader; only when that is refused as well does it stop (docs/ui.md).
   */
  onAccessLost(frame) {
    this.subscribed = false;
    this.becomeReader();
    if (!this.regaining) {
      this.regaining = frame;
      const sent = this.connection.send(
        { type: "subscribe", conversation: this.conversationId, after: this.lastSeq, ref: `sub:${this.conversationId}` },
        this,
      );
      // Not sent: the socket is down, and its `hello` subscribes again (onReady).
      if (sent || !this.connection.ready) return;
    }
    this.revoke(frame);
  }

  /** No longer taking part: no composer, no replying, reacting or moderating. */
  becomeReader() {
    if (!this.canWrite && !this.canModerate) return;
    this.canWrite = false;
    this.canModerate = false;
    const notice = el("p", "chat-readonly", "Sie sind nicht mehr Mitglied dieser Gruppe und lesen nur mit.");
    notice.setAttribute("role", "status");
    if (this.form) this.form.replaceWith(notice);
    else this.root.append(notice);
    this.form = null;
    this.readerNotice = notice;
    for (const entry of this.messages.values()) {
      if (entry.node && entry.data) this.fillMessageNode(entry.node, entry.data);
    }
  }

  /** No more live messages, no composer. */
  revoke(frame) {
    this.regaining = null;
    this.revoked = true;
    this.subscribed = false;
    this.root.dataset.state = "revoked";
    const notice = el("p", "chat-readonly", frame.detail || "Kein Zugriff mehr auf diese Unterhaltung.");
    notice.setAttribute("role", "status");
    const existing = this.form || this.readerNotice || this.root.querySelector(":scope > .chat-readonly");
    if (existing) existing.replaceWith(notice);
    else this.root.append(notice);
    this.form = null;
    this.readerNotice = null;
  }

  onSubscribed(frame) {
    this.regaining = null;
    this.reactions.onSubscribed();
    this.subscribed = true;
    this.root.dataset.state = "live";
    const serverLast = Number(frame.last_seq) || 0;
    this.highestSeen = Math.max(this.highestSeen, serverLast);
    if (frame.truncated || serverLast > this.lastSeq) this.fillGap();
  }

  onMessage(frame) {
    const pendingEntry = frame.client_id ? this.pending.get(frame.client_id) : null;
    const wasAtBottom = this.isAtBottom();
    if (pendingEntry && frame.author && Number(frame.author.id) === this.me.id) {
      this.confirmPending(pendingEntry, frame.client_id, frame);
    } else {
      this.render([frame]);
    }
    this.clearTyper(frame.author?.id);
    this.advance();
    if (frame.seq > this.lastSeq) this.scheduleGapFill();
    if (wasAtBottom || (frame.author && Number(frame.author.id) === this.me.id)) this.scrollToBottom();
    else this.jumpButton.hidden = false;
  }

  onAck(frame) {
    const entry = this.pending.get(frame.client_id);
    if (!entry) return;
    const wasAtBottom = this.isAtBottom();
    this.confirmPending(entry, frame.client_id, {
      id: frame.id,
      seq: frame.seq,
      created_at: frame.created_at,
      body: entry.body,
      client_id: frame.client_id,
      author: { id: this.me.id, display_name: this.me.name, company: "" },
      reply_to: entry.replyTo || null,
      attachments: entry.files || [],
      provisional: true, // the broadcast "message" frame brings the full author
    });
    this.advance();
    if (frame.seq > this.lastSeq) this.scheduleGapFill();
    if (wasAtBottom) this.scrollToBottom();
    // Sending moves my own marker to my message (docs/protocol.md).
    this.readSent = Math.max(this.readSent, frame.seq);
    this.lastReadSeq = Math.max(this.lastReadSeq ?? 0, frame.seq);
  }

  onEdited(frame) {
    const known = this.messages.get(Number(frame.seq)) || this.findById(frame.id);
    if (!known) return;
    // body_html comes only with formatted text: an edit to plain text drops it.
    Object.assign(known.data, { body_html: undefined }, frame, { edited_at: frame.edited_at || new Date().toISOString() });
    this.fillMessageNode(known.node, known.data);
    this.replies.onChanged(frame, false);
  }

  onDeleted(frame) {
    const known = this.messages.get(Number(frame.seq)) || this.findById(frame.id);
    if (!known) return;
    known.data.deleted = true;
    known.data.hidden = Boolean(frame.hidden);
    known.data.body = "";
    known.data.body_html = "";
    this.fillMessageNode(known.node, known.data);
    this.replies.onChanged(frame, true);
  }

  findById(id) {
    for (const entry of this.messages.values()) if (entry.data.id === id) return entry;
    return null;
  }

  /** Move lastSeq over every contiguous seq we hold. */
  advance() {
    while (this.messages.has(this.lastSeq + 1)) this.lastSeq += 1;
    this.highestSeen = Math.max(this.highestSeen, this.seqs.at(-1) || 0);
  }

  scheduleGapFill() {
    // Live frames of concurrent senders may arrive out of order: wait a moment first.
    clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      if (this.highestSeen > this.lastSeq) this.fillGap();
    }, GAP_WAIT_MS);
  }

  async fillGap() {
    if (this.filling) return;
    this.filling = true;
    try {
      for (;;) {
        const page = await api(
          `/conversations/${this.conversationId}/messages?after=${this.lastSeq}&limit=${GAP_PAGE_SIZE}`,
        );
        const results = page?.results || [];
        const wasAtBottom = this.isAtBottom();
        this.render(results);
        for (const message of results) this.lastSeq = Math.max(this.lastSeq, message.seq);
        this.advance();
        if (wasAtBottom) this.scrollToBottom();
        if (results.length < GAP_PAGE_SIZE) {
          // The server has nothing more up to now: a seq still missing is not readable.
          this.lastSeq = Math.max(this.lastSeq, this.highestSeen);
          break;
        }
      }
    } catch {
      // The next reconnect or live frame tries again.
    } finally {
      this.filling = false;
    }
  }

  // ---- rendering ----

  render(list) {
    let changed = false;
    for (const data of list) {
      if (!data || typeof data.seq !== "number") continue;
      const known = this.messages.get(data.seq);
      if (known) {
        // Dedupe by seq: a replayed message only refreshes what changed.
        if (known.data.provisional || data.edited_at !== known.data.edited_at || data.deleted || data.deleted_at) {
          Object.assign(known.data, { body_html: undefined }, data, { provisional: false });
          this.fillMessageNode(known.node, known.data);
        }
        continue;
      }
      const node = this.createMessageNode(data);
      this.insertSorted(data.seq, node);
      this.messages.set(data.seq, { data, node });
      this.observer.observe(node);
      changed = true;
    }
    if (changed) {
      this.relayout();
      if (this.historyState.textContent === EMPTY_TEXT) this.setHistoryState("Anfang der Unterhaltung");
    }
  }

  insertSorted(seq, node) {
    let low = 0;
    let high = this.seqs.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.seqs[mid] < seq) low = mid + 1;
      else high = mid;
    }
    const next = low < this.seqs.length ? this.messages.get(this.seqs[low]).node : this.log.querySelector(".chat-message.is-pending, .chat-message.is-failed");
    this.seqs.splice(low, 0, seq);
    if (this.oldestSeq === null || seq < this.oldestSeq) this.oldestSeq = seq;
    this.log.insertBefore(node, next || null);
  }

  createMessageNode(data) {
    const node = el("li", "chat-message");
    const avatar = el("span", "avatar");
    avatar.setAttribute("aria-hidden", "true");
    const content = el("div", "chat-content");
    const meta = el("div", "chat-meta");
    const author = el("span", "chat-author");
    const company = el("span", "chat-company");
    const time = el("time", "chat-time");
    const status = el("span", "chat-status");
    meta.append(author, company, time, status);
    const body = el("div", "chat-body");
    content.append(meta, body);
    node.append(avatar, content);
    this.fillMessageNode(node, data);
    return node;
  }

  fillMessageNode(node, data) {
    const mine = Number(data.author?.id) === this.me.id;
    const name = data.author?.display_name || "Unbekannt";
    const deleted = Boolean(data.deleted || data.deleted_at);
    const created = parseDate(data.created_at);
    node.dataset.authorId = String(data.author?.id ?? "");
    node.dataset.time = String(created.getTime());
    if (typeof data.seq === "number") {
      node.dataset.seq = String(data.seq);
      node.id = `nachricht-${this.conversationId}-${data.seq}`;
    }
    if (data.id !== undefined) node.dataset.id = String(data.id);
    node.classList.toggle("is-mine", mine);
    node.classList.toggle("is-deleted", deleted);
    node.querySelector(".avatar").replaceWith(avatarNode(data.author?.avatar_url, name));
    node.querySelector(".chat-author").textContent = name;
    const company = data.author?.company || "";
    node.querySelector(".chat-company").textContent =
      company && data.author?.company_verified ? `${company} ✓ bestätigt` : company;
    const time = node.querySelector(".chat-time");
    time.dateTime = created.toISOString();
    time.textContent = formatTime(created);
    time.title = formatFull(created);
    const body = node.querySelector(".chat-body");
    if (deleted) {
      body.classList.remove("is-formatted");
      body.textContent = data.hidden ? HIDDEN_TEXT : DELETED_TEXT;
    } else {
      renderBody(body, data);
      if (data.edited_at) lastLine(body).append(el("span", "chat-edited", "(bearbeitet)"));
    }
    renderPostCard(node, data, this.me);
    this.replies.decorate(node, data);
    this.reactions.decorate(node, data, deleted);
    const text = String(data.body || "");
    const mentioned = !mine && !deleted && ((this.me.name && text.includes(`@${this.me.name}`)) || /(^|[^\w@])@alle(?!\w)/i.test(text));
    renderAttachments(node, data);
    node.classList.toggle("is-mention", Boolean(mentioned));
    node.querySelector(".chat-actions")?.remove();
    node.querySelector(".chat-more")?.remove();
    node.classList.remove("has-actions", "is-menu-open", "is-menu-up");
    const reportable = !mine;
    if (!deleted && typeof data.seq === "number" && (mine || this.canModerate || this.canWrite || reportable)) {
      node.querySelector(".chat-content").append(this.buildActions(data, mine));
      node.append(this.buildMenuButton(node));
      node.classList.add("has-actions");
    }
  }

  /** Touch screens (CSS shows it only there): one "⋯" per message opens its actions. */
  buildMenuButton(node) {
    const more = el("button", "chat-more", "⋯");
    more.type = "button";
    more.setAttribute("aria-label", "Aktionen für diese Nachricht");
    more.setAttribute("aria-expanded", "false");
    more.addEventListener("click", (event) => {
      event.stopPropagation();
      const open = !node.classList.contains("is-menu-open");
      for (const other of this.log.querySelectorAll(".chat-message.is-menu-open")) {
        other.classList.remove("is-menu-open", "is-menu-up");
        other.querySelector(".chat-more")?.setAttribute("aria-expanded", "false");
      }
      node.classList.toggle("is-menu-open", open);
      more.setAttribute("aria-expanded", String(open));
      if (open) {
        this.placeMenu(node);
        node.querySelector(".chat-actions .chat-action")?.focus({ preventScroll: true });
      }
    });
    return more;
  }

  /** The menu opens downward; where the log has no room for it below (the newest
   * messages), upward; where neither fits, the log scrolls it into view. */
  placeMenu(node) {
    node.classList.remove("is-menu-up");
    const menu = node.querySelector(".chat-actions");
    if (!menu) return;
    const log = this.scroller.getBoundingClientRect();
    const down = menu.getBoundingClientRect();
    if (down.bottom > log.bottom) {
      const button = node.querySelector(".chat-more").getBoundingClientRect();
      if (button.top - log.top >= down.height) node.classList.add("is-menu-up");
    }
    const placed = menu.getBoundingClientRect();
    if (placed.bottom > log.bottom || placed.top < log.top) menu.scrollIntoView({ block: "nearest" });
  }

  buildActions(data, mine) {
    const actions = el("div", "chat-actions");
    if (this.canWrite) actions.append(this.replies.actionButton(data), this.reactions.actionButton(data));
    if (mine && this.canWrite) {
      const edit = el("button", "chat-action", "Bearbeiten");
      edit.type = "button";
      edit.setAttribute("aria-label", "Nachricht bearbeiten");
      edit.addEventListener("click", () => this.startEdit(data.seq));
      actions.append(edit);
    }
    if (!mine) actions.append(reportButton(this, data));
    if (!mine && !this.canModerate) return actions;
    const remove = el("button", "chat-action", "Löschen");
    remove.type = "button";
    remove.setAttribute("aria-label", "Nachricht löschen");
    remove.addEventListener("click", () => this.confirmDelete(actions, data));
    actions.append(remove);
    return actions;
  }

  /** An inline "really?" instead of a blocking confirm() dialog. */
  confirmDelete(actions, data) {
    const previous = Array.from(actions.childNodes);
    const question = el("span", "chat-status", "Wirklich löschen?");
    const yes = el("button", "chat-action chat-action-danger", "Ja, löschen");
    yes.type = "button";
    const no = el("button", "chat-action", "Abbrechen");
    no.type = "button";
    actions.replaceChildren(question, yes, no);
    actions.classList.add("is-confirming");
    no.focus();
    no.addEventListener("click", () => {
      actions.classList.remove("is-confirming");
      actions.replaceChildren(...previous);
    });
    yes.addEventListener("click", () => {
      this.sendOrAlert({ type: "delete", message: data.id, ref: `delete:${data.id}` });
    });
  }

  closeMenus() {
    for (const node of this.log.querySelectorAll(".chat-message.is-menu-open")) {
      node.classList.remove("is-menu-open", "is-menu-up");
      node.querySelector(".chat-more")?.setAttribute("aria-expanded", "false");
    }
  }

  startEdit(seq) {
    this.closeMenus();
    const entry = this.messages.get(seq);
    if (!entry || entry.node.querySelector(".chat-edit-form")) return;
    const body = entry.node.querySelector(".chat-body");
    const form = el("form", "chat-edit-form");
    const label = el("label", "visually-hidden", "Neuer Text der Nachricht");
    const area = el("textarea");
    area.id = `bearbeiten-${this.conversationId}-${seq}`;
    label.htmlFor = area.id;
    area.value = entry.data.body || "";
    area.maxLength = MAX_CHARS;
    const row = el("div", "button-row");
    const save = el("button", "button button-small", "Speichern");
    save.type = "submit";
    const cancel = el("button", "button button-quiet button-small", "Abbrechen");
    cancel.type = "button";
    row.append(save, cancel);
    form.append(label, area, row);
    body.hidden = true;
    body.after(form);
    area.focus();
    const close = () => {
      form.remove();
      body.hidden = false;
    };
    cancel.addEventListener("click", close);
    area.addEventListener("keydown", (event) => {
      if (event.key === "Escape") close();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      if (text !== entry.data.body) {
        this.sendOrAlert({ type: "edit", message: entry.data.id, body: text, ref: `edit:${entry.data.id}` });
      }
      close();
    });
  }

  sendOrAlert(frame) {
    if (!this.connection.send(frame, this)) {
      this.notifier?.alert("Keine Verbindung. Bitte versuchen Sie es gleich noch einmal.");
    }
  }

  /** Day separators, the unread divider and continuation rows, recomputed in one walk. */
  relayout() {
    for (const node of this.log.querySelectorAll(".chat-day, .chat-unread")) node.remove();
    let previousDay = null;
    let previousAuthor = null;
    let previousTime = 0;
    let dividerPlaced = false;
    const now = new Date();
    for (const node of Array.from(this.log.children)) {
      const time = Number(node.dataset.time);
      const date = new Date(time);
      const day = dayKey(date);
      let separated = false;
      if (day !== previousDay) {
        const separator = el("li", "chat-day", dayLabel(date, now));
        separator.setAttribute("role", "separator");
        node.before(separator);
        previousDay = day;
        separated = true;
      }
      const seq = Number(node.dataset.seq);
      if (!dividerPlaced && this.dividerSeq !== null && seq > this.dividerSeq && node.dataset.authorId !== String(this.me.id)) {
        const divider = el("li", "chat-unread", "Neu");
        divider.setAttribute("role", "separator");
        divider.setAttribute("aria-label", "Neue Nachrichten");
        node.before(divider);
        dividerPlaced = true;
        separated = true;
      }
      const continuation = !separated && node.dataset.authorId === previousAuthor && time - previousTime < CONTINUATION_MS && !node.classList.contains("is-pending") && !node.classList.contains("is-failed");
      node.classList.toggle("is-continuation", continuation);
      previousAuthor = node.dataset.authorId;
      previousTime = time;
    }
  }

  /** Fix the "Neu" divider once: at the first message after my marker when the page opened. */
  placeDivider() {
    if (this.dividerSeq !== null || this.lastReadSeq === null || !this.historyLoaded) return;
    const firstUnread = this.seqs.find((seq) => seq > this.lastReadSeq && this.messages.get(seq).node.dataset.authorId !== String(this.me.id));
    if (firstUnread === undefined) {
      this.dividerSeq = Infinity; // nothing unread: no divider this visit
      return;
    }
    this.dividerSeq = this.lastReadSeq;
    this.relayout();
  }

  // ---- read markers ----

  onVisible(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const seq = Number(entry.target.dataset.seq);
      if (seq > (this.visibleMax || 0)) this.visibleMax = seq;
    }
    this.flushRead();
  }

  flushRead() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => {
      if (document.visibilityState !== "visible") return;
      const seq = this.visibleMax || 0;
      if (seq <= this.readSent || seq <= (this.lastReadSeq ?? 0)) return;
      if (this.connection.send({ type: "read", conversation: this.conversationId, seq })) {
        this.readSent = seq;
        this.lastReadSeq = seq;
      }
    }, 400);
  }

  // ---- typing ----

  onTyping(frame) {
    const user = frame.user && typeof frame.user === "object" ? frame.user : { id: frame.user, display_name: frame.display_name };
    if (Number(user.id) === this.me.id) return;
    const key = String(user.id);
    clearTimeout(this.typers.get(key)?.timer);
    const timer = setTimeout(() => this.clearTyper(user.id), TYPING_SHOW_MS);
    this.typers.set(key, { name: user.display_name || "Jemand", timer });
    this.showTypers();
  }

  clearTyper(userId) {
    const key = String(userId);
    const typer = this.typers.get(key);
    if (!typer) return;
    clearTimeout(typer.timer);
    this.typers.delete(key);
    this.showTypers();
  }

  showTypers() {
    const names = Array.from(this.typers.values(), (t) => t.name);
    let text = "";
    if (names.length === 1) text = `${names[0]} schreibt…`;
    else if (names.length === 2) text = `${names[0]} und ${names[1]} schreiben…`;
    else if (names.length > 2) text = "Mehrere Personen schreiben…";
    this.typingLine.textContent = text;
  }

  // ---- optimistic sending ----

  submit() {
    const body = this.input.value.trim();
    if (this.attachments?.busy()) {
      this.composerError.textContent = "Bitte warten, bis alle Dateien hochgeladen sind.";
      this.composerError.hidden = false;
      return;
    }
    if (!body && !this.attachments?.items.some((item) => item.state === "ready")) return;
    if (body.length > MAX_CHARS) {
      this.composerError.textContent = `Die Nachricht ist zu lang (höchstens ${MAX_CHARS.toLocaleString("de-DE")} Zeichen).`;
      this.composerError.hidden = false;
      return;
    }
    const files = this.attachments ? this.attachments.take() : [];
    const clientId = uuid();
    const replyTo = this.replies.take();
    const node = this.createMessageNode({
      body,
      client_id: clientId,
      created_at: new Date().toISOString(),
      author: { id: this.me.id, display_name: this.me.name, company: "" },
      reply_to: replyTo,
      attachments: files,
    });
    node.dataset.clientId = clientId;
    node.classList.add("is-pending");
    this.log.append(node);
    const entry = { clientId, body, files, node, attempts: 0, state: "queued", timer: null, replyTo };
    this.pending.set(clientId, entry);
    this.setPendingStatus(entry, "Wird gesendet…");
    this.input.value = "";
    this.autoGrow();
    this.mentions.close();
    this.relayout();
    this.scrollToBottom();
    this.trySend(entry);
  }

  trySend(entry) {
    if (entry.state === "failed") return;
    entry.attempts += 1;
    const frame = { type: "send", conversation: this.conversationId, body: entry.body, client_id: entry.clientId, ref: entry.clientId };
    if (entry.replyTo) frame.reply_to = entry.replyTo.id;
    if (entry.files?.length) frame.attachments = entry.files.map((file) => file.id);
    const sent = this.connection.send(frame, this);
    if (!sent) {
      entry.attempts -= 1;
      entry.state = "queued";
      this.setPendingStatus(entry, "Wartet auf Verbindung…");
      return;
    }
    entry.state = "sending";
    this.setPendingStatus(entry, "Wird gesendet…");
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.attemptFailed(entry, true), ACK_TIMEOUT_MS);
  }

  /** One attempt went unanswered or was refused for now: retry, or give up after three. */
  attemptFailed(entry, retryNow, waitMs = 0) {
    clearTimeout(entry.timer);
    if (entry.attempts >= MAX_ATTEMPTS) {
      this.markFailed(entry, "Die Nachricht konnte nicht gesendet werden.");
      return;
    }
    entry.state = "queued";
    this.setPendingStatus(entry, "Wartet auf Verbindung…");
    if (waitMs) entry.timer = setTimeout(() => this.trySend(entry), waitMs);
    else if (retryNow) this.trySend(entry);
  }

  resendPending() {
    // The same client_id again: the server answers a repeat with the same ack.
    for (const entry of this.pending.values()) {
      if (entry.state === "queued") this.trySend(entry);
    }
  }

  markFailed(entry, detail) {
    clearTimeout(entry.timer);
    entry.state = "failed";
    entry.node.classList.remove("is-pending");
    entry.node.classList.add("is-failed");
    const status = entry.node.querySelector(".chat-status");
    status.textContent = `Nicht gesendet: ${detail}`;
    const retry = el("button", "chat-action", "Erneut senden");
    retry.type = "button";
    retry.addEventListener("click", () => {
      entry.attempts = 0;
      entry.state = "queued";
      entry.node.classList.remove("is-failed");
      entry.node.classList.add("is-pending");
      retry.remove();
      this.trySend(entry);
    });
    status.after(retry);
  }

  setPendingStatus(entry, text) {
    entry.node.querySelector(".chat-status").textContent = text;
  }

  confirmPending(entry, clientId, data) {
    clearTimeout(entry.timer);
    this.pending.delete(clientId);
    entry.node.classList.remove("is-pending", "is-failed");
    entry.node.querySelector(".chat-status").textContent = "";
    entry.node.querySelector(".chat-status + .chat-action")?.remove();
    if (this.messages.has(data.seq)) {
      entry.node.remove();
      this.relayout();
      return;
    }
    entry.node.remove();
    this.fillMessageNode(entry.node, data);
    this.insertSorted(data.seq, entry.node);
    this.messages.set(data.seq, { data, node: entry.node });
    this.observer.observe(entry.node);
    this.relayout();
    if (this.historyState.textContent === EMPTY_TEXT) this.setHistoryState("Anfang der Unterhaltung");
  }
}
