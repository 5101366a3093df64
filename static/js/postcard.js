// Board posts in the browser: the card a post's message shows in a discussion
// (kept live by `post_updated` frames), the "Interesse" button, and new matches that
// appear live on the start page. The panel (panel.js) only calls renderPostCard and
// updatePostCard; the card's data is the message's `post` (docs/board.md).

import { api } from "./api.js";

const STATUS_LABELS = { open: "Offen", filled: "Vergeben", withdrawn: "Zurückgezogen", expired: "Abgelaufen" };
const CATEGORY_LABELS = { freight: "Fracht & Laderaum", apprenticeship: "Ausbildungsplatz", other: "Sonstiges" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function localPath(value) {
  const text = String(value || "");
  return text.startsWith("/") && !text.startsWith("//") ? text : "";
}

function todayInBerlin() {
  // YYYY-MM-DD of today in Europe/Berlin ("sv" formats dates that way).
  return new Intl.DateTimeFormat("sv", { timeZone: "Europe/Berlin" }).format(new Date());
}

/** The status a person should see: an open post past its last day is expired. */
export function shownStatus(post) {
  if (post.status === "open" && post.expires_on && post.expires_on < todayInBerlin()) return "expired";
  return post.status || "open";
}

function buildCard(post, me, offerInterest) {
  const status = shownStatus(post);
  const card = el("div", `post-card post-${post.category} post-status-${status}`);
  card.dataset.postId = String(post.id);
  const head = el("div", "post-card-head");
  head.append(
    el("span", `pill post-kind post-kind-${post.kind}`, post.kind_label || (post.kind === "offer" ? "Angebot" : "Gesuch")),
    el("span", "pill post-category", CATEGORY_LABELS[post.category] || post.category),
    el("span", "pill post-status", STATUS_LABELS[status] || status),
  );
  const title = el("a", "post-card-title", post.title || "");
  title.href = localPath(post.url) || `/brett/${encodeURIComponent(post.id)}/`;
  card.append(head, title);
  if (post.summary) card.append(el("p", "post-summary", post.summary));
  if (post.excerpt) card.append(el("p", "post-excerpt", post.excerpt));
  if (offerInterest && status === "open" && Number(post.author_id) !== me.id) card.append(interestButton(post));
  return card;
}

function interestButton(post) {
  const row = el("div", "button-row");
  const button = el("button", "button button-small post-interest", "Interesse");
  button.type = "button";
  const error = el("span", "field-error");
  error.setAttribute("role", "alert");
  button.addEventListener("click", async () => {
    button.disabled = true;
    error.textContent = "";
    try {
      const reply = await api(`/posts/${encodeURIComponent(post.id)}/contact`, { method: "POST", body: {} });
      window.location.assign(localPath(reply?.url) || "/nachrichten/");
    } catch (failure) {
      error.textContent = failure.message || "Das hat nicht geklappt. Bitte erneut versuchen.";
      button.disabled = false;
    }
  });
  row.append(button, error);
  return row;
}

/** Show (or refresh) the card of the message in `node`; a message without `post` has none. */
export function renderPostCard(node, data, me) {
  node.querySelector(".post-card")?.remove();
  node.classList.toggle("has-post", Boolean(data.post));
  const body = node.querySelector(".chat-body");
  // The post's own message says in text what the card shows: the card replaces it.
  // A message that refers to a post ("Interesse") keeps its text above the card.
  const own = Boolean(data.post) && String(data.client_id || "").startsWith("board-post:");
  if (body) body.hidden = own && !data.deleted && !data.deleted_at;
  if (!data.post || data.deleted || data.deleted_at) return;
  // "Interesse" on the post itself; a message that refers to it is that contact already.
  body?.after(buildCard(data.post, me, own));
}

/** A `post_updated` frame: the post was filled, withdrawn or expired. */
export function updatePostCard(panel, frame) {
  const known = panel.messages.get(Number(frame.seq)) || panel.findById(frame.message);
  if (!known || !frame.post) return;
  known.data.post = frame.post;
  renderPostCard(known.node, known.data, panel.me);
}

/** New matches appear at the top of the start page's list as they come in. */
export function watchMatches(connection, notifier) {
  connection.on("notification", (frame) => {
    if (frame.kind !== "match") return;
    const post = frame.data?.post || {};
    const url = localPath(frame.data?.url) || `/brett/${encodeURIComponent(post.id)}/`;
    const list = document.getElementById("board-matches");
    if (list) {
      const item = el("li", "post-item is-new");
      item.dataset.postId = String(post.id);
      const link = el("a", "post-item-link");
      link.href = url;
      const head = el("span", "post-item-head");
      head.append(el("span", "pill pill-accent", "Neu"), el("span", "item-title item-title-wrap", post.title || ""));
      link.append(head);
      if (post.summary) link.append(el("span", "post-summary", post.summary));
      link.append(el("span", "item-sub", `${post.author?.display_name || ""} · ${post.group?.name || ""}`));
      item.append(link);
      list.prepend(item);
      list.closest("section")?.querySelector(".empty")?.remove();
    }
    const matched = frame.data?.matched || {};
    const about = matched.type === "search" ? `zu Ihrer Suche „${matched.name || ""}“` : `zu „${matched.title || ""}“`;
    notifier?.show({ title: `Passender Eintrag ${about}`, text: post.title || "", url, link: "Ansehen" });
  });
}
