// The live member list and name of a group page: member_joined / member_left /
// member_role_changed / group_updated frames (docs/groups.md) arrive on the group's
// conversation, which the page's chat panel is subscribed to.

import { csrfToken } from "./api.js";
import { avatarNode } from "./format.js";

// As the server's `group_role_label` (accounts/labels.py): the form follows the
// person, neutral where they gave none.
const ROLE_LABELS = {
  owner: { frau: "Inhaberin", herr: "Inhaber", "": "Inhaber:in" },
  admin: { frau: "Admin", herr: "Admin", "": "Admin" },
};

function roleLabel(role, form) {
  const labels = ROLE_LABELS[role];
  return labels ? labels[form || ""] || labels[""] : "";
}

function setCount(count) {
  const element = document.getElementById("member-count");
  if (!element || typeof count !== "number") return;
  element.dataset.memberCount = String(count);
  element.textContent = `${count} ${count === 1 ? "Mitglied" : "Mitglieder"}`;
}

function rolePill(role, form) {
  if (!ROLE_LABELS[role]) return null;
  const pill = document.createElement("span");
  pill.className = "pill";
  pill.textContent = roleLabel(role, form);
  return pill;
}

function messageButton(userId) {
  const form = document.createElement("form");
  form.method = "post";
  form.action = `/nachrichten/an/${userId}/`;
  form.className = "inline-form";
  const token = document.createElement("input");
  token.type = "hidden";
  token.name = "csrfmiddlewaretoken";
  token.value = csrfToken();
  const button = document.createElement("button");
  button.type = "submit";
  button.className = "button button-quiet button-small";
  button.textContent = "Nachricht senden";
  form.append(token, button);
  return form;
}

function memberItem(member, me) {
  const item = document.createElement("li");
  item.className = "item";
  item.dataset.userId = String(member.id);
  item.dataset.role = member.role;
  item.dataset.addressForm = member.address_form || "";
  item.append(avatarNode(member.avatar_url, member.display_name));
  const main = document.createElement("span");
  main.className = "item-main";
  const name = document.createElement("a");
  name.className = "item-title";
  name.href = `/personen/${Number(member.id)}/`;
  name.textContent = member.display_name;
  main.append(name);
  const pill = rolePill(member.role, member.address_form);
  if (pill) main.append(pill);
  const sub = [member.job_title, member.company].filter(Boolean).join(", ");
  if (sub) {
    const line = document.createElement("span");
    line.className = "item-sub";
    line.textContent = sub;
    main.append(line);
  }
  item.append(main);
  if (member.id !== me.id) item.append(messageButton(member.id));
  return item;
}

export function watchMembers(connection, me) {
  // Looked up per frame: the group page may swap its content (grouppage.js).
  const group = document.querySelector("[data-group-conversation]");
  const conversationId = group ? Number(group.dataset.groupConversation) : 0;
  const forThisGroup = (frame) => Number(frame.conversation) === conversationId;
  const memberList = () => document.getElementById("member-list");
  const itemOf = (userId) => memberList()?.querySelector(`li[data-user-id="${Number(userId)}"]`);

  connection.on("member_joined", (frame) => {
    if (!forThisGroup(frame)) return;
    setCount(frame.member_count);
    const list = memberList();
    if (!list || itemOf(frame.member.id)) return;
    list.append(memberItem(frame.member, me));
  });
  connection.on("member_left", (frame) => {
    if (!forThisGroup(frame)) return;
    setCount(frame.member_count);
    itemOf(frame.user_id)?.remove();
  });
  connection.on("member_role_changed", (frame) => {
    if (!forThisGroup(frame) || !memberList()) return;
    const item = itemOf(frame.user_id);
    if (!item) return;
    item.dataset.role = frame.role;
    item.querySelector(".pill")?.remove();
    const pill = rolePill(frame.role, item.dataset.addressForm);
    if (pill) item.querySelector(".item-title").after(pill);
  });
  connection.on("group_updated", (frame) => {
    if (!forThisGroup(frame) || typeof frame.name !== "string") return;
    const heading = document.getElementById("group-name");
    if (heading) heading.textContent = frame.name;
    document.title = `${frame.name} · netzn`;
  });
}
