// Replies in the live panel (docs/replies-reactions.md): "Antworten" on a message puts
// its quote above the composer (cancelable: the × button or Escape), the next send
// carries `reply_to`, and every reply shows its quote above its text. Clicking a quote
// jumps to the original, loading older history until it is there, and highlights it.

const EXCERPT_CHARS = 140;
const HIGHLIGHT_MS = 2500;
const MAX_PAGES = 200;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The start of a text on one line, at most 140 characters (as the server cuts it). */
export function excerpt(body) {
  const flat = String(body || "").split(/\s+/).filter(Boolean).join(" ");
  const chars = Array.from(flat);
  return chars.length <= EXCERPT_CHARS ? flat : `${chars.slice(0, EXCERPT_CHARS - 1).join("")}…`;
}

function quoteText(reply) {
  return reply.excerpt ? reply.excerpt : "Diese Nachricht wurde gelöscht.";
}

export class Replies {
  constructor(panel) {
    this.panel = panel;
    this.target = null; // {id, seq, author: {id, display_name}, excerpt}
    this.bar = null;
  }

  /** The composer's quote bar, shown while a reply is being written. */
  attachComposer(form, input) {
    this.input = input;
    this.bar = el("div", "chat-reply-bar");
    this.bar.hidden = true;
    this.bar.setAttribute("role", "status");
    this.barText = el("div", "chat-reply-bar-text");
    const cancel = el("button", "chat-reply-cancel", "×");
    cancel.type = "button";
    cancel.setAttribute("aria-label", "Antwort abbrechen");
    cancel.title = "Antwort abbrechen";
    cancel.addEventListener("click", () => {
      this.cancel();
      this.input.focus();
    });
    this.bar.append(this.barText, cancel);
    form.prepend(this.bar);
  }

  /** The "Antworten" button of a message (people who may write only). */
  actionButton(data) {
    const button = el("button", "chat-action chat-action-reply", "Antworten");
    button.type = "button";
    button.setAttribute("aria-label", `Auf die Nachricht von ${data.author?.display_name || "Unbekannt"} antworten`);
    button.addEventListener("click", () => this.start(data.id));
    return button;
  }

  start(messageId) {
    const entry = this.panel.findById(messageId);
    if (!entry || !this.bar) return;
    const data = entry.data;
    this.panel.closeMenus();
    this.target = {
      id: data.id,
      seq: data.seq,
      author: { id: data.author?.id ?? null, display_name: data.author?.display_name || "Unbekannt" },
      excerpt: excerpt(data.body),
    };
    this.barText.replaceChildren(
      el("span", "chat-reply-bar-label", `Antwort an ${this.target.author.display_name}`),
      el("span", "chat-reply-bar-excerpt", this.target.excerpt),
    );
    this.bar.hidden = false;
    this.input.focus();
  }

  /** Drop the reply being written; true when there was one (Escape is then used up). */
  cancel() {
    if (!this.target) return false;
    this.target = null;
    if (this.bar) this.bar.hidden = true;
    return true;
  }

  /** The reply for the message being sent now (and forget it for the next one). */
  take() {
    const target = this.target;
    this.cancel();
    return target;
  }

  /** Show the quote of a reply above its text (or nothing for other messages). */
  decorate(node, data) {
    node.querySelector(".chat-quote")?.remove();
    const reply = data.reply_to;
    if (!reply || typeof reply !== "object") return;
    const name = reply.author?.display_name || "Unbekannt";
    const quote = el("button", "chat-quote");
    quote.type = "button";
    quote.dataset.replyId = String(reply.id);
    quote.dataset.replySeq = String(reply.seq);
    quote.setAttribute("aria-label", `Antwort auf ${name}: ${quoteText(reply)}. Zur ursprünglichen Nachricht springen`);
    quote.append(el("span", "chat-quote-author", name), el("span", "chat-quote-text", quoteText(reply)));
    if (!reply.excerpt) quote.classList.add("is-deleted");
    quote.addEventListener("click", () => this.jumpTo(Number(reply.seq)));
    node.querySelector(".chat-body").before(quote);
  }

  /** An original was edited or deleted: the quotes of its replies follow. */
  onChanged(frame, deleted) {
    for (const entry of this.panel.messages.values()) {
      const reply = entry.data.reply_to;
      if (!reply || reply.id !== frame.id) continue;
      reply.excerpt = deleted ? "" : excerpt(frame.body);
      this.decorate(entry.node, entry.data);
    }
  }

  /** Scroll to the message with this seq, loading older pages until it is there. */
  async jumpTo(seq) {
    const panel = this.panel;
    for (let pages = 0; !panel.messages.has(seq) && pages < MAX_PAGES; pages += 1) {
      if (!panel.hasOlder || (panel.oldestSeq !== null && panel.oldestSeq <= seq)) break;
      if (panel.loadingOlder) await new Promise((resolve) => setTimeout(resolve, 100));
      else await panel.loadOlder();
    }
    const entry = panel.messages.get(seq);
    if (!entry) {
      panel.notifier?.alert("Die ursprüngliche Nachricht ist nicht mehr verfügbar.");
      return;
    }
    const node = entry.node;
    node.scrollIntoView({ block: "center" });
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
    node.classList.remove("is-highlighted");
    void node.offsetWidth; // restart the highlight when jumping twice
    node.classList.add("is-highlighted");
    clearTimeout(node.highlightTimer);
    node.highlightTimer = setTimeout(() => node.classList.remove("is-highlighted"), HIGHLIGHT_MS);
  }
}
