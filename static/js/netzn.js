// netzn's browser client: one socket per tab, live panels, badge and toasts.
// Plain ES modules, no build step; loaded only for signed-in people.

import { Connection } from "./connection.js";
import { watchGroupPage } from "./grouppage.js";
import { watchMembers } from "./members.js";
import { Notifier } from "./notify.js";
import { ChatPanel } from "./panel.js";
import { watchPresence } from "./presence.js";
import { watchMatches } from "./postcard.js";
import { attachSearch } from "./search.js";
import { initTabs } from "./tabs.js";
import { UnreadTracker } from "./unread.js";

function start() {
  const me = { id: Number(document.body.dataset.userId), name: document.body.dataset.userName || "" };
  if (!me.id) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const connection = new Connection({
    url: `${scheme}//${location.host}/ws/v1/`,
    stateElement: document.getElementById("connection-state"),
  });
  const panels = [];
  const panelConversations = new Set();
  const notifier = new Notifier({
    badge: document.getElementById("notification-badge"),
    container: document.getElementById("toasts"),
    openConversations: () => panelConversations,
  });
  connection.on("notification", (frame) => notifier.handle(frame));
  connection.on("notifications_read", (frame) => notifier.markRead(frame));
  connection.on("error", (frame) => {
    if (frame.code === "rate_limited") notifier.alert("Zu viele Nachrichten auf einmal. Bitte kurz warten.");
  });

  const mount = (scope) => {
    for (const root of scope.querySelectorAll("#chat-panel, [data-chat-panel]")) {
      if (root.dataset.mounted || !Number(root.dataset.conversationId)) continue;
      root.dataset.mounted = "true";
      const panel = new ChatPanel(root, connection, me, notifier);
      attachSearch(panel);
      panels.push(panel);
      panelConversations.add(panel.conversationId);
    }
    initTabs(scope);
  };
  mount(document);
  const unread = new UnreadTracker(connection, me, panelConversations);
  unread.toast = (toast) => notifier.show(toast);
  notifier.liveConversation = (id) => unread.isLive(id);

  // The closed menu on a phone still says that something is new.
  const sign = document.querySelector(".nav-toggle-sign");
  const updateSign = () => {
    if (sign) sign.hidden = notifier.count() === 0 && unread.directUnread() === 0;
  };
  notifier.onChange = updateSign;
  unread.onChange = updateSign;
  updateSign();

  watchMembers(connection, me);
  watchGroupPage(connection, mount);
  watchMatches(connection, notifier);
  watchPresence(connection);
  notifier.loadCountIfUnknown();
  connection.connect();
}

start();
