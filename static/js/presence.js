// Online dots (PROTOCOL.md 1.1, "Presence"; docs/presence.md). Every element with
// `data-presence-user="ID"` on the page is a dot; the tab subscribes to exactly those
// people (at most 500), again after each reconnect and when dots come or go. A dot stays
// hidden until the server sends that person's state: people the viewer may not see
// (no shared group or conversation, presence switched off) never get one.

const MAX_USERS = 500;
const RESUBSCRIBE_AFTER_MS = 300;
const berlin = new Intl.DateTimeFormat("de-DE", {
  timeZone: "Europe/Berlin",
  day: "numeric",
  month: "numeric",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});

export function presenceText(frame) {
  if (frame.online) return "online";
  if (!frame.last_seen) return "offline";
  return `zuletzt online ${berlin.format(new Date(frame.last_seen))} Uhr`;
}

function render(dot, frame) {
  if (frame.hidden) {
    // Switched off: no dot, as on a page loaded now (docs/presence.md).
    dot.hidden = true;
    dot.classList.remove("is-online");
    delete dot.dataset.online;
    dot.title = "";
    return;
  }
  const text = presenceText(frame);
  dot.hidden = false;
  dot.classList.toggle("is-online", Boolean(frame.online));
  dot.dataset.online = frame.online ? "true" : "false";
  dot.title = text;
  let label = dot.querySelector(".visually-hidden");
  if (!label) {
    label = document.createElement("span");
    label.className = "visually-hidden";
    dot.append(label);
  }
  label.textContent = text;
}

function shownIds() {
  const ids = [];
  for (const dot of document.querySelectorAll("[data-presence-user]")) {
    const id = Number(dot.dataset.presenceUser);
    if (Number.isInteger(id) && id > 0 && !ids.includes(id)) ids.push(id);
    if (ids.length >= MAX_USERS) break;
  }
  return ids;
}

export function watchPresence(connection) {
  const states = new Map();
  let subscribed = "";
  let timer = null;

  const subscribe = (force) => {
    const ids = shownIds();
    const key = ids.join(",");
    if (!force && key === subscribed) return;
    if (!ids.length && !subscribed) return;
    if (connection.send({ type: "presence_subscribe", users: ids })) subscribed = key;
  };

  connection.on("hello", () => subscribe(true));
  connection.on("presence", (frame) => {
    if (frame.hidden) states.delete(frame.user);
    else states.set(frame.user, frame);
    for (const dot of document.querySelectorAll(`[data-presence-user="${frame.user}"]`)) render(dot, frame);
  });
  // Dots added later (a member who joined, a page part loaded) get the state known so
  // far at once and join the subscription shortly after.
  new MutationObserver(() => {
    for (const dot of document.querySelectorAll("[data-presence-user][hidden]")) {
      const known = states.get(Number(dot.dataset.presenceUser));
      if (known) render(dot, known);
    }
    clearTimeout(timer);
    timer = setTimeout(() => subscribe(false), RESUBSCRIBE_AFTER_MS);
  }).observe(document.body, { childList: true, subtree: true });
}
