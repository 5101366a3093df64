// Search in the browser (docs/search.md): a search box in each chat panel (the hits of
// that conversation with the hit marked; choosing one shows the message in place,
// loading older history as needed, and highlights it) and the jump to a message when
// the page was opened from a hit of the global search (`?nachricht=<seq>`).
// The hits arrive as plain-text segments: they become text nodes, never HTML.

import { api } from "./api.js";
import { formatFull, parseDate } from "./format.js";

const MAX_OLDER_PAGES = 400;
let panelsWithSearch = 0;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The highlight segments as nodes: hits in <mark>, everything as text. */
export function highlightNodes(segments, fallback) {
  const fragment = document.createDocumentFragment();
  const parts = Array.isArray(segments) && segments.length ? segments : [{ text: fallback || "", hit: false }];
  for (const part of parts) {
    const text = typeof part?.text === "string" ? part.text : "";
    fragment.append(part?.hit ? el("mark", null, text) : document.createTextNode(text));
  }
  return fragment;
}

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Show message `seq` of the panel's conversation: load older pages until it is
 * there, scroll the log (not the page) to it, highlight and focus it. */
export async function showMessage(panel, seq) {
  if (!panel.historyLoaded) {
    await new Promise((resolve) => panel.root.addEventListener("chat:loaded", resolve, { once: true }));
  }
  for (let page = 0; page < MAX_OLDER_PAGES && !panel.messages.has(seq); page += 1) {
    if (panel.loadingOlder) {
      await wait(50);
      continue;
    }
    if (!panel.hasOlder || panel.oldestSeq === null || panel.oldestSeq <= seq) break;
    const before = panel.oldestSeq;
    await panel.loadOlder();
    if (panel.oldestSeq === before && !panel.loadingOlder) break; // the page failed
  }
  const entry = panel.messages.get(seq);
  if (!entry) {
    panel.setHistoryState("Diese Nachricht ist nicht (mehr) sichtbar.");
    return false;
  }
  for (const old of panel.log.querySelectorAll(".is-search-hit")) old.classList.remove("is-search-hit");
  const node = entry.node;
  node.classList.add("is-search-hit");
  node.tabIndex = -1;
  panel.scroller.scrollTop = Math.max(0, node.offsetTop - panel.scroller.clientHeight / 3);
  node.focus({ preventScroll: true });
  return true;
}

/** The search box of one chat panel, and the jump from a global hit. */
export function attachSearch(panel) {
  const root = panel.root;
  if (root.querySelector(".chat-search")) return;
  panelsWithSearch += 1;
  const id = `chat-search-${panel.conversationId}-${panelsWithSearch}`;
  let header = root.querySelector(".chat-panel-header");
  if (!header) {
    header = el("div", "chat-panel-header");
    root.prepend(header);
  }
  const toggle = el("button", "button button-small button-quiet chat-search-toggle", "Suchen");
  toggle.type = "button";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", id);
  toggle.setAttribute("aria-label", "In dieser Unterhaltung suchen");
  header.append(toggle);

  const box = el("div", "chat-search");
  box.id = id;
  box.hidden = true;
  const form = el("form", "chat-search-form");
  form.setAttribute("role", "search");
  form.setAttribute("aria-label", "In dieser Unterhaltung suchen");
  const label = el("label", "visually-hidden", "Suchbegriff");
  label.htmlFor = `${id}-q`;
  const input = el("input");
  input.id = `${id}-q`;
  input.type = "search";
  input.name = "q";
  input.maxLength = 200;
  input.placeholder = "In dieser Unterhaltung suchen";
  input.autocomplete = "off";
  const submit = el("button", "button button-small", "Suchen");
  submit.type = "submit";
  const close = el("button", "button button-small button-quiet", "Schließen");
  close.type = "button";
  form.append(label, input, submit, close);
  const status = el("p", "chat-search-status");
  status.setAttribute("role", "status");
  status.setAttribute("aria-live", "polite");
  const list = el("ol", "chat-search-results");
  list.setAttribute("aria-label", "Treffer");
  list.id = `${id}-results`;
  const more = el("button", "button button-small button-quiet chat-search-more", "Weitere Treffer");
  more.type = "button";
  more.hidden = true;
  // After a jump the hits fold away so the log gets the panel back; these two bring
  // them back or step to the next hit without retyping the query.
  const after = el("div", "chat-search-after");
  after.hidden = true;
  const showHits = el("button", "button button-small button-quiet chat-search-show", "Treffer anzeigen");
  showHits.type = "button";
  showHits.setAttribute("aria-expanded", "true");
  showHits.setAttribute("aria-controls", list.id);
  const nextHit = el("button", "button button-small button-quiet chat-search-next", "Nächster Treffer");
  nextHit.type = "button";
  after.append(showHits, nextHit);
  box.append(form, status, after, list, more);
  header.after(box);

  let query = "";
  let next = null;
  let current = -1; // the index in `list` of the hit last jumped to

  const expandHits = () => {
    list.hidden = false;
    more.hidden = !next;
    after.hidden = current < 0;
    showHits.setAttribute("aria-expanded", "true");
    showHits.textContent = "Treffer ausblenden";
  };
  const collapseHits = () => {
    list.hidden = true;
    more.hidden = true;
    after.hidden = false;
    showHits.setAttribute("aria-expanded", "false");
    showHits.textContent = `Treffer anzeigen (${list.children.length}${next ? "+" : ""})`;
    nextHit.disabled = current + 1 >= list.children.length && !next;
  };
  const jumpTo = async (index) => {
    const button = list.children[index]?.querySelector("button");
    if (!button) return;
    current = index;
    for (const old of list.querySelectorAll("[aria-current]")) old.removeAttribute("aria-current");
    button.setAttribute("aria-current", "true");
    collapseHits();
    status.textContent = "Nachricht wird gesucht…";
    const shown = await showMessage(panel, Number(button.dataset.seq));
    status.textContent = shown
      ? `Treffer ${index + 1} von ${list.children.length}${next ? "+" : ""}. Die Nachricht ist im Verlauf markiert.`
      : "Diese Nachricht ist nicht (mehr) sichtbar.";
  };

  const open = () => {
    box.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    input.focus();
  };
  const shut = () => {
    box.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  };
  toggle.addEventListener("click", () => (box.hidden ? open() : shut()));
  close.addEventListener("click", shut);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      shut();
    }
  });

  const renderHit = (hit) => {
    const item = el("li", "chat-search-hit");
    const button = el("button", "chat-search-hit-button");
    button.type = "button";
    const when = parseDate(hit.created_at);
    const head = el("span", "chat-search-hit-head");
    head.textContent = `${hit.author?.display_name || "Ehemaliges Mitglied"} · ${when ? formatFull(when) : ""}`;
    const text = el("span", "chat-search-hit-text");
    text.append(highlightNodes(hit.highlight, hit.body));
    button.dataset.seq = String(Number(hit.seq));
    button.append(head, text);
    button.addEventListener("click", () => jumpTo([...list.children].indexOf(item)));
    item.append(button);
    return item;
  };

  const load = async (cursor) => {
    const params = new URLSearchParams({ q: query, conversation: String(panel.conversationId) });
    if (cursor) params.set("cursor", cursor);
    status.textContent = "Suche läuft…";
    more.hidden = true;
    let page;
    try {
      page = await api(`/search?${params}`);
    } catch (error) {
      status.textContent = error?.message || "Die Suche ist gerade nicht möglich. Bitte später erneut versuchen.";
      return;
    }
    const results = page?.results || [];
    for (const hit of results) list.append(renderHit(hit));
    next = page?.next || null;
    more.hidden = !next || list.hidden;
    const count = list.children.length;
    status.textContent = count
      ? `${count} Treffer${next ? " (weitere vorhanden)" : ""}`
      : `Keine Treffer für „${query}“.`;
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (!value) {
      status.textContent = "Bitte einen Suchbegriff eingeben.";
      input.focus();
      return;
    }
    query = value;
    list.replaceChildren();
    next = null;
    current = -1;
    expandHits();
    load(null);
  });
  more.addEventListener("click", () => {
    if (next) load(next);
  });
  showHits.addEventListener("click", () => (list.hidden ? expandHits() : collapseHits()));
  nextHit.addEventListener("click", async () => {
    if (current + 1 >= list.children.length && next) await load(next);
    if (current + 1 < list.children.length) await jumpTo(current + 1);
  });

  // Opened from a hit of the global search: /nachrichten/<id>/?nachricht=<seq>.
  const wanted = Number(new URLSearchParams(location.search).get("nachricht"));
  if (root.id === "chat-panel" && Number.isInteger(wanted) && wanted > 0) showMessage(panel, wanted);
}
