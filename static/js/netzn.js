// netzn's browser client: one socket per tab, live panels, badge and toasts.
// Plain ES modules, no build step; loaded only for signed-in people.

import { Connection } from "./connection.js";
import { watchMembers } from "./members.js";
import { Notifier } from "./notify.js";
import { ChatPanel } from "./panel.js";
import { watchMatches } from "./postcard.js";
import { watchUnread } from "./unread.js";

function start() {
  const me = { id: Number(document.body.dataset.userId), name: document.body.dataset.userName || "" };
  if (!me.id) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const connection = new Connection({
    url: `${scheme}//${location.host}/ws/v1/`,
    stateElement: document.getElementById("connection-state"),
  });
  const panels = [];
  const notifier = new Notifier({
    badge: document.getElementById("notification-badge"),
    container: document.getElementById("toasts"),
    openConversations: () => new Set(panels.map((panel) => panel.conversationId)),
  });
  connection.on("notification", (frame) => notifier.handle(frame));
  connection.on("notifications_read", (frame) => {
    if (typeof frame.unread_count === "number") notifier.setCount(frame.unread_count);
  });
  connection.on("error", (frame) => {
    if (frame.code === "rate_limited") notifier.alert("Zu viele Nachrichten auf einmal. Bitte kurz warten.");
  });
  for (const root of document.querySelectorAll("#chat-panel, [data-chat-panel]")) {
    if (Number(root.dataset.conversationId)) panels.push(new ChatPanel(root, connection, me, notifier));
  }
  watchUnread(connection, me, new Set(panels.map((panel) => panel.conversationId)));
  watchMembers(connection, me);
  watchMatches(connection, notifier);
  notifier.loadCountIfUnknown();
  connection.connect();
}

start();
